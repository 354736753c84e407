import { Injectable } from '@nestjs/common';
import { DataSource, QueryRunner } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { Actor, MODEL_CARD_FIELDS, ModelCardField, TAG_KEY_PATTERN } from '@trellis/contracts';
import { withTransaction } from '@trellis/common';
import { retryOnConflict } from '@trellis/event-store';
import { RegistryErrorCode, RegistryException } from '../registry.exception';
import {
  ArchiveBody,
  CardBody,
  CreateModelBody,
  limitParam,
  optionalDate,
  parseBody,
  RegisterVersionBody,
  requireAlias,
  requireModelName,
  requireVersionNumber,
  UpdateVersionBody,
} from '../registry-requests';
import { RegistryStreams } from '../streams/registry.streams';
import {
  aliasHistory,
  AliasMoveView,
  CardRevision,
  cardRevisions,
  findModelByName,
  findVersion,
  listVersions,
  ModelView,
  requireModelByName,
  searchModels,
  VersionView,
} from './model.queries';
import { RegisterVersionUseCase } from './register-version.usecase';

export const concurrentChange = () => new RegistryException(RegistryErrorCode.ConcurrentChange, 'the model changed concurrently too often; try again');

/** Runs a command on a registered model's stream in its own transaction, again when a writer got in between. */
export async function onModel<T>(dataSource: DataSource, work: (tx: QueryRunner) => Promise<T>): Promise<T> {
  return retryOnConflict(() => withTransaction(dataSource, work), concurrentChange);
}

export async function requireVersion(db: DataSource | QueryRunner, name: string, versionParam: string | number): Promise<VersionView> {
  const model = await requireModelByName(db, requireModelName(name));
  const version = typeof versionParam === 'number' ? versionParam : requireVersionNumber(versionParam);
  return (await findVersion(db, model.modelId, version)) ?? fail(RegistryErrorCode.VersionNotFound, `model ${model.name} has no version ${version}`);
}

/** Registered models and their versions: create, search, read, tag, describe, archive, card fields, alias history. */
@Injectable()
export class ModelUseCases {
  constructor(
    private readonly dataSource: DataSource,
    private readonly streams: RegistryStreams,
    private readonly register: RegisterVersionUseCase,
  ) {}

