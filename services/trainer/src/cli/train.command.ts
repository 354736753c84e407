/**
 * `trellis train <subcommand>` and `trellis base-model <subcommand>`: training runs and base
 * models against a running platform's (or trainer's) REST API (TRELLIS_URL, TRELLIS_TOKEN), the
 * same for the embedded default and a distributed deployment.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CliCommand,
  CliUsageError,
  commandUsage,
  emitter,
  expectStatus,
  JSON_SWITCH,
  jsonDocument,
  numberFlag,
  onlyFlags,
  parseCliArgs,
  ProgressBar,
  reportCliError,
  requireFlag,
  subcommandsUsage,
  TrellisHttpClient,
  userPath,
} from '@trellis/cli';
import { CHECKPOINT_FILE } from '../base-models/checkpoint-files';

const TRAIN_USAGE = {
  start: `usage: trellis train start --base-model ID --method lora|qlora|distill|full --sets SET_ID[,SET_ID...]
      [--teacher ID] [--held-out FRACTION | --eval-sets SET_ID[,...]] [--purpose model-training|research]
      [--model-name NAME]
      [--steps N | --epochs N] [--lr X] [--warmup N] [--schedule cosine|constant] [--weight-decay X]
      [--batch N] [--grad-accum N] [--max-grad-norm X] [--seed N] [--eval-every N] [--checkpoint-every N]
      [--rank N] [--alpha X] [--dropout X] [--targets q_proj,v_proj] [--rslora]
      [--temperature X] [--distill-alpha X] [--wait] [--json]
  Requests a run; prints its id on stdout. With --wait, shows progress until the run ends
  (exit 0 when it completed, 1 when it failed or was cancelled). The registry files the finished
  run as a version of --model-name (default <base preset>-<method>). With --json, prints the run
  as JSON instead of its id: as requested, or with --wait as it ended (the progress on stderr).
example:
  trellis train start --base-model BASE_ID --method lora --sets SET_ID --steps 200 --wait`,
  status: `usage: trellis train status RUN_ID [--json]
  Prints the run as JSON (status, snapshot, progress, outcome, artifacts), with or without --json.
example:
  trellis train status RUN_ID`,
  wait: `usage: trellis train wait RUN_ID [--json]
  Shows progress until the run ends; exit 0 when it completed, 1 otherwise. With --json, then
  prints the run as it ended as JSON (the progress stays on stderr).
example:
  trellis train wait RUN_ID`,
  cancel: `usage: trellis train cancel RUN_ID [--json]
  Cancels a run: a queued one at once, a running one at its next step; with --json, prints the
  run as JSON.
example:
  trellis train cancel RUN_ID`,
  'retrain-excluding-withdrawn': `usage: trellis train retrain-excluding-withdrawn RUN_ID [--wait] [--json]
  Requests a new run with the run's configuration and seed on its snapshot less every subject who
  has since withdrawn consent or been erased; prints the new run's id (with --json, the new run
  as JSON: as requested, or with --wait as it ended).
example:
  trellis train retrain-excluding-withdrawn RUN_ID --wait`,
  list: `usage: trellis train list [--status requested|frozen|running|completed|failed|cancelled] [--json]
  One line per run, newest first; with --json, the runs as a JSON array.
example:
  trellis train list --status running`,
};

const BASE_MODEL_USAGE = {
  create: `usage: trellis base-model create --preset tiny [--seed N] [--steps N] [--json]
  Initializes the tiny multimodal base model, pre-trains it on the synthetic data set, stores the
  checkpoint and registers it; prints its id on stdout (with --json, the registered base model
  as JSON). Fine-tune from it with trellis train.
example:
  trellis base-model create --preset tiny`,
  import: `usage: trellis base-model import DIRECTORY [--json]
  Uploads and registers your own checkpoint: the config.json, tokenizer.json and model*.safetensors
  (Hugging Face LLaVA layout with a Mistral or Llama text model) in DIRECTORY; the trainer loads and
  checks it first. Prints its id (with --json, the registered base model as JSON).
example:
  trellis base-model import ./my-llava-checkpoint`,
  list: `usage: trellis base-model list [--json]
  One line per registered base model; with --json, a JSON array.
example:
  trellis base-model list`,
};

export interface HttpResult {
  status: number;
  text: string;
}

/** What the commands need from the outside world; tests hand in fakes. */
export interface TrainCliDeps {
  /** A FormData body goes as multipart, anything else as JSON. */
  http(method: string, path: string, body?: unknown): Promise<HttpResult>;
  /** The checkpoint files of a directory (Hugging Face names), for an upload. */
  checkpointFiles(dir: string): Promise<{ name: string; bytes: Buffer }[]>;
  out(text: string): void;
  err(text: string): void;
  sleep(ms: number): Promise<void>;
  progress(total: number): { update(done: number, detail: string): void; finish(): void };
}

