import { invalidInput } from './metrics.exception';
import { pythonSplit } from './python-split';

export interface CiderResult {
  /** Mean over images, as pycocoevalcap's Cider().compute_score returns first. */
  score: number;
  /** Per image, in input order. */
  scores: number[];
}

const N = 4;
const SIGMA = 6;

type Counts = Map<string, number>;

function precook(s: string): Counts {
  const words = pythonSplit(s);
  const counts: Counts = new Map();
  for (let k = 1; k <= N; k++) {
    for (let i = 0; i + k <= words.length; i++) {
      const g = words.slice(i, i + k).join(' ');
      // n-grams of different orders never collide: their word counts differ
      counts.set(g, (counts.get(g) ?? 0) + 1);
    }
  }
  return counts;
}

const order = (ngram: string) => ngram.split(' ').length - 1;

/**
 * CIDEr-D as pycocoevalcap's `Cider` scorer computes it: tf-idf weighted n-gram vectors
 * (n = 1..4) with document frequencies taken from the references of the whole set, clipped
 * cosine similarity per order, a Gaussian length penalty (sigma 6), averaged over orders and
 * references, times 10. Inputs must already be tokenized the way pycocoevalcap's PTBTokenizer
 * leaves them (lowercased, punctuation removed, tokens separated by spaces): this function
 * only splits on whitespace. One candidate per image; `references[i]` are image i's captions.
 *
 * As in pycocoevalcap, the "length" in the penalty is the candidate's count of bigrams, not of
 * words (its counts2vec adds term frequencies where the n-gram index is 1).
 */
export function ciderD(candidates: string[], references: string[][]): CiderResult {
  if (candidates.length !== references.length)
    throw invalidInput(`${candidates.length} candidates but references for ${references.length} images`, 'references');
  if (candidates.length === 0) throw invalidInput('ciderD needs at least one image', 'candidates');
  references.forEach((refs, i) => {
    if (refs.length === 0) throw invalidInput(`image ${i} has no references`, `references.${i}`);
  });
  const crefs = references.map((refs) => refs.map(precook));
  const ctest = candidates.map(precook);
  const df = new Map<string, number>();
  for (const refs of crefs) {
    const seen = new Set<string>();
    for (const r of refs) for (const g of r.keys()) seen.add(g);
    for (const g of seen) df.set(g, (df.get(g) ?? 0) + 1);
  }
  const refLen = Math.log(crefs.length);

  const toVec = (counts: Counts) => {
    const vec = Array.from({ length: N }, () => new Map<string, number>());
    const norm = new Array<number>(N).fill(0);
    let length = 0;
    for (const [g, tf] of counts) {
      const n = order(g);
      const v = tf * (refLen - Math.log(Math.max(1, df.get(g) ?? 0)));
      vec[n].set(g, v);
      norm[n] += v * v;
      if (n === 1) length += tf;
    }
    return { vec, norm: norm.map(Math.sqrt), length };
  };

  const scores = ctest.map((test, i) => {
    const hyp = toVec(test);
    const total = new Array<number>(N).fill(0);
    for (const ref of crefs[i]) {
      const r = toVec(ref);
      const delta = hyp.length - r.length;
      for (let n = 0; n < N; n++) {
        let val = 0;
        for (const [g, v] of hyp.vec[n]) {
          const rv = r.vec[n].get(g) ?? 0;
          val += Math.min(v, rv) * rv;
        }
        if (hyp.norm[n] !== 0 && r.norm[n] !== 0) val /= hyp.norm[n] * r.norm[n];
        val *= Math.E ** (-(delta * delta) / (2 * SIGMA * SIGMA));
        total[n] += val;
      }
    }
    return (total.reduce((a, b) => a + b, 0) / N / crefs[i].length) * 10;
  });
  return { score: scores.reduce((a, b) => a + b, 0) / scores.length, scores };
}
