import { featureStats, frechetDistance, frechetDistanceFromStats, jacobiEigen } from './frechet';
import { MetricsException } from './metrics.exception';

// Expected values: pytorch-fid's calculate_frechet_distance formula with numpy.cov and
// scipy.linalg.sqrtm on these generated features (fixtures/make-reference-values.py).
function feats(kind: 1 | 2, n: number, d: number): number[][] {
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: d }, (_, j) =>
      kind === 1 ? Math.sin(1.3 * i * (j + 1) + 0.7 * j * j) + 0.1 * j : Math.cos(0.9 * i * (j + 2) + 1.1 * j) * (1 + 0.2 * j) + 0.3,
    ),
  );
}

describe('frechetDistance', () => {
  it('matches pytorch-fid / scipy', () => {
    expect(frechetDistance(feats(1, 50, 8), feats(2, 60, 8))).toBeCloseTo(6.91407418009654, 10);
    expect(frechetDistance(feats(1, 20, 3), feats(2, 25, 3))).toBeCloseTo(0.5616518434868061, 10);
  });

  it('is 0 for identical sets and symmetric', () => {
    expect(Math.abs(frechetDistance(feats(1, 50, 8), feats(1, 50, 8)))).toBeLessThan(1e-10);
    const a = featureStats(feats(1, 30, 5));
    const b = featureStats(feats(2, 40, 5));
    expect(frechetDistanceFromStats(a, b)).toBeCloseTo(frechetDistanceFromStats(b, a), 9);
  });

  it('reduces to the closed form for diagonal covariances', () => {
    // Tr(sqrt(S1 S2)) = Σ sqrt(s1_i s2_i) when both are diagonal
    const s1 = [1, 4, 9];
    const s2 = [4, 1, 16];
    const diag = (s: number[]) => ({ n: 3, data: Float64Array.from([s[0], 0, 0, 0, s[1], 0, 0, 0, s[2]]) });
    const fd = frechetDistanceFromStats({ mu: Float64Array.from([0, 1, 2]), sigma: diag(s1) }, { mu: Float64Array.from([1, 1, 0]), sigma: diag(s2) });
    const expected = 1 + 4 + (1 + 4 + 9) + (4 + 1 + 16) - 2 * (2 + 2 + 12);
    expect(fd).toBeCloseTo(expected, 10);
  });

  it('jacobiEigen diagonalises a symmetric matrix: A v = λ v', () => {
    const data = Float64Array.from([4, 1, -2, 1, 2, 0, -2, 0, 3]);
    const { values, vectors } = jacobiEigen({ n: 3, data });
    for (let k = 0; k < 3; k++) {
      for (let i = 0; i < 3; i++) {
        let av = 0;
        for (let j = 0; j < 3; j++) av += data[i * 3 + j] * vectors[j * 3 + k];
        expect(av).toBeCloseTo(values[k] * vectors[i * 3 + k], 10);
      }
    }
    expect(values.reduce((a, b) => a + b, 0)).toBeCloseTo(9, 10); // trace
  });

  it('rejects mismatched or too few features', () => {
    expect(() =>
      frechetDistance(
        [[1, 2]],
        [
          [1, 2],
          [3, 4],
        ],
      ),
    ).toThrow(MetricsException);
    expect(() =>
      frechetDistance(
        [
          [1, 2],
          [3, 4],
        ],
        [
          [1, 2, 3],
          [3, 4, 5],
        ],
      ),
    ).toThrow(/feature sizes differ/);
  });
});
