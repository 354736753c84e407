/**
 * Chance-corrected agreement for nominal labels. Each function returns null where the
 * coefficient is undefined (no data, or expected disagreement of zero: everyone used one
 * category), rather than a misleading 0 or 1.
 */

/** A value a coder gave a unit; null where the coder did not code it (missing data). */
export type Rating = string | null;

/**
 * Cohen's kappa for two raters over the same items (Cohen 1960): (p_o - p_e) / (1 - p_e), with
 * p_e from each rater's own marginal distribution. Items either rater left out are skipped.
 */
export function cohensKappa(a: Rating[], b: Rating[]): number | null {
  if (a.length !== b.length) throw new RangeError(`cohensKappa: the raters rated ${a.length} and ${b.length} items`);
  const pairs: [string, string][] = [];
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x !== null && y !== null) pairs.push([x, y]);
  }
  const n = pairs.length;
  if (n === 0) return null;
  const ma = new Map<string, number>();
  const mb = new Map<string, number>();
  let agree = 0;
  for (const [x, y] of pairs) {
    if (x === y) agree += 1;
    ma.set(x, (ma.get(x) ?? 0) + 1);
    mb.set(y, (mb.get(y) ?? 0) + 1);
  }
  const po = agree / n;
  let pe = 0;
  for (const [k, ca] of ma) pe += (ca / n) * ((mb.get(k) ?? 0) / n);
  if (pe === 1) return null;
  return (po - pe) / (1 - pe);
}

/**
 * Fleiss' kappa (Fleiss 1971) from a subjects x categories table of counts, every row summing to
 * the same number of raters n >= 2: (P̄ - P̄_e) / (1 - P̄_e).
 */
export function fleissKappaFromCounts(counts: number[][]): number | null {
  const N = counts.length;
  if (N === 0) return null;
  const n = counts[0].reduce((s, c) => s + c, 0);
  if (n < 2) throw new RangeError('fleissKappa: each subject needs at least two ratings');
  const k = counts[0].length;
  const columnTotals = new Array<number>(k).fill(0);
  let sumP = 0;
  counts.forEach((row, i) => {
    if (row.length !== k) throw new RangeError(`fleissKappa: subject ${i} has ${row.length} categories, expected ${k}`);
    const total = row.reduce((s, c) => s + c, 0);
    if (total !== n) throw new RangeError(`fleissKappa: subject ${i} has ${total} ratings, expected ${n} like the first`);
    sumP += (row.reduce((s, c) => s + c * c, 0) - n) / (n * (n - 1));
    row.forEach((c, j) => (columnTotals[j] += c));
  });
  const pBar = sumP / N;
  const peBar = columnTotals.reduce((s, t) => s + (t / (N * n)) ** 2, 0);
  if (peBar === 1) return null;
  return (pBar - peBar) / (1 - peBar);
}

/** Fleiss' kappa from each subject's list of labels (all subjects rated by the same number of raters). */
export function fleissKappa(ratings: string[][]): number | null {
  const categories = [...new Set(ratings.flat())].sort();
  return fleissKappaFromCounts(ratings.map((labels) => categories.map((c) => labels.filter((l) => l === c).length)));
}

/**
 * Krippendorff's alpha for nominal data with missing values (Krippendorff 2011, "Computing
 * Krippendorff's Alpha-Reliability"): 1 - D_o / D_e from the coincidence matrix. `data` is
 * coders x units; units with fewer than two values are not pairable and do not count.
 */
export function krippendorffAlphaNominal(data: Rating[][]): number | null {
  const units = data.length === 0 ? 0 : Math.max(...data.map((r) => r.length));
  // o[c][k]: coincidences of values c and k within units, each pair weighted 1 / (m_u - 1).
  const o = new Map<string, Map<string, number>>();
  const add = (c: string, k: string, w: number) => {
    const row = o.get(c) ?? new Map<string, number>();
    row.set(k, (row.get(k) ?? 0) + w);
    o.set(c, row);
  };
  for (let u = 0; u < units; u++) {
    const values = data.map((coder) => coder[u] ?? null).filter((v): v is string => v !== null);
    const m = values.length;
    if (m < 2) continue;
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) if (i !== j) add(values[i], values[j], 1 / (m - 1));
  }
  const nc = new Map<string, number>();
  let n = 0;
  let observedDisagreement = 0;
  for (const [c, row] of o) {
    for (const [k, w] of row) {
      nc.set(c, (nc.get(c) ?? 0) + w);
      n += w;
      if (c !== k) observedDisagreement += w;
    }
  }
  if (n <= 1) return null;
  let expectedDisagreement = 0;
  for (const [c, a] of nc) for (const [k, b] of nc) if (c !== k) expectedDisagreement += a * b;
  const De = expectedDisagreement / (n * (n - 1));
  if (De === 0) return null;
  return 1 - observedDisagreement / n / De;
}