  async create(body: unknown, actor: Actor): Promise<ModelView> {
    const input = parseBody(CreateModelBody, body);
    const modelId = uuidv7();
    await withTransaction(this.dataSource, async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`registry-model:${input.name}`]);
      if (await findModelByName(tx, input.name)) fail(RegistryErrorCode.ModelNameTaken, `a registered model named ${input.name} exists`, ['body.name']);
      await this.streams.model(tx, modelId, { type: 'CreateModel', data: { modelId, name: input.name, description: input.description ?? null } }, actor);
    });
    return this.get(input.name);
  }

  search(query: { name?: string; tag?: string; alias?: string; limit?: string }): Promise<ModelView[]> {
    let tag: { key: string; value: string | null } | undefined;
    if (query.tag !== undefined) {
      const [key, ...rest] = query.tag.split('=');
      if (!TAG_KEY_PATTERN.test(key)) fail(RegistryErrorCode.InvalidRequest, 'query.tag: key or key=value', ['query.tag']);
      tag = { key, value: rest.length > 0 ? rest.join('=') : null };
    }
    if (query.name !== undefined && (query.name.length > 100 || !/^[a-z0-9._-]*$/.test(query.name))) {
      fail(RegistryErrorCode.InvalidRequest, 'query.name: part of a model name (lowercase letters, digits, . _ -)', ['query.name']);
    }
    return searchModels(this.dataSource, {
      name: query.name,
      tag,
      alias: query.alias === undefined ? undefined : requireAlias(query.alias, 'query.alias'),
      limit: limitParam(query.limit),
    });
  }

  async get(name: string): Promise<ModelView> {
    const model = await requireModelByName(this.dataSource, requireModelName(name));
    const [view] = await searchModels(this.dataSource, { modelId: model.modelId, limit: 1 });
    return view;
  }

  async versions(name: string): Promise<VersionView[]> {
    const model = await requireModelByName(this.dataSource, requireModelName(name));
    return listVersions(this.dataSource, model.modelId);
  }

  version(name: string, version: string): Promise<VersionView> {
    return requireVersion(this.dataSource, name, version);
  }

  async registerByHand(name: string, body: unknown, actor: Actor): Promise<VersionView> {
    requireModelName(name);
    const input = parseBody(RegisterVersionBody, body);
    const id = await onModel(this.dataSource, (tx) => this.register.manual(tx, { ...input, name }, actor));
    const model = await requireModelByName(this.dataSource, name);
    return (await listVersions(this.dataSource, model.modelId)).find((v) => v.modelVersionId === id)!;
  }

  async update(name: string, versionParam: string, body: unknown, actor: Actor): Promise<VersionView> {
    const v = await requireVersion(this.dataSource, name, versionParam);
    const input = parseBody(UpdateVersionBody, body);
    await onModel(this.dataSource, async (tx) => {
      if (input.description !== undefined) {
        await this.streams.model(
          tx,
          v.modelId,
          { type: 'Describe', data: { modelId: v.modelId, modelVersionId: v.modelVersionId, description: input.description } },
          actor,
        );
      }
      for (const [key, value] of Object.entries(input.tags ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
        await this.streams.model(tx, v.modelId, { type: 'Tag', data: { modelId: v.modelId, modelVersionId: v.modelVersionId, key, value } }, actor);
      }
    });
    return requireVersion(this.dataSource, name, v.version);
  }

  async archive(name: string, versionParam: string, body: unknown, actor: Actor): Promise<VersionView> {
    const v = await requireVersion(this.dataSource, name, versionParam);
    const { reason } = parseBody(ArchiveBody, body);
    await onModel(this.dataSource, (tx) =>
      this.streams.model(tx, v.modelId, { type: 'Archive', data: { modelId: v.modelId, modelVersionId: v.modelVersionId, reason } }, actor),
    );
    return requireVersion(this.dataSource, name, v.version);
  }

  /** A new revision of the people-written card fields: given fields replace, others are kept from the last revision. */
  async editCard(name: string, versionParam: string, body: unknown, actor: Actor): Promise<CardRevision> {
    const v = await requireVersion(this.dataSource, name, versionParam);
    const input = parseBody(CardBody, body);
    if (Object.keys(input).length === 0) fail(RegistryErrorCode.InvalidRequest, `body: give at least one of ${MODEL_CARD_FIELDS.join(', ')}`, ['body']);
    await onModel(this.dataSource, async (tx) => {
      const last = (await cardRevisions(tx, v.modelVersionId)).at(-1);
      const fields = Object.fromEntries(
        MODEL_CARD_FIELDS.map((f) => [f, input[f] !== undefined ? input[f] : ((last?.fields[f] as string | null | undefined) ?? null)]),
      ) as Record<ModelCardField, string | null>;
      await this.streams.model(tx, v.modelId, { type: 'EditCard', data: { modelId: v.modelId, modelVersionId: v.modelVersionId, fields } }, actor);
    });
    return (await cardRevisions(this.dataSource, v.modelVersionId)).at(-1)!;
  }

  async cardHistory(name: string, versionParam: string): Promise<CardRevision[]> {
    const v = await requireVersion(this.dataSource, name, versionParam);
    return cardRevisions(this.dataSource, v.modelVersionId);
  }

  /** Asks the trainer (through the registry's log) to retrain a flagged version's run without the subjects who withdrew. */
  async requestRetrain(name: string, versionParam: string, actor: Actor): Promise<VersionView> {
    const v = await requireVersion(this.dataSource, name, versionParam);
    await onModel(this.dataSource, (tx) => this.streams.model(tx, v.modelId, { type: 'RequestRetrain', modelVersionId: v.modelVersionId }, actor));
    return requireVersion(this.dataSource, name, v.version);
  }

  /** Every move of the model's aliases (or one alias); with `at`, who held each alias at that moment is the last move listed. */
  async aliasHistory(
    name: string,
    alias: string | undefined,
    at: string | undefined,
  ): Promise<{ moves: AliasMoveView[]; holders: Record<string, AliasMoveView> }> {
    const model = await requireModelByName(this.dataSource, requireModelName(name));
    const moves = await aliasHistory(
      this.dataSource,
      model.modelId,
      alias === undefined ? null : requireAlias(alias, 'query.alias'),
      optionalDate(at, 'query.at'),
    );
    const holders: Record<string, AliasMoveView> = {};
    for (const m of moves) {
      if (m.modelVersionId === null) delete holders[m.alias];
      else holders[m.alias] = m;
    }
    return { moves, holders };
  }
}

function fail(code: RegistryErrorCode, message: string, fields?: string[]): never {
  throw new RegistryException(code, message, fields);
}
