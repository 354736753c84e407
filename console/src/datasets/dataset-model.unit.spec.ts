import { datasetsFromVersions, datasetVersionNodeId, deidentificationUses, memberCounts, parseRejection, reasonCounts } from './dataset-model';
import type { DatasetMember, ReceivedDatasetVersion } from './datasets.api';

const received = (datasetId: string, name: string, version: number): ReceivedDatasetVersion => ({
  datasetId,
  name,
  version,
  status: 'ready',
  problem: null,
  items: 3,
});

function member(assetId: string, subjectId: string, kind: string): DatasetMember {
  return { assetId, subjectId, kind, mimeType: 'image/png', sha256: 'a', curatedKey: 'k', curatedSha256: 'a', derivativeKey: null, describesAssetId: null };
}

describe('dataset-model', () => {
  it('datasetsFromVersions groups versions by dataset, names in order, versions ascending', () => {
    const out = datasetsFromVersions([received('b', 'zeta', 2), received('a', 'alpha', 1), received('b', 'zeta', 1)]);
    expect(out.map((d) => d.name)).toEqual(['alpha', 'zeta']);
    expect(out[1].versions.map((v) => v.version)).toEqual([1, 2]);
    expect(datasetsFromVersions([])).toEqual([]);
  });

  it('memberCounts counts members, distinct subjects and members per kind', () => {
    expect(memberCounts([member('1', 's1', 'image'), member('2', 's1', 'report'), member('3', 's2', 'image')])).toEqual({
      members: 3,
      subjects: 2,
      byKind: [
        ['image', 2],
        ['report', 1],
      ],
    });
  });

  it('deidentificationUses counts the de-identification nodes per method with their options', () => {
    const nodes = [
      { type: 'deidentification', attrs: JSON.stringify({ method: 'none', options: ['metadata-chunks-removed'] }) },
      { type: 'deidentification', attrs: JSON.stringify({ method: 'none', options: ['metadata-chunks-removed'] }) },
      { type: 'deidentification', attrs: JSON.stringify({ method: 'text-redaction', options: ['names', 'dates'] }) },
      { type: 'curated-asset', attrs: JSON.stringify({ method: 'ignored' }) },
      { type: 'deidentification', attrs: 'not json' },
    ];
    expect(deidentificationUses(nodes)).toEqual([
      { method: 'none', options: ['metadata-chunks-removed'], assets: 2 },
      { method: 'text-redaction', options: ['dates', 'names'], assets: 1 },
      { method: 'unknown', options: [], assets: 1 },
    ]);
  });

  it('parseRejection reads an AssetRejected event, and reasonCounts ranks the reasons', () => {
    const r = parseRejection(
      JSON.stringify({ assetId: 'x', subjectId: 's', reasonCode: 'NO_CONSENT', message: 'no consent', declaredMimeType: 'image/png', size: 10, sha256: 'h' }),
    );
    expect(r).toEqual({ assetId: 'x', subjectId: 's', reasonCode: 'NO_CONSENT', message: 'no consent', declaredMimeType: 'image/png', size: 10, sha256: 'h' });
    const bare = parseRejection('{}');
    expect(bare.reasonCode).toBe('UNKNOWN');
    expect(bare.subjectId).toBeNull();
    expect(reasonCounts([r, bare, r])).toEqual([
      ['NO_CONSENT', 2],
      ['UNKNOWN', 1],
    ]);
  });

  it('datasetVersionNodeId names a version as the lineage graph does', () => {
    expect(datasetVersionNodeId('0fa8', 1)).toBe('dataset-version:0fa8@1');
  });
});
