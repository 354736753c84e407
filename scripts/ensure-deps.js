#!/usr/bin/env node
// Runs before `npm start` and `npm test`, so a fresh clone needs no separate install step.
// Dependencies are (re)installed when node_modules is missing or was installed from other
// dependencies in package.json / another package-lock.json than the ones checked out now.
const { createHash } = require('node:crypto');
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const { execSync } = require('node:child_process');
const { join } = require('node:path');

const root = join(__dirname, '..');
const stampFile = join(root, 'node_modules', '.trellis-deps-stamp');
// Only what npm installs from: editing a script or the bin entry must not reinstall everything.
const INSTALL_FIELDS = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies', 'overrides', 'allowScripts'];
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const hash = createHash('sha256');
hash.update(JSON.stringify(INSTALL_FIELDS.map((f) => manifest[f] ?? null)));
const lock = join(root, 'package-lock.json');
if (existsSync(lock)) hash.update(readFileSync(lock));
const wanted = hash.digest('hex');
const current = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : '';

if (current !== wanted) {
  const cmd = existsSync(join(root, 'package-lock.json')) ? 'npm ci --no-audit --no-fund' : 'npm install --no-audit --no-fund';
  console.log(`[trellis] installing dependencies (${cmd}) ...`);
  execSync(cmd, { cwd: root, stdio: 'inherit' });
  writeFileSync(stampFile, wanted + '\n');
}

// OpenBLAS for the ML library's cpu-blas backend (infra/blas.sh: a PyPI wheel). Only when its
// marker does not name the wanted version, so an installed machine spawns nothing here. Best
// effort: without it the ML code still runs on slower kernels, so a failed install only warns.
const blasDir = process.env.TRELLIS_BLAS_DIR || join(root, '.trellis', 'blas');
const blasVersion =
  process.env.SCIPY_OPENBLAS_VERSION || (readFileSync(join(root, 'infra', 'blas.sh'), 'utf8').match(/SCIPY_OPENBLAS_VERSION:-([^}"]+)/) || [])[1];
const blasMarker = join(blasDir, '.installed');
if (!existsSync(blasMarker) || readFileSync(blasMarker, 'utf8').trim() !== blasVersion) {
  try {
    execSync('bash infra/blas.sh install', { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch {
    console.warn('[trellis] warning: OpenBLAS could not be installed (bash infra/blas.sh install); ML matmuls fall back to slower kernels');
  }
}

// Native TensorFlow for the ML library's 'tensorflow' backend (infra/tensorflow.sh: tfjs-node's
// binding built against the PyPI tensorflow-cpu wheel). Its marker lives in node_modules, so a
// reinstall above re-runs it (from the cached wheel). Best effort like OpenBLAS: without it the
// ML library runs on cpu-blas. TRELLIS_NATIVE_TF=off skips it.
if (process.env.TRELLIS_NATIVE_TF !== 'off') {
  const tfScript = readFileSync(join(root, 'infra', 'tensorflow.sh'), 'utf8');
  const tfWheel = (tfScript.match(/^WHEEL="([^"]+)"/m) || [])[1]?.replace('${TF_VERSION}', (tfScript.match(/^TF_VERSION=(\S+)/m) || [])[1]);
  const tfSha = (tfScript.match(/^WHEEL_SHA256=(\S+)/m) || [])[1];
  const tfMarker = join(root, 'node_modules', '@tensorflow', 'tfjs-node', 'deps', '.trellis-installed');
  const tfWanted = `${tfWheel} ${tfSha} ${process.version}`;
  if (!existsSync(tfMarker) || readFileSync(tfMarker, 'utf8').trim() !== tfWanted) {
    try {
      execSync('bash infra/tensorflow.sh install', { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    } catch {
      console.warn('[trellis] warning: native TensorFlow could not be set up (bash infra/tensorflow.sh install); the ML library runs on cpu-blas instead');
    }
  }
}