interface RunView {
  runId: string;
  status: string;
  step: number;
  totalSteps: number | null;
  lastProgress: { loss: number; heldOutLoss: number | null; tokensPerSecond: number } | null;
  outcome: {
    code?: string;
    reason?: string;
    finalHeldOutLoss?: number | null;
    baseHeldOutLoss?: number | null;
    artifacts?: { name: string; sha256: string }[];
  } | null;
  snapshot: { includedItems: number; excludedItems: number } | null;
}

const FINISHED = ['completed', 'failed', 'cancelled'];

const list = (raw: string) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const KNOWN_START_FLAGS = [
  'base-model',
  'method',
  'sets',
  'teacher',
  'held-out',
  'eval-sets',
  'purpose',
  'model-name',
  'steps',
  'epochs',
  'lr',
  'warmup',
  'schedule',
  'weight-decay',
  'batch',
  'grad-accum',
  'max-grad-norm',
  'seed',
  'eval-every',
  'checkpoint-every',
  'rank',
  'alpha',
  'dropout',
  'targets',
  'temperature',
  'distill-alpha',
];

/** The request body a `train start` command line stands for (what the platform checks). */
export function startBody(flags: Record<string, string>, switches: Set<string>): Record<string, unknown> {
  onlyFlags(flags, KNOWN_START_FLAGS);
  const hp: Record<string, unknown> = {
    loraRank: numberFlag(flags, 'rank'),
    loraAlpha: numberFlag(flags, 'alpha'),
    loraDropout: numberFlag(flags, 'dropout'),
    targetModules: flags.targets !== undefined ? list(flags.targets) : undefined,
    rslora: switches.has('rslora') ? true : undefined,
    learningRate: numberFlag(flags, 'lr'),
    warmupSteps: numberFlag(flags, 'warmup'),
    schedule: flags.schedule,
    weightDecay: numberFlag(flags, 'weight-decay'),
    batchSize: numberFlag(flags, 'batch'),
    gradAccumulation: numberFlag(flags, 'grad-accum'),
    maxGradNorm: numberFlag(flags, 'max-grad-norm'),
    steps: numberFlag(flags, 'steps'),
    epochs: numberFlag(flags, 'epochs'),
    seed: numberFlag(flags, 'seed'),
    evalEvery: numberFlag(flags, 'eval-every'),
    checkpointEvery: numberFlag(flags, 'checkpoint-every'),
    temperature: numberFlag(flags, 'temperature'),
    distillAlpha: numberFlag(flags, 'distill-alpha'),
  };
  const hyperparameters = Object.fromEntries(Object.entries(hp).filter(([, v]) => v !== undefined));
  if (flags['held-out'] !== undefined && flags['eval-sets'] !== undefined) throw new CliUsageError('give --held-out or --eval-sets, not both');
  return {
    baseModelId: requireFlag(flags, 'base-model'),
    method: requireFlag(flags, 'method'),
    ...(flags.teacher ? { teacherModelId: flags.teacher } : {}),
    annotationSets: list(requireFlag(flags, 'sets')).map((setId) => ({ setId })),
    ...(flags['held-out'] !== undefined ? { evaluation: { heldOutFraction: numberFlag(flags, 'held-out') } } : {}),
    ...(flags['eval-sets'] !== undefined ? { evaluation: { annotationSets: list(flags['eval-sets']).map((setId) => ({ setId })) } } : {}),
    ...(flags.purpose ? { purpose: flags.purpose } : {}),
    ...(flags['model-name'] ? { modelName: flags['model-name'] } : {}),
    ...(Object.keys(hyperparameters).length > 0 ? { hyperparameters } : {}),
  };
}

async function expectOk(res: Promise<HttpResult>, ok: number[]): Promise<HttpResult> {
  return expectStatus(await res, ok);
}

