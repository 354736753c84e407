import type { Readable } from 'node:stream';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { DataSource, QueryRunner } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { z } from 'zod';
import {
  Actor,
  AssetIngested,
  DatasetManifest,
  DatasetManifestV1,
  DatasetMember,
  INGESTION_LOG,
  ingestionContracts,
  IngestionEvent,
  isUuid,
  PAGE_LIMIT_MAX,
  parsePageLimit,
  safeText,
} from '@trellis/contracts';
import { NEW_ID, NewId, withTransaction } from '@trellis/common';
import { aggregateStream, EventStoreErrorCode, EventStoreException, handleCommand, PostgresEventStore, StreamTarget } from '@trellis/event-store';
import { contentKey, OBJECT_STORAGE, type ObjectStorage } from '@trellis/storage';
import { sha256Hex } from '../assets/asset-processor';
import { assetStream } from '../assets/asset.decider';
import { IngestionErrorCode, IngestionException, invalidRequest } from '../ingestion.exception';
import { IngestionReadModels } from '../read-models/ingestion-read-models';
import { DatasetCommand, datasetDecider, DatasetEvent, datasetStream, decideDataset } from './dataset.decider';
import { diffManifests, manifestBytes, membersRoot, sortMembers, VersionDiff } from './dataset-manifest';

export const CreateDatasetRequest = z.object({ name: safeText({ max: 200, refusePersonalData: true }) }).strict();
export const AddAssetsRequest = z.object({ assetIds: z.array(z.string().uuid()).min(1).max(10_000) }).strict();

export interface DatasetSummary {
  datasetId: string;
  name: string;
  createdAt: string;
  /** 0 until a version is published. */
  latestVersion: number;
}

export interface DatasetView {
  datasetId: string;
  name: string;
  createdAt: string;
  latestVersion: number;
  memberCount: number;
  versions: { version: number; merkleRoot: string; memberCount: number; manifestKey: string; manifestSha256: string; publishedAt: string }[];
}

export interface PublishedVersion {
  datasetId: string;
  version: number;
  merkleRoot: string;
  memberCount: number;
  manifest: { area: 'artifacts'; key: string; sha256: string };
  /** Members whose subject was erased since they were added: left out of the version. */
  excludedErased: string[];
}

/** Rows of the read tables as pg returns them (snake_case; timestamps as Date). */
interface VersionRow {
  version: number;
  merkle_root: string;
  member_count: number;
  manifest_key: string;
  manifest_sha256: string;
  published_at: Date;
}

interface AssetRow {
  asset_id: string;
  status: string;
  subject_id: string;
  kind: DatasetMember['kind'];
  mime_type: string;
  sha256: string;
  curated_key: string;
  curated_sha256: string;
  derivative_key: string | null;
  describes_asset_id: string | null;
}

/** Tries of one addition against writers of the same dataset; each round at least one of them wins. */
const ADD_ASSETS_MAX_ATTEMPTS = 20;

function isWrongExpectedVersion(err: unknown): boolean {
  return err instanceof EventStoreException && err.code === EventStoreErrorCode.WrongExpectedVersion;
}

