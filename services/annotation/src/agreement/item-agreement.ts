import type { Answer } from '@trellis/contracts';
import { tokenF1 } from './text-similarity';
import { normalizeVqaAnswer } from './vqa-normalization';

/** The text an answer is compared by: the label, the caption, or the question/answer pairs in order. */
export function answerText(answer: Answer): string {
  switch (answer.kind) {
    case 'classification':
      return answer.label;
    case 'caption':
      return answer.caption;
    case 'vqa':
      return answer.pairs.map((p) => `${p.question} ${p.answer}`).join(' ');
  }
}

/** Labels compare exactly (they come from a fixed set); free text after VQA normalization. */
export function sameAnswer(a: Answer, b: Answer): boolean {
  if (a.kind === 'classification' && b.kind === 'classification') return a.label === b.label;
  return normalizeVqaAnswer(answerText(a)) === normalizeVqaAnswer(answerText(b));
}

export function similarity(a: Answer, b: Answer): number {
  if (a.kind === 'classification' || b.kind === 'classification') return sameAnswer(a, b) ? 1 : 0;
  return tokenF1(answerText(a), answerText(b));
}

export interface ItemAgreement {
  /** Mean pairwise similarity of the answers (1 for a single answer). */
  agreement: number;
  /** The answer the item would be accepted with, or null when there is no clear one (a tie). */
  consensus: { answer: Answer; index: number } | null;
}

/**
 * How much the accepted answers of one item agree, and which answer represents them. Labels:
 * the share of agreeing pairs (Fleiss' P_i) and the majority label, none on a tie. Text: the mean
 * pairwise token F1 and the medoid (the answer most similar to the others; the earliest on a tie,
 * since any of them is a real annotator's answer).
 */
export function itemAgreement(answers: Answer[]): ItemAgreement {
  if (answers.length === 0) throw new RangeError('itemAgreement: no answers');
  if (answers.length === 1) return { agreement: 1, consensus: { answer: answers[0], index: 0 } };
  const m = answers.length;
  const sums = new Array<number>(m).fill(0);
  let total = 0;
  for (let i = 0; i < m; i++) {
    for (let j = i + 1; j < m; j++) {
      const s = similarity(answers[i], answers[j]);
      sums[i] += s;
      sums[j] += s;
      total += s;
    }
  }
  const agreement = total / ((m * (m - 1)) / 2);
  const best = Math.max(...sums);
  const leaders = sums.map((s, i) => (s === best ? i : -1)).filter((i) => i >= 0);
  if (answers[0].kind === 'classification') {
    const distinct = new Set(leaders.map((i) => (answers[i] as { label: string }).label));
    if (distinct.size > 1) return { agreement, consensus: null };
  }
  return { agreement, consensus: { answer: answers[leaders[0]], index: leaders[0] } };
}
