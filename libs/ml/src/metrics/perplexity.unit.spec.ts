import { MetricsException } from './metrics.exception';
import { perplexity, tokenNllFromLogits } from './perplexity';

// Expected values: scipy.special.log_softmax on these logits (float64), labels with -100
// ignored, perplexity = exp(mean NLL) (fixtures/make-reference-values.py).
const LOGITS = [
  [2.0, 1.0, 0.1, -1.0, 0.5],
  [0.3, 0.2, 3.0, 0.0, -2.0],
  [1.5, 1.5, 1.5, 1.5, 1.5],
  [10.0, -10.0, 0.0, 5.0, 2.0],
].flat();
const LABELS = [0, 2, -100, 3];

describe('perplexity', () => {
  it('matches scipy for NLL from logits and their perplexity', () => {
    const { nll, counted } = tokenNllFromLogits(LOGITS, 5, LABELS);
    expect(Array.from(counted)).toEqual([1, 1, 0, 1]);
    const expected = [0.5824196710497691, 0.16935501227094224, 5.007093592494536];
    [nll[0], nll[1], nll[3]].forEach((v, i) => expect(v).toBeCloseTo(expected[i], 12));
    expect(perplexity(nll, counted)).toBeCloseTo(6.818385806691044, 10);
  });

  it('is the vocabulary size for uniform predictions and 1 for certain ones', () => {
    expect(perplexity([Math.log(50), Math.log(50)])).toBeCloseTo(50, 10);
    expect(perplexity([0, 0, 0])).toBe(1);
  });

  it('rejects no counted tokens, negative losses and bad labels', () => {
    expect(() => perplexity([1, 2], [0, 0])).toThrow(MetricsException);
    expect(() => perplexity([-1])).toThrow(/finite and >= 0/);
    expect(() => tokenNllFromLogits([0, 0], 2, [2])).toThrow(/outside the vocabulary/);
  });
});
