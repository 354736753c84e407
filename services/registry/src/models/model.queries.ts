import type { DataSource, QueryRunner } from 'typeorm';
import type { GateVerdict, Metrics, ModelVersionRegistered, StoredFile } from '@trellis/contracts';
import { RegistryErrorCode, RegistryException } from '../registry.exception';

type Db = DataSource | QueryRunner;

export interface BaseModelRow {
  base_model_id: string;
  preset: string | null;
  manifest_sha256: string;
  files: StoredFile[];
  architecture: Record<string, unknown>;
}

export interface ModelView {
  modelId: string;
  name: string;
  description: string | null;
  tags: Record<string, string>;
  aliases: Record<string, number>;
  latestVersion: number | null;
  createdBy: string;
  createdAt: string;
}

export interface VersionView {
  modelVersionId: string;
  modelId: string;
  modelName: string;
  version: number;
  source: ModelVersionRegistered['data']['source'];
  method: string;
  baseModel: ModelVersionRegistered['data']['baseModel'];
  files: StoredFile[];
  snapshot: ModelVersionRegistered['data']['snapshot'];
  annotationSets: ModelVersionRegistered['data']['annotationSets'];
  purpose: string | null;
  parameters: ModelVersionRegistered['data']['parameters'];
  description: string | null;
  tags: Record<string, string>;
  aliases: string[];
  archived: { at: string; reason: string } | null;
  /** Subjects of the snapshot who withdrew or were erased since: the version needs retraining. */
  flag: { subjects: number; items: number } | null;
  retrainRequestedAt: string | null;
  registeredBy: string;
  registeredAt: string;
}

interface VersionRow {
  model_version_id: string;
  model_id: string;
  name: string;
  version: number;
  data: ModelVersionRegistered['data'];
  description: string | null;
  tags: Record<string, string>;
  aliases: string[] | null;
  archived_at: Date | null;
  archive_reason: string | null;
  flagged_subjects: number;
  flagged_items: number;
  retrain_requested_at: Date | null;
  registered_by: string;
  registered_at: Date;
}

const VERSION_SELECT = `
  SELECT v.*, m.name,
         (SELECT array_agg(a.alias ORDER BY a.alias) FROM registry_aliases a WHERE a.model_version_id = v.model_version_id) AS aliases
  FROM registry_versions v JOIN registry_models m USING (model_id)`;

const toVersion = (r: VersionRow): VersionView => ({
  modelVersionId: r.model_version_id,
  modelId: r.model_id,
  modelName: r.name,
  version: r.version,
  source: r.data.source,
  method: r.data.method,
  baseModel: r.data.baseModel,
  files: r.data.files,
  snapshot: r.data.snapshot,
  annotationSets: r.data.annotationSets,
  purpose: r.data.purpose,
  parameters: r.data.parameters,
  description: r.description,
  tags: r.tags,
  aliases: r.aliases ?? [],
  archived: r.archived_at ? { at: r.archived_at.toISOString(), reason: r.archive_reason ?? '' } : null,
  flag: r.flagged_subjects > 0 ? { subjects: r.flagged_subjects, items: r.flagged_items } : null,
  retrainRequestedAt: r.retrain_requested_at?.toISOString() ?? null,
  registeredBy: r.registered_by,
  registeredAt: r.registered_at.toISOString(),
});

export async function findModelByName(db: Db, name: string): Promise<{ modelId: string; name: string } | null> {
  const rows: { model_id: string; name: string }[] = await db.query('SELECT model_id, name FROM registry_models WHERE name = $1', [name]);
  return rows[0] ? { modelId: rows[0].model_id, name: rows[0].name } : null;
}

export async function requireModelByName(db: Db, name: string): Promise<{ modelId: string; name: string }> {
  return (await findModelByName(db, name)) ?? fail(RegistryErrorCode.ModelNotFound, `no registered model named ${JSON.stringify(name)}`);
}

export interface ModelSearch {
  name?: string;
  tag?: { key: string; value: string | null };
  alias?: string;
  modelId?: string;
  limit: number;
}

