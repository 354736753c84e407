import { chainText, checkFilters, filtersFromParams, parseInstant, prettyData, summarizeData } from './audit-model';

describe('audit-model', () => {
  describe('filtersFromParams', () => {
    it('takes the known filters a link carries and drops blanks', () => {
      expect(filtersFromParams(new URLSearchParams('type=ConsentWithdrawn&stream=%20&actor=prn-1&other=x'))).toEqual({
        type: 'ConsentWithdrawn',
        actor: 'prn-1',
      });
      expect(filtersFromParams(new URLSearchParams(''))).toEqual({});
    });
  });

  describe('parseInstant', () => {
    it('reads dates as midnight UTC and zoneless times as UTC', () => {
      expect(parseInstant('2026-12-04').iso).toBe('2026-12-04T00:00:00.000Z');
      expect(parseInstant('2026-12-04T20:16').iso).toBe('2026-12-04T20:16:00.000Z');
      expect(parseInstant('2026-12-04 20:16:31').iso).toBe('2026-12-04T20:16:31.000Z');
      expect(parseInstant('2026-12-04T21:16:31+01:00').iso).toBe('2026-12-04T20:16:31.000Z');
      expect(parseInstant('2026-12-04T20:16:31.644Z').iso).toBe('2026-12-04T20:16:31.644Z');
      expect(parseInstant('  ')).toEqual({});
    });

    it('refuses what is not a time, saying how to write one', () => {
      expect(parseInstant('yesterday').error).toContain('2026-12-04T20:00:00Z');
      expect(parseInstant('2026-13-45').error).toBeDefined();
    });
  });

  describe('checkFilters', () => {
    it('trims text filters and turns times into ISO instants', () => {
      expect(checkFilters({ type: ' AssetRejected ', stream: '', from: '2026-12-04', to: '2026-12-05' })).toEqual({
        filters: { type: 'AssetRejected', from: '2026-12-04T00:00:00.000Z', to: '2026-12-05T00:00:00.000Z' },
      });
    });

    it('names each field that is wrong, and a range that ends before it starts', () => {
      expect(checkFilters({ from: 'soon' }).errors?.from).toContain('soon');
      expect(checkFilters({ from: '2026-12-05', to: '2026-12-04' }).errors).toEqual({ to: '"to" must be after "from"' });
    });
  });

  describe('summarizeData', () => {
    it('shows an object as key=value pairs, cut to the length asked', () => {
      expect(summarizeData('{"assetId":"a","purposes":["research"],"n":2}')).toBe('assetId=a purposes=["research"] n=2');
      const long = summarizeData(JSON.stringify({ message: 'x'.repeat(300) }), 40);
      expect(long).toHaveLength(40);
      expect(long.endsWith('…')).toBe(true);
    });

    it('keeps what is not an object as text', () => {
      expect(summarizeData('not json')).toBe('not json');
      expect(summarizeData('[1,2]')).toBe('[1,2]');
      expect(prettyData('{"a":1}')).toBe('{\n  "a": 1\n}');
      expect(prettyData('nope')).toBe('nope');
    });
  });

  describe('chainText', () => {
    const base = { log: 'ingestion', checked: 129, lastPosition: 129, brokenAt: null, brokenCount: 0, reason: null };
    it('says ok with how much was checked', () => {
      expect(chainText({ ...base, ok: true })).toBe('ok: 129 events checked, up to position 129');
    });
    it('says where and why a chain breaks, and how often', () => {
      expect(chainText({ ...base, ok: false, lastPosition: null, brokenAt: 7, brokenCount: 3, reason: 'prevHash does not match' })).toBe(
        'broken at position 7: prevHash does not match (3 breaks in all)',
      );
    });
  });
});
