import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { Actor, BASE_MODEL_PRESETS, BaseModelRegistered, canonicalJson, StoredFile } from '@trellis/contracts';
import { withTransaction } from '@trellis/common';
import type { ObjectStorage } from '@trellis/storage';
import { BaseModelReady, BaseModelJob, WorkerMessage } from '../execution/worker-protocol';
import { forkTrainingWorker } from '../execution/worker-process';
import { BaseModelView, findBaseModel, listBaseModels } from '../runs/run.queries';
import { RunStreams } from '../runs/run.streams';
import { SEED } from '../runs/run-request';
import { requireUuid } from '../runs/run.usecases';
import type { TrainerConfig } from '../trainer.config';
import { TrainerErrorCode, TrainerException } from '../trainer.exception';
import { TRAINER_CONFIG, TRAINER_STORAGE } from '../trainer.tokens';
import { CHECKPOINT_FILE } from './checkpoint-files';

export const baseModelStream = (baseModelId: string) => `base-model-${baseModelId}`;
export const BASE_MODEL_PREFIX = 'base-models/';

const CreateBody = z
  .object({
    preset: z.enum(BASE_MODEL_PRESETS),
    seed: SEED.optional(),
    steps: z.number().int().min(0).max(100_000).optional(),
  })
  .strict();

/** How long the worker may take to make or inspect a base model before the request gives up. */
const BASE_MODEL_TIMEOUT_MS = 15 * 60 * 1000;

function invalid(issues: z.ZodIssue[]): never {
  const fields = issues.map((i) => ['body', ...i.path].join('.'));
  throw new TrainerException(TrainerErrorCode.InvalidRequest, issues.map((i, n) => `${fields[n]}: ${i.message}`).join('; '), fields);
}

@Injectable()
export class BaseModelUseCases {
  private busy = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly streams: RunStreams,
    @Inject(TRAINER_STORAGE) private readonly storage: ObjectStorage,
    @Inject(TRAINER_CONFIG) private readonly config: TrainerConfig,
  ) {}

  /** Initializes and pre-trains a preset base model in a worker, stores its checkpoint and registers it. */
  async create(body: unknown, actor: Actor): Promise<BaseModelView> {
    const parsed = CreateBody.safeParse(body);
    if (!parsed.success) invalid(parsed.error.issues);
    const id = uuidv7();
    const dir = join(this.config.workDir, 'base-models', id);
    return this.register(
      id,
      { kind: 'create', preset: parsed.data.preset, seed: parsed.data.seed ?? 0, steps: parsed.data.steps ?? null, outDir: dir },
      parsed.data.preset,
      dir,
      actor,
    );
  }

  /**
   * Registers a checkpoint users upload (the files of a Hugging Face-layout directory): it is
   * read back through the loader a run uses, so a checkpoint a run could not load (a tensor of
   * the wrong shape, a config that does not add up) is refused here, naming what is wrong.
   */
  async import(files: { originalname: string; buffer: Buffer }[], actor: Actor): Promise<BaseModelView> {
    const problems: string[] = [];
    if (files.length === 0) problems.push('no files: upload config.json, tokenizer.json and model*.safetensors as multipart parts named "files"');
    const names = new Set<string>();
    for (const f of files) {
      if (!CHECKPOINT_FILE.test(f.originalname)) problems.push(`${JSON.stringify(f.originalname.slice(0, 100))} is not a file of a base checkpoint`);
      else if (names.has(f.originalname)) problems.push(`${f.originalname} is uploaded twice`);
      names.add(f.originalname);
    }
    for (const required of ['config.json', 'tokenizer.json']) if (files.length > 0 && !names.has(required)) problems.push(`${required} is missing`);
    if (problems.length > 0) throw new TrainerException(TrainerErrorCode.InvalidRequest, `files: ${problems.join('; ')}`, ['files']);
    const id = uuidv7();
    const dir = join(this.config.workDir, 'base-models', id);
    mkdirSync(dir, { recursive: true });
    for (const f of files) writeFileSync(join(dir, f.originalname), f.buffer);
    return this.register(id, { kind: 'inspect', dir }, null, dir, actor);
  }

  list(): Promise<BaseModelView[]> {
    return listBaseModels(this.dataSource);
  }

  async get(idParam: string): Promise<BaseModelView> {
    const id = requireUuid(idParam, 'base model id', 'params.baseModelId');
    const found = await findBaseModel(this.dataSource, id);
    if (!found) throw new TrainerException(TrainerErrorCode.BaseModelNotFound, `no base model ${id}`);
    return found;
  }

  private async register(id: string, job: BaseModelJob, preset: 'tiny' | null, dir: string, actor: Actor): Promise<BaseModelView> {
    if (this.busy) throw new TrainerException(TrainerErrorCode.Unavailable, 'this trainer is already making or inspecting a base model; try again shortly');
    this.busy = true;
    try {
      const ready = await this.inWorker(job);
      const files: StoredFile[] = [];
      for (const name of ready.files) {
        const stored = await this.storage.putBuffer('artifacts', readFileSync(join(ready.dir, name)), { prefix: BASE_MODEL_PREFIX });
        files.push({ name, key: stored.key, sha256: stored.sha256, size: stored.size });
      }
      const data: BaseModelRegistered['data'] = {
        baseModelId: id,
        preset,
        files,
        manifestSha256: createHash('sha256').update(canonicalJson(files)).digest('hex'),
        architecture: ready.architecture,
        pretraining: ready.pretraining,
      };
      await withTransaction(this.dataSource, (tx) => this.streams.start(tx, baseModelStream(id), [{ type: 'BaseModelRegistered', data }], actor));
      return (await findBaseModel(this.dataSource, id))!;
    } finally {
      this.busy = false;
      rmSync(dir, { recursive: true, force: true });
    }
  }

  private inWorker(job: BaseModelJob): Promise<BaseModelReady> {
    return new Promise((resolve, reject) => {
      const worker = forkTrainingWorker();
      let answer: WorkerMessage | null = null;
      const timer = setTimeout(() => worker.kill('SIGKILL'), BASE_MODEL_TIMEOUT_MS);
      worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'base-model-ready' || m.type === 'failed') answer = m;
      });
      worker.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (answer?.type === 'base-model-ready') return resolve(answer.ready);
        if (answer?.type === 'failed') {
          const field = job.kind === 'inspect' ? 'files' : 'body';
          return reject(new TrainerException(TrainerErrorCode.InvalidRequest, `${field}: the base checkpoint is not usable: ${answer.reason}`, [field]));
        }
        reject(
          new TrainerException(TrainerErrorCode.Unavailable, `the base-model worker stopped (${signal ?? `exit code ${code}`}) without an answer; try again`),
        );
      });
      worker.send({ type: 'base-model', job });
    });
  }
}
