import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { eventually, freePort } from '@trellis/testing';
import { createToken } from '../journey/journey-checks';

const ROOT = join(__dirname, '..', '..');

/** The people the browser tests act as: one principal each, so no one reviews or approves their own work. */
export const PEOPLE = {
  auditor: 'auditor',
  steward: 'steward',
  engineer: 'engineer',
  approver: 'approver',
  annotator: 'annotator',
  reviewer: 'reviewer',
  /** Holds no role that reads models, runs or the audit trail: sees "not available" there. */
  annotatorOnly: 'annotator',
  /** Checks through the API what the pages should show. */
  checker: 'steward,engineer,auditor,approver,reviewer',
} as const;
export type Person = keyof typeof PEOPLE;

/**
 * What the console's browser tests share: a platform started as the README writes it
 * (`npm start -- --demo`: embedded profile, fresh data directory, the demo's journey run through
 * the public APIs), a token per person, and headless Chromium (Debian's, driven by
 * playwright-core). Screenshots go to TRELLIS_TEST_ARTIFACTS (.trellis/test-artifacts/console).
 */
export interface ConsoleWorld {
  url: string;
  /** Everything `npm start -- --demo` printed. */
  output: string;
  /** The champion the demo promoted. */
  modelVersionId: string;
  tokens: Record<Person, string>;
  artifacts: string;
  /** A fresh browser context signed in as `person` (through the #token= link), at `path` (a hash route). */
  open(person: Person | null, hash?: string): Promise<Page>;
  /** The API as `person`, for arranging and checking. */
  api<T>(person: Person, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  graphql<T>(person: Person, query: string, variables?: Record<string, unknown>): Promise<T>;
  screenshot(page: Page, name: string): Promise<string>;
}

/** Registers the beforeAll/afterAll that start and stop it; the world is ready inside tests. */
export function consoleWorld(): ConsoleWorld {
  const world = {} as ConsoleWorld;
  let platform: ChildProcess | undefined;
  let browser: Browser | undefined;
  let dataDir: string | undefined;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    const install = spawnSync('bash', ['infra/chromium.sh', 'install'], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
    if (install.status !== 0) throw new Error(`infra/chromium.sh install failed: ${install.stderr}`);
    const chromium = spawnSync('bash', ['infra/chromium.sh', 'path'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim();

    mkdirSync(join(ROOT, '.trellis', 'test-data'), { recursive: true });
    dataDir = mkdtempSync(join(ROOT, '.trellis', 'test-data', 'console-'));
    const port = await freePort();
    world.url = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = { ...process.env, TRELLIS_DATA_DIR: dataDir, PORT: String(port), TRELLIS_PG_PORT: String(await freePort()) };
    for (const name of ['DATABASE_URL', 'KAFKA_BROKERS', 'S3_ENDPOINT', 'TRELLIS_MESSAGING']) delete env[name];
    let output = '';
    platform = spawn('npm', ['start', '--', '--demo'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    platform.stdout!.on('data', (d) => (output += d));
    platform.stderr!.on('data', (d) => (output += d));
    await eventually(async () => /^demo (finished|failed)/m.test(output) || platform!.exitCode !== null, 300_000, 500);
    if (!/^demo finished$/m.test(output)) throw new Error(`npm start -- --demo did not finish:\n${output.slice(-3000)}`);
    world.output = output;
    world.modelVersionId = /lineage provenance (\S+)/.exec(output)![1];
    world.tokens = Object.fromEntries(Object.entries(PEOPLE).map(([person, roles]) => [person, createToken(env, roles, `console ${person}`)])) as Record<
      Person,
      string
    >;
    world.artifacts = join(process.env.TRELLIS_TEST_ARTIFACTS || join(ROOT, '.trellis', 'test-artifacts'), 'console');
    mkdirSync(world.artifacts, { recursive: true });

    const { chromium: launcher } = await import('playwright-core');
    browser = await launcher.launch({
      executablePath: chromium,
      // Without the background-networking switches Chromium keeps dialling Google's hosts, which
      // this machine's closed network refuses; --no-sandbox because the tests may run as root.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 900_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    if (platform?.pid && platform.exitCode === null && platform.signalCode === null) {
      process.kill(-platform.pid, 'SIGINT');
      await eventually(async () => platform!.exitCode !== null || platform!.signalCode !== null, 60_000, 250).catch(() =>
        process.kill(-platform!.pid!, 'SIGKILL'),
      );
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  world.open = async (person, hash = '#/') => {
    const context = await browser!.newContext({ viewport: { width: 1400, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    ERRORS.set(page, errors);
    if (person) {
      await page.goto(`${world.url}/console/#token=${world.tokens[person]}`);
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      // Same document, another hash: the token stays in this tab's storage.
      if (hash !== '#/') await page.goto(`${world.url}/console/${hash}`);
    } else await page.goto(`${world.url}/console/${hash}`);
    return page;
  };

  world.api = async <T>(person: Person, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${world.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${world.tokens[person]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };

  world.graphql = async <T>(person: Person, query: string, variables: Record<string, unknown> = {}) => {
    const { status, body } = await world.api<{ data?: T; errors?: { message: string }[] }>(person, 'POST', '/graphql', { query, variables });
    if (status !== 200 || body.errors?.length || !body.data) throw new Error(`GraphQL ${status}: ${JSON.stringify(body.errors ?? body)}`);
    return body.data;
  };

  world.screenshot = async (page, name) => {
    const path = join(world.artifacts, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    return path;
  };

  return world;
}

const ERRORS = new WeakMap<Page, string[]>();

/** Errors the page threw (uncaught), collected since it opened: a test expects none. */
export function uncaughtErrors(page: Page): string[] {
  return ERRORS.get(page) ?? [];
}

/**
 * What a screen reader or keyboard user needs of the page as it stands: every form control has
 * a label, every button and link a name, every image a text alternative, and nothing clickable
 * is out of the keyboard's reach. Returns the offending elements (empty when all is well).
 */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  // A string, not a function: the test's type-check knows no DOM.
  return page.evaluate(`(() => {
    const problems = [];
    const show = (el) => el.outerHTML.slice(0, 120);
    const named = (el) => (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.textContent || el.getAttribute('title') || '').trim().length > 0;
    for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea'))
      if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby')) problems.push('unlabelled control: ' + show(el));
    for (const el of document.querySelectorAll('button, a[href], [role=button]')) if (!named(el)) problems.push('no accessible name: ' + show(el));
    for (const el of document.querySelectorAll('img')) if (!el.hasAttribute('alt')) problems.push('image without alt: ' + show(el));
    for (const el of document.querySelectorAll('[role=button]')) if (el.tagName !== 'BUTTON' && el.getAttribute('tabindex') === null) problems.push('not focusable: ' + show(el));
    return problems;
  })()`);
}
