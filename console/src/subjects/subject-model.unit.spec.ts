import { consentStanding, impactSections, marksOf, normalizeRef, withdrawablePurposes, withdrawalBody } from './subject-model';
import type { ConsentRecord } from './subjects.api';

function consent(overrides: Partial<ConsentRecord> = {}): ConsentRecord {
  return {
    consentId: 'c1',
    status: 'active',
    decision: 'permit',
    purposes: ['model-training', 'research'],
    withdrawnPurposes: [],
    periodStart: null,
    periodEnd: null,
    sourceSha256: null,
    fhirVersion: null,
    recordedAt: '2026-12-04T20:16:31.000Z',
    ...overrides,
  };
}

describe('subject-model', () => {
  describe('withdrawablePurposes and consentStanding', () => {
    it('an active permit can give back every purpose not yet withdrawn', () => {
      expect(withdrawablePurposes(consent())).toEqual(['model-training', 'research']);
      expect(consentStanding(consent())).toEqual({ text: 'permits', tone: 'ok' });
      const partly = consent({ withdrawnPurposes: ['research'] });
      expect(withdrawablePurposes(partly)).toEqual(['model-training']);
      expect(consentStanding(partly).text).toBe('partly withdrawn');
      const all = consent({ withdrawnPurposes: ['research', 'model-training'] });
      expect(withdrawablePurposes(all)).toEqual([]);
      expect(consentStanding(all)).toEqual({ text: 'withdrawn', tone: 'bad' });
    });

    it('a denial or an inactive consent grants nothing to withdraw', () => {
      expect(withdrawablePurposes(consent({ decision: 'deny' }))).toEqual([]);
      expect(consentStanding(consent({ decision: 'deny' })).text).toBe('deny');
      expect(withdrawablePurposes(consent({ status: 'inactive' }))).toEqual([]);
      expect(consentStanding(consent({ status: 'inactive' })).text).toBe('inactive');
    });
  });

  describe('withdrawalBody', () => {
    it('sends no list for every purpose left (the API default), else the chosen ones in the consent order', () => {
      expect(withdrawalBody(consent(), ['research', 'model-training'])).toEqual({});
      expect(withdrawalBody(consent(), ['research'])).toEqual({ purposes: ['research'] });
      expect(withdrawalBody(consent({ withdrawnPurposes: ['research'] }), ['model-training', 'research'])).toEqual({});
    });

    it('refuses to withdraw nothing', () => {
      expect(() => withdrawalBody(consent(), [])).toThrow('choose at least one purpose');
      expect(() => withdrawalBody(consent({ withdrawnPurposes: ['research'] }), ['research'])).toThrow();
    });
  });

  describe('marksOf', () => {
    it('reads flags and aliases from the states JSON, and nothing from bad JSON', () => {
      const states = JSON.stringify({ 'alias:champion': { by: 'p' }, 'flag:consent-withdrawn': { items: 3, subjects: 1 }, status: 'completed' });
      expect(marksOf({ states })).toEqual({ flags: ['consent-withdrawn'], aliases: ['champion'] });
      expect(marksOf({ states: 'oops' })).toEqual({ flags: [], aliases: [] });
      expect(marksOf({ states: '[]' })).toEqual({ flags: [], aliases: [] });
    });
  });

  describe('impactSections', () => {
    it('lists the connections in the order data flows, with their totals', () => {
      const conn = (n: number) => ({ totalCount: n, edges: Array.from({ length: Math.min(n, 2) }, (_, i) => ({ node: `n${i}` })) });
      const sections = impactSections({
        modelVersions: conn(1),
        consents: conn(1),
        assets: conn(12),
        datasetVersions: conn(1),
        annotationSets: conn(1),
        snapshots: conn(1),
        trainingRuns: conn(1),
      });
      expect(sections.map((s) => s.key)).toEqual(['consents', 'assets', 'datasetVersions', 'annotationSets', 'snapshots', 'trainingRuns', 'modelVersions']);
      expect(sections[1]).toEqual({ key: 'assets', title: 'Assets (raw and curated)', totalCount: 12, nodes: ['n0', 'n1'] });
    });
  });

  it('normalizeRef takes a lineage subject id as well as a bare one', () => {
    expect(normalizeRef(' subject:4fbe4e9c-da9b-4c85-a574-36a54b264e67 ')).toBe('4fbe4e9c-da9b-4c85-a574-36a54b264e67');
    expect(normalizeRef('MRN-REF-1')).toBe('MRN-REF-1');
  });
});
