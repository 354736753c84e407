import { invalidInput } from './metrics.exception';
import { pythonRstrip, pythonSplit } from './python-split';

/**
 * sacrebleu's default "13a" tokenizer (mteval-v13a.pl): unescape a few HTML entities, split off
 * punctuation and symbols, periods and commas unless between digits, and a dash after a digit.
 */
export function tokenize13a(line: string): string {
  let s = line
    .replace(/<skipped>/g, '')
    .replace(/-\n/g, '')
    .replace(/\n/g, ' ');
  if (s.includes('&'))
    s = s
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>');
  s = ` ${s} `;
  // eslint-disable-next-line no-useless-escape -- sacrebleu's 13a pattern, character for character
  s = s.replace(/([\{-\~\[-\` -\&\(-\+\:-\@\/])/g, ' $1 ');
  s = s.replace(/([^0-9])([.,])/g, '$1 $2 ');
  s = s.replace(/([.,])([^0-9])/g, ' $1 $2');
  s = s.replace(/([0-9])(-)/g, '$1 $2 ');
  return pythonSplit(s).join(' ');
}

export interface BleuResult {
  /** 0..100, as sacrebleu's BLEU.score. */
  score: number;
  /** Modified n-gram precisions in percent (smoothed where a count is 0). */
  precisions: number[];
  bp: number;
  sysLen: number;
  refLen: number;
  counts: number[];
  totals: number[];
}

const MAX_ORDER = 4;

function ngrams(tokens: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (let n = 1; n <= MAX_ORDER; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      const g = n + '\u0000' + tokens.slice(i, i + n).join('\u0000');
      out.set(g, (out.get(g) ?? 0) + 1);
    }
  }
  return out;
}

/**
 * Corpus BLEU exactly as sacrebleu's corpus_bleu with its defaults (13a tokenization, no
 * lowercasing, 'exp' smoothing, 4-grams, no effective order). `references` is a list of
 * reference streams, as in sacrebleu: references[k][i] is the k-th reference of sentence i.
 */
export function corpusBleu(hypotheses: string[], references: string[][]): BleuResult {
  if (references.length === 0) throw invalidInput('corpusBleu needs at least one reference stream', 'references');
  references.forEach((stream, k) => {
    if (stream.length !== hypotheses.length)
      throw invalidInput(`reference stream ${k} has ${stream.length} sentences, the hypotheses ${hypotheses.length}`, `references.${k}`);
  });
  const counts = new Array<number>(MAX_ORDER).fill(0);
  const totals = new Array<number>(MAX_ORDER).fill(0);
  let sysLen = 0;
  let refLen = 0;
  hypotheses.forEach((hyp, i) => {
    // sacrebleu right-strips each segment before tokenizing it
    const hypTokens = pythonSplit(tokenize13a(pythonRstrip(hyp)));
    const maxRef = new Map<string, number>();
    let closestDiff = -1;
    let closestLen = -1;
    for (const stream of references) {
      const refTokens = pythonSplit(tokenize13a(pythonRstrip(stream[i])));
      const diff = Math.abs(hypTokens.length - refTokens.length);
      if (closestDiff === -1 || diff < closestDiff) {
        closestDiff = diff;
        closestLen = refTokens.length;
      } else if (diff === closestDiff && refTokens.length < closestLen) {
        closestLen = refTokens.length;
      }
      for (const [g, c] of ngrams(refTokens)) maxRef.set(g, Math.max(maxRef.get(g) ?? 0, c));
    }
    sysLen += hypTokens.length;
    refLen += closestLen;
    for (const [g, c] of ngrams(hypTokens)) {
      const n = Number(g.slice(0, g.indexOf('\u0000')));
      counts[n - 1] += Math.min(c, maxRef.get(g) ?? 0);
    }
    for (let n = 1; n <= MAX_ORDER; n++) totals[n - 1] += Math.max(0, hypTokens.length - n + 1);
  });

  const precisions = new Array<number>(MAX_ORDER).fill(0);
  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  // sacrebleu (its issue #141) answers 0 when no n-gram of any order matches,
  // before smoothing, which would otherwise give such a corpus a score of about 5 to 8.
  if (counts.every((c) => c === 0)) return { score: 0, precisions, bp, sysLen, refLen, counts, totals };
  let smooth = 1;
  for (let n = 1; n <= MAX_ORDER; n++) {
    if (totals[n - 1] === 0) break;
    if (counts[n - 1] === 0) {
      smooth *= 2;
      precisions[n - 1] = 100 / (smooth * totals[n - 1]);
    } else {
      precisions[n - 1] = (100 * counts[n - 1]) / totals[n - 1];
    }
  }
  // sacrebleu's my_log(0) is -9999999999, so a zero precision zeroes the score.
  const logSum = precisions.reduce((s, p) => s + (p === 0 ? -9999999999 : Math.log(p)), 0);
  const score = bp * Math.exp(logSum / MAX_ORDER);
  return { score, precisions, bp, sysLen, refLen, counts, totals };
}
