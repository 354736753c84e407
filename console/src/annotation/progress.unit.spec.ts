import type { AgreementStatistics } from './annotation.api';
import { agreementTone, consentLeftOut, headlineAgreement, leftOutByReason, percent, progressLabel, progressOf, ratio } from './progress';

const stats = (over: Partial<AgreementStatistics>): AgreementStatistics => ({
  taskType: 'caption',
  items: 0,
  annotations: 0,
  annotators: 0,
  fleissKappa: null,
  cohensKappa: null,
  krippendorffAlpha: null,
  exactMatchRate: null,
  meanTokenF1: null,
  perAnnotator: [],
  ...over,
});

describe('annotation progress', () => {
  it('counts final items against those not cancelled', () => {
    const p = progressOf({ open: 3, adjudication: 1, final: 12, cancelled: 2 });
    expect(p).toEqual({ total: 18, final: 12, open: 3, adjudication: 1, cancelled: 2, active: 16, done: 0.75 });
    expect(progressLabel(p)).toBe('12 of 16 final (75%)');
    expect(progressLabel(progressOf({ open: 0, final: 0 }))).toBe('no tasks yet');
    expect(progressLabel(progressOf({ cancelled: 4 }))).toBe('no items left (4 cancelled)');
    // Rounded down: 99.9% is not done.
    expect(progressLabel(progressOf({ open: 1, final: 999 }))).toBe('999 of 1000 final (99%)');
  });

  it('counts the items left out for consent, with and without the version size', () => {
    expect(consentLeftOut({ open: 15, cancelled: 1 }, 18)).toEqual({ cancelled: 1, withoutTask: 2, total: 3 });
    expect(consentLeftOut({ open: 15, cancelled: 1 })).toEqual({ cancelled: 1, withoutTask: null, total: null });
    expect(consentLeftOut({ open: 20 }, 18).withoutTask).toBe(0);
  });

  it('sums a set’s left-out items per reason', () => {
    expect(
      leftOutByReason({
        leftOut: [
          { reason: 'subject-erased', count: 1 },
          { reason: 'consent-withdrawn:human-annotation', count: 2 },
          { reason: 'subject-erased', count: 3 },
        ],
      }),
    ).toEqual([
      ['subject-erased', 4],
      ['consent-withdrawn:human-annotation', 2],
    ]);
    expect(leftOutByReason(undefined)).toEqual([]);
  });

  it('headlines alpha, else Fleiss kappa, else exact match', () => {
    expect(headlineAgreement(stats({ krippendorffAlpha: 0.66, exactMatchRate: 0.5 }))).toEqual({ label: "Krippendorff's α", value: 0.66 });
    expect(headlineAgreement(stats({ fleissKappa: { value: 0.4, items: 3, ratersPerItem: 2 } }))?.value).toBe(0.4);
    expect(headlineAgreement(stats({ fleissKappa: { value: null, items: 3, ratersPerItem: 2 }, exactMatchRate: 0.5 }))?.label).toBe('exact match');
    expect(headlineAgreement(stats({}))).toBeNull();
  });

  it('formats statistics and marks those under the threshold', () => {
    expect(ratio(0.659643)).toBe('0.66');
    expect(ratio(null)).toBe('—');
    expect(percent(0.538462)).toBe('54%');
    expect(agreementTone(0.96, 0.95)).toBe('ok');
    expect(agreementTone(0.5, 0.95)).toBe('warn');
    expect(agreementTone(null, 0.95)).toBe('info');
  });
});
