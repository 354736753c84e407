import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { StoredFile } from '@trellis/contracts';
import { withTransaction } from '@trellis/common';
import { retryOnConflict } from '@trellis/event-store';
import { getVerifiedBuffer, type ObjectStorage } from '@trellis/storage';
import { isFinished, RunCommand, RunState } from '../runs/run.decider';
import { findBaseModel, findRun } from '../runs/run.queries';
import { RunStreams } from '../runs/run.streams';
import { FreezeSnapshotUseCase, itemPairs } from '../snapshot/freeze-snapshot.usecase';
import { TRAINER_SERVICE_ACTOR } from '../trainer.actors';
import type { TrainerConfig } from '../trainer.config';
import { TrainerErrorCode, TrainerException } from '../trainer.exception';
import { TRAINER_CONFIG, TRAINER_STORAGE } from '../trainer.tokens';
import type { ProgressReport, TrainingJob, WorkerMessage } from './worker-protocol';
import { RunQueue } from './run-queue';
import { forkTrainingWorker } from './worker-process';

const conflict = () => new TrainerException(TrainerErrorCode.ConcurrentChange, 'the run changed concurrently too often');

/**
 * Takes runs from the queue and executes each off the request path: freezes the snapshot if it
 * is not frozen yet, stages the base model, snapshot, images and last checkpoint in a local
 * directory, forks a worker process to train, and turns what the worker reports into events
 * (progress at most once per interval) and stored files (checkpoints, artifacts). The lease is
 * renewed while the worker lives; a lost lease stops the worker, a dead worker gives the run back
 * for another attempt (resumed from its last checkpoint), up to TRAINER_MAX_ATTEMPTS.
 */
