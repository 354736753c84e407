import { formatLoss, mergeProgress, summarize } from './loss-series';

describe('mergeProgress', () => {
  it('grows the series by step, one point per step, the newest report winning', () => {
    let s = mergeProgress([], [{ step: 10, loss: 2, heldOutLoss: null }]);
    s = mergeProgress(s, [
      { step: 5, loss: 2.5, heldOutLoss: 2.4 },
      { step: 10, loss: 1.9, heldOutLoss: null },
    ]);
    expect(s).toEqual([
      { step: 5, loss: 2.5, heldOutLoss: 2.4 },
      { step: 10, loss: 1.9, heldOutLoss: null },
    ]);
  });

  it('ignores reports that are not numbers', () => {
    expect(mergeProgress([], [{ step: 1, loss: NaN, heldOutLoss: null }])).toEqual([]);
  });
});

describe('summarize', () => {
  it('gives the first, last and lowest losses with their steps', () => {
    const s = summarize([
      { step: 1, loss: 3, heldOutLoss: 2.9 },
      { step: 2, loss: 1.5, heldOutLoss: 2.1 },
      { step: 3, loss: 1.8, heldOutLoss: 2.2 },
    ])!;
    expect([s.points, s.first.step, s.last.loss, s.min.step, s.minHeldOut?.step]).toEqual([3, 1, 1.8, 2, 2]);
    expect(summarize([])).toBeNull();
    expect(summarize([{ step: 1, loss: 1, heldOutLoss: null }])!.minHeldOut).toBeNull();
  });

  it('formats losses to four decimals', () => {
    expect(formatLoss(1.8752692937850952)).toBe('1.8753');
    expect(formatLoss(null)).toBe('—');
  });
});
