import { href, matchRoute, parseHash } from './route-match';

describe('console routes', () => {
  const routes = [{ path: [] }, { path: ['models'] }, { path: ['models', ':name'] }, { path: ['models', ':name', 'versions', ':version'] }];

  it('parses a hash into decoded segments and a query', () => {
    const r = parseHash('#/models/chest%20captioner/versions/2?asOf=2026-01-01');
    expect(r.segments).toEqual(['models', 'chest captioner', 'versions', '2']);
    expect(r.params.get('asOf')).toBe('2026-01-01');
    expect(parseHash('').segments).toEqual([]);
    expect(parseHash('#/').segments).toEqual([]);
    // A malformed escape is kept as written rather than throwing.
    expect(parseHash('#/models/%E0%A4%A').segments).toEqual(['models', '%E0%A4%A']);
  });

  it('builds links that parse back to the same segments and parameters', () => {
    const link = href('lineage', 'model-version:a/b', { direction: 'BOTH', asOf: undefined });
    expect(link).toBe('#/lineage/model-version%3Aa%2Fb?direction=BOTH');
    const back = parseHash(link);
    expect(back.segments).toEqual(['lineage', 'model-version:a/b']);
    expect([...back.params.keys()]).toEqual(['direction']);
    expect(href()).toBe('#/');
  });

  it('matches the first pattern of the same length, binding its parameters', () => {
    expect(matchRoute(routes, parseHash('#/'))?.def).toBe(routes[0]);
    expect(matchRoute(routes, parseHash('#/models/x'))?.params).toEqual({ name: 'x' });
    expect(matchRoute(routes, parseHash('#/models/x/versions/3'))?.params).toEqual({ name: 'x', version: '3' });
    expect(matchRoute(routes, parseHash('#/models/x/cards/3'))).toBeUndefined();
    expect(matchRoute(routes, parseHash('#/nothing'))).toBeUndefined();
  });
});
