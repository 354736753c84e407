import { corpusBleu, tokenize13a } from './bleu';
import { MetricsException } from './metrics.exception';

// Expected values: sacrebleu 2.6.0 corpus_bleu with its defaults, and its Tokenizer13a, on these
// inputs (fixtures/make-reference-values.py prints them).
const HYPS = [
  'The cat sat on the mat.',
  'A small round opacity in the left lower lobe.',
  'No acute findings',
  "It's 3.14 -- isn't it? &quot;yes&quot; (maybe) 1,000,000 items; 5-6 days",
  'Heart size normal, lungs clear.',
  'the the the the the',
];
const REFS1 = [
  'The cat is sitting on the mat.',
  'There is a small round opacity in the left lower lobe.',
  'No acute cardiopulmonary findings.',
  'It is 3.14, isn\'t it? "yes" (maybe) 1,000,000 items; 5-6 days',
  'Heart size is normal and the lungs are clear.',
  'the cat',
];
const REFS2 = [
  'A cat sat on the mat.',
  'Small rounded opacity, left lower lobe.',
  'No acute findings.',
  "It's 3.14 - isn't it?",
  'Normal heart size; clear lungs.',
  'there is a cat on the mat',
];

describe('tokenize13a', () => {
  it('tokenizes as sacrebleu 13a does', () => {
    expect([...HYPS, ...REFS1].map(tokenize13a)).toEqual([
      'The cat sat on the mat .',
      'A small round opacity in the left lower lobe .',
      'No acute findings',
      'It\'s 3.14 -- isn\'t it ? " yes " ( maybe ) 1,000,000 items ; 5 - 6 days',
      'Heart size normal , lungs clear .',
      'the the the the the',
      'The cat is sitting on the mat .',
      'There is a small round opacity in the left lower lobe .',
      'No acute cardiopulmonary findings .',
      'It is 3.14 , isn\'t it ? " yes " ( maybe ) 1,000,000 items ; 5 - 6 days',
      'Heart size is normal and the lungs are clear .',
      'the cat',
    ]);
  });
});

describe('corpusBleu', () => {
  const cases: [
    string,
    string[],
    string[][],
    { score: number; counts: number[]; totals: number[]; bp: number; sys_len: number; ref_len: number; precisions: number[] },
  ][] = [
    [
      'two references',
      HYPS,
      [REFS1, REFS2],
      {
        score: 70.5440582731677,
        counts: [44, 34, 26, 22],
        totals: [51, 45, 39, 33],
        bp: 0.9615432950878906,
        sys_len: 51,
        ref_len: 53,
        precisions: [86.27450980392157, 75.55555555555556, 66.66666666666667, 66.66666666666667],
      },
    ],
    [
      'one reference',
      HYPS,
      [REFS1],
      {
        score: 59.16955683672784,
        counts: [42, 30, 23, 20],
        totals: [51, 45, 39, 33],
        bp: 0.8890097654027757,
        sys_len: 51,
        ref_len: 57,
        precisions: [82.3529411764706, 66.66666666666667, 58.97435897435897, 60.60606060606061],
      },
    ],
    [
      'too short for bigrams (score 0)',
      ['hello'],
      [['hello world']],
      { score: 0, counts: [1, 0, 0, 0], totals: [1, 0, 0, 0], bp: 0.36787944117144233, sys_len: 1, ref_len: 2, precisions: [100, 0, 0, 0] },
    ],
    [
      'no zero counts',
      ['the cat sat on a mat today'],
      [['the cat sat on the mat']],
      { score: 43.47208719449914, counts: [5, 3, 2, 1], totals: [7, 6, 5, 4], bp: 1, sys_len: 7, ref_len: 6, precisions: [71.42857142857143, 50, 40, 25] },
    ],
    [
      'exp smoothing of a zero 4-gram count',
      ['the cat sat on mat'],
      [['the cat sat at the mat']],
      {
        score: 34.98330125272253,
        counts: [4, 2, 1, 0],
        totals: [5, 4, 3, 2],
        bp: 0.8187307530779819,
        sys_len: 5,
        ref_len: 6,
        precisions: [80, 50, 33.333333333333336, 25],
      },
    ],
    [
      'exp smoothing of two zero counts',
      ['the dog sat quietly'],
      [['the dog ran']],
      { score: 31.947155212313625, counts: [2, 1, 0, 0], totals: [4, 3, 2, 1], bp: 1, sys_len: 4, ref_len: 3, precisions: [50, 33.333333333333336, 25, 25] },
    ],
    [
      'closest reference length',
      ['a b c d e f g h'],
      [['a b c d'], ['a b c d e f']],
      {
        score: 68.037493331712,
        counts: [6, 5, 4, 3],
        totals: [8, 7, 6, 5],
        bp: 1,
        sys_len: 8,
        ref_len: 6,
        precisions: [75, 71.42857142857143, 66.66666666666667, 60],
      },
    ],
    [
      // sacrebleu stops early when nothing matches: 0, not the 5 to 8 'exp' smoothing would give.
      'no n-gram matches at all',
      ['alpha beta gamma delta', 'epsilon zeta'],
      [['one two three four five', 'six seven']],
      { score: 0, counts: [0, 0, 0, 0], totals: [6, 4, 2, 1], bp: 0.846481724890614, sys_len: 6, ref_len: 7, precisions: [0, 0, 0, 0] },
    ],
    [
      'no match, a one-token hypothesis',
      ['xyz'],
      [['abc def']],
      { score: 0, counts: [0, 0, 0, 0], totals: [1, 0, 0, 0], bp: 0.36787944117144233, sys_len: 1, ref_len: 2, precisions: [0, 0, 0, 0] },
    ],
  ];

  it.each(cases)('matches sacrebleu: %s', (_, hyps, refs, expected) => {
    const r = corpusBleu(hyps, refs);
    expect(r.counts).toEqual(expected.counts);
    expect(r.totals).toEqual(expected.totals);
    expect(r.sysLen).toBe(expected.sys_len);
    expect(r.refLen).toBe(expected.ref_len);
    expect(r.bp).toBeCloseTo(expected.bp, 12);
    r.precisions.forEach((p, i) => expect(p).toBeCloseTo(expected.precisions[i], 10));
    expect(r.score).toBeCloseTo(expected.score, 10);
  });

  it('rejects reference streams of the wrong length', () => {
    expect(() => corpusBleu(['a', 'b'], [['a']])).toThrow(MetricsException);
    expect(() => corpusBleu(['a'], [])).toThrow(/at least one reference stream/);
  });
});
