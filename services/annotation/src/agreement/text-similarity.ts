import { normalizeVqaAnswer } from './vqa-normalization';

/**
 * Token F1 between two texts after VQA normalization: the harmonic mean of token precision and
 * recall over the multiset of shared tokens, as SQuAD scores free-text answers (Rajpurkar et al.
 * 2016). Chosen over edit distance because captions that say the same thing in another word
 * order should score high, and because it is 1 exactly when the normalized texts are the same
 * bag of words. Two empty texts are identical (1); one empty text shares nothing (0).
 */
export function tokenF1(a: string, b: string): number {
  const ta = normalizeVqaAnswer(a).split(' ').filter(Boolean);
  const tb = normalizeVqaAnswer(b).split(' ').filter(Boolean);
  if (ta.length === 0 && tb.length === 0) return 1;
  if (ta.length === 0 || tb.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const t of ta) counts.set(t, (counts.get(t) ?? 0) + 1);
  let common = 0;
  for (const t of tb) {
    const n = counts.get(t) ?? 0;
    if (n > 0) {
      common += 1;
      counts.set(t, n - 1);
    }
  }
  if (common === 0) return 0;
  const precision = common / tb.length;
  const recall = common / ta.length;
  return (2 * precision * recall) / (precision + recall);
}
