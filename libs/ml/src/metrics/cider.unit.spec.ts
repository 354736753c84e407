import { ciderD } from './cider';
import { MetricsException } from './metrics.exception';

// Expected values: pycocoevalcap's Cider().compute_score(gts, res) (pip pycocoevalcap; its
// scorer needs no Java) on these inputs, given as PTBTokenizer output would be: lowercase,
// no punctuation, space-separated (fixtures/make-reference-values.py).
const GTS = [
  ['a cat sitting on a mat', 'the cat is on the mat', 'a cat on a mat in a room'],
  ['a chest x ray with a small round opacity', 'small opacity in the left lower lobe', 'chest radiograph showing a nodule'],
  ['two dogs playing in the snow', 'dogs running through snow', 'a pair of dogs play outside in the snow', 'two dogs in snow'],
  ['a man riding a bike', 'a person on a bicycle on the street'],
];
const RES = ['a cat on the mat', 'a small round opacity in the left lower lobe', 'two dogs in the snow', 'a dog on a mat'];

describe('ciderD', () => {
  it('matches pycocoevalcap Cider per image and on average', () => {
    const { score, scores } = ciderD(RES, GTS);
    const expected = [3.209987380736356, 3.3685203826969685, 3.178512554581415, 0.24908244111182087];
    scores.forEach((s, i) => expect(s).toBeCloseTo(expected[i], 10));
    expect(score).toBeCloseTo(2.50152568978164, 10);
  });

  it('depends on the whole set through the document frequencies', () => {
    // the same candidate and references score differently with other images beside them
    const alone = ciderD(RES.slice(0, 2), GTS.slice(0, 2)).scores[0];
    expect(Math.abs(alone - 3.209987380736356)).toBeGreaterThan(1e-3);
  });

  it('rejects mismatched inputs', () => {
    expect(() => ciderD(['a'], [])).toThrow(MetricsException);
    expect(() => ciderD(['a'], [[]])).toThrow(/image 0 has no references/);
  });
});
