import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bodyOf, expectStatus, platformErrorFromText, PlatformUnreachableError, TrellisHttpClient } from '@trellis/cli';
import { writeSyntheticFolder } from '@trellis/synthetic';
import { runIngest } from '../../../ingestion/src/cli/ingest.command';
import { runSubjectsImport } from '../../../ingestion/src/cli/subjects-import.command';
import { defaultTrainDeps, runTrainCommand } from '../../../trainer/src/cli/train.command';
import { adjudicate, annotatorCaption, AnnotatorStyle, findingOfReport, reviewVerdict } from './simulated-annotators';

/**
 * The demo: the whole lifecycle, as the people of a small team would live it, through the
 * platform's public HTTP and GraphQL APIs only (and the CLI's own functions where the CLI has the
 * command), so it works the same against the embedded platform and the five distributed
 * processes. Every step first asks the platform whether it is done already and reuses what it
 * finds, so a second run (or a run after an interrupted one) finishes without doing anything
 * twice.
 */

/** Names the demo's things carry; a second run finds them by these. */
export const DEMO = {
  dataset: 'trellis-demo',
  heldOutDataset: 'trellis-demo-holdout',
  project: 'trellis-demo captions',
  heldOutProject: 'trellis-demo held-out captions',
  model: 'trellis-demo-captioner',
  /** The synthetic data set: seeded, so every run writes the same files. */
  seed: 7,
  subjects: 10,
  itemsPerSubject: 3,
  /** Subjects (with consent) whose items are kept apart for evaluation. */
  heldOutSubjects: 2,
  steps: 150,
} as const;

type Person = 'steward' | 'annotator1' | 'annotator2' | 'annotator3' | 'reviewer' | 'engineer' | 'approver' | 'auditor';

const PEOPLE: Record<Person, { roles: string[]; name: string }> = {
  steward: { roles: ['steward'], name: 'Demo Steward' },
  annotator1: { roles: ['annotator'], name: 'Demo Annotator One' },
  annotator2: { roles: ['annotator'], name: 'Demo Annotator Two' },
  annotator3: { roles: ['annotator'], name: 'Demo Annotator Three' },
  reviewer: { roles: ['reviewer'], name: 'Demo Reviewer' },
  engineer: { roles: ['engineer'], name: 'Demo Engineer' },
  approver: { roles: ['approver'], name: 'Demo Approver' },
  auditor: { roles: ['auditor'], name: 'Demo Auditor' },
};

const STYLES: Record<'annotator1' | 'annotator2' | 'annotator3', AnnotatorStyle> = { annotator1: 'careful', annotator2: 'terse', annotator3: 'hasty' };

export interface DemoOptions {
  baseUrl: string;
  /** An admin's API token: the demo's people are API tokens it issues. */
  adminToken: string;
  /** The account of each step (stdout). */
  say(line: string): void;
  /** Progress and detail (stderr); the training run's progress bar writes there too. */
  note(line: string): void;
  sleep?(ms: number): Promise<void>;
  /** How long to wait for the platform's consumers to hear of a step (Kafka in the distributed profile). */
  patienceMs?: number;
}

export interface DemoOutcome {
  modelVersionId: string;
  version: number;
  withdrawnSubjectId: string;
  /** The auditor's answers, as GraphQL gave them. */
  provenance: ProvenanceAnswer;
  impact: ImpactAnswer;
  /** Auditor tokens, for a user who wants to ask on. */
  auditorToken: string;
}

interface NodeConnection {
  totalCount: number;
  edges: { node: { id: string; label: string; states: string } }[];
}

export interface ProvenanceAnswer {
  modelVersion: { id: string; label: string; states: string };
  subjects: number;
  assets: number;
  consents: number;
  annotators: string[];
  reviewers: string[];
  approvers: string[];
  snapshot: { attrs: string } | null;
  datasetVersions: NodeConnection;
  annotationSets: NodeConnection;
}

export interface ImpactAnswer {
  subject: { id: string; states: string } | null;
  assets: { totalCount: number };
  snapshots: { totalCount: number };
  modelVersions: NodeConnection;
}

export const PROVENANCE_QUERY = `query Provenance($id: ID!) {
  modelProvenance(modelVersionId: $id) {
    modelVersion { id label states }
    subjects assets consents annotators reviewers approvers
    snapshot { attrs }
    datasetVersions(first: 10) { totalCount edges { node { id label states } } }
    annotationSets(first: 10) { totalCount edges { node { id label states } } }
  }
}`;