@Injectable()
export class DatasetUseCases {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PostgresEventStore,
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage,
    private readonly readModels: IngestionReadModels,
    @Optional() @Inject(NEW_ID) private readonly newId: NewId = uuidv4,
  ) {}

  async create(input: unknown, actor: Actor): Promise<{ datasetId: string; name: string }> {
    const parsed = CreateDatasetRequest.safeParse(input);
    if (!parsed.success) throw invalidRequest('dataset', parsed.error.issues);
    const taken = await this.dataSource.query('SELECT dataset_id FROM ingestion_datasets WHERE name = $1', [parsed.data.name]);
    if (taken.length > 0)
      throw new IngestionException(IngestionErrorCode.DatasetNameTaken, `a dataset named ${JSON.stringify(parsed.data.name)} exists (${taken[0].dataset_id})`);
    const datasetId = this.newId();
    try {
      await this.decideAndAppend(datasetId, { type: 'CreateDataset', datasetId, name: parsed.data.name }, actor);
    } catch (err) {
      if ((err as { code?: string }).code === '23505') {
        throw new IngestionException(IngestionErrorCode.DatasetNameTaken, `a dataset named ${JSON.stringify(parsed.data.name)} exists`);
      }
      throw err;
    }
    return { datasetId, name: parsed.data.name };
  }

  /** By id or by name. */
  async resolve(ref: string): Promise<string> {
    const rows = await this.dataSource.query(
      isUuid(ref) ? 'SELECT dataset_id FROM ingestion_datasets WHERE dataset_id = $1' : 'SELECT dataset_id FROM ingestion_datasets WHERE name = $1',
      [ref],
    );
    if (rows.length === 0) throw new IngestionException(IngestionErrorCode.DatasetNotFound, `no dataset ${JSON.stringify(ref)}`);
    return rows[0].dataset_id;
  }

  /**
   * Datasets by name, a page at a time: `after` is the last name of the previous page (names are
   * unique, so the page after it starts exactly where that one ended).
   */
  async list(limitParam: string | undefined, after: string | undefined): Promise<DatasetSummary[]> {
    const limit = parsePageLimit(limitParam);
    if (limit === undefined) {
      throw new IngestionException(IngestionErrorCode.InvalidRequest, `query.limit must be an integer from 1 to ${PAGE_LIMIT_MAX}`, ['query.limit']);
    }
    if (after !== undefined && (typeof after !== 'string' || after.length === 0 || after.length > 200)) {
      throw new IngestionException(IngestionErrorCode.InvalidRequest, 'query.after must be a dataset name (1 to 200 characters)', ['query.after']);
    }
    const rows: { dataset_id: string; name: string; created_at: Date; latest_version: number }[] = await this.dataSource.query(
      'SELECT dataset_id, name, created_at, latest_version FROM ingestion_datasets WHERE ($1::text IS NULL OR name > $1) ORDER BY name LIMIT $2',
      [after ?? null, limit],
    );
    return rows.map((d) => ({ datasetId: d.dataset_id, name: d.name, createdAt: d.created_at.toISOString(), latestVersion: d.latest_version }));
  }

  async get(ref: string): Promise<DatasetView> {
    const datasetId = await this.resolve(ref);
    const [d] = await this.dataSource.query('SELECT * FROM ingestion_datasets WHERE dataset_id = $1', [datasetId]);
    const [{ n }] = await this.dataSource.query('SELECT count(*)::int AS n FROM ingestion_dataset_members WHERE dataset_id = $1', [datasetId]);
    const versions = await this.dataSource.query('SELECT * FROM ingestion_dataset_versions WHERE dataset_id = $1 ORDER BY version', [datasetId]);
    return {
      datasetId,
      name: d.name,
      createdAt: d.created_at.toISOString(),
      latestVersion: d.latest_version,
      memberCount: n,
      versions: versions.map((v: VersionRow) => ({
        version: v.version,
        merkleRoot: v.merkle_root,
        memberCount: v.member_count,
        manifestKey: v.manifest_key,
        manifestSha256: v.manifest_sha256,
        publishedAt: v.published_at.toISOString(),
      })),
    };
  }

  async addAssets(ref: string, input: unknown, actor: Actor): Promise<{ added: number }> {
    const parsed = AddAssetsRequest.safeParse(input);
    if (!parsed.success) throw invalidRequest('asset list', parsed.error.issues);
    const datasetId = await this.resolve(ref);
    const ids = parsed.data.assetIds.map((id) => id.toLowerCase());
    const rows: { asset_id: string; status: 'ingested' | 'erased' }[] = await this.dataSource.query(
      'SELECT asset_id, status FROM ingestion_assets WHERE asset_id = ANY($1::uuid[])',
      [ids],
    );
    const status = new Map(rows.map((r) => [r.asset_id, r.status]));
    const command: DatasetCommand = { type: 'AddAssets', datasetId, assets: ids.map((assetId) => ({ assetId, status: status.get(assetId) ?? null })) };
    // Additions commute: one that lost the race for the stream's next version is decided again
    // on the stream as the winner left it (a member added meanwhile is then not added twice).
    for (let attempt = 1; ; attempt++) {
      try {
        return { added: (await this.decideAndAppend(datasetId, command, actor)).length };
      } catch (err) {
        if (!isWrongExpectedVersion(err) || attempt >= ADD_ASSETS_MAX_ATTEMPTS) throw err;
        // Jittered, so that the losers of one round do not collide again in the next.
        await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
      }
    }
  }

  async removeAsset(ref: string, assetId: string, actor: Actor): Promise<void> {
    if (!isUuid(assetId)) throw new IngestionException(IngestionErrorCode.InvalidRequest, 'asset id must be a UUID', ['assetId']);
    const datasetId = await this.resolve(ref);
    await this.decideAndAppend(datasetId, { type: 'RemoveAsset', datasetId, assetId: assetId.toLowerCase() }, actor);
  }

  /**
   * Freezes the current member list: the manifest (canonical JSON, members sorted by assetId)
   * goes to the artifacts area under its content address, the event carries its key, hash and
   * the members' Merkle root. Members erased since they were added are left out.
   */
  async publish(ref: string, actor: Actor): Promise<PublishedVersion> {
    const datasetId = await this.resolve(ref);
    const { state, version } = await this.load(datasetId);
    if (state.status === 'none') throw new IngestionException(IngestionErrorCode.DatasetNotFound, `no dataset ${datasetId}`);
    const rows = await this.dataSource.query('SELECT * FROM ingestion_assets WHERE asset_id = ANY($1::uuid[])', [state.members]);
    const live = rows.filter((r: AssetRow) => r.status === 'ingested');
    const excludedErased = rows
      .filter((r: AssetRow) => r.status !== 'ingested')
      .map((r: AssetRow) => r.asset_id)
      .sort();
    const members: DatasetMember[] = sortMembers(
      live.map((r: AssetRow) => ({
        assetId: r.asset_id,
        subjectId: r.subject_id,
        kind: r.kind,
        mimeType: r.mime_type,
        sha256: r.sha256,
        curatedKey: r.curated_key,
        curatedSha256: r.curated_sha256,
        derivativeKey: r.derivative_key,
        describesAssetId: r.describes_asset_id,
      })),
    );
    const root = membersRoot(members);
    const manifest: DatasetManifest = DatasetManifestV1.parse({ datasetId, name: state.name, version: state.version + 1, members, merkleRoot: root });
    const bytes = manifestBytes(manifest);
    const prefix = `datasets/${datasetId}/`;
    const manifestSha256 = sha256Hex(bytes);
    // The manifest's key is its content address, known before writing: decide first, so a
    // refused publish stores nothing.
    const publish: DatasetCommand = {
      type: 'PublishVersion',
      datasetId,
      memberCount: members.length,
      merkleRoot: root,
      manifest: { key: contentKey(prefix, manifestSha256), sha256: manifestSha256 },
    };
    decideDataset(state, publish);
    const stored = await this.storage.putBuffer('artifacts', bytes, { prefix, contentType: 'application/json', sha256: manifestSha256 });
    // A manifest without its event (a crash here) is harmless: it is content addressed and the
    // next publish of the same members writes the very same object.
    // An erasure may have committed since the members were read: under FOR SHARE (which waits
    // for it) every member must still be ingested, or this version would list erased assets.
    const stillLive = async (tx: QueryRunner) => {
      const ids = members.map((m) => m.assetId);
      const current: { asset_id: string }[] = await tx.query(
        `SELECT asset_id FROM ingestion_assets WHERE asset_id = ANY($1::uuid[]) AND status = 'ingested' FOR SHARE`,
        [ids],
      );
      if (current.length !== ids.length) {
        throw new IngestionException(
          IngestionErrorCode.ConcurrentChange,
          `${ids.length - current.length} member(s) of dataset ${datasetId} were erased while version ${manifest.version} was being published; publish again`,
        );
      }
    };
    const [event] = await this.decideAndAppend(datasetId, publish, actor, { expectedVersion: version, check: stillLive });
    const data = event.data as { version: number };
    return {
      datasetId,
      version: data.version,
      merkleRoot: root,
      memberCount: members.length,
      manifest: { area: 'artifacts', key: stored.key, sha256: stored.sha256 },
      excludedErased,
    };
  }

  async manifest(ref: string, version: number): Promise<DatasetManifest & { manifestKey: string; downloadUrl: string }> {
    const datasetId = await this.resolve(ref);
    const rows = await this.dataSource.query('SELECT * FROM ingestion_dataset_versions WHERE dataset_id = $1 AND version = $2', [datasetId, version]);
    if (rows.length === 0) throw new IngestionException(IngestionErrorCode.VersionNotFound, `dataset ${datasetId} has no version ${version}`);
    const bytes = await this.storage.getBuffer('artifacts', rows[0].manifest_key);
    if (sha256Hex(bytes) !== rows[0].manifest_sha256) throw new Error(`manifest of ${datasetId} v${version} does not match its recorded hash`);
    const manifest = DatasetManifestV1.parse(JSON.parse(bytes.toString('utf8')));
    return { ...manifest, manifestKey: rows[0].manifest_key, downloadUrl: await this.storage.presignedGetUrl('artifacts', rows[0].manifest_key, 3600) };
  }

  /**
   * The curated image of a member of a published version (the 224x224 model input with
   * `size=224`), for engineers who train on the version. Only members of that version, and
   * never an erased one: its blobs are gone and its subject asked to be forgotten.
   */
  async memberImage(ref: string, version: number, assetIdParam: string, size: string | undefined): Promise<{ stream: Readable; contentType: string }> {
    if (!isUuid(assetIdParam)) throw new IngestionException(IngestionErrorCode.InvalidRequest, 'assetId must be a UUID', ['assetId']);
    if (size !== undefined && size !== '224')
      throw new IngestionException(IngestionErrorCode.InvalidRequest, 'size must be 224 (the model input) or left out (the curated image)', ['size']);
    const assetId = assetIdParam.toLowerCase();
    const manifest = await this.manifest(ref, version);
    const member = manifest.members.find((m) => m.assetId === assetId && m.kind === 'image');
    if (!member)
      throw new IngestionException(IngestionErrorCode.AssetNotFound, `asset ${assetId} is not an image of dataset ${manifest.datasetId} v${version}`);
    const rows: { status: string }[] = await this.dataSource.query('SELECT status FROM ingestion_assets WHERE asset_id = $1', [assetId]);
    if (!rows.length || rows[0].status === 'erased') throw new IngestionException(IngestionErrorCode.AssetNotAvailable, `asset ${assetId} was erased`);
    if (size === '224' && member.derivativeKey) return { stream: await this.storage.get('curated', member.derivativeKey), contentType: 'image/png' };
    return { stream: await this.storage.get('curated', member.curatedKey), contentType: await this.curatedMediaType(assetId) };
  }

  /** As AssetIngested recorded it (a V1 event, from before JPEGs stayed JPEGs, is upcast to PNG). */
  private async curatedMediaType(assetId: string): Promise<string> {
    const events = await this.store.readStream(INGESTION_LOG, assetStream(assetId));
    const ingested = events.find((e) => e.type === 'AssetIngested');
    if (!ingested) throw new IngestionException(IngestionErrorCode.AssetNotFound, `asset ${assetId} has no AssetIngested event`);
    return (ingested.data as AssetIngested['data']).storage.curatedMediaType;
  }

  async diff(ref: string, from: number, to: number): Promise<VersionDiff> {
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to < 1) {
      throw new IngestionException(IngestionErrorCode.InvalidRequest, 'from and to must be version numbers (1, 2, ...)', ['from', 'to']);
    }
    const [a, b] = await Promise.all([this.manifest(ref, from), this.manifest(ref, to)]);
    return diffManifests(a, b);
  }

  private load(datasetId: string) {
    return aggregateStream(this.store, datasetDecider, this.target(datasetId));
  }

  private target(datasetId: string): StreamTarget<IngestionEvent> {
    return { log: INGESTION_LOG, streamId: datasetStream(datasetId), contracts: ingestionContracts };
  }

  /** `check` runs first in the append transaction; `expectedVersion` holds the append to a state read before. */
  private async decideAndAppend(
    datasetId: string,
    command: DatasetCommand,
    actor: Actor,
    options: { expectedVersion?: number; check?: (tx: QueryRunner) => Promise<void> } = {},
  ): Promise<DatasetEvent[]> {
    const { newEvents } = await withTransaction(this.dataSource, async (tx) => {
      await options.check?.(tx);
      return handleCommand(this.store, datasetDecider, this.target(datasetId), command, {
        context: { actor },
        queryRunner: tx,
        expectedVersion: options.expectedVersion,
        afterAppend: (appended, t) => this.readModels.applyAll(appended, t),
      });
    });
    return newEvents;
  }
}