export async function searchModels(db: Db, q: ModelSearch): Promise<ModelView[]> {
  const rows: {
    model_id: string;
    name: string;
    description: string | null;
    tags: Record<string, string>;
    created_by: string;
    created_at: Date;
    aliases: Record<string, number> | null;
    latest: number | null;
  }[] = await db.query(
    `SELECT m.*,
            (SELECT jsonb_object_agg(a.alias, v.version) FROM registry_aliases a JOIN registry_versions v USING (model_version_id) WHERE a.model_id = m.model_id) AS aliases,
            (SELECT max(version) FROM registry_versions v WHERE v.model_id = m.model_id) AS latest
     FROM registry_models m
     WHERE ($1::text IS NULL OR m.name ILIKE '%' || $1 || '%')
       AND ($2::text IS NULL OR m.tags ? $2 OR EXISTS (SELECT 1 FROM registry_versions v WHERE v.model_id = m.model_id AND v.tags ? $2))
       AND ($3::text IS NULL OR m.tags ->> $2 = $3 OR EXISTS (SELECT 1 FROM registry_versions v WHERE v.model_id = m.model_id AND v.tags ->> $2 = $3))
       AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM registry_aliases a WHERE a.model_id = m.model_id AND a.alias = $4))
       AND ($6::uuid IS NULL OR m.model_id = $6)
     ORDER BY m.name LIMIT $5`,
    [q.name ?? null, q.tag?.key ?? null, q.tag?.value ?? null, q.alias ?? null, q.limit, q.modelId ?? null],
  );
  return rows.map((r) => ({
    modelId: r.model_id,
    name: r.name,
    description: r.description,
    tags: r.tags,
    aliases: r.aliases ?? {},
    latestVersion: r.latest,
    createdBy: r.created_by,
    createdAt: r.created_at.toISOString(),
  }));
}

export async function listVersions(db: Db, modelId: string): Promise<VersionView[]> {
  const rows: VersionRow[] = await db.query(`${VERSION_SELECT} WHERE v.model_id = $1 ORDER BY v.version`, [modelId]);
  return rows.map(toVersion);
}

export async function findVersion(db: Db, modelId: string, version: number): Promise<VersionView | null> {
  const rows: VersionRow[] = await db.query(`${VERSION_SELECT} WHERE v.model_id = $1 AND v.version = $2`, [modelId, version]);
  return rows[0] ? toVersion(rows[0]) : null;
}

export async function findVersionById(db: Db, modelVersionId: string): Promise<VersionView | null> {
  const rows: VersionRow[] = await db.query(`${VERSION_SELECT} WHERE v.model_version_id = $1`, [modelVersionId]);
  return rows[0] ? toVersion(rows[0]) : null;
}

export async function findVersionByRun(db: Db, runId: string): Promise<VersionView | null> {
  const rows: VersionRow[] = await db.query(`${VERSION_SELECT} WHERE v.run_id = $1`, [runId]);
  return rows[0] ? toVersion(rows[0]) : null;
}

/** Flagged versions that hold an alias: what health and the API report as needing retraining. */
export async function flaggedAliasHolders(db: Db): Promise<{ model: string; version: number; aliases: string[]; subjects: number }[]> {
  const rows: VersionRow[] = await db.query(
    `${VERSION_SELECT} WHERE v.flagged_subjects > 0 AND EXISTS (SELECT 1 FROM registry_aliases a WHERE a.model_version_id = v.model_version_id)`,
  );
  return rows.map(toVersion).map((v) => ({ model: v.modelName, version: v.version, aliases: v.aliases, subjects: v.flag!.subjects }));
}

export interface AliasMoveView {
  alias: string;
  version: number | null;
  modelVersionId: string | null;
  previousVersion: number | null;
  kind: string;
  promotionId: string | null;
  movedBy: string;
  reason: string;
  movedAt: string;
  position: number;
}