export const IMPACT_QUERY = `query Impact($subject: ID!) {
  consentImpact(subjectId: $subject) {
    subject { id states }
    assets(first: 1) { totalCount }
    snapshots(first: 1) { totalCount }
    modelVersions(first: 10) { totalCount edges { node { id label states } } }
  }
}`;

/** Thrown for a step the platform would not let finish; the message says which and why. */
export class DemoStepError extends Error {}

/**
 * The platform did not answer a request: unreachable, or a service stopped while answering
 * (502, or 503/504 past the client's patience). Whether the request was done is unknown, so the
 * journey asks again what is done and goes on from there.
 */
export class PlatformUnavailableError extends Error {}

const TRANSIENT_STATUS = [502, 503, 504];
const TRANSIENT_REASONS = ['BAD_GATEWAY', 'SERVICE_UNAVAILABLE', 'DATABASE_UNAVAILABLE', 'HTTP_ERROR'];

/** Errors of the CLI functions the journey calls that mean "no answer", not "refused". */
function asTransient(err: unknown): unknown {
  const message = (err as Error)?.message ?? '';
  if (err instanceof PlatformUnavailableError) return err;
  if (err instanceof PlatformUnreachableError) return new PlatformUnavailableError(message);
  if (/: 50[234] /.test(message) || TRANSIENT_REASONS.some((r) => message.includes(` ${r}: `))) return new PlatformUnavailableError(message);
  return err;
}

export class DemoJourney {
  private readonly people = new Map<Person, TrellisHttpClient>();
  private readonly tokens = new Map<Person, string>();
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly patienceMs: number;

  constructor(private readonly options: DemoOptions) {
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.patienceMs = options.patienceMs ?? 120_000;
  }

