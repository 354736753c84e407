// Pure route parsing and matching (no DOM): the hooks in router.ts use it, and unit tests run it in node.

/**
 * Hash routes (`#/models/chest-captioner`): the platform serves one page at /console, so a
 * reload or a shared link needs no server-side fallback.
 */
export interface Route {
  /** Path segments after `#/`, decoded. */
  segments: string[];
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const [path, search = ''] = raw.split('?', 2);
  const segments = path
    .split('/')
    .filter((s) => s.length > 0)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
  return { segments, params: new URLSearchParams(search) };
}

/** `href('models', name)` → `#/models/<name encoded>`; params are added as a query. */
export function href(...parts: (string | number | Record<string, string | undefined>)[]): string {
  const params = parts.length && typeof parts[parts.length - 1] === 'object' ? (parts.pop() as Record<string, string | undefined>) : undefined;
  const path = '#/' + (parts as (string | number)[]).map((p) => encodeURIComponent(String(p))).join('/');
  if (!params) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** Matches `:name` segments; the first route whose pattern fits wins. */
export function matchRoute<D extends { path: string[] }>(routes: D[], route: Route): { def: D; params: Record<string, string> } | undefined {
  for (const def of routes) {
    if (def.path.length !== route.segments.length) continue;
    const params: Record<string, string> = {};
    const fits = def.path.every((p, i) => {
      if (p.startsWith(':')) params[p.slice(1)] = route.segments[i];
      return p.startsWith(':') || p === route.segments[i];
    });
    if (fits) return { def, params };
  }
  return undefined;
}
