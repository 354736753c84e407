import type { LineageNode } from './lineage.models';
import { nodePage } from './node-connection';

const node = (id: string): LineageNode => ({
  id,
  type: 'asset',
  class: 'entity',
  label: id,
  attrs: '{}',
  states: '{}',
  validFrom: '2026-12-01T00:00:00.000Z',
  log: 'ingestion',
  position: 1,
});

describe('nodePage', () => {
  const list = ['asset:c', 'asset:a', 'asset:d', 'asset:b', 'asset:e'].map(node);

  it('pages a list by id with opaque cursors until hasNextPage is false', () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page = nodePage(list, { first: 2, after });
      expect(page.totalCount).toBe(5);
      seen.push(...page.edges.map((e) => e.node.id));
      pages++;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
      expect(after).not.toContain('asset');
    }
    expect([pages, seen]).toEqual([3, ['asset:a', 'asset:b', 'asset:c', 'asset:d', 'asset:e']]);
  });

  it('continues after the cursor even when the list changed between pages', () => {
    const first = nodePage(list, { first: 2 });
    const grown = [...list, node('asset:aa'), node('asset:bb')];
    expect(nodePage(grown, { first: 10, after: first.pageInfo.endCursor }).edges.map((e) => e.node.id)).toEqual(['asset:bb', 'asset:c', 'asset:d', 'asset:e']);
  });

  it('answers an empty page past the end, and uses 100 when first is left out', () => {
    const all = nodePage(list, {});
    expect([all.edges.length, all.pageInfo]).toEqual([5, { hasNextPage: false, endCursor: all.edges[4].cursor, startCursor: all.edges[0].cursor }]);
    expect(nodePage(list, { after: all.pageInfo.endCursor })).toEqual({
      edges: [],
      totalCount: 5,
      pageInfo: { hasNextPage: false, endCursor: null, startCursor: null },
    });
    expect(
      nodePage(
        Array.from({ length: 150 }, (_, i) => node(`n:${String(i).padStart(3, '0')}`)),
        { first: null },
      ).edges,
    ).toHaveLength(100);
  });

  it('refuses a page size out of range and a cursor it did not hand out', () => {
    for (const first of [0, 1001, 2.5])
      expect(() => nodePage(list, { first })).toThrow(expect.objectContaining({ reason: 'PAGE_TOO_LARGE', fields: ['first'] }));
    for (const after of ['nonsense', Buffer.from('asset:a').toString('base64url'), ''])
      expect(() => nodePage(list, { after })).toThrow(expect.objectContaining({ reason: 'INVALID_CURSOR', fields: ['after'] }));
  });
});