  async run(): Promise<DemoOutcome> {
    const started = Date.now();
    this.options.say('\n1. People');
    await this.retrying(() => this.issuePeople());
    const dir = await mkdtemp(join(tmpdir(), 'trellis-demo-'));
    try {
      // A service that stops mid-journey (a restart, a crash) costs the steps since the last
      // answer: the journey starts over, and every step finds what was done and goes on.
      return await this.retrying(() => this.journey(dir, started));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async retrying<T>(work: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (raw) {
        const err = asTransient(raw);
        if (!(err instanceof PlatformUnavailableError) || attempt >= 10) throw err;
        this.options.say(`\n   the platform did not answer (${err.message}); asking what is done and going on`);
        await this.sleep(2000);
      }
    }
  }

  private async journey(dir: string, started: number): Promise<DemoOutcome> {
    const step = (n: number, title: string) => this.options.say(`\n${n}. ${title}`);
    step(2, 'Subjects, consent and ingestion (the data steward)');
    const data = await this.ingest(dir);
    step(3, 'Annotation: three annotators caption blind, a reviewer reviews and adjudicates');
    const trainSet = await this.annotate(DEMO.project, data.train);
    const heldOutSet = await this.annotate(DEMO.heldOutProject, data.heldOut);
    step(4, 'A base model and a LoRA run (the ML engineer)');
    const version = await this.train(trainSet);
    step(5, 'Evaluation on the held-out subjects');
    await this.evaluate(version.version, heldOutSet);
    step(6, 'Promotion to champion, approved by a second person');
    await this.promote(version);
    step(7, 'A subject withdraws consent');
    const withdrawn = await this.withdraw(version);
    step(8, 'The auditor asks');
    const answers = await this.audit(version.modelVersionId, withdrawn);
    this.options.say(`\ndone in ${Math.round((Date.now() - started) / 1000)} s`);
    return {
      ...answers,
      modelVersionId: version.modelVersionId,
      version: version.version,
      withdrawnSubjectId: withdrawn,
      auditorToken: this.tokens.get('auditor')!,
    };
  }

  /** One API token per person, new principals each run (a token is shown once, so an earlier run's cannot be reused); they expire in a day. */
  private async issuePeople(): Promise<void> {
    if (this.people.size === Object.keys(PEOPLE).length) return;
    const admin = new TrellisHttpClient(this.options.baseUrl, this.options.adminToken);
    const expiresAt = new Date(Date.now() + 24 * 3600_000).toISOString();
    for (const [person, { roles, name }] of Object.entries(PEOPLE) as [Person, (typeof PEOPLE)[Person]][]) {
      if (this.people.has(person)) continue;
      const issued = await this.call<{ token: string; principalId: string }>(admin, 'POST', '/auth/tokens', [201], {
        label: `trellis demo: ${person}`,
        roles,
        displayName: name,
        expiresAt,
      });
      this.tokens.set(person, issued.token);
      this.people.set(person, new TrellisHttpClient(this.options.baseUrl, issued.token));
    }
    this.options.say(`   ${this.people.size} people, each with an API token: a steward, three annotators, a reviewer, an engineer, an approver, an auditor`);
  }

  private async ingest(dir: string): Promise<{ train: DatasetRef; heldOut: DatasetRef }> {
    const steward = this.as('steward');
    const existing = await Promise.all([this.dataset(DEMO.dataset), this.dataset(DEMO.heldOutDataset)]);
    if (existing[0] && existing[1]) {
      this.options.say(`   already in: ${DEMO.dataset} v${existing[0].version}, ${DEMO.heldOutDataset} v${existing[1].version}`);
      return { train: existing[0], heldOut: existing[1] };
    }
    const { manifestPath, subjectsPath } = await writeSyntheticFolder(dir, {
      seed: DEMO.seed,
      subjects: DEMO.subjects,
      itemsPerSubject: DEMO.itemsPerSubject,
      imageSize: 64,
      imageFormat: 'png',
    });
    // The CLI's account of each refused file is for a person importing their own folder; here the refusals are the point, counted below.
    const log = (line: string) => (line.startsWith('  line ') ? undefined : this.options.note(`   ${line}`));
    const imported: string[] = [];
    const code = await runSubjectsImport(['import', subjectsPath], steward, (line) => {
      imported.push(line);
      log(line);
    });
    if (code !== 0) {
      const problem = imported.slice(1).join('; ');
      throw /50[234]|unreach|not answering|stopped while answering/i.test(problem)
        ? new PlatformUnavailableError(`subjects import: ${problem}`)
        : new DemoStepError(`subjects import: ${problem}`);
    }
    // The last subjects who consented are kept apart: evaluation must share no subject with training.
    const subjects = (await readFile(subjectsPath, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { subjectRef: string; consents: { withdrawn: boolean }[] });
    const consenting = subjects.filter((s) => s.consents.every((c) => !c.withdrawn)).map((s) => s.subjectRef);
    const heldOut = new Set(consenting.slice(-DEMO.heldOutSubjects));
    const lines = (await readFile(manifestPath, 'utf8')).trim().split('\n');
    const split = { train: lines.filter((l) => !heldOut.has(JSON.parse(l).subjectRef)), heldOut: lines.filter((l) => heldOut.has(JSON.parse(l).subjectRef)) };
    const result: Partial<Record<'train' | 'heldOut', DatasetRef>> = {};
    for (const [part, name] of [
      ['train', DEMO.dataset],
      ['heldOut', DEMO.heldOutDataset],
    ] as const) {
      const manifest = join(dir, `${part}.jsonl`);
      await writeFile(manifest, split[part].join('\n') + '\n');
      const { summary } = await runIngest([dir, '--manifest', manifest, '--dataset', name, '--publish'], steward, log);
      // Files of subjects who withdrew are refused, and so are the reports describing their images.
      const lost = summary.rejected.filter((r) => TRANSIENT_REASONS.includes(r.reason));
      if (lost.length > 0) throw new PlatformUnavailableError(`${lost.length} upload(s) unanswered (${lost[0].reason})`);
      const refused = summary.rejected.filter((r) => r.reason !== 'NO_CONSENT' && r.reason !== 'INVALID_DESCRIBES');
      if (refused.length > 0) throw new DemoStepError(`ingestion refused ${refused.length} file(s): ${refused.map((r) => r.reason).join(', ')}`);
      const withdrawn = summary.rejected.length;
      const d = await this.dataset(name);
      if (!d) throw new DemoStepError(`the dataset ${name} has no published version`);
      result[part] = d;
      this.options.say(
        `   ${name}: ${summary.ingested + summary.duplicate} file(s) in, version ${d.version} published` +
          (withdrawn > 0 ? `; ${withdrawn} file(s) of subjects who withdrew consent refused (NO_CONSENT)` : ''),
      );
    }
    return { train: result.train!, heldOut: result.heldOut! };
  }

  private async dataset(name: string): Promise<DatasetRef | null> {
    const r = await this.as('steward').send('GET', `/ingestion/datasets/${encodeURIComponent(name)}`);
    if (r.status === 404) return null;
    const d = bodyOf<{ datasetId: string; latestVersion: number | null }>(expectStatus(r, [200]));
    return d.latestVersion ? { datasetId: d.datasetId, version: d.latestVersion } : null;
  }

  /** The project's published set, annotating and publishing it first when it has none. */
  private async annotate(name: string, dataset: DatasetRef): Promise<{ setId: string; projectId: string }> {
    const steward = this.as('steward');
    const projects = await this.call<{ projectId: string; name: string; datasetId: string; datasetVersion: number }[]>(
      steward,
      'GET',
      '/annotation/projects',
      [200],
    );
    let project = projects.find((p) => p.name === name && p.datasetId === dataset.datasetId && p.datasetVersion === dataset.version);
    if (project) {
      const sets = await this.call<{ setId: string; version: number }[]>(steward, 'GET', `/annotation/projects/${project.projectId}/sets`, [200]);
      if (sets.length > 0) {
        this.options.say(`   ${name}: already published as set v${sets[sets.length - 1].version}`);
        return { setId: sets[sets.length - 1].setId, projectId: project.projectId };
      }
    } else {
      project = await this.call(steward, 'POST', '/annotation/projects', [201], {
        name,
        datasetId: dataset.datasetId,
        datasetVersion: dataset.version,
        taskType: 'caption',
        guidelines: 'One sentence: the size, colour and shape of the finding and where it is, as the report says.',
        annotationsPerItem: 2,
        agreementThreshold: 0.95,
      });
    }
    const projectId = project!.projectId;
    // The dataset version reaches annotation through the event log: its tasks come a moment later.
    const counts = await this.eventually(`the tasks of ${name}`, async () => {
      const p = await this.call<{ tasks: Record<string, number> }>(steward, 'GET', `/annotation/projects/${projectId}`, [200]);
      return Object.values(p.tasks).some((n) => n > 0) ? p.tasks : undefined;
    });
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const tally = { annotations: 0, rejected: 0, adjudicated: 0 };
    for (let round = 0; ; round++) {
      tally.annotations += await this.annotateRound(projectId);
      const reviewed = await this.review(projectId);
      tally.rejected += reviewed.rejected;
      tally.adjudicated += reviewed.adjudicated;
      const p = await this.call<{ tasks: Record<string, number> }>(steward, 'GET', `/annotation/projects/${projectId}`, [200]);
      const final = p.tasks.final ?? 0;
      const open = Object.entries(p.tasks)
        .filter(([status]) => !['final', 'cancelled'].includes(status))
        .reduce((n, [, c]) => n + c, 0);
      if (open === 0 && final > 0) break;
      if (round > 10) throw new DemoStepError(`annotation of ${name} did not finish: ${JSON.stringify(p.tasks)}`);
    }
    const agreement = await this.call<{ exactMatchRate: number | null; meanTokenF1: number | null; krippendorffAlpha: number | null }>(
      this.as('reviewer'),
      'GET',
      `/annotation/projects/${projectId}/agreement`,
      [200],
    );
    const published = await this.call<{ setId: string; version: number; itemCount?: number }>(steward, 'POST', `/annotation/projects/${projectId}/sets`, [201]);
    this.options.say(
      `   ${name}: ${total} item(s), ${tally.annotations} caption(s) written blind, ${tally.rejected} rejected by the reviewer, ` +
        `${tally.adjudicated} adjudicated; agreement ${agreementLine(agreement)}; published as set v${published.version}`,
    );
    return { setId: published.setId, projectId };
  }

  /**
   * The annotators take tasks in turn, one each, until none is left for any of them (one person
   * taking every task first would leave the others nothing), each reading the report and writing
   * a caption in their style.
   */
  private async annotateRound(projectId: string): Promise<number> {
    let written = 0;
    const working = new Set(Object.keys(STYLES) as (keyof typeof STYLES)[]);
    while (working.size > 0) {
      for (const annotator of [...working]) {
        const client = this.as(annotator);
        const { task } = await this.call<{ task: { taskId: string } | null }>(client, 'POST', `/annotation/projects/${projectId}/tasks/next`, [200, 201]);
        if (!task) {
          working.delete(annotator);
          continue;
        }
        const finding = findingOfReport(await this.text(client, `/annotation/tasks/${task.taskId}/report`));
        const caption = finding ? annotatorCaption(STYLES[annotator], finding, task.taskId) : 'An opacity.';
        await this.call(client, 'POST', `/annotation/tasks/${task.taskId}/annotation`, [200, 201], { answer: { caption } });
        written++;
      }
    }
    return written;
  }

  /** The reviewer checks every submitted caption against the report, then settles items whose accepted captions disagree. */
  private async review(projectId: string): Promise<{ rejected: number; adjudicated: number }> {
    const reviewer = this.as('reviewer');
    let rejected = 0;
    let adjudicated = 0;
    const reports = new Map<string, ReturnType<typeof findingOfReport>>();
    const findingOf = async (taskId: string) => {
      if (!reports.has(taskId)) reports.set(taskId, findingOfReport(await this.text(reviewer, `/annotation/tasks/${taskId}/report`)));
      return reports.get(taskId)!;
    };
    const queue = await this.call<{ taskId: string; assignmentId: string; answer: { caption?: string } }[]>(
      reviewer,
      'GET',
      `/annotation/projects/${projectId}/review-queue`,
      [200],
    );
    for (const q of queue) {
      const finding = await findingOf(q.taskId);
      const verdict = finding ? reviewVerdict(q.answer.caption ?? '', finding) : ({ verdict: 'accepted' } as const);
      await this.call(reviewer, 'POST', `/annotation/tasks/${q.taskId}/reviews`, [200, 201], { assignmentId: q.assignmentId, ...verdict });
      if (verdict.verdict === 'rejected') rejected++;
    }
    const disputes = await this.call<{ taskId: string; answers: { assignmentId: string; answer: { caption?: string } }[] }[]>(
      reviewer,
      'GET',
      `/annotation/projects/${projectId}/adjudication-queue`,
      [200],
    );
    for (const d of disputes) {
      const finding = await findingOf(d.taskId);
      const candidates = d.answers.map((a) => ({ assignmentId: a.assignmentId, caption: a.answer.caption ?? '' }));
      const chosenAssignmentId = finding ? adjudicate(candidates, finding) : candidates[0].assignmentId;
      await this.call(reviewer, 'POST', `/annotation/tasks/${d.taskId}/adjudication`, [200, 201], { chosenAssignmentId });
      adjudicated++;
    }
    return { rejected, adjudicated };
  }

  private async train(set: { setId: string }): Promise<VersionRef> {
    const engineer = this.as('engineer');
    const existing = await this.latestVersion();
    if (existing) {
      this.options.say(`   already trained: ${DEMO.model} v${existing.version}`);
      return existing;
    }
    const bases = await this.call<{ baseModelId: string; preset: string | null }[]>(engineer, 'GET', '/training/base-models', [200]);
    let baseModelId = bases.find((b) => b.preset === 'tiny')?.baseModelId;
    if (baseModelId) this.options.say(`   the tiny base model is registered already (${baseModelId})`);
    else {
      this.options.note('   making the tiny base model (initialised and pre-trained on synthetic data) ...');
      baseModelId = (await this.call<{ baseModelId: string }>(engineer, 'POST', '/training/base-models', [201], { preset: 'tiny' })).baseModelId;
      this.options.say(`   base model ${baseModelId}: the tiny LLaVA-style model, pre-trained`);
    }
    // A run of an earlier, interrupted demo is waited for rather than started again.
    const runs = await this.call<{ runId: string; status: string; request: { modelName?: string | null } }[]>(
      engineer,
      'GET',
      '/training/runs?limit=100',
      [200],
    );
    let run = runs.find((r) => r.request.modelName === DEMO.model && !['failed', 'cancelled'].includes(r.status));
    if (run) this.options.say(`   a LoRA run for ${DEMO.model} is under way already (${run.runId}); waiting for it`);
    else {
      run = await this.call(engineer, 'POST', '/training/runs', [201], {
        baseModelId,
        method: 'lora',
        annotationSets: [{ setId: set.setId }],
        modelName: DEMO.model,
        hyperparameters: { steps: DEMO.steps },
      });
      this.options.say(`   LoRA run ${run!.runId} requested: ${DEMO.steps} steps on the consent-safe snapshot of the set`);
    }
    const deps = {
      ...defaultTrainDeps({ TRELLIS_URL: this.options.baseUrl, TRELLIS_TOKEN: this.tokens.get('engineer') }),
      out: () => undefined,
      err: this.options.note,
    };
    const runId = run!.runId;
    // The bar stops when the trainer stops answering (a restart); the run goes on in the queue.
    await runTrainCommand(['wait', runId], deps).catch(() => 1);
    type RunView = {
      status: string;
      snapshot: { includedItems: number; excludedItems: number };
      outcome: { finalHeldOutLoss?: number; baseHeldOutLoss?: number };
    };
    const done = await this.eventually('the training run', async () => {
      const r = await this.call<RunView>(engineer, 'GET', `/training/runs/${runId}`, [200]);
      return ['completed', 'failed', 'cancelled'].includes(r.status) ? r : undefined;
    });
    if (done.status !== 'completed') throw new DemoStepError(`the training run ${runId} ended ${done.status}`);
    this.options.say(
      `   completed: snapshot of ${done.snapshot.includedItems} item(s) (${done.snapshot.excludedItems ? `${done.snapshot.excludedItems} left out, each with its reason` : 'none left out'}); ` +
        `held-out loss ${fixed(done.outcome.finalHeldOutLoss)} (base model ${fixed(done.outcome.baseHeldOutLoss)})`,
    );
    const version = await this.eventually('the model version the registry makes of the run', () => this.latestVersion());
    this.options.say(`   registered as ${DEMO.model} v${version.version}`);
    return version;
  }

  private async latestVersion(): Promise<VersionRef | undefined> {
    const r = await this.as('engineer').send('GET', `/registry/models/${DEMO.model}/versions`);
    if (r.status === 404) return undefined;
    const versions = bodyOf<(VersionRef & { archived: unknown })[]>(expectStatus(r, [200])).filter((v) => !v.archived);
    return versions.length ? versions[versions.length - 1] : undefined;
  }

  private async evaluate(version: number, set: { setId: string }): Promise<void> {
    const engineer = this.as('engineer');
    type Evaluation = {
      evaluationId: string;
      status: string;
      setId?: string;
      annotationSet?: { setId: string };
      metrics: Record<string, number> | null;
      itemCount: number | null;
    };
    const earlier = await this.call<Evaluation[]>(engineer, 'GET', `/registry/evaluations?model=${DEMO.model}&version=${version}`, [200]);
    let evaluation = earlier.find((e) => e.status !== 'failed');
    if (evaluation) this.options.say(`   evaluated already (${evaluation.evaluationId})`);
    else {
      evaluation = await this.call<Evaluation>(engineer, 'POST', '/registry/evaluations', [201], {
        model: DEMO.model,
        version,
        annotationSet: { setId: set.setId },
      });
      this.options.note(`   evaluating v${version} on the held-out set: greedy captions with the adapter applied ...`);
    }
    const id = evaluation.evaluationId;
    const done = await this.eventually('the evaluation', async () => {
      const e = await this.call<Evaluation & { failure?: { code: string; reason: string } }>(engineer, 'GET', `/registry/evaluations/${id}`, [200]);
      if (e.status === 'failed') throw new DemoStepError(`the evaluation failed (${e.failure?.code})`);
      return e.status === 'completed' ? e : undefined;
    });
    const metrics = Object.entries(done.metrics ?? {})
      .filter(([, v]) => typeof v === 'number')
      .map(([k, v]) => `${k} ${fixed(v)}`)
      .join(', ');
    this.options.say(`   ${done.itemCount} held-out item(s) of other subjects: ${metrics}`);
  }

  private async promote({ version, modelVersionId }: VersionRef): Promise<void> {
    const engineer = this.as('engineer');
    const v = await this.call<{ aliases: string[] }>(engineer, 'GET', `/registry/models/${DEMO.model}/versions/${version}`, [200]);
    if (v.aliases.includes('champion')) {
      this.options.say(`   v${version} is champion already`);
      return;
    }
    const revisions = await this.call<unknown[]>(engineer, 'GET', `/registry/models/${DEMO.model}/versions/${version}/card/revisions`, [200]);
    if (revisions.length === 0)
      await this.call(engineer, 'PUT', `/registry/models/${DEMO.model}/versions/${version}/card`, [200], {
        intendedUse: 'Draft captions of synthetic findings, for trying Trellis',
        caveats: 'A tiny model trained on generated data; not for any clinical use',
        license: 'apache-2.0',
      });
    type Promotion = {
      promotionId: string;
      status: string;
      alias: string;
      modelVersionId: string;
      verdicts: { gate: string; passed: boolean; reason: string }[] | null;
    };
    const pending = await this.call<Promotion[]>(engineer, 'GET', '/registry/promotions?status=pending', [200]);
    let promotion = pending.find((p) => p.alias === 'champion' && p.modelVersionId === modelVersionId);
    if (!promotion) {
      promotion = await this.call<Promotion>(engineer, 'POST', '/registry/promotions', [201], {
        model: DEMO.model,
        version,
        alias: 'champion',
        reason: 'first version, evaluated on held-out subjects',
      });
      for (const g of promotion.verdicts ?? []) this.options.say(`   gate ${g.gate}: ${g.passed ? 'pass' : 'FAIL'} (${g.reason})`);
      if (promotion.status !== 'pending') throw new DemoStepError(`the gates refused the promotion (${promotion.status})`);
    }
    // The engineer who asked may not approve; the approver may.
    const self = await this.as('engineer').send('POST', `/registry/promotions/${promotion.promotionId}/approve`, { comment: 'my own' });
    this.options.say(`   the engineer's own approval: refused (${self.status})`);
    await this.call(this.as('approver'), 'POST', `/registry/promotions/${promotion.promotionId}/approve`, [200], { comment: 'gates passed; predictions read' });
    this.options.say(`   approved by the approver: ${DEMO.model} v${version} is champion`);
  }

  /** The steward records one training subject's withdrawal of consent; the registry flags the champion. */
  private async withdraw(version: VersionRef): Promise<string> {
    const steward = this.as('steward');
    // A subject whose item reached the snapshot (the first, in the order the registry keeps them).
    const subjectId = await this.trainingSubject(version);
    const subject = await this.call<{ consents: { consentId: string; purposes: string[]; withdrawnPurposes: string[] }[] }>(
      steward,
      'GET',
      `/ingestion/subjects/${subjectId}`,
      [200],
    );
    const open = subject.consents.filter((c) => c.purposes.includes('model-training') && !c.withdrawnPurposes.includes('model-training'));
    if (open.length === 0) this.options.say(`   subject ${subjectId} has withdrawn already`);
    for (const c of open) await this.call(steward, 'POST', `/ingestion/subjects/${subjectId}/consents/${c.consentId}/withdraw`, [200], {});
    if (open.length > 0) this.options.say(`   subject ${subjectId} (pseudonymous id) withdrew consent to model training`);
    const flagged = await this.eventually('the registry flagging the champion', async () => {
      const v = await this.call<{ flag: { subjects: number; items: number } | null }>(
        this.as('engineer'),
        'GET',
        `/registry/models/${DEMO.model}/versions/${version.version}`,
        [200],
      );
      return v.flag ?? undefined;
    });
    this.options.say(`   the registry flagged v${version.version}: ${flagged.subjects} subject(s), ${flagged.items} item(s) affected; it needs retraining`);
    return subjectId;
  }

  private async trainingSubject(version: VersionRef): Promise<string> {
    const auditor = this.as('auditor');
    const walk = await this.graphql<{ lineage: { nodes: { id: string; type: string }[]; edges: { from: string; to: string }[] } }>(
      auditor,
      'query ($id: ID!) { lineage(id: $id, direction: UPSTREAM, depth: 4) { nodes { id type } edges { from to } } }',
      { id: `model-version:${version.modelVersionId}` },
    );
    const typeOf = new Map(walk.lineage.nodes.map((n) => [n.id, n.type]));
    const causes = (from: string[], type: string) => walk.lineage.edges.filter((e) => from.includes(e.from) && typeOf.get(e.to) === type).map((e) => e.to);
    const snapshot = walk.lineage.nodes.filter((n) => n.type === 'snapshot').map((n) => n.id);
    const subjects = [...new Set(causes(causes(causes(snapshot, 'curated-asset'), 'asset'), 'subject'))].sort();
    if (subjects.length === 0) throw new DemoStepError('the lineage graph names no subject of the snapshot');
    return subjects[0].replace(/^subject:/, '');
  }

  private async audit(modelVersionId: string, subjectId: string): Promise<{ provenance: ProvenanceAnswer; impact: ImpactAnswer }> {
    const auditor = this.as('auditor');
    const impact = await this.eventually('the lineage graph hearing of the withdrawal', async () => {
      const r = await this.graphql<{ consentImpact: ImpactAnswer }>(auditor, IMPACT_QUERY, { subject: subjectId });
      return r.consentImpact.modelVersions.edges.some((e) => e.node.id === `model-version:${modelVersionId}` && e.node.states.includes('flag'))
        ? r.consentImpact
        : undefined;
    });
    const provenance = (await this.graphql<{ modelProvenance: ProvenanceAnswer }>(auditor, PROVENANCE_QUERY, { id: modelVersionId })).modelProvenance;
    this.options.say('   Where did the champion come from? The auditor asks POST /graphql:');
    this.options.say(indent(PROVENANCE_QUERY));
    this.options.say(indent(`variables: ${JSON.stringify({ id: modelVersionId })}`));
    this.options.say(indent(JSON.stringify({ data: { modelProvenance: provenance } }, null, 2)));
    this.options.say(`   Which models did the withdrawn subject's data reach?`);
    this.options.say(indent(IMPACT_QUERY));
    this.options.say(indent(`variables: ${JSON.stringify({ subject: subjectId })}`));
    this.options.say(indent(JSON.stringify({ data: { consentImpact: impact } }, null, 2)));
    return { provenance, impact };
  }

  private as(person: Person): TrellisHttpClient {
    return this.people.get(person)!;
  }

  private async call<T>(client: TrellisHttpClient, method: string, path: string, ok: number[], body?: unknown): Promise<T> {
    let r: { status: number; text: string };
    try {
      r = await client.send(method, path, body);
    } catch (err) {
      throw asTransient(err);
    }
    if (ok.includes(r.status)) return bodyOf<T>(r);
    const error = platformErrorFromText(`${method} ${path.split('?')[0]}`, r);
    throw TRANSIENT_STATUS.includes(r.status) ? new PlatformUnavailableError(error.message) : error;
  }

  private async text(client: TrellisHttpClient, path: string): Promise<string> {
    let r: { status: number; text: string };
    try {
      r = await client.send('GET', path);
    } catch (err) {
      throw asTransient(err);
    }
    if (TRANSIENT_STATUS.includes(r.status)) throw new PlatformUnavailableError(`GET ${path}: ${r.status}`);
    return r.status === 200 ? r.text : '';
  }

  private async graphql<T>(client: TrellisHttpClient, query: string, variables: Record<string, unknown>): Promise<T> {
    const r = await this.call<{ data?: T; errors?: { message: string }[] }>(client, 'POST', '/graphql', [200], { query, variables });
    if (r.errors?.length || !r.data) throw new DemoStepError(`GraphQL: ${r.errors?.map((e) => e.message).join('; ') ?? 'no data'}`);
    return r.data;
  }

  /** Asks until `probe` answers, for what the platform's consumers do a moment later. */
  private async eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + this.patienceMs;
    for (;;) {
      let v: T | undefined;
      try {
        v = await probe();
      } catch (err) {
        // A service restarting answers again in a moment; anything else is the answer.
        if (!(asTransient(err) instanceof PlatformUnavailableError)) throw err;
      }
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new DemoStepError(`gave up waiting for ${what} after ${this.patienceMs / 1000} s`);
      await this.sleep(500);
    }
  }
}

interface DatasetRef {
  datasetId: string;
  version: number;
}

interface VersionRef {
  version: number;
  modelVersionId: string;
}

const fixed = (n: number | null | undefined) => (typeof n === 'number' ? n.toFixed(3) : 'n/a');

const indent = (text: string) =>
  text
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');

function agreementLine(a: { exactMatchRate: number | null; meanTokenF1: number | null; krippendorffAlpha: number | null }): string {
  return `exact match ${fixed(a.exactMatchRate)}, token F1 ${fixed(a.meanTokenF1)}, Krippendorff's alpha ${fixed(a.krippendorffAlpha)}`;
}
