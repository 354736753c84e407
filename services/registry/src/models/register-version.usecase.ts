import { Inject, Injectable } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import {
  Actor,
  ModelVersionRegistered,
  ParameterCountSummary,
  StoredFile,
  TrainingCompleted,
  TrainingMethod,
  TrainingRequested,
  TrainingSnapshotFrozen,
} from '@trellis/contracts';
import { countParameters, multimodalFromHfConfig, parseHeader } from '@trellis/ml';
import { getVerifiedBuffer, type ObjectStorage } from '@trellis/storage';
import { RegistryErrorCode, RegistryException } from '../registry.exception';
import { REGISTRY_STORAGE } from '../registry.tokens';
import { RegistryStreams } from '../streams/registry.streams';
import { sha256Of } from '../upstream/upstream-facts.recorder';
import { BaseModelRow, findModelByName } from './model.queries';

/** The items of a snapshot manifest the registry needs (trellis.training-snapshot.v1); the rest is the trainer's. */
const ManifestItems = z.object({
  runId: z.string().uuid(),
  items: z.array(
    z.object({
      itemId: z.string().uuid(),
      subjectId: z.string().uuid(),
      imageSha256: z.string().regex(/^[0-9a-f]{64}$/),
      textSha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
  ),
});

const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
const INSERT_BATCH = 5000;

/** The name a run's versions are registered under when its request named none: the base model's preset (or id) and the method. */
export function defaultModelName(base: { preset: string | null; base_model_id: string }, method: TrainingMethod): string {
  return `${base.preset ?? `base-${base.base_model_id.slice(0, 8)}`}-${method}`;
}

interface RunRow {
  run_id: string;
  requested_by: string;
  request: TrainingRequested['data'];
  snapshot: TrainingSnapshotFrozen['data'] | null;
}

/**
 * Registers a model version: from a completed training run (automatically, in the consumer's
 * transaction) or by hand from files already in object storage. Counts the parameters by part
 * with the library's exact counter from the base model's config.json, reads the snapshot manifest
 * once to keep which items and subjects reached the version, and creates the registered model on
 * its first version.
 */
@Injectable()
export class RegisterVersionUseCase {
  constructor(
    @Inject(REGISTRY_STORAGE) private readonly storage: ObjectStorage,
    private readonly streams: RegistryStreams,
  ) {}

  async fromRun(tx: QueryRunner, completed: TrainingCompleted['data'], actor: Actor): Promise<void> {
    const runs: RunRow[] = await tx.query('SELECT run_id, requested_by, request, snapshot FROM registry_runs WHERE run_id = $1', [completed.runId]);
    const run = runs[0];
    // The trainer's log is delivered in order: a completion without its request means a broken log, not a race.
    if (!run?.snapshot)
      throw new RegistryException(RegistryErrorCode.VersionNotFound, `run ${completed.runId} completed but its request or snapshot never reached the registry`);
    const base = await this.baseModel(tx, run.request.baseModel.baseModelId);
    const snapshot = run.snapshot.snapshot;
    const parameters = await this.parameters(base, run.request.method, completed.artifacts);
    const name = run.request.modelName ?? defaultModelName(base, run.request.method);
    const data: Omit<ModelVersionRegistered['data'], 'version' | 'modelId'> = {
      modelVersionId: uuidv7(),
      source: { kind: 'training-run', runId: run.run_id, requestedBy: run.requested_by },
      method: run.request.method,
      baseModel: run.request.baseModel,
      files: completed.artifacts,
      snapshot: {
        manifest: snapshot.manifest,
        merkleRoot: snapshot.merkleRoot,
        includedItems: snapshot.includedItems,
        includedSubjects: snapshot.includedSubjects,
        heldOutItems: snapshot.heldOutItems,
        consentAsOf: snapshot.consentAsOf,
      },
      annotationSets: run.request.annotationSets,
      purpose: run.request.purpose,
      parameters,
    };
    const registered = await this.register(tx, name, data, actor);
    if (registered) await this.keepSnapshotItems(tx, registered, snapshot.manifest, run.run_id);
  }

  /** By hand: files already in object storage (area `artifacts`), hashed here, on a registered base model. */
  async manual(
    tx: QueryRunner,
    input: { name: string; baseModelId: string; method: TrainingMethod; files: { name: string; key: string }[] },
    actor: Actor,
  ): Promise<string> {
    const base = await this.baseModel(tx, input.baseModelId);
    const files: StoredFile[] = [];
    for (const [i, f] of input.files.entries()) {
      const stat = await this.storage.stat('artifacts', f.key);
      if (!stat)
        throw new RegistryException(RegistryErrorCode.InvalidRequest, `files.${i}.key: no object with that key in the artifacts area`, [`body.files.${i}.key`]);
      const bytes = await this.storage.getBuffer('artifacts', f.key);
      files.push({ name: f.name, key: f.key, sha256: sha256Of(bytes), size: bytes.length });
    }
    const data = {
      modelVersionId: uuidv7(),
      source: { kind: 'manual' as const },
      method: input.method,
      baseModel: { baseModelId: base.base_model_id, manifestSha256: base.manifest_sha256 },
      files,
      snapshot: null,
      annotationSets: [],
      purpose: null,
      parameters: await this.parameters(base, input.method, files),
    };
    const registered = await this.register(tx, input.name, data, actor);
    return registered!;
  }

  /** Appends the version (and the model on its first version); returns the new version's id, or null when the run was registered already. */
  private async register(
    tx: QueryRunner,
    name: string,
    data: Omit<ModelVersionRegistered['data'], 'version' | 'modelId'>,
    actor: Actor,
  ): Promise<string | null> {
    // Serializes first versions of one name across processes: the name is unique, the model id is not known yet.
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`registry-model:${name}`]);
    let model = await findModelByName(tx, name);
    if (!model) {
      const modelId = uuidv7();
      await this.streams.model(tx, modelId, { type: 'CreateModel', data: { modelId, name, description: null } }, actor);
      model = { modelId, name };
    }
    const result = await this.streams.model(tx, model.modelId, { type: 'RegisterVersion', data: { ...data, modelId: model.modelId } }, actor);
    return result.newEvents.length > 0 ? data.modelVersionId : null;
  }

  private async baseModel(tx: QueryRunner, baseModelId: string): Promise<BaseModelRow> {
    const rows: BaseModelRow[] = await tx.query('SELECT * FROM registry_base_models WHERE base_model_id = $1', [baseModelId]);
    return rows[0] ?? fail(RegistryErrorCode.InvalidRequest, `no base model ${baseModelId} has reached the registry`, ['body.baseModelId']);
  }

  /** By part from the base model's config.json (the library's exact counter); trainable from the adapter's tensors, or everything for full weights. */
  private async parameters(base: BaseModelRow, method: TrainingMethod, files: StoredFile[]): Promise<ParameterCountSummary> {
    const configFile =
      base.files.find((f) => f.name === 'config.json') ?? fail(RegistryErrorCode.ArtifactCorrupt, `base model ${base.base_model_id} has no config.json`);
    const config = multimodalFromHfConfig(JSON.parse((await this.storage.getBuffer('artifacts', configFile.key)).toString('utf8')));
    const count = countParameters(config, { budget: Number.MAX_SAFE_INTEGER });
    const adapter = files.find((f) => f.name === ADAPTER_WEIGHTS);
    let trainable = count.total;
    if ((method === 'lora' || method === 'qlora') && adapter) {
      const bytes = await this.storage.getBuffer('artifacts', adapter.key);
      const header = parseHeader(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), bytes.byteLength);
      trainable = [...header.tensors.values()].reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0);
    }
    return { ...count, trainable };
  }

  private async keepSnapshotItems(tx: QueryRunner, modelVersionId: string, manifest: StoredFile, runId: string): Promise<void> {
    const bytes = await getVerifiedBuffer(this.storage, 'artifacts', manifest.key, manifest.sha256);
    if (!bytes) throw new RegistryException(RegistryErrorCode.ArtifactCorrupt, `run ${runId}: the snapshot manifest does not match its SHA-256`);
    const parsed = ManifestItems.safeParse(JSON.parse(bytes.toString('utf8')));
    if (!parsed.success || parsed.data.runId !== runId)
      throw new RegistryException(RegistryErrorCode.ArtifactCorrupt, `run ${runId}: the snapshot manifest is not the run's`);
    const items = parsed.data.items;
    for (let i = 0; i < items.length; i += INSERT_BATCH) {
      const batch = items.slice(i, i + INSERT_BATCH);
      await tx.query(
        `INSERT INTO registry_snapshot_items (model_version_id, item_id, subject_id, image_sha256, text_sha256)
         SELECT $1, * FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[]) ON CONFLICT DO NOTHING`,
        [
          modelVersionId,
          batch.map((b) => b.itemId),
          batch.map((b) => b.subjectId.toLowerCase()),
          batch.map((b) => b.imageSha256),
          batch.map((b) => b.textSha256),
        ],
      );
    }
  }
}

function fail(code: RegistryErrorCode, message: string, fields?: string[]): never {
  throw new RegistryException(code, message, fields);
}
