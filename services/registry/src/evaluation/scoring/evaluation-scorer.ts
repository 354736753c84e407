import type { Metrics } from '@trellis/contracts';
import { ciderD, corpusBleu, vqaAccuracy } from '@trellis/ml';
import { EvaluationScoringErrorCode, EvaluationScoringException } from './evaluation-scoring.exception';

export type PredictionKind = 'caption' | 'vqa' | 'classification';

/** Teacher-forced negative log-likelihood of an item's reference answer(s): the sum over the answer tokens (EOS included, as the trainer's labels count it) and their number. */
export interface AnswerNll {
  sumNll: number;
  tokens: number;
}

/** One answer the model gave: an item's caption, one of its questions, or its class label. */
export interface ScoredPrediction {
  itemId: string;
  kind: PredictionKind;
  prompt: string;
  references: string[];
  prediction: string;
  answerNll?: AnswerNll;
}

/**
 * How many annotators a single reference answer stands for in VQA accuracy. The official script
 * (and vqaAccuracy) averages min(1, matches among the other answers / 3) over the answers left
 * out in turn, so one answer alone always scores 0: the one left out has no others to match.
 * Our annotation sets hold one adjudicated answer per question, so it is scored as the official
 * script scores a question whose ten annotators all gave that answer (VQA v2 collects ten):
 * 1 when the prediction equals it after the script's whitespace cleaning, else 0. The script
 * applies no punctuation, digit or article processing when the answers agree, so neither do we:
 * "Yes." does not match "yes" (its own behaviour, checked in libs/ml's vqa spec). Two or more
 * references are an annotator panel already and go to the script as they are.
 */
export const VQA_UNANIMOUS_PANEL = 10;

