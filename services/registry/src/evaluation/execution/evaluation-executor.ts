import { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Answer, Metrics, StoredFile, supervisedPairs } from '@trellis/contracts';
import { withTransaction } from '@trellis/common';
import { forkWorkerScript } from '@trellis/runtime';
import { getVerifiedBuffer, type ObjectStorage } from '@trellis/storage';
import { REGISTRY_SERVICE_ACTOR } from '../../consent/flag-versions.usecase';
import { findVersionById } from '../../models/model.queries';
import { RegistryConfig } from '../../registry.config';
import { RegistryErrorCode, RegistryException } from '../../registry.exception';
import { REGISTRY_CONFIG, REGISTRY_STORAGE } from '../../registry.tokens';
import { RegistryStreams } from '../../streams/registry.streams';
import type { EvaluationRequested } from '@trellis/contracts';
import type { EvaluationJob } from '../scoring/evaluation-job';
import { EvaluationQueue } from './evaluation-queue';
import type { EvaluationWorkerMessage } from './evaluation-worker-protocol';

type Outcome =
  | { kind: 'done'; metrics: Metrics; itemCount: number; predictionsPath: string; backend: string }
  | { kind: 'failed'; code: EvaluationFailedCode; reason: string }
  | { kind: 'crashed' };
type EvaluationFailedCode = Extract<EvaluationWorkerMessage, { type: 'failed' }>['code'];

/**
 * Runs evaluations off the request path: REGISTRY_EVALUATION_CONCURRENCY slots take evaluations
 * from the queue every registry process shares (a lease per evaluation), stage the version's
 * files and the set's images verified against their hashes, and run each in a forked worker.
 * A worker that dies gives the evaluation back for another attempt, up to the configured number.
 */
