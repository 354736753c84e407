#!/usr/bin/env node
// Builds dist/ (tsc -p tsconfig.build.json) when it is missing or older than the sources, for
// everything that runs compiled code: `npm start`, `npm run start:<service>` and the `trellis`
// command (bin/trellis.js). Run alone, or required for buildIfStale().
const { spawnSync } = require('node:child_process');
const { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');

const root = join(__dirname, '..');
// Written after each build: its time is the build's.
const stamp = join(root, 'dist', '.build-stamp');
// What tsconfig.build.json compiles (its excludes: tests, behaviour suites, libs/testing).
const SOURCE_DIRS = ['libs', 'services', 'migrations'];
const NOT_BUILT = /(\.spec\.ts|\.e2e-spec\.ts|\.behaviour\.ts|\.d\.ts)$/;

function newestSource() {
  let newest = { file: join(root, 'tsconfig.json'), mtime: statSync(join(root, 'tsconfig.json')).mtimeMs };
  const consider = (file) => {
    const mtime = statSync(file).mtimeMs;
    if (mtime > newest.mtime) newest = { file, mtime };
  };
  consider(join(root, 'tsconfig.build.json'));
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && path !== join(root, 'libs', 'testing')) walk(path);
      } else if (e.name.endsWith('.ts') && !NOT_BUILT.test(e.name)) consider(path);
    }
  };
  for (const d of SOURCE_DIRS) if (existsSync(join(root, d))) walk(join(root, d));
  return newest;
}

/** Why dist must be rebuilt, or undefined when it is current. */
function staleReason() {
  if (!existsSync(stamp)) return 'dist/ has not been built';
  const built = statSync(stamp).mtimeMs;
  const newest = newestSource();
  return newest.mtime > built ? `${relative(root, newest.file)} changed since the last build` : undefined;
}

/**
 * One build at a time: parallel CLI runs would both write dist/ while the other loads it. The
 * lock is a directory (atomic mkdir) holding the builder's pid, taken over when that pid is gone.
 */
function withBuildLock(fn) {
  const lock = join(root, '.trellis', 'build.lock');
  mkdirSync(join(root, '.trellis'), { recursive: true });
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      let holder = 0;
      try {
        holder = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch {
        // Being created this instant: wait for it.
      }
      if (holder && !alive(holder)) {
        rmLock(lock);
        continue;
      }
      if (Date.now() > deadline) throw new Error(`waited 10 minutes for ${lock}; remove it if no build is running`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    return fn();
  } finally {
    rmLock(lock);
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

function rmLock(lock) {
  rmSync(lock, { recursive: true, force: true });
}

/** Builds when stale; `what` names what waits for it in the message (the CLI, the platform). */
function buildIfStale(what = 'the platform') {
  if (!staleReason()) return;
  withBuildLock(() => {
    // Another run may have built it while this one waited for the lock.
    const reason = staleReason();
    if (!reason) return;
    process.stderr.write(`[trellis] building ${what} first (${reason}): tsc -p tsconfig.build.json ...\n`);
    const started = Date.now();
    const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
      cwd: root,
      // The compiler's diagnostics go to stderr: stdout is the command's output (a token, an id).
      stdio: ['ignore', process.stderr, process.stderr],
    });
    if (tsc.error) throw tsc.error;
    if (tsc.status !== 0 && !existsSync(join(root, 'dist', 'services', 'platform', 'src', 'main.js'))) {
      process.stderr.write('[trellis] the build produced nothing to run; see the errors above\n');
      process.exit(1);
    }
    writeFileSync(stamp, new Date().toISOString() + '\n');
    // tsc still emits when types do not check (type checking is `npm run typecheck`'s job).
    const note = tsc.status === 0 ? '' : ' with type errors (above); running the compiled output anyway';
    process.stderr.write(`[trellis] built in ${((Date.now() - started) / 1000).toFixed(1)} s${note}\n`);
  });
}

// The web console (console/, React built by Vite into dist/console): served at /console by the
// platform and by the distributed profile's lineage service, so `npm start`'s set-up builds it.
const consoleDir = join(root, 'console');
const consoleOut = join(root, 'dist', 'console');
const consoleStamp = join(consoleOut, '.build-stamp');

function newestConsoleSource() {
  let newest = 0;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (!/\.spec\.ts$/.test(e.name)) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(consoleDir);
  return newest;
}

/**
 * Builds the console when dist/console is missing or older than console/. Best effort: the API
 * works without it (and /console then says how to build it), so a failed build only warns.
 * Returns whether the console is built.
 */
function buildConsoleIfStale() {
  if (!existsSync(consoleDir)) return false;
  const fresh = () => existsSync(consoleStamp) && statSync(consoleStamp).mtimeMs >= newestConsoleSource();
  if (fresh()) return true;
  return withBuildLock(() => {
    if (fresh()) return true;
    process.stderr.write('[trellis] building the web console (vite build console/) ...\n');
    const started = Date.now();
    const vite = spawnSync(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(consoleDir, 'vite.config.mts')], {
      cwd: root,
      env: { ...process.env, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' },
      stdio: ['ignore', process.stderr, process.stderr],
    });
    if (vite.error || vite.status !== 0) {
      process.stderr.write('[trellis] warning: the web console could not be built (above); /console says so until it is\n');
      return false;
    }
    writeFileSync(consoleStamp, new Date().toISOString() + '\n');
    process.stderr.write(`[trellis] console built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    return true;
  });
}

module.exports = { buildIfStale, buildConsoleIfStale };

if (require.main === module) {
  if (process.argv[2] === '--console') process.exit(buildConsoleIfStale() ? 0 : 1);
  buildIfStale(process.argv[2]);
  buildConsoleIfStale();
}