@Injectable()
export class RunExecutor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Trainer');
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private stopping = false;
  private readonly loops: Promise<void>[] = [];
  private readonly workers = new Set<ChildProcess>();
  private wake: (() => void) | null = null;
  /** A worker forked ahead, loading its modules while idle, for the next run (see takeWorker). */
  private spare: ChildProcess | null = null;
  /** Settles once the spare has said it is ready (or has gone). */
  private spareReadiness: Promise<void> = Promise.resolve();

  constructor(
    private readonly dataSource: DataSource,
    private readonly queue: RunQueue,
    private readonly streams: RunStreams,
    private readonly freezer: FreezeSnapshotUseCase,
    @Inject(TRAINER_STORAGE) private readonly storage: ObjectStorage,
    @Inject(TRAINER_CONFIG) private readonly config: TrainerConfig,
  ) {}

  onApplicationBootstrap(): void {
    for (let i = 0; i < this.config.concurrency; i++) this.loops.push(this.loop());
    if (this.config.concurrency > 0) this.logger.log(`trainer ${this.owner}: ${this.config.concurrency} run slot(s), lease ${this.config.leaseSeconds} s`);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    for (const w of this.workers) w.kill('SIGTERM');
    this.spare?.kill('SIGTERM');
    this.spare = null;
    await Promise.all(this.loops);
  }

  /** Looks for work at once instead of at the next poll (a run was just requested). */
  poke(): void {
    this.wake?.();
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      let runId: string | null = null;
      try {
        runId = await this.queue.claim(this.owner, this.config.leaseSeconds);
        if (runId) await this.execute(runId);
      } catch (err) {
        this.logger.error(`run ${runId ?? '(claim)'}: ${(err as Error).message}`);
        if (runId) await this.queue.release(runId, this.owner).catch(() => undefined);
      }
      if (!runId && !this.stopping)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.config.pollMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
    }
  }

  private command(runId: string, command: RunCommand): Promise<unknown> {
    return retryOnConflict(() => withTransaction(this.dataSource, (tx) => this.streams.handle(tx, runId, command, TRAINER_SERVICE_ACTOR)), conflict);
  }

  /** Executes one claimed run to its end, or until its worker dies or the lease is lost. */
  async execute(runId: string): Promise<void> {
    let { state } = await this.streams.load(runId);
    if (isFinished(state.status)) return;
    if (state.status === 'requested') {
      await this.freezer.freeze(state, new Date());
      ({ state } = await this.streams.load(runId));
      if (isFinished(state.status)) return;
    }
    if (state.cancelRequested) {
      await this.command(runId, { type: 'ConfirmCancel', step: state.step || null });
      return;
    }
    if (state.attempts >= this.config.maxAttempts) {
      const reason = `the run's worker stopped without finishing ${state.attempts} times; it is not retried again`;
      await this.command(runId, { type: 'Fail', code: 'OUT_OF_ATTEMPTS', reason, step: state.step || null });
      return;
    }
    const dir = join(this.config.workDir, 'runs', runId, `attempt-${state.attempts + 1}`);
    rmSync(dir, { recursive: true, force: true });
    let job: TrainingJob;
    try {
      job = await this.stage(state, dir);
    } catch (err) {
      const code = err instanceof TrainerException && err.code === TrainerErrorCode.ArtifactCorrupt ? 'DATA_UNREADABLE' : 'INTERNAL';
      await this.command(runId, { type: 'Fail', code, reason: `staging the run failed: ${(err as Error).message}`, step: null });
      return;
    }
    try {
      await this.supervise(state, job);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  private async download(area: 'artifacts' | 'curated', key: string, sha256: string, to: string): Promise<void> {
    const bytes = await getVerifiedBuffer(this.storage, area, key, sha256);
    if (!bytes) throw new TrainerException(TrainerErrorCode.ArtifactCorrupt, `stored object ${key} does not match its recorded SHA-256`);
    mkdirSync(dirname(to), { recursive: true });
    writeFileSync(to, bytes);
  }

  private async stageBaseModel(baseModelId: string, dir: string): Promise<void> {
    const base = await findBaseModel(this.dataSource, baseModelId);
    if (!base) throw new TrainerException(TrainerErrorCode.BaseModelNotFound, `base model ${baseModelId} is not registered`);
    for (const f of base.files) await this.download('artifacts', f.key, f.sha256, join(dir, f.name));
  }

  /** Everything the worker reads, verified against the hashes the events carry, in a local directory. */
  private async stage(state: RunState, dir: string): Promise<TrainingJob> {
    const request = state.request!;
    const snapshot = state.snapshot!;
    await this.stageBaseModel(request.baseModel.baseModelId, join(dir, 'base'));
    if (request.teacher) await this.stageBaseModel(request.teacher.baseModelId, join(dir, 'teacher'));
    const manifest = await this.freezer.readManifest(snapshot.snapshot.manifest);
    writeFileSync(join(dir, 'snapshot.json'), JSON.stringify(manifest));
    writeFileSync(join(dir, 'pairs.json'), JSON.stringify(await itemPairs(this.dataSource, manifest.items)));
    const images = join(dir, 'images');
    mkdirSync(images, { recursive: true });
    const seen = new Set<string>();
    for (const item of manifest.items) {
      if (seen.has(item.imageSha256)) continue;
      seen.add(item.imageSha256);
      await this.download('curated', item.imageKey, item.imageSha256, join(images, item.imageSha256));
    }
    let resumeDir: string | null = null;
    if (state.checkpoint) {
      resumeDir = join(dir, 'resume');
      for (const f of state.checkpoint.files) await this.download('artifacts', f.key, f.sha256, join(resumeDir, f.name));
    }
    const run = await findRun(this.dataSource, request.runId);
    mkdirSync(join(dir, 'out'), { recursive: true });
    return {
      runId: request.runId,
      method: request.method,
      hyperparameters: request.hyperparameters,
      totalSteps: snapshot.totalSteps,
      baseModelDir: join(dir, 'base'),
      teacherModelDir: request.teacher ? join(dir, 'teacher') : null,
      manifestPath: join(dir, 'snapshot.json'),
      pairsPath: join(dir, 'pairs.json'),
      imagesDir: images,
      resumeDir,
      backend: resumeDir ? (run?.backend ?? null) : null,
      outDir: join(dir, 'out'),
    };
  }

  private async store(dir: string, files: string[], prefix: string): Promise<StoredFile[]> {
    const out: StoredFile[] = [];
    for (const name of files) {
      const stored = await this.storage.putBuffer('artifacts', readFileSync(join(dir, name)), { prefix });
      out.push({ name, key: stored.key, sha256: stored.sha256, size: stored.size });
    }
    return out;
  }

  /** The spare worker if there is one (loaded, or still loading), else a new one. */
  private takeWorker(): ChildProcess {
    const ready = this.spare && this.spare.connected && this.spare.exitCode === null ? this.spare : null;
    this.spare = null;
    return ready ?? forkTrainingWorker();
  }

  /**
   * Forks the worker for the next run when a run ends: a worker loads TensorFlow and the model
   * code before it can start (seconds when the trainer runs from source), and loading it while
   * the trainer is idle, not beside a training worker, costs no run anything. The first run of a
   * process forks cold: a process that never trains (every platform process by default until it
   * claims a run) keeps no spare.
   */
  private prepareSpare(): void {
    if (this.stopping || this.spare) return;
    const spare = forkTrainingWorker();
    this.spareReadiness = new Promise((resolve) => {
      spare.on('message', (m: WorkerMessage) => m.type === 'ready' && resolve());
      spare.once('exit', () => resolve());
    });
    spare.once('exit', () => {
      if (this.spare === spare) this.spare = null;
    });
    this.spare = spare;
  }

  /**
   * Settles once the worker forked for the next run has loaded and initialised its ML backend,
   * at once when there is none. What bench:trainer waits for before a run it measures in the
   * steady state of a trainer that has trained before.
   */
  spareReady(): Promise<void> {
    return this.spareReadiness;
  }

  /** Runs the worker and turns its reports into events, in order, one at a time. */
  private supervise(state: RunState, job: TrainingJob): Promise<void> {
    const runId = job.runId;
    const worker = this.takeWorker();
    this.workers.add(worker);
    let chain: Promise<unknown> = Promise.resolve();
    let ended = false;
    let lost = false;
    let pending: ProgressReport | null = null;
    let lastProgressAt = 0;
    const flushProgress = async () => {
      if (!pending) return;
      const p = pending;
      pending = null;
      lastProgressAt = Date.now();
      await this.command(runId, { type: 'RecordProgress', data: { ...p, totalSteps: job.totalSteps } });
    };
    const handle = async (m: WorkerMessage): Promise<void> => {
      if (lost) return;
      switch (m.type) {
        case 'started':
          await this.command(runId, {
            type: 'StartAttempt',
            data: { worker: this.owner, backend: m.backend, device: m.device.slice(0, 200), notes: m.notes.slice(0, 20).map((n) => n.slice(0, 500)) },
          });
          return;
        case 'progress':
          pending = m.progress;
          if (Date.now() - lastProgressAt >= this.config.progressIntervalMs) await flushProgress();
          return;
        case 'checkpoint': {
          await flushProgress();
          const files = await this.store(m.dir, m.files, `training-runs/${runId}/checkpoints/`);
          await this.command(runId, { type: 'RecordCheckpoint', step: m.step, files });
          rmSync(m.dir, { recursive: true, force: true });
          return;
        }
        case 'completed': {
          await flushProgress();
          const r = m.report;
          if (r.tensorsAfter !== r.tensorsBefore)
            this.logger.warn(`run ${runId}: the worker ended with ${r.tensorsAfter - r.tensorsBefore} tensor(s) more than it started with`);
          const artifacts = [...(await this.store(r.dir, r.files, `training-runs/${runId}/artifacts/`)), state.snapshot!.snapshot.manifest];
          ended = true;
          await this.command(runId, {
            type: 'Complete',
            data: {
              artifacts,
              steps: r.steps,
              finalTrainLoss: r.finalTrainLoss,
              finalHeldOutLoss: r.finalHeldOutLoss,
              baseHeldOutLoss: r.baseHeldOutLoss,
              tokensSeen: r.tokensSeen,
              wallSeconds: r.wallSeconds,
              backend: (await findRun(this.dataSource, runId))?.backend ?? 'unknown',
            },
          });
          return;
        }
        case 'failed':
          await flushProgress();
          ended = true;
          await this.command(runId, { type: 'Fail', code: m.code, reason: m.reason, step: m.step });
          return;
        case 'cancelled':
          await flushProgress();
          ended = true;
          await this.command(runId, { type: 'ConfirmCancel', step: m.step });
          return;
      }
    };
    return new Promise<void>((resolve) => {
      const heartbeat = setInterval(
        () => {
          chain = chain.then(async () => {
            const lease = await this.queue.renew(runId, this.owner, this.config.leaseSeconds).catch(() => ({ held: true, cancelRequested: false }));
            if (!lease.held) {
              lost = true;
              this.logger.warn(`run ${runId}: lease lost; stopping its worker`);
              worker.kill('SIGKILL');
            } else if (lease.cancelRequested && worker.connected) worker.send({ type: 'cancel' });
          });
        },
        Math.max(500, (this.config.leaseSeconds * 1000) / 3),
      );
      worker.on('message', (m: WorkerMessage) => {
        chain = chain.then(() => handle(m)).catch((err: Error) => this.logger.error(`run ${runId}: ${err.message}`));
      });
      worker.on('exit', (code, signal) => {
        clearInterval(heartbeat);
        this.workers.delete(worker);
        this.prepareSpare();
        chain = chain
          .then(async () => {
            if (ended || lost || this.stopping) {
              if (!ended) await this.queue.release(runId, this.owner);
              return;
            }
            const { state: now } = await this.streams.load(runId);
            if (isFinished(now.status)) return;
            const how = signal ? `signal ${signal}` : `exit code ${code}`;
            if (now.attempts >= this.config.maxAttempts) {
              await this.command(runId, {
                type: 'Fail',
                code: 'WORKER_CRASHED',
                reason: `the worker stopped (${how}) without finishing, attempt ${now.attempts}`,
                step: now.step || null,
              });
            } else {
              this.logger.warn(`run ${runId}: the worker stopped (${how}); the run goes back to the queue`);
              await this.queue.release(runId, this.owner);
            }
          })
          .catch((err: Error) => this.logger.error(`run ${runId}: ${err.message}`))
          .finally(resolve);
      });
      worker.send({ type: 'job', job });
    });
  }
}
