import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createContext, runInContext } from 'node:vm';
import request from 'supertest';
import { PlatformTestApp, startPlatformTestApp } from '../platform/platform-test-app';

const installed = (pkg: string, file: string) => readFileSync(join(dirname(require.resolve(`${pkg}/package.json`)), file));

/** What the page loads, and where each file must come from: the installed npm packages. */
const FROM_PACKAGES: Record<string, Buffer> = {
  '/graphiql/assets/react.production.min.js': installed('react', 'umd/react.production.min.js'),
  '/graphiql/assets/react-dom.production.min.js': installed('react-dom', 'umd/react-dom.production.min.js'),
  '/graphiql/assets/graphiql.min.js': installed('graphiql', 'graphiql.min.js'),
  '/graphiql/assets/graphiql.min.css': installed('graphiql', 'graphiql.min.css'),
};

describe('GraphiQL at /graphiql (issue 15)', () => {
  let t: PlatformTestApp;
  let http: ReturnType<typeof request>;
  let html: string;
  let references: string[];

  beforeAll(async () => {
    t = await startPlatformTestApp();
    http = request(t.app.getHttpServer());
    const page = await http.get('/graphiql');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    html = page.text;
    references = [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
  });
  afterAll(async () => {
    await t.close();
  });

  it('names no other host: no http(s) or protocol-relative URL, no inline script', () => {
    expect(html).not.toMatch(/https?:\/\//i);
    expect(references.filter((r) => !r.startsWith('/') || r.startsWith('//'))).toEqual([]);
    expect(references.length).toBeGreaterThanOrEqual(Object.keys(FROM_PACKAGES).length + 1);
    // Every script is a file of this origin, as the platform's CSP (script-src 'self') requires.
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.map(([, attributes, body]) => ({ src: /\ssrc="\/graphiql\//.test(attributes), body: body.trim() }))).toEqual(
      scripts.map(() => ({ src: true, body: '' })),
    );
  });

  it('serves every script and style the page references, the package files as they are installed', async () => {
    for (const path of references) {
      const res = await http.get(path);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expect(res.headers['content-type']).toMatch(path.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
      // Compared as a boolean: a failure should not print a megabyte of script.
      if (path in FROM_PACKAGES) expect({ path, same: res.text === FROM_PACKAGES[path].toString('utf8') }).toEqual({ path, same: true });
    }
    expect(Object.keys(FROM_PACKAGES).filter((path) => !references.includes(path))).toEqual([]);
  });

  it('allows the stylesheet its inlined fonts on this page only, and keeps scripts to this origin', async () => {
    const page = await http.get('/graphiql');
    expect(page.headers['content-security-policy']).toMatch(/font-src 'self' data:/);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self';/);
    expect((await http.get('/health')).headers['content-security-policy']).not.toMatch(/font-src/);
  });

  it('loads without a bundler: the React builds set the globals the GraphiQL build reads, and the page script renders GraphiQL on /graphql', async () => {
    const browser = createContext({});
    runInContext('var self = this; var window = this;', browser);
    runInContext(FROM_PACKAGES['/graphiql/assets/react.production.min.js'].toString('utf8'), browser);
    runInContext(FROM_PACKAGES['/graphiql/assets/react-dom.production.min.js'].toString('utf8'), browser);
    expect(runInContext('[React.version, typeof ReactDOM.createRoot]', browser)).toEqual(['18.3.1', 'function']);
    // A UMD bundle that, without a module loader, takes React and ReactDOM from the globals.
    expect(FROM_PACKAGES['/graphiql/assets/graphiql.min.js'].subarray(0, 400).toString('utf8')).toContain('.GraphiQL=t(e.React,e.ReactDOM)');

    const boot = await http.get('/graphiql/assets/graphiql-boot.js');
    const calls: unknown[] = [];
    const page = createContext({
      GraphiQL: { createFetcher: (options: unknown) => (calls.push(['createFetcher', options]), 'the fetcher') },
      React: { createElement: (component: unknown, props: unknown) => ({ component, props }) },
      ReactDOM: { createRoot: (node: unknown) => ({ render: (element: unknown) => calls.push(['render', node, element]) }) },
      document: { getElementById: (id: string) => `#${id}` },
    });
    runInContext(boot.text, page);
    const [fetcher, render] = calls as [[string, { url: string }], [string, string, { component: unknown; props: Record<string, unknown> }]];
    expect(fetcher).toEqual(['createFetcher', { url: '/graphql' }]);
    expect(render[1]).toBe('#graphiql');
    expect(render[2].component).toBe(runInContext('GraphiQL', page));
    // The headers hold the caller's token: never kept in the browser's storage.
    expect(render[2].props).toMatchObject({ fetcher: 'the fetcher', shouldPersistHeaders: false });
  });

  it('answers 404 for a file it does not serve', async () => {
    for (const path of ['/graphiql/assets/package.json', '/graphiql/assets/..%2Fpackage.json', '/graphiql/assets/graphiql.min.js.map']) {
      expect({ path, status: (await http.get(path)).status }).toEqual({ path, status: 404 });
    }
  });
});
