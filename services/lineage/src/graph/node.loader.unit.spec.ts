import { LineageResolver } from './lineage.resolver';
import type { GraphNode, LineageQueries } from './lineage.queries';
import type { ProvenanceQueries } from './provenance.queries';

const at = '2026-12-01T00:00:00.000Z';
const graphNode = (id: string): GraphNode => ({
  id,
  type: 'asset',
  class: 'entity',
  label: id,
  attrs: {},
  states: {},
  validFrom: at,
  log: 'ingestion',
  position: 1,
});

/** A LineageQueries that records each statement it would run. */
function recordingQueries(known: string[]) {
  const calls: { ids: string[]; asOf: string }[] = [];
  const queries = {
    nodes: async (ids: string[], asOf: Date) => {
      calls.push({ ids: [...ids].sort(), asOf: asOf.toISOString() });
      return ids.filter((i) => known.includes(i)).map(graphNode);
    },
  } as unknown as LineageQueries;
  return { queries, calls };
}

describe('node(id) batching (DataLoader per request)', () => {
  it('reads every node one request asks for in one statement per moment, and answers each alias its own node', async () => {
    const { queries, calls } = recordingQueries(['asset:a', 'asset:b']);
    const resolver = new LineageResolver(queries, {} as ProvenanceQueries);
    const request = {};
    // "now" is one moment per request, however far the clock moves while its fields resolve.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const pending = [];
    try {
      for (const [id, asOf] of [
        ['asset:a', null],
        ['asset:b', null],
        ['asset:missing', null],
        ['asset:a', at],
        ['asset:b', at],
      ] as const) {
        pending.push(resolver.node(id, asOf, request));
        jest.setSystemTime(Date.now() + 1000);
      }
    } finally {
      jest.useRealTimers();
    }
    const answers = await Promise.all(pending);
    expect(answers.map((n) => n?.id ?? null)).toEqual(['asset:a', 'asset:b', null, 'asset:a', 'asset:b']);
    expect(calls).toHaveLength(2);
    expect(calls.find((c) => c.asOf === at)!.ids).toEqual(['asset:a', 'asset:b']);
    expect(calls.find((c) => c.asOf !== at)!.ids).toEqual(['asset:a', 'asset:b', 'asset:missing']);
  });

  it('does not share nodes between requests (each has its own loader and moment)', async () => {
    const { queries, calls } = recordingQueries(['asset:a']);
    const resolver = new LineageResolver(queries, {} as ProvenanceQueries);
    await resolver.node('asset:a', at, {});
    await resolver.node('asset:a', at, {});
    expect(calls).toHaveLength(2);
  });
});
