import type { Answer, TaskType } from '@trellis/contracts';
import { answerText, sameAnswer, similarity } from './item-agreement';
import { cohensKappa, fleissKappa, krippendorffAlphaNominal, Rating } from './kappa';
import { normalizeVqaAnswer } from './vqa-normalization';

export interface RatedItem {
  itemId: string;
  /** The answers that count (submitted and not rejected), one per annotator. */
  annotations: { annotatorId: string; answer: Answer }[];
  /** The item's final answer, once there is one. */
  final: Answer | null;
}

export interface AnnotatorAgreement {
  annotatorId: string;
  items: number;
  /** Share of their answers that equal the final answer (labels exactly, text after VQA normalization). */
  agreementWithFinal: number | null;
  /** Mean token F1 of their answers against the final answer (text tasks). */
  meanSimilarityToFinal: number | null;
  /** Mean Cohen's kappa against each other annotator they share at least two items with (labels). */
  meanPairwiseCohensKappa: number | null;
}

export interface AgreementStatistics {
  taskType: TaskType;
  items: number;
  annotations: number;
  annotators: number;
  /** Over the items rated by the most common number (>= 2) of annotators; null if none. */
  fleissKappa: { value: number | null; items: number; ratersPerItem: number } | null;
  /** Mean over annotator pairs sharing at least two items; with exactly two annotators it is their kappa. */
  cohensKappa: { value: number | null; pairs: number } | null;
  /** Nominal, over all items (missing data allowed); for text, over the normalized texts. */
  krippendorffAlpha: number | null;
  /** Text tasks: share of answer pairs on the same item that match after VQA normalization. */
  exactMatchRate: number | null;
  /** Text tasks: mean pairwise token F1 on the same item. */
  meanTokenF1: number | null;
  perAnnotator: AnnotatorAgreement[];
}

const round = (x: number | null): number | null => (x === null ? null : Math.round(x * 1e6) / 1e6);
const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null);

/** Agreement per project and per annotator, from the items' answers (a pure function of them). */
export function agreementStatistics(taskType: TaskType, items: RatedItem[]): AgreementStatistics {
  const isLabel = taskType === 'classification';
  const key = (a: Answer): string => (isLabel ? answerText(a) : normalizeVqaAnswer(answerText(a)));
  const annotators = [...new Set(items.flatMap((i) => i.annotations.map((a) => a.annotatorId)))].sort();
  const byAnnotator = annotators.map((id) => items.map((i) => i.annotations.find((a) => a.annotatorId === id)));
  const ratingsOf = (k: number): Rating[] => byAnnotator[k].map((a) => (a ? key(a.answer) : null));

  const alpha = krippendorffAlphaNominal(annotators.map((_, k) => ratingsOf(k)));

  // Fleiss needs the same number of raters on every subject: take the commonest count >= 2.
  const sizes = new Map<number, number>();
  for (const i of items) if (i.annotations.length >= 2) sizes.set(i.annotations.length, (sizes.get(i.annotations.length) ?? 0) + 1);
  let fleiss: AgreementStatistics['fleissKappa'] = null;
  if (sizes.size > 0) {
    const [ratersPerItem] = [...sizes.entries()].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0];
    const used = items.filter((i) => i.annotations.length === ratersPerItem);
    fleiss = { value: round(fleissKappa(used.map((i) => i.annotations.map((a) => key(a.answer))))), items: used.length, ratersPerItem };
  }

  const pairKappas: number[] = [];
  const kappaOf = new Map<string, number[]>();
  for (let x = 0; x < annotators.length; x++) {
    for (let y = x + 1; y < annotators.length; y++) {
      const a = ratingsOf(x);
      const b = ratingsOf(y);
      const shared = a.filter((v, i) => v !== null && b[i] !== null).length;
      if (shared < 2) continue;
      const k = cohensKappa(a, b);
      if (k === null) continue;
      pairKappas.push(k);
      kappaOf.set(annotators[x], [...(kappaOf.get(annotators[x]) ?? []), k]);
      kappaOf.set(annotators[y], [...(kappaOf.get(annotators[y]) ?? []), k]);
    }
  }

  const exact: number[] = [];
  const f1: number[] = [];
  if (!isLabel) {
    for (const i of items) {
      for (let x = 0; x < i.annotations.length; x++) {
        for (let y = x + 1; y < i.annotations.length; y++) {
          exact.push(sameAnswer(i.annotations[x].answer, i.annotations[y].answer) ? 1 : 0);
          f1.push(similarity(i.annotations[x].answer, i.annotations[y].answer));
        }
      }
    }
  }

  const perAnnotator = annotators.map((annotatorId, k): AnnotatorAgreement => {
    const mine = items
      .map((i, idx) => ({ final: i.final, answer: byAnnotator[k][idx]?.answer }))
      .filter((x): x is { final: Answer | null; answer: Answer } => x.answer !== undefined);
    const judged = mine.filter((x): x is { final: Answer; answer: Answer } => x.final !== null);
    return {
      annotatorId,
      items: mine.length,
      agreementWithFinal: round(mean(judged.map((x) => (sameAnswer(x.answer, x.final) ? 1 : 0)))),
      meanSimilarityToFinal: isLabel ? null : round(mean(judged.map((x) => similarity(x.answer, x.final)))),
      meanPairwiseCohensKappa: isLabel ? round(mean(kappaOf.get(annotatorId) ?? [])) : null,
    };
  });

  return {
    taskType,
    items: items.length,
    annotations: items.reduce((s, i) => s + i.annotations.length, 0),
    annotators: annotators.length,
    fleissKappa: fleiss,
    cohensKappa: isLabel ? { value: round(mean(pairKappas)), pairs: pairKappas.length } : null,
    krippendorffAlpha: round(alpha),
    exactMatchRate: isLabel ? null : round(mean(exact)),
    meanTokenF1: isLabel ? null : round(mean(f1)),
    perAnnotator,
  };
}
