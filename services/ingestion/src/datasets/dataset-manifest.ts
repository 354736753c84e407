import { canonicalJson, DatasetManifest, DatasetMember } from '@trellis/contracts';
import { merkleRoot } from '@trellis/contracts';

/** Leaves are the canonical JSON of each member, in assetId order. */
export function membersRoot(members: DatasetMember[]): string {
  return merkleRoot(sortMembers(members).map((m) => Buffer.from(canonicalJson(m), 'utf8')));
}

export function sortMembers(members: DatasetMember[]): DatasetMember[] {
  return [...members].sort((a, b) => (a.assetId < b.assetId ? -1 : a.assetId > b.assetId ? 1 : 0));
}

export function manifestBytes(manifest: DatasetManifest): Buffer {
  return Buffer.from(canonicalJson(manifest), 'utf8');
}

export interface VersionDiff {
  from: number;
  to: number;
  added: string[];
  removed: string[];
  /** Same asset id, different content hash (of the original or of its curated form). */
  changed: string[];
  unchanged: number;
}

export function diffManifests(a: DatasetManifest, b: DatasetManifest): VersionDiff {
  const before = new Map(a.members.map((m) => [m.assetId, m]));
  const after = new Map(b.members.map((m) => [m.assetId, m]));
  const added = [...after.keys()].filter((id) => !before.has(id)).sort();
  const removed = [...before.keys()].filter((id) => !after.has(id)).sort();
  const common = [...after.keys()].filter((id) => before.has(id));
  const changed = common.filter((id) => canonicalJson(before.get(id)) !== canonicalJson(after.get(id))).sort();
  return { from: a.version, to: b.version, added, removed, changed, unchanged: common.length - changed.length };
}