interface AliasMoveRow {
  alias: string;
  model_version_id: string | null;
  version: number | null;
  previous_version: number | null;
  kind: string;
  promotion_id: string | null;
  actor_id: string;
  reason: string;
  moved_at: Date;
  position: string;
}

/** Every move of the model's aliases (or of one), oldest first; with `at`, only the moves up to that moment. */
export async function aliasHistory(db: Db, modelId: string, alias: string | null, at: Date | null): Promise<AliasMoveView[]> {
  const rows: AliasMoveRow[] = await db.query(
    `SELECT h.*, v.version, p.version AS previous_version
     FROM registry_alias_history h
     LEFT JOIN registry_versions v ON v.model_version_id = h.model_version_id
     LEFT JOIN registry_versions p ON p.model_version_id = h.previous_version_id
     WHERE h.model_id = $1 AND ($2::text IS NULL OR h.alias = $2) AND ($3::timestamptz IS NULL OR h.moved_at <= $3)
     ORDER BY h.position`,
    [modelId, alias, at],
  );
  return rows.map((r) => ({
    alias: r.alias,
    version: r.version,
    modelVersionId: r.model_version_id,
    previousVersion: r.previous_version,
    kind: r.kind,
    promotionId: r.promotion_id,
    movedBy: r.actor_id,
    reason: r.reason,
    movedAt: r.moved_at.toISOString(),
    position: Number(r.position),
  }));
}

export interface EvaluationView {
  evaluationId: string;
  modelId: string;
  modelVersionId: string;
  status: 'requested' | 'running' | 'completed' | 'failed';
  annotationSet: { setId: string; contentSha256: string };
  attempts: number;
  metrics: Metrics | null;
  itemCount: number | null;
  predictions: StoredFile | null;
  failure: { code: string; reason: string } | null;
  requestedBy: string;
  requestedAt: string;
  finishedAt: string | null;
}

interface EvaluationRow {
  evaluation_id: string;
  model_id: string;
  model_version_id: string;
  set_id: string;
  set_sha256: string;
  status: EvaluationView['status'];
  attempts: number;
  result: { metrics: Metrics; itemCount: number; predictions: StoredFile } | null;
  failure: { code: string; reason: string } | null;
  requested_by: string;
  requested_at: Date;
  finished_at: Date | null;
}

const toEvaluation = (r: EvaluationRow): EvaluationView => ({
  evaluationId: r.evaluation_id,
  modelId: r.model_id,
  modelVersionId: r.model_version_id,
  status: r.status,
  annotationSet: { setId: r.set_id, contentSha256: r.set_sha256 },
  attempts: r.attempts,
  metrics: r.result?.metrics ?? null,
  itemCount: r.result?.itemCount ?? null,
  predictions: r.result?.predictions ?? null,
  failure: r.failure,
  requestedBy: r.requested_by,
  requestedAt: r.requested_at.toISOString(),
  finishedAt: r.finished_at?.toISOString() ?? null,
});

export async function findEvaluation(db: Db, evaluationId: string): Promise<EvaluationView | null> {
  const rows: EvaluationRow[] = await db.query('SELECT * FROM registry_evaluations WHERE evaluation_id = $1', [evaluationId]);
  return rows[0] ? toEvaluation(rows[0]) : null;
}

export async function listEvaluations(db: Db, modelVersionId: string | null, limit: number): Promise<EvaluationView[]> {
  const rows: EvaluationRow[] = await db.query(
    'SELECT * FROM registry_evaluations WHERE ($1::uuid IS NULL OR model_version_id = $1) ORDER BY requested_at DESC, evaluation_id LIMIT $2',
    [modelVersionId, limit],
  );
  return rows.map(toEvaluation);
}

/** The latest completed evaluation of a version on a set (by content hash), or on any set when `setSha256` is null. */
export async function latestCompletedEvaluation(db: Db, modelVersionId: string, setSha256: string | null): Promise<EvaluationView | null> {
  const rows: EvaluationRow[] = await db.query(
    `SELECT * FROM registry_evaluations WHERE model_version_id = $1 AND status = 'completed' AND ($2::text IS NULL OR set_sha256 = $2)
     ORDER BY finished_at DESC LIMIT 1`,
    [modelVersionId, setSha256],
  );
  return rows[0] ? toEvaluation(rows[0]) : null;
}

