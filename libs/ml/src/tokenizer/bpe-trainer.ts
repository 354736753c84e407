import { TokenizerErrorCode, TokenizerException } from './tokenizer.exception';

export interface BpeTrainingResult {
  /** token -> id: special tokens first, then the alphabet by code point, then merges in order. */
  vocab: Map<string, number>;
  merges: [string, string][];
}

/**
 * Byte-pair-encoding training as Hugging Face tokenizers' BpeTrainer does it, so the same
 * corpus gives the same vocabulary and merges: each step merges the most frequent adjacent
 * pair (counted over words weighted by their frequency); ties go to the pair whose
 * (left id, right id) is smallest, ids being assigned in creation order; training stops when
 * the vocabulary (special tokens included) reaches vocabSize, or the best pair occurs fewer
 * than minFrequency times.
 */
export function trainBpe(
  wordCounts: Map<string, number>,
  options: { vocabSize: number; specialTokens: string[]; minFrequency: number; initialAlphabet: Iterable<string> },
): BpeTrainingResult {
  const vocab = new Map<string, number>();
  const idToToken: string[] = [];
  const add = (t: string): number => {
    let id = vocab.get(t);
    if (id === undefined) {
      id = idToToken.length;
      vocab.set(t, id);
      idToToken.push(t);
    }
    return id;
  };
  for (const t of options.specialTokens) add(t);
  const alphabet = new Set<string>(options.initialAlphabet);
  for (const w of wordCounts.keys()) for (const c of w) alphabet.add(c);
  for (const c of [...alphabet].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!)) add(c);
  if (vocab.size > options.vocabSize) {
    throw new TokenizerException(
      TokenizerErrorCode.InvalidTrainingOptions,
      `vocabSize ${options.vocabSize} is smaller than the special tokens plus the alphabet (${vocab.size})`,
      ['vocabSize'],
    );
  }

  const words: number[][] = [];
  const counts: number[] = [];
  for (const [w, c] of wordCounts) {
    words.push([...w].map((ch) => vocab.get(ch)!));
    counts.push(c);
  }
  // pair key = left * 2^21 + right, safe while ids stay below 2^21 (2M tokens)
  const KEY = 2 ** 21;
  const pairCounts = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  const bump = (key: number, by: number, wi: number) => {
    pairCounts.set(key, (pairCounts.get(key) ?? 0) + by);
    if (by > 0) {
      let s = where.get(key);
      if (!s) where.set(key, (s = new Set()));
      s.add(wi);
    }
  };
  words.forEach((w, wi) => {
    for (let i = 0; i + 1 < w.length; i++) bump(w[i] * KEY + w[i + 1], counts[wi], wi);
  });

  // Max-heap of [count, pair key]; entries go stale as counts change and are checked (and
  // re-queued with the current count) when they reach the top, as HF's trainer does.
  const heap = new PairHeap();
  for (const [key, c] of pairCounts) if (c > 0) heap.push(c, key);

  const merges: [string, string][] = [];
  while (vocab.size < options.vocabSize && heap.size > 0) {
    const [count, best] = heap.pop();
    const current = pairCounts.get(best) ?? 0;
    if (count !== current) {
      if (current > 0) heap.push(current, best);
      continue;
    }
    if (count < 1 || count < options.minFrequency) break;
    const left = Math.floor(best / KEY);
    const right = best % KEY;
    const newId = add(idToToken[left] + idToToken[right]);
    merges.push([idToToken[left], idToToken[right]]);
    const grown = new Set<number>();
    for (const wi of where.get(best) ?? []) {
      const w = words[wi];
      const c = counts[wi];
      for (let i = 0; i + 1 < w.length; i++) {
        if (w[i] !== left || w[i + 1] !== right) continue;
        if (i > 0) {
          bump(w[i - 1] * KEY + left, -c, wi);
          bump(w[i - 1] * KEY + newId, c, wi);
          grown.add(w[i - 1] * KEY + newId);
        }
        if (i + 2 < w.length) {
          bump(right * KEY + w[i + 2], -c, wi);
          bump(newId * KEY + w[i + 2], c, wi);
          grown.add(newId * KEY + w[i + 2]);
        }
        bump(best, -c, wi);
        w.splice(i, 2, newId);
      }
    }
    pairCounts.delete(best);
    where.delete(best);
    for (const key of grown) {
      const c = pairCounts.get(key) ?? 0;
      if (c > 0) heap.push(c, key);
    }
  }
  return { vocab, merges };
}

/** Binary max-heap on (count desc, key asc): the order in which HF's trainer picks pairs. */
class PairHeap {
  private readonly counts: number[] = [];
  private readonly keys: number[] = [];

  get size(): number {
    return this.counts.length;
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): [number, number] {
    const top: [number, number] = [this.counts[0], this.keys[0]];
    const last = this.counts.length - 1;
    this.swap(0, last);
    this.counts.pop();
    this.keys.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.counts.length && this.before(l, m)) m = l;
      if (r < this.counts.length && this.before(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }

  private before(a: number, b: number): boolean {
    return this.counts[a] > this.counts[b] || (this.counts[a] === this.counts[b] && this.keys[a] < this.keys[b]);
  }

  private swap(a: number, b: number): void {
    [this.counts[a], this.counts[b]] = [this.counts[b], this.counts[a]];
    [this.keys[a], this.keys[b]] = [this.keys[b], this.keys[a]];
  }
}
