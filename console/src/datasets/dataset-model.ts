// Pure views of dataset data for the pages (no DOM): unit-tested in node.
import type { DatasetMember, ReceivedDatasetVersion } from './datasets.api';

export interface DatasetSummary {
  datasetId: string;
  name: string;
  versions: ReceivedDatasetVersion[];
}

/** The datasets among the versions annotation received, by name, each with its versions in order. */
export function datasetsFromVersions(rows: ReceivedDatasetVersion[]): DatasetSummary[] {
  const byId = new Map<string, DatasetSummary>();
  for (const row of rows) {
    const d = byId.get(row.datasetId) ?? { datasetId: row.datasetId, name: row.name, versions: [] };
    d.versions.push(row);
    byId.set(row.datasetId, d);
  }
  for (const d of byId.values()) d.versions.sort((a, b) => a.version - b.version);
  return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name) || a.datasetId.localeCompare(b.datasetId));
}

export interface MemberCounts {
  members: number;
  subjects: number;
  /** Members per kind (image, report), in name order. */
  byKind: [string, number][];
}

export function memberCounts(members: DatasetMember[]): MemberCounts {
  const kinds = new Map<string, number>();
  for (const m of members) kinds.set(m.kind, (kinds.get(m.kind) ?? 0) + 1);
  return {
    members: members.length,
    subjects: new Set(members.map((m) => m.subjectId)).size,
    byKind: [...kinds.entries()].sort(([a], [b]) => a.localeCompare(b)),
  };
}

export interface DeidentificationUse {
  method: string;
  /** The options recorded with it (metadata removed, text redacted, ...), in name order. */
  options: string[];
  assets: number;
}

/** A lineage node as the pages read it: attrs is canonical JSON text. */
interface AttrNode {
  type: string;
  attrs: string;
}

function parseJson(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The de-identification applied to a version's members: its `deidentification` nodes, counted per method. */
export function deidentificationUses(nodes: AttrNode[]): DeidentificationUse[] {
  const byMethod = new Map<string, { options: Set<string>; assets: number }>();
  for (const n of nodes) {
    if (n.type !== 'deidentification') continue;
    const attrs = parseJson(n.attrs);
    const method = typeof attrs.method === 'string' ? attrs.method : 'unknown';
    const use = byMethod.get(method) ?? { options: new Set<string>(), assets: 0 };
    use.assets += 1;
    if (Array.isArray(attrs.options)) for (const o of attrs.options) if (typeof o === 'string') use.options.add(o);
    byMethod.set(method, use);
  }
  return [...byMethod.entries()]
    .map(([method, u]) => ({ method, options: [...u.options].sort(), assets: u.assets }))
    .sort((a, b) => a.method.localeCompare(b.method));
}

/** One refused upload, from its AssetRejected event. */
export interface Rejection {
  assetId: string;
  subjectId: string | null;
  reasonCode: string;
  message: string;
  declaredMimeType: string | null;
  size: number | null;
  sha256: string | null;
}

export function parseRejection(data: string): Rejection {
  const d = parseJson(data);
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    assetId: str(d.assetId) ?? '?',
    subjectId: str(d.subjectId),
    reasonCode: str(d.reasonCode) ?? 'UNKNOWN',
    message: str(d.message) ?? '',
    declaredMimeType: str(d.declaredMimeType),
    size: typeof d.size === 'number' ? d.size : null,
    sha256: str(d.sha256),
  };
}

/** Rejections per reason code, most frequent first. */
export function reasonCounts(rejections: Rejection[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of rejections) counts.set(r.reasonCode, (counts.get(r.reasonCode) ?? 0) + 1);
  return [...counts.entries()].sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
}

/** The lineage id of a dataset version (as the lineage service names it). */
export function datasetVersionNodeId(datasetId: string, version: number): string {
  return `dataset-version:${datasetId}@${version}`;
}