@Injectable()
export class EvaluationExecutor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('EvaluationExecutor');
  private readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly workers = new Set<ChildProcess>();
  private stopping = false;
  /** Unexpected errors per evaluation in this process (storage away, a bug): after the attempt limit the evaluation fails rather than loop. */
  private readonly errors = new Map<string, number>();
  private loops: Promise<void>[] = [];
  private wake: (() => void) | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly queue: EvaluationQueue,
    private readonly streams: RegistryStreams,
    @Inject(REGISTRY_STORAGE) private readonly storage: ObjectStorage,
    @Inject(REGISTRY_CONFIG) private readonly config: RegistryConfig,
  ) {}

  onApplicationBootstrap(): void {
    for (let i = 0; i < this.config.evaluationConcurrency; i++) this.loops.push(this.loop());
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    for (const w of this.workers) w.kill('SIGKILL');
    await Promise.all(this.loops);
  }

  /** Looks for work now rather than at the next poll (a request was just made in this process). */
  nudge(): void {
    this.wake?.();
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      let id: string | null = null;
      try {
        id = await this.queue.claim(this.owner, this.config.evaluationLeaseSeconds);
        if (id) await this.run(id);
      } catch (err) {
        this.logger.error(`evaluation ${id ?? '(claim)'}: ${err instanceof Error ? err.message : String(err)}`);
        if (id) await this.queue.release(id, this.owner).catch(() => undefined);
      }
      if (!id && !this.stopping)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.config.evaluationPollMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
    }
  }

  private async giveBack(evaluationId: string): Promise<void> {
    const errors = (this.errors.get(evaluationId) ?? 0) + 1;
    this.errors.set(evaluationId, errors);
    if (errors < this.config.evaluationMaxAttempts) return this.queue.release(evaluationId, this.owner).catch(() => undefined);
    this.errors.delete(evaluationId);
    await this.fail(evaluationId, 'INTERNAL', `the registry could not finish the evaluation in ${errors} tries; see its log`).catch(() =>
      this.queue.release(evaluationId, this.owner),
    );
  }

  private async run(evaluationId: string): Promise<void> {
    const { state } = await this.streams.loadEvaluation(evaluationId);
    if (!state.request || state.status === 'completed' || state.status === 'failed') return;
    if (state.attempts >= this.config.evaluationMaxAttempts) {
      await this.fail(evaluationId, 'WORKER_CRASHED', `the evaluation worker died in each of ${state.attempts} attempts`);
      return;
    }
    const dir = join(this.config.workDir, `evaluation-${evaluationId}`);
    rmSync(dir, { recursive: true, force: true });
    try {
      let job: EvaluationJob;
      try {
        job = await this.stage(state.request, dir);
      } catch (err) {
        if (err instanceof RegistryException)
          return await this.fail(evaluationId, err.code === RegistryErrorCode.ArtifactCorrupt ? 'DATA_UNREADABLE' : 'MODEL_UNREADABLE', err.message);
        throw err;
      }
      const started = Date.now();
      const outcome = await this.supervise(evaluationId, job);
      if (outcome.kind === 'crashed') {
        this.logger.warn(`evaluation ${evaluationId}: the worker died; the evaluation goes back to the queue`);
        await this.queue.release(evaluationId, this.owner);
      } else if (outcome.kind === 'failed') await this.fail(evaluationId, outcome.code, outcome.reason);
      else await this.complete(evaluationId, outcome, (Date.now() - started) / 1000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  private async supervise(evaluationId: string, job: EvaluationJob): Promise<Outcome> {
    const worker = forkWorkerScript(__dirname, 'evaluation-worker');
    this.workers.add(worker);
    let outcome: Outcome = { kind: 'crashed' };
    let backend = 'unknown';
    const heartbeat = setInterval(
      () => {
        void this.queue.renew(evaluationId, this.owner, this.config.evaluationLeaseSeconds).then((held) => {
          // Another registry took it over (this one stalled past its lease): stop, it runs there.
          if (!held) worker.kill('SIGKILL');
        });
      },
      (this.config.evaluationLeaseSeconds * 1000) / 3,
    );
    const appends: Promise<unknown>[] = [];
    worker.on('message', (m: EvaluationWorkerMessage) => {
      if (m.type === 'started') {
        backend = m.backend;
        appends.push(
          withTransaction(this.dataSource, (tx) => this.streams.evaluation(tx, evaluationId, { type: 'StartAttempt', backend }, REGISTRY_SERVICE_ACTOR)),
        );
      } else if (m.type === 'done') outcome = { kind: 'done', ...m.result, backend };
      else if (m.type === 'failed') outcome = { kind: 'failed', code: m.code, reason: m.reason };
    });
    try {
      await new Promise<void>((resolve) => {
        worker.once('exit', () => resolve());
        worker.send({ type: 'job', job });
      });
      await Promise.all(appends);
    } finally {
      clearInterval(heartbeat);
      this.workers.delete(worker);
    }
    return outcome;
  }

  private async complete(evaluationId: string, o: Extract<Outcome, { kind: 'done' }>, wallSeconds: number): Promise<void> {
    const bytes = readFileSync(o.predictionsPath);
    const stored = await this.storage.putBuffer('artifacts', bytes, { prefix: `evaluations/${evaluationId}/` });
    const predictions: StoredFile = { name: 'predictions.jsonl', key: stored.key, sha256: stored.sha256, size: stored.size };
    await withTransaction(this.dataSource, (tx) =>
      this.streams.evaluation(
        tx,
        evaluationId,
        { type: 'Complete', data: { itemCount: o.itemCount, metrics: o.metrics, predictions, wallSeconds } },
        REGISTRY_SERVICE_ACTOR,
      ),
    );
  }

  private async fail(evaluationId: string, code: EvaluationFailedCode, reason: string): Promise<void> {
    await withTransaction(this.dataSource, (tx) => this.streams.evaluation(tx, evaluationId, { type: 'Fail', code, reason }, REGISTRY_SERVICE_ACTOR));
  }

  private async download(area: 'artifacts' | 'curated', key: string, sha256: string, to: string): Promise<void> {
    const bytes = await getVerifiedBuffer(this.storage, area, key, sha256);
    if (!bytes) throw new RegistryException(RegistryErrorCode.ArtifactCorrupt, `stored object ${key} does not match its recorded SHA-256`);
    mkdirSync(dirname(to), { recursive: true });
    writeFileSync(to, bytes);
  }

  /** Everything the worker reads, verified against the hashes the events carry, in a local directory. */
  private async stage(request: EvaluationRequested['data'], dir: string): Promise<EvaluationJob> {
    const version = (await findVersionById(this.dataSource, request.modelVersionId))!;
    const bases: { files: StoredFile[] }[] = await this.dataSource.query('SELECT files FROM registry_base_models WHERE base_model_id = $1', [
      version.baseModel.baseModelId,
    ]);
    if (!bases[0]) throw new RegistryException(RegistryErrorCode.VersionNotFound, `the base model of version ${version.version} has not reached the registry`);
    for (const f of bases[0].files) await this.download('artifacts', f.key, f.sha256, join(dir, 'base', f.name));
    for (const f of version.files) await this.download('artifacts', f.key, f.sha256, join(dir, 'artifacts', f.name));
    const items: { item_id: string; subject_id: string; image_key: string; image_sha256: string; answer: Answer }[] = await this.dataSource.query(
      'SELECT item_id, subject_id, image_key, image_sha256, answer FROM registry_set_items WHERE set_id = $1 ORDER BY item_id',
      [request.annotationSet.setId],
    );
    const lines = [];
    for (const item of items) {
      const imagePath = join(dir, 'images', item.image_sha256);
      await this.download('curated', item.image_key, item.image_sha256, imagePath);
      const prompt = item.answer.kind === 'vqa' ? undefined : supervisedPairs(item.answer)[0].prompt;
      lines.push({ itemId: item.item_id, subjectId: item.subject_id, imagePath, answer: item.answer, ...(prompt ? { prompt } : {}) });
    }
    const itemsPath = join(dir, 'items.json');
    writeFileSync(itemsPath, JSON.stringify(lines));
    return {
      baseModelDir: join(dir, 'base'),
      artifactsDir: join(dir, 'artifacts'),
      method: version.method as EvaluationJob['method'],
      itemsPath,
      seed: request.seed,
      maxNewTokens: request.maxNewTokens,
      outDir: join(dir, 'out'),
    };
  }
}
