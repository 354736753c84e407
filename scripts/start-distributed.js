#!/usr/bin/env node
// `npm run start:distributed`: the distributed profile on one machine. Starts Apache Kafka and
// the S3 store with infra/ (unless KAFKA_BROKERS / S3_ENDPOINT name running ones), then the five
// services as five processes (ingestion, annotation, trainer, registry, lineage), each its own
// `services/<name>/src/main.ts` compiled, and stops them all on Ctrl-C or SIGTERM: the services
// first (each finishes its in-flight work), then what this script started.
//
// PostgreSQL: DATABASE_URL, or the embedded server under TRELLIS_DATA_DIR, which the first
// service starts (and owns) before the other four connect to it.
//
// A gateway on TRELLIS_PORT_BASE routes each API path to the service that serves it, so the CLI
// and the demo need one TRELLIS_URL; a service that dies is started again. If this launcher itself
// is killed (even with SIGKILL), its services notice through their IPC channel and stop; Kafka and
// S3, if it started them, keep running and the next start uses them.
//
// Env: TRELLIS_DATA_DIR [.trellis/distributed], TRELLIS_PORT_BASE [3000] (gateway; services on base+1..+5),
// KAFKA_PORT [9092], S3_PORT [8333], TRELLIS_INFRA_DATA_DIR [TRELLIS_DATA_DIR] (where infra/
// keeps Kafka's and S3's state), and everything the services read (README "Configuration").
const { spawn, spawnSync } = require('node:child_process');
const http = require('node:http');
const { Buffer } = require('node:buffer');
const { join, resolve } = require('node:path');

const root = join(__dirname, '..');
const SERVICES = ['ingestion', 'annotation', 'trainer', 'registry', 'lineage'];

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(`usage: npm run start:distributed

Starts Kafka and S3 (infra/kafka.sh, infra/s3.sh) unless KAFKA_BROKERS and S3_ENDPOINT are set,
then ingestion, annotation, trainer, registry and lineage as five processes on ports
TRELLIS_PORT_BASE+1 .. +5 (3001..3005) behind a gateway on TRELLIS_PORT_BASE (3000) that routes
each API path to its service; a service that dies is started again; Ctrl-C stops everything.
PostgreSQL: DATABASE_URL, or the embedded server under TRELLIS_DATA_DIR (.trellis/distributed).
`);
  process.exit(0);
}

const dataDir = resolve(root, process.env.TRELLIS_DATA_DIR || join('.trellis', 'distributed'));
const infraDir = resolve(root, process.env.TRELLIS_INFRA_DATA_DIR || dataDir);
const base = Number(process.env.TRELLIS_PORT_BASE || 3000);
if (!Number.isInteger(base) || base < 1 || base > 65530) {
  process.stderr.write('start:distributed: TRELLIS_PORT_BASE must be a port number from 1 to 65530\n');
  process.exit(2);
}
const kafkaPort = process.env.KAFKA_PORT || '9092';
const s3Port = process.env.S3_PORT || '8333';
const log = (m) => process.stderr.write(`[distributed] ${m}\n`);

