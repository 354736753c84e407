import { cohensKappa, fleissKappa, fleissKappaFromCounts, krippendorffAlphaNominal, Rating } from './kappa';

const r3 = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000);

/** n copies of a value, for building rating lists from published contingency tables. */
const times = (n: number, v: string): string[] => new Array<string>(n).fill(v);

describe('cohensKappa', () => {
  it('reproduces the 50-proposal example of Wikipedia "Cohen\'s kappa" (20/5/10/15: p_o = 0.7, p_e = 0.5, kappa = 0.4)', () => {
    // https://en.wikipedia.org/wiki/Cohen%27s_kappa#Simple_example: A and B both yes 20, A yes B no 5,
    // A no B yes 10, both no 15.
    const a = [...times(20, 'yes'), ...times(5, 'yes'), ...times(10, 'no'), ...times(15, 'no')];
    const b = [...times(20, 'yes'), ...times(5, 'no'), ...times(10, 'yes'), ...times(15, 'no')];
    expect(r3(cohensKappa(a, b))).toBe(0.4);
  });

  it('reproduces the "same agreement, different kappa" pair of the same article (0.130 and 0.259)', () => {
    // Both tables have p_o = 0.60; their marginals differ (Wikipedia, "Kappa's properties").
    const table = (yy: number, yn: number, ny: number, nn: number): [string[], string[]] => [
      [...times(yy, 'y'), ...times(yn, 'y'), ...times(ny, 'n'), ...times(nn, 'n')],
      [...times(yy, 'y'), ...times(yn, 'n'), ...times(ny, 'y'), ...times(nn, 'n')],
    ];
    expect(r3(cohensKappa(...table(45, 15, 25, 15)))).toBe(0.13);
    expect(r3(cohensKappa(...table(25, 35, 5, 35)))).toBe(0.259);
  });

  it('skips items either rater left out, and is undefined when both used a single category', () => {
    expect(cohensKappa(['a', 'b', null, 'a'], ['a', 'b', 'b', null])).toBe(1);
    expect(cohensKappa(['a', 'a'], ['a', 'a'])).toBeNull();
    expect(() => cohensKappa(['a'], ['a', 'b'])).toThrow(/1 and 2 items/);
  });
});

describe('fleissKappaFromCounts', () => {
  // Fleiss (1971), as tabulated in Wikipedia "Fleiss' kappa" (Worked example): 14 raters assign
  // 10 subjects to 5 categories; P̄ = 0.378, P̄e = 0.213, kappa = 0.210.
  const FLEISS_1971 = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
  ];

  it('reproduces the worked example of 14 raters on 10 subjects: kappa = 0.210', () => {
    expect(r3(fleissKappaFromCounts(FLEISS_1971))).toBe(0.21);
  });

  it('gives the same value from per-subject label lists', () => {
    const labels = FLEISS_1971.map((row) => row.flatMap((n, c) => times(n, `c${c + 1}`)));
    expect(r3(fleissKappa(labels))).toBe(0.21);
  });

  it('refuses subjects with different numbers of ratings, naming the subject', () => {
    expect(() =>
      fleissKappaFromCounts([
        [1, 1],
        [2, 1],
      ]),
    ).toThrow(/subject 1 has 3 ratings, expected 2/);
  });
});

describe('krippendorffAlphaNominal', () => {
  // Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability, University of
  // Pennsylvania (repository.upenn.edu/asc_papers/43), section C: 4 observers x 12 units with
  // missing values; nominal alpha = 0.743. Columns are units 1..12, null is a missing value.
  const _ = null;
  const KRIPPENDORFF_2011: Rating[][] = [
    ['1', '2', '3', '3', '2', '1', '4', '1', '2', _, _, _],
    ['1', '2', '3', '3', '2', '2', '4', '1', '2', '5', _, '3'],
    [_, '3', '3', '3', '2', '3', '4', '2', '2', '5', '1', _],
    ['1', '2', '3', '3', '2', '4', '4', '1', '2', '5', '1', _],
  ];

  it("reproduces Krippendorff's own example with missing data: alpha nominal = 0.743", () => {
    expect(r3(krippendorffAlphaNominal(KRIPPENDORFF_2011))).toBe(0.743);
  });

  it('ignores a unit with a single value (unit 12 is not pairable)', () => {
    const without12 = KRIPPENDORFF_2011.map((row) => row.slice(0, 11));
    expect(krippendorffAlphaNominal(without12)).toBeCloseTo(krippendorffAlphaNominal(KRIPPENDORFF_2011)!, 12);
  });

  it('is 1 for perfect agreement and undefined when only one value was ever used', () => {
    expect(
      krippendorffAlphaNominal([
        ['a', 'b'],
        ['a', 'b'],
      ]),
    ).toBe(1);
    expect(
      krippendorffAlphaNominal([
        ['a', 'a'],
        ['a', 'a'],
      ]),
    ).toBeNull();
  });
});