/** Polls the run until it ends, with a progress bar; exit 0 when it completed. With `json`, prints the run as it ended. */
async function waitFor(runId: string, deps: TrainCliDeps, json: boolean): Promise<number> {
  let bar: ReturnType<TrainCliDeps['progress']> | null = null;
  for (;;) {
    const run = JSON.parse((await expectOk(deps.http('GET', `/training/runs/${encodeURIComponent(runId)}`), [200])).text) as RunView;
    if (run.totalSteps && !bar) bar = deps.progress(run.totalSteps);
    if (bar && run.lastProgress) bar.update(run.step, `loss ${run.lastProgress.loss.toFixed(4)}, ${Math.round(run.lastProgress.tokensPerSecond)} tokens/s`);
    if (FINISHED.includes(run.status)) {
      bar?.finish();
      if (json) deps.out(jsonDocument(run));
      if (run.status === 'completed') {
        const o = run.outcome!;
        deps.err(`completed: held-out loss ${o.finalHeldOutLoss ?? 'n/a'} (base ${o.baseHeldOutLoss ?? 'n/a'}); ${o.artifacts?.length ?? 0} artifacts`);
        return 0;
      }
      deps.err(run.status === 'failed' ? `failed (${run.outcome?.code}): ${run.outcome?.reason}` : `cancelled at step ${run.step}`);
      return 1;
    }
    await deps.sleep(1000);
  }
}

export async function runTrainCommand(argv: string[], deps: TrainCliDeps): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    const { positional, flags, switches } = parseCliArgs(rest, { switches: ['wait', 'rslora', JSON_SWITCH], error: (m) => new CliUsageError(m) });
    const json = switches.has(JSON_SWITCH);
    const emit = emitter(deps.out, json);
    // The run a start or retrain requested: its id, or its JSON; with --wait and --json stdout
    // carries only the run as it ended, so the id goes to stderr.
    const requested = (run: RunView) => {
      if (json && switches.has('wait')) deps.err(`requested run ${run.runId}`);
      else emit(run, () => deps.out(run.runId));
    };
    const runArg = () => {
      if (positional.length !== 1) throw new CliUsageError(positional.length === 0 ? 'a RUN_ID is required' : `one RUN_ID only, got ${positional.join(' ')}`);
      return encodeURIComponent(positional[0]);
    };
    switch (sub) {
      case 'start': {
        if (positional.length > 0) throw new CliUsageError(`unexpected argument ${JSON.stringify(positional[0])}`);
        const r = await expectOk(deps.http('POST', '/training/runs', startBody(flags, switches)), [201]);
        const run = JSON.parse(r.text) as RunView;
        requested(run);
        return switches.has('wait') ? await waitFor(run.runId, deps, json) : 0;
      }
      case 'status': {
        const r = await expectOk(deps.http('GET', `/training/runs/${runArg()}`), [200]);
        deps.out(jsonDocument(JSON.parse(r.text)));
        return 0;
      }
      case 'wait':
        // Awaited here, so that its errors are reported (and exit coded) by this command's catch.
        return await waitFor(decodeURIComponent(runArg()), deps, json);
      case 'cancel': {
        const r = await expectOk(deps.http('POST', `/training/runs/${runArg()}/cancel`), [200]);
        const run = JSON.parse(r.text) as RunView;
        emit(run, () => deps.out(run.status === 'cancelled' ? 'cancelled' : 'cancel requested; the run stops at its next step'));
        return 0;
      }
      case 'retrain-excluding-withdrawn': {
        const r = await expectOk(deps.http('POST', `/training/runs/${runArg()}/retrain-excluding-withdrawn`), [201]);
        const run = JSON.parse(r.text) as RunView;
        requested(run);
        return switches.has('wait') ? await waitFor(run.runId, deps, json) : 0;
      }
      case 'list': {
        const query = flags.status ? `?status=${encodeURIComponent(flags.status)}` : '';
        const runs = JSON.parse((await expectOk(deps.http('GET', `/training/runs${query}`), [200])).text) as (RunView & { method: string })[];
        emit(runs, () => {
          for (const run of runs) deps.out(`${run.runId}  ${run.status.padEnd(9)}  ${run.method.padEnd(7)}  step ${run.step}/${run.totalSteps ?? '?'}`);
        });
        return 0;
      }
      default:
        throw new CliUsageError(sub ? `unknown subcommand ${JSON.stringify(sub)}` : 'a subcommand is required');
    }
  } catch (err) {
    return reportCliError(err, sub && sub in TRAIN_USAGE ? `trellis train ${sub}` : 'trellis train', commandUsage(trainCommand, sub), deps.err);
  }
}

