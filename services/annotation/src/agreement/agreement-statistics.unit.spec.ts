import type { Answer } from '@trellis/contracts';
import { agreementStatistics, RatedItem } from './agreement-statistics';
import { itemAgreement } from './item-agreement';

const label = (l: string): Answer => ({ kind: 'classification', label: l });
const caption = (c: string): Answer => ({ kind: 'caption', caption: c });

describe('agreementStatistics', () => {
  // Two annotators on four items: A says y y n n, B says y n n n; the finals follow A.
  // By hand: p_o = 3/4, p_e = (2/4)(1/4) + (2/4)(3/4) = 1/2, Cohen's kappa = 0.5. Krippendorff's
  // coincidences: o_yy = 2, o_yn = o_ny = 1, o_nn = 4; n_y = 3, n_n = 5, n = 8;
  // D_o = 2/8, D_e = 2*3*5/(8*7) = 30/56, alpha = 1 - (2/8)/(30/56) = 0.533.
  const items: RatedItem[] = ['y', 'y', 'n', 'n'].map((a, i) => ({
    itemId: `item-${i}`,
    annotations: [
      { annotatorId: 'A', answer: label(a) },
      { annotatorId: 'B', answer: label(['y', 'n', 'n', 'n'][i]) },
    ],
    final: label(a),
  }));

  it("computes Cohen's kappa, Fleiss' kappa and Krippendorff's alpha for labels, per project", () => {
    const s = agreementStatistics('classification', items);
    expect(s.cohensKappa).toEqual({ value: 0.5, pairs: 1 });
    expect(s.krippendorffAlpha).toBeCloseTo(0.533, 3);
    expect(s.fleissKappa).toMatchObject({ items: 4, ratersPerItem: 2 });
    expect(s.exactMatchRate).toBeNull();
  });

  it('computes agreement with the final answer per annotator', () => {
    const s = agreementStatistics('classification', items);
    expect(s.perAnnotator).toEqual([
      { annotatorId: 'A', items: 4, agreementWithFinal: 1, meanSimilarityToFinal: null, meanPairwiseCohensKappa: 0.5 },
      { annotatorId: 'B', items: 4, agreementWithFinal: 0.75, meanSimilarityToFinal: null, meanPairwiseCohensKappa: 0.5 },
    ]);
  });

  it('scores captions by normalized exact match and token F1', () => {
    const s = agreementStatistics('caption', [
      {
        itemId: 'i1',
        annotations: [
          { annotatorId: 'A', answer: caption('Two dogs.') },
          { annotatorId: 'B', answer: caption('2 dogs') },
        ],
        final: caption('two dogs'),
      },
      // {dog, runs} vs {dog, sleeps, here}: F1 = 0.4
      {
        itemId: 'i2',
        annotations: [
          { annotatorId: 'A', answer: caption('dog runs') },
          { annotatorId: 'B', answer: caption('dog sleeps here') },
        ],
        final: caption('dog runs'),
      },
    ]);
    expect(s.exactMatchRate).toBe(0.5);
    expect(s.meanTokenF1).toBeCloseTo(0.7, 6);
    expect(s.perAnnotator.find((a) => a.annotatorId === 'B')).toMatchObject({ agreementWithFinal: 0.5, meanSimilarityToFinal: 0.7 });
  });
});

describe('itemAgreement', () => {
  it('finds the majority label and refuses a tie', () => {
    expect(itemAgreement([label('a'), label('a'), label('b')])).toEqual({ agreement: 1 / 3, consensus: { answer: label('a'), index: 0 } });
    expect(itemAgreement([label('a'), label('b')]).consensus).toBeNull();
  });

  it('picks the caption most similar to the others (the medoid)', () => {
    const r = itemAgreement([caption('a cat'), caption('a dog on grass'), caption('dog on the grass')]);
    expect(r.consensus!.index).toBe(1);
  });
});
