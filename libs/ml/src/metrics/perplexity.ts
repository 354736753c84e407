import { invalidInput } from './metrics.exception';

/**
 * exp(mean negative log-likelihood over the counted tokens). `counted[i]` false (or 0) leaves
 * token i out, e.g. prompt or padding positions. Sums in float64.
 */
export function perplexity(tokenNll: ArrayLike<number>, counted?: ArrayLike<boolean | number>): number {
  if (counted && counted.length !== tokenNll.length) throw invalidInput(`${tokenNll.length} losses but ${counted.length} mask entries`, 'counted');
  let sum = 0;
  let n = 0;
  for (let i = 0; i < tokenNll.length; i++) {
    if (counted && !counted[i]) continue;
    if (!Number.isFinite(tokenNll[i]) || tokenNll[i] < 0)
      throw invalidInput(`token ${i} has loss ${tokenNll[i]}; a negative log-likelihood is finite and >= 0`, 'tokenNll');
    sum += tokenNll[i];
    n++;
  }
  if (n === 0) throw invalidInput('perplexity of no counted tokens is undefined', 'counted');
  return Math.exp(sum / n);
}

/**
 * Per-token negative log-likelihood -log softmax(logits)[label] from row-major logits
 * [tokens, vocab], in float64 with the max subtracted; labels equal to ignoreIndex (-100, as in
 * Hugging Face) are not counted.
 */
export function tokenNllFromLogits(
  logits: ArrayLike<number>,
  vocabSize: number,
  labels: ArrayLike<number>,
  ignoreIndex = -100,
): { nll: Float64Array; counted: Uint8Array } {
  if (logits.length !== labels.length * vocabSize)
    throw invalidInput(`logits hold ${logits.length} values, not ${labels.length} tokens × ${vocabSize}`, 'logits');
  const nll = new Float64Array(labels.length);
  const counted = new Uint8Array(labels.length);
  for (let t = 0; t < labels.length; t++) {
    const label = labels[t];
    if (label === ignoreIndex) continue;
    if (!Number.isInteger(label) || label < 0 || label >= vocabSize)
      throw invalidInput(`label ${label} at token ${t} is outside the vocabulary of ${vocabSize}`, 'labels');
    const base = t * vocabSize;
    let max = -Infinity;
    for (let v = 0; v < vocabSize; v++) max = Math.max(max, logits[base + v]);
    let sum = 0;
    for (let v = 0; v < vocabSize; v++) sum += Math.exp(logits[base + v] - max);
    nll[t] = Math.log(sum) + max - logits[base + label];
    counted[t] = 1;
  }
  return { nll, counted };
}
