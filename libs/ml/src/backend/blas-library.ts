import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** CBLAS enum values (cblas.h). */
export const CBLAS_ROW_MAJOR = 101;
export const CBLAS_NO_TRANS = 111;
export const CBLAS_TRANS = 112;

export type Sgemm = (
  order: number,
  transA: number,
  transB: number,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
) => void;

export interface BlasLibrary {
  /** Absolute path of the shared library that was loaded. */
  readonly library: string;
  /** 'scipy-openblas' (the PyPI wheel, prefixed symbols) or 'openblas' (a system build). */
  readonly flavor: 'scipy-openblas' | 'openblas';
  readonly threads: number;
  /** OpenBLAS' own build description, e.g. "OpenBLAS 0.3.30 DYNAMIC_ARCH ... SkylakeX". */
  readonly config: string;
  readonly sgemm: Sgemm;
}

export const DEFAULT_BLAS_THREADS = 2;

/** Where infra/blas.sh installs the scipy-openblas32 wheel, relative to the repository. */
const WHEEL_LIBRARY = join('scipy_openblas32', 'lib', 'libscipy_openblas.so');

const SYSTEM_LIBRARIES = [
  '/usr/lib/x86_64-linux-gnu/libopenblas.so.0',
  '/usr/lib/aarch64-linux-gnu/libopenblas.so.0',
  '/usr/lib64/libopenblas.so.0',
  '/usr/lib/libopenblas.so.0',
  '/usr/local/lib/libopenblas.so.0',
  '/opt/homebrew/opt/openblas/lib/libopenblas.dylib',
  '/usr/local/opt/openblas/lib/libopenblas.dylib',
];

/**
 * The repository root: the nearest ancestor holding this project's package.json. Walking up
 * (rather than a fixed ../../..) keeps working from the compiled copy under dist/.
 */
function findRepoRoot(start: string): string | null {
  let dir = start;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'trellis') return dir;
      } catch {
        // not ours; keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/**
 * Candidate libraries in order: TRELLIS_BLAS_LIB (explicit file), the wheel under
 * TRELLIS_BLAS_DIR or <repo>/.trellis/blas, then a system libopenblas.
 */
export function blasCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  if (env.TRELLIS_BLAS_LIB) out.push(env.TRELLIS_BLAS_LIB);
  if (env.TRELLIS_BLAS_DIR) out.push(join(env.TRELLIS_BLAS_DIR, WHEEL_LIBRARY));
  for (const start of [__dirname, process.cwd()]) {
    const root = findRepoRoot(start);
    if (root) out.push(join(root, '.trellis', 'blas', WHEEL_LIBRARY));
  }
  out.push(...SYSTEM_LIBRARIES);
  return [...new Set(out)];
}

let cached: { blas: BlasLibrary | null; notes: string[] } | undefined;

/**
 * Loads OpenBLAS through koffi once per process and returns it, or null (with the reasons in
 * `notes`) when no library can be loaded. OPENBLAS_NUM_THREADS must be set before the library
 * initialises its thread pool, so it is set here (default 2, the machine's core count) unless
 * the caller set it.
 */
export function loadBlas(): { blas: BlasLibrary | null; notes: string[] } {
  if (cached) return cached;
  const notes: string[] = [];
  if (!process.env.OPENBLAS_NUM_THREADS) process.env.OPENBLAS_NUM_THREADS = String(DEFAULT_BLAS_THREADS);
  let koffi: typeof import('koffi');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional native module, loaded only when BLAS is wanted
    koffi = require('koffi') as typeof import('koffi');
  } catch (err) {
    cached = { blas: null, notes: [`koffi could not be loaded: ${(err as Error).message}`] };
    return cached;
  }
  for (const path of blasCandidates()) {
    if (!existsSync(path)) continue;
    try {
      const lib = koffi.load(path);
      const flavor = path.includes('scipy_openblas') ? 'scipy-openblas' : 'openblas';
      const prefix = flavor === 'scipy-openblas' ? 'scipy_' : '';
      const sgemm = lib.func(
        `void ${prefix}cblas_sgemm(int, int, int, int, int, int, float, const float *, int, const float *, int, float, _Inout_ float *, int)`,
      ) as Sgemm;
      let threads = Number(process.env.OPENBLAS_NUM_THREADS);
      let config = flavor;
      try {
        threads = (lib.func(`int ${prefix}openblas_get_num_threads(void)`) as () => number)();
        config = (lib.func(`const char *${prefix}openblas_get_config(void)`) as () => string)();
      } catch {
        // a BLAS without OpenBLAS' extras still multiplies
      }
      cached = { blas: { library: path, flavor, threads, config, sgemm }, notes };
      return cached;
    } catch (err) {
      notes.push(`${path}: ${(err as Error).message}`);
    }
  }
  notes.push('no OpenBLAS library found (run `bash infra/blas.sh install`, or set TRELLIS_BLAS_LIB)');
  cached = { blas: null, notes };
  return cached;
}