export async function runBaseModelCommand(argv: string[], deps: TrainCliDeps): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    const { positional, flags, switches } = parseCliArgs(rest, { switches: [JSON_SWITCH], error: (m) => new CliUsageError(m) });
    const emit = emitter(deps.out, switches.has(JSON_SWITCH));
    if (positional.length > 0 && sub !== 'import') throw new CliUsageError(`unexpected argument ${JSON.stringify(positional[0])}`);
    switch (sub) {
      case 'create': {
        const unknown = Object.keys(flags).filter((f) => !['preset', 'seed', 'steps'].includes(f));
        if (unknown.length > 0) throw new CliUsageError(`unknown option --${unknown[0]}`);
        deps.err(`making the ${requireFlag(flags, 'preset')} base model (initialize and pre-train on the synthetic data set) ...`);
        const body = {
          preset: requireFlag(flags, 'preset'),
          ...(flags.seed !== undefined ? { seed: numberFlag(flags, 'seed') } : {}),
          ...(flags.steps !== undefined ? { steps: numberFlag(flags, 'steps') } : {}),
        };
        const r = await expectOk(deps.http('POST', '/training/base-models', body), [201]);
        const m = JSON.parse(r.text) as {
          baseModelId: string;
          architecture: { parameters: number };
          pretraining: { finalHeldOutLoss: number; initialHeldOutLoss: number } | null;
        };
        if (m.pretraining)
          deps.err(
            `${m.architecture.parameters} parameters; held-out loss ${m.pretraining.initialHeldOutLoss.toFixed(3)} -> ${m.pretraining.finalHeldOutLoss.toFixed(3)}`,
          );
        emit(m, () => deps.out(m.baseModelId));
        return 0;
      }
      case 'import': {
        if (Object.keys(flags).length > 0) throw new CliUsageError(`unknown option --${Object.keys(flags)[0]}`);
        if (positional.length !== 1)
          throw new CliUsageError(positional.length === 0 ? 'a DIRECTORY is required' : `one DIRECTORY only, got ${positional.join(' ')}`);
        const files = await deps.checkpointFiles(userPath(positional[0]));
        if (files.length === 0) throw new CliUsageError(`${positional[0]} holds no config.json, tokenizer.json or model*.safetensors`);
        const form = new FormData();
        for (const f of files) form.append('files', new Blob([f.bytes]), f.name);
        deps.err(`uploading ${files.length} file(s), ${files.reduce((n, f) => n + f.bytes.length, 0)} bytes ...`);
        const r = await expectOk(deps.http('POST', '/training/base-models/import', form), [201]);
        const m = JSON.parse(r.text) as { baseModelId: string };
        emit(m, () => deps.out(m.baseModelId));
        return 0;
      }
      case 'list': {
        const models = JSON.parse((await expectOk(deps.http('GET', '/training/base-models'), [200])).text) as {
          baseModelId: string;
          preset: string | null;
          architecture: { parameters: number };
          registeredAt: string;
        }[];
        emit(models, () => {
          for (const m of models)
            deps.out(`${m.baseModelId}  ${(m.preset ?? 'imported').padEnd(8)}  ${m.architecture.parameters} parameters  ${m.registeredAt}`);
        });
        return 0;
      }
      default:
        throw new CliUsageError(sub ? `unknown subcommand ${JSON.stringify(sub)}` : 'a subcommand is required');
    }
  } catch (err) {
    return reportCliError(
      err,
      sub && sub in BASE_MODEL_USAGE ? `trellis base-model ${sub}` : 'trellis base-model',
      commandUsage(baseModelCommand, sub),
      deps.err,
    );
  }
}

/** The real world: fetch against TRELLIS_URL with TRELLIS_TOKEN, stdout/stderr, a progress bar. */
export function defaultTrainDeps(env: NodeJS.ProcessEnv = process.env): TrainCliDeps {
  const client = new TrellisHttpClient(env.TRELLIS_URL || 'http://127.0.0.1:3000', env.TRELLIS_TOKEN);
  return {
    http: (method, path, body) => client.send(method, path, body),
    checkpointFiles: async (dir) => {
      const names = (await readdir(dir)).filter((n) => CHECKPOINT_FILE.test(n)).sort();
      return Promise.all(names.map(async (name) => ({ name, bytes: await readFile(join(dir, name)) })));
    },
    out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    progress: (total) => new ProgressBar(total),
  };
}

export const trainCommand: CliCommand = {
  summary: 'training runs: start (LoRA, QLoRA, distill, full), status, wait, cancel, retrain-excluding-withdrawn, list',
  usage: subcommandsUsage('train', TRAIN_USAGE),
  subcommands: TRAIN_USAGE,
  run: (argv) => runTrainCommand(argv, defaultTrainDeps()),
};

export const baseModelCommand: CliCommand = {
  summary: 'base models to fine-tune from: create --preset tiny, import DIRECTORY, list',
  usage: subcommandsUsage('base-model', BASE_MODEL_USAGE),
  subcommands: BASE_MODEL_USAGE,
  run: (argv) => runBaseModelCommand(argv, defaultTrainDeps()),
};