/** The most recently finished set both versions have a completed evaluation on. */
export async function sharedEvaluationSet(db: Db, a: string, b: string): Promise<string | null> {
  const rows: { set_sha256: string }[] = await db.query(
    `SELECT x.set_sha256 FROM registry_evaluations x JOIN registry_evaluations y ON y.set_sha256 = x.set_sha256 AND y.model_version_id = $2 AND y.status = 'completed'
     WHERE x.model_version_id = $1 AND x.status = 'completed' ORDER BY x.finished_at DESC LIMIT 1`,
    [a, b],
  );
  return rows[0]?.set_sha256 ?? null;
}

export interface PromotionView {
  promotionId: string;
  modelId: string;
  alias: string;
  modelVersionId: string;
  currentVersionId: string | null;
  evaluationSetSha256: string | null;
  tolerance: number;
  requestedBy: string;
  reason: string;
  status: 'pending' | 'approved' | 'rejected';
  verdicts: GateVerdict[] | null;
  decidedBy: string | null;
  comment: string | null;
  requestedAt: string;
  decidedAt: string | null;
}

interface PromotionRow {
  promotion_id: string;
  model_id: string;
  alias: string;
  model_version_id: string;
  current_version_id: string | null;
  evaluation_set_sha256: string | null;
  tolerance: number;
  requested_by: string;
  reason: string;
  status: PromotionView['status'];
  verdicts: GateVerdict[] | null;
  decided_by: string | null;
  comment: string | null;
  requested_at: Date;
  decided_at: Date | null;
}

const toPromotion = (r: PromotionRow): PromotionView => ({
  promotionId: r.promotion_id,
  modelId: r.model_id,
  alias: r.alias,
  modelVersionId: r.model_version_id,
  currentVersionId: r.current_version_id,
  evaluationSetSha256: r.evaluation_set_sha256,
  tolerance: r.tolerance,
  requestedBy: r.requested_by,
  reason: r.reason,
  status: r.status,
  verdicts: r.verdicts,
  decidedBy: r.decided_by,
  comment: r.comment,
  requestedAt: r.requested_at.toISOString(),
  decidedAt: r.decided_at?.toISOString() ?? null,
});

export async function findPromotion(db: Db, promotionId: string): Promise<PromotionView | null> {
  const rows: PromotionRow[] = await db.query('SELECT * FROM registry_promotions WHERE promotion_id = $1', [promotionId]);
  return rows[0] ? toPromotion(rows[0]) : null;
}

export async function listPromotions(db: Db, filter: { status: string | null; modelId: string | null }, limit: number): Promise<PromotionView[]> {
  const rows: PromotionRow[] = await db.query(
    `SELECT * FROM registry_promotions WHERE ($1::text IS NULL OR status = $1) AND ($2::uuid IS NULL OR model_id = $2)
      ORDER BY requested_at DESC, promotion_id LIMIT $3`,
    [filter.status, filter.modelId, limit],
  );
  return rows.map(toPromotion);
}

export interface CardRevision {
  revision: number;
  fields: Record<string, string | null>;
  editedBy: string;
  editedAt: string;
}

export async function cardRevisions(db: Db, modelVersionId: string): Promise<CardRevision[]> {
  const rows: { revision: number; fields: Record<string, string | null>; edited_by: string; edited_at: Date }[] = await db.query(
    'SELECT * FROM registry_model_cards WHERE model_version_id = $1 ORDER BY revision',
    [modelVersionId],
  );
  return rows.map((r) => ({ revision: r.revision, fields: r.fields, editedBy: r.edited_by, editedAt: r.edited_at.toISOString() }));
}

function fail(code: RegistryErrorCode, message: string): never {
  throw new RegistryException(code, message);
}
