import { invalidInput } from './metrics.exception';

/** Square symmetric matrix, row-major, float64. */
export interface SymMatrix {
  n: number;
  data: Float64Array;
}

/**
 * Eigen-decomposition of a symmetric matrix by the cyclic Jacobi method: rotations zero the
 * off-diagonal entries until they are negligible. Returns eigenvalues and the eigenvectors as
 * columns of a row-major matrix. O(n³) per sweep, a handful of sweeps: meant for feature
 * sizes up to a few hundred.
 */
export function jacobiEigen(m: SymMatrix, maxSweeps = 100): { values: Float64Array; vectors: Float64Array } {
  const n = m.n;
  const a = Float64Array.from(m.data);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < n; i++) {
      diag += a[i * n + i] * a[i * n + i];
      for (let j = i + 1; j < n; j++) off += a[i * n + j] * a[i * n + j];
    }
    if (off <= 1e-30 * Math.max(diag, 1e-300)) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const app = a[p * n + p];
        const aqq = a[q * n + q];
        // rotation angle that zeroes a[p][q] (Numerical Recipes' stable form)
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i];
  return { values, vectors: v };
}

function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
    }
  }
  return c;
}

/** The PSD square root V·diag(√max(λ, 0))·Vᵀ of a symmetric matrix. */
function sqrtPsd(m: SymMatrix): Float64Array {
  const { values, vectors } = jacobiEigen(m);
  const n = m.n;
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const s = Math.sqrt(Math.max(values[k], 0));
    if (s === 0) continue;
    for (let i = 0; i < n; i++) {
      const vik = vectors[i * n + k] * s;
      for (let j = 0; j < n; j++) out[i * n + j] += vik * vectors[j * n + k];
    }
  }
  return out;
}

export interface GaussianStats {
  mu: Float64Array;
  sigma: SymMatrix;
}

/** Mean and unbiased covariance (N - 1, as numpy.cov(rowvar=False)) of feature rows. */
export function featureStats(features: ArrayLike<number>[]): GaussianStats {
  if (features.length < 2) throw invalidInput(`need at least 2 feature vectors for a covariance, got ${features.length}`, 'features');
  const d = features[0].length;
  features.forEach((f, i) => {
    if (f.length !== d) throw invalidInput(`feature ${i} has ${f.length} values, the first has ${d}`, 'features');
  });
  const n = features.length;
  const mu = new Float64Array(d);
  for (const f of features) for (let j = 0; j < d; j++) mu[j] += f[j];
  for (let j = 0; j < d; j++) mu[j] /= n;
  const sigma = new Float64Array(d * d);
  const centered = new Float64Array(d);
  for (const f of features) {
    for (let j = 0; j < d; j++) centered[j] = f[j] - mu[j];
    for (let i = 0; i < d; i++) {
      const ci = centered[i];
      for (let j = i; j < d; j++) sigma[i * d + j] += ci * centered[j];
    }
  }
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      sigma[i * d + j] /= n - 1;
      sigma[j * d + i] = sigma[i * d + j];
    }
  }
  return { mu, sigma: { n: d, data: sigma } };
}

/**
 * Fréchet distance between two Gaussians, as pytorch-fid's calculate_frechet_distance:
 * ||mu1 - mu2||² + Tr(S1) + Tr(S2) - 2·Tr(sqrtm(S1·S2)). Tr(sqrtm(S1·S2)) is taken as the sum
 * of the square roots of the eigenvalues of the symmetric S1^½·S2·S1^½ (similar to S1·S2),
 * which needs no general matrix square root; tiny negative eigenvalues from rounding count as 0.
 */
export function frechetDistanceFromStats(a: GaussianStats, b: GaussianStats): number {
  const d = a.mu.length;
  if (b.mu.length !== d || a.sigma.n !== d || b.sigma.n !== d) throw invalidInput(`feature sizes differ: ${d} and ${b.mu.length}`, 'stats');
  let diff = 0;
  for (let i = 0; i < d; i++) diff += (a.mu[i] - b.mu[i]) ** 2;
  let tr = 0;
  for (let i = 0; i < d; i++) tr += a.sigma.data[i * d + i] + b.sigma.data[i * d + i];
  const root = sqrtPsd(a.sigma);
  const m = matmul(matmul(root, b.sigma.data, d), root, d);
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      const s = (m[i * d + j] + m[j * d + i]) / 2; // symmetric up to rounding
      m[i * d + j] = s;
      m[j * d + i] = s;
    }
  }
  const { values } = jacobiEigen({ n: d, data: m });
  let trSqrt = 0;
  for (const v of values) trSqrt += Math.sqrt(Math.max(v, 0));
  return diff + tr - 2 * trSqrt;
}

/** Fréchet distance between two sets of feature vectors (rows), e.g. FID on Inception features. */
export function frechetDistance(features1: ArrayLike<number>[], features2: ArrayLike<number>[]): number {
  return frechetDistanceFromStats(featureStats(features1), featureStats(features2));
}