/** Runs an infra script; true when it started the service (it was not running before). */
function infra(script, env) {
  const run = (command) =>
    spawnSync('bash', [join(root, 'infra', script), command], {
      cwd: root,
      env: { ...process.env, ...env, TRELLIS_DATA_DIR: infraDir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
  const wasRunning = run('status').status === 0;
  if (wasRunning) return false;
  const started = run('start');
  if (started.status !== 0) throw new Error(`infra/${script} start failed (exit ${started.status})`);
  return true;
}

const started = [];
const env = { ...process.env, TRELLIS_DATA_DIR: dataDir };
for (const [script, setting, extra] of [
  ['kafka.sh', 'KAFKA_BROKERS', { KAFKA_PORT: kafkaPort }],
  ['s3.sh', 'S3_ENDPOINT', { S3_PORT: s3Port }],
]) {
  if (process.env[setting]) continue;
  try {
    if (infra(script, extra)) started.push([script, extra]);
  } catch (err) {
    log(err.message);
    stopInfra();
    process.exit(1);
  }
}
if (!process.env.KAFKA_BROKERS) env.KAFKA_BROKERS = `127.0.0.1:${kafkaPort}`;
if (!process.env.S3_ENDPOINT) env.S3_ENDPOINT = `http://127.0.0.1:${s3Port}`;
env.S3_ACCESS_KEY = process.env.S3_ACCESS_KEY || 'trellis';
env.S3_SECRET_KEY = process.env.S3_SECRET_KEY || 'trellis-secret';
env.TRELLIS_MESSAGING = 'kafka';

// Build once here, not five times at once.
for (const step of ['ensure-deps.js', 'ensure-build.js']) {
  if (spawnSync(process.execPath, [join(__dirname, step)], { cwd: root, stdio: 'inherit' }).status !== 0) {
    stopInfra();
    process.exit(1);
  }
}

const children = new Map();
/** Exit times of each service, for telling a crash from a crash loop. */
const crashes = new Map();
let stopping = false;

function startService(name, i) {
  const port = base + 1 + i;
  const child = spawn(process.execPath, ['-r', './scripts/register-paths.js', '-r', './scripts/exit-with-launcher.js', `dist/services/${name}/src/main.js`], {
    cwd: root,
    env: { ...env, PORT: String(port) },
    // The IPC channel tells the service when this launcher is gone (scripts/exit-with-launcher.js).
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // Its own process group: a terminal's Ctrl-C reaches this script, which stops the services in
    // order with one SIGTERM each (a second signal would make a service exit without waiting).
    detached: true,
  });
  const prefix = (stream, out) => {
    let rest = '';
    stream.on('data', (d) => {
      const lines = (rest + d).split('\n');
      rest = lines.pop();
      for (const l of lines) out.write(`[${name}] ${l}\n`);
    });
  };
  prefix(child.stdout, process.stdout);
  prefix(child.stderr, process.stderr);
  child.once('exit', (code, signal) => {
    children.delete(name);
    if (stopping) {
      if (children.size === 0) finish();
      return;
    }
    // A service that dies (killed, out of memory) is started again; its work is in PostgreSQL and
    // its consumer group's offsets in Kafka, so it carries on where it stopped. One that keeps dying
    // at once (a bad configuration) stops everything instead.
    const now = Date.now();
    const recent = (crashes.get(name) || []).filter((t) => now - t < 120_000);
    recent.push(now);
    crashes.set(name, recent);
    if (recent.length > 5) {
      log(`${name} exited (${signal || `code ${code}`}) ${recent.length} times in two minutes; stopping the others`);
      void shutdown(1);
      return;
    }
    const delay = 1000 * 2 ** (recent.length - 1);
    log(`${name} exited (${signal || `code ${code}`}); starting it again in ${delay / 1000} s`);
    setTimeout(() => {
      if (!stopping) startService(name, i);
    }, delay);
  });
  children.set(name, { child, port });
  log(`started ${name} (pid ${child.pid}) on port ${port}`);
  return port;
}

async function healthy(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stopping) return false;
    const ok = await fetch(`http://127.0.0.1:${port}/health`)
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** Which service serves a path: the first prefix that matches. */
const ROUTES = [
  ['/ingestion', 'ingestion'],
  ['/annotation', 'annotation'],
  ['/training', 'trainer'],
  ['/registry', 'registry'],
  ['/webhooks', 'registry'],
  ['/graphql', 'lineage'],
  ['/graphiql', 'lineage'],
  ['/console', 'lineage'],
  ['/api/v1/lineage', 'lineage'],
  // Tokens and principals live in the shared database: any service answers.
  ['/auth', 'ingestion'],
];

function routeOf(url) {
  const path = url.split('?')[0];
  const hit = ROUTES.find(([prefix]) => path === prefix || path.startsWith(`${prefix}/`));
  return hit && hit[1];
}

function answer(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * The gateway: passes each request to its service as it is (body and answer streamed). A service
 * that is down (connection refused: the request never reached it) is a 503 with Retry-After, which
 * the CLI waits out and sends again; one that dies while answering is a 502, since the request may
 * have been done. /health answers for all five.
 */
function startGateway() {
  const server = http.createServer(async (req, res) => {
    if (req.url.split('?')[0] === '/health') {
      const states = await Promise.all(
        SERVICES.map((name, i) =>
          fetch(`http://127.0.0.1:${base + 1 + i}/health`)
            .then((r) => (r.status === 200 ? 'up' : `status ${r.status}`))
            .catch(() => 'down'),
        ),
      );
      const services = Object.fromEntries(SERVICES.map((name, i) => [name, states[i]]));
      return answer(res, states.every((s) => s === 'up') ? 200 : 503, { status: states.every((s) => s === 'up') ? 'ok' : 'degraded', services });
    }
    const name = routeOf(req.url);
    if (!name) return answer(res, 404, { error: 'NOT_FOUND', reason: 'NOT_FOUND', message: `no service serves ${req.url.split('?')[0]}` });
    const upstream = http.request(
      { host: '127.0.0.1', port: base + 1 + SERVICES.indexOf(name), method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode, up.headers);
        up.pipe(res);
        up.on('error', () => res.destroy());
      },
    );
    upstream.on('error', (err) => {
      if (res.headersSent) return void res.destroy();
      if (err.code === 'ECONNREFUSED')
        return answer(
          res,
          503,
          { error: 'SERVICE_UNAVAILABLE', reason: 'SERVICE_UNAVAILABLE', message: `the ${name} service is not running; try again` },
          { 'retry-after': '1' },
        );
      answer(res, 502, { error: 'BAD_GATEWAY', reason: 'BAD_GATEWAY', message: `the ${name} service stopped while answering (${err.code || err.message})` });
    });
    req.pipe(upstream);
  });
  server.on('error', (err) => {
    log(`gateway: ${err.message}`);
    void shutdown(1);
  });
  server.listen(base, '127.0.0.1');
  return server;
}

let gateway;
let exitCode = 0;
function stopInfra() {
  for (const [script, extra] of started.reverse()) {
    spawnSync('bash', [join(root, 'infra', script), 'stop'], { cwd: root, env: { ...process.env, ...extra, TRELLIS_DATA_DIR: infraDir }, stdio: 'inherit' });
  }
  started.length = 0;
}
function finish() {
  gateway?.close();
  stopInfra();
  log('stopped');
  process.exit(exitCode);
}
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  exitCode = code;
  if (children.size === 0) return finish();
  log(`stopping ${[...children.keys()].join(', ')}`);
  for (const { child } of children.values()) child.kill('SIGTERM');
}
let stoppingAt = 0;
function onSignal() {
  // A second Ctrl-C does not wait for the services' own shutdown. (npm passes the terminal's
  // signal on as well, so the same Ctrl-C may arrive twice at once: that one is not a second.)
  if (!stopping) {
    stoppingAt = Date.now();
    void shutdown(0);
  } else if (Date.now() - stoppingAt > 2000) for (const { child } of children.values()) child.kill('SIGKILL');
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

(async () => {
  // The first service migrates the schema and (without DATABASE_URL) starts the embedded
  // PostgreSQL; the other four then find it running.
  const first = startService(SERVICES[0], 0);
  if (!(await healthy(first, 300_000))) {
    if (!stopping) log(`${SERVICES[0]} did not become healthy; stopping`);
    return shutdown(1);
  }
  const ports = SERVICES.slice(1).map((name, i) => startService(name, i + 1));
  const all = await Promise.all(ports.map((p) => healthy(p, 300_000)));
  if (stopping) return;
  if (all.includes(false)) {
    log(
      `${SERVICES.slice(1)
        .filter((_, i) => !all[i])
        .join(', ')} did not become healthy; stopping`,
    );
    return shutdown(1);
  }
  gateway = startGateway();
  log(`all five services are up (Kafka ${env.KAFKA_BROKERS}, S3 ${env.S3_ENDPOINT}); Ctrl-C stops them`);
  log(`  gateway    http://127.0.0.1:${base}  (every API below by its path; /health for all five; TRELLIS_URL for the CLI)`);
  SERVICES.forEach((name, i) =>
    log(`  ${name.padEnd(10)} http://127.0.0.1:${base + 1 + i}  (/health, /docs${name === 'lineage' ? ', /graphql, /graphiql, /console' : ''})`),
  );
})();