/** pycocoevalcap's PUNCTUATIONS, lowercase where its PTBTokenizer output is (it lowercases first, so "-LRB-" is never matched and stays as "-lrb-"). */
const PTB_DROPPED = new Set(["''", "'", '``', '`', '.', '?', '!', ',', ':', '-', '--', '...', ';']);
const PTB_BRACKETS: Record<string, string> = { '(': '-lrb-', ')': '-rrb-', '[': '-lsb-', ']': '-rsb-', '{': '-lcb-', '}': '-rcb-' };
const HTML_ENTITIES: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', apos: "'" };
const LEADING = /^(\.\.\.|--|["'`([{])/;
const TRAILING = /(\.\.\.|--|["'`)\]}.,;:!?])$/;
/** PTB splits these clitics off the word before them; "can't" -> "ca n't" falls out of the n't rule. */
const CLITIC = /^(.+?)(n't|'s|'re|'ve|'ll|'d|'m)$/;

function ptbWord(word: string): string[] {
  const before: string[] = [];
  const after: string[] = [];
  let core = word;
  for (let m = LEADING.exec(core); m && core.length > m[0].length; m = LEADING.exec(core)) {
    before.push(m[0]);
    core = core.slice(m[0].length);
  }
  for (let m = TRAILING.exec(core); m && core.length > m[0].length; m = TRAILING.exec(core)) {
    // An abbreviation (u.s., e.g.) keeps its period, as PTBTokenizer keeps it.
    if (m[0] === '.' && core.slice(0, -1).includes('.')) break;
    after.unshift(m[0]);
    core = core.slice(0, -m[0].length);
  }
  const clitic = CLITIC.exec(core);
  const parts = clitic ? [clitic[1], clitic[2]] : [core];
  return [...before, ...parts, ...after];
}

/**
 * What pycocoevalcap's PTBTokenizer (Stanford PTBTokenizer 3.4.1, lowercased, punctuation
 * tokens dropped) makes of a caption, the input CIDEr-D is defined on (libs/ml ciderD takes
 * tokenized text). A port of the rules captions meet: case, sentence punctuation, quotes,
 * brackets (kept as -lrb- ... as pycocoevalcap leaves them), clitics ('s, n't, 're ...),
 * hyphens and numbers kept whole, HTML entities unescaped. Known difference: a period after an abbreviation in the middle
 * of a sentence ("Dr. Smith") is split off here and kept by PTBTokenizer. The spec checks the
 * rules against the Stanford tokenizer's output (evaluation-scorer.reference.py).
 */
export function ptbTokenize(caption: string): string {
  return caption
    .replace(/\n/g, ' ')
    .replace(/&(quot|amp|lt|gt|apos);/g, (_, e: string) => HTML_ENTITIES[e])
    .replace(/\.\.\./g, ' ... ')
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w.length > 0)
    .flatMap(ptbWord)
    .map((t) => PTB_BRACKETS[t] ?? (t === '"' ? "''" : t))
    .filter((t) => !PTB_DROPPED.has(t))
    .join(' ');
}

function invalid(message: string, field: string): EvaluationScoringException {
  return new EvaluationScoringException(EvaluationScoringErrorCode.InvalidInput, message, [field]);
}

/**
 * sacrebleu's reference streams: stream k holds every caption's k-th reference. sacrebleu lets a
 * caption have fewer references than the others (None in the shorter streams, dropped for that
 * caption); corpusBleu has no such gap, so a caption's first reference fills it. That changes
 * nothing: BLEU takes the maximum count of each n-gram over the references and the length of the
 * closest one, and a repeated reference adds no count and no length.
 */
function referenceStreams(captions: readonly ScoredPrediction[]): string[][] {
  const count = Math.max(...captions.map((c) => c.references.length));
  return Array.from({ length: count }, (_, k) => captions.map((c) => c.references[k] ?? c.references[0]));
}

function perplexityOf(items: readonly ScoredPrediction[]): number | null {
  const withNll = items.filter((i) => i.answerNll !== undefined);
  if (withNll.length === 0) return null;
  // A perplexity over some of the items would read as one over all of them.
  if (withNll.length !== items.length)
    throw invalid(`${items.length - withNll.length} of ${items.length} items have no answerNll; give it for all or none`, 'answerNll');
  let sum = 0;
  let tokens = 0;
  for (const { itemId, answerNll } of withNll) {
    const { sumNll, tokens: n } = answerNll!;
    if (!Number.isFinite(sumNll) || sumNll < 0 || !Number.isInteger(n) || n < 1) {
      throw invalid(`item ${itemId} has answerNll ${JSON.stringify(answerNll)}; sumNll must be finite and >= 0, tokens an integer >= 1`, 'answerNll');
    }
    sum += sumNll;
    tokens += n;
  }
  return Math.exp(sum / tokens);
}

/**
 * The four evaluation metrics of a set of predictions, each over the items it applies to and
 * null where there is none: BLEU (sacrebleu corpus BLEU, 0..100) and CIDEr-D (pycocoevalcap's
 * scale, about 0..10, on PTB-tokenized text) over captions; VQA accuracy (0..100) over questions
 * and class labels, a label being a short answer to its question; perplexity exp(total NLL /
 * total answer tokens) over every item, teacher-forced on the references.
 */
export function scorePredictions(items: readonly ScoredPrediction[]): Metrics {
  items.forEach((it, i) => {
    if (it.references.length === 0) throw invalid(`item ${it.itemId} (${i}) has no reference answer`, `items.${i}.references`);
  });
  const captions = items.filter((i) => i.kind === 'caption');
  const answers = items.filter((i) => i.kind === 'vqa' || i.kind === 'classification');
  const bleu =
    captions.length > 0
      ? corpusBleu(
          captions.map((c) => c.prediction),
          referenceStreams(captions),
        ).score
      : null;
  const cider =
    captions.length > 0
      ? ciderD(
          captions.map((c) => ptbTokenize(c.prediction)),
          captions.map((c) => c.references.map(ptbTokenize)),
        ).score
      : null;
  const panel = (refs: string[]) => (refs.length === 1 ? new Array<string>(VQA_UNANIMOUS_PANEL).fill(refs[0]) : refs);
  const vqa = answers.length > 0 ? (100 * answers.reduce((s, a) => s + vqaAccuracy(a.prediction, panel(a.references)), 0)) / answers.length : null;
  return { bleu, ciderD: cider, vqaAccuracy: vqa, perplexity: perplexityOf(items) };
}
