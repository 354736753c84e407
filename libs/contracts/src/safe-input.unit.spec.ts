import { z } from 'zod';
import { calendarDate, describeIssues, isCalendarDate, isIsoDateTime, isoDateTime, isPlainText, isStorableText, safeText } from './safe-input';

// Item 6 of issue 11 (input hygiene): the shared building blocks of every request schema.
describe('safe-input', () => {
  describe('safeText', () => {
    const name = safeText({ max: 10 });
    const free = safeText({ max: 50, multiline: true });

    it('accepts and trims ordinary text, letters of every script and emoji (surrogate pairs) included', () => {
      expect(name.parse('  Zoë  ')).toBe('Zoë');
      expect(name.parse('李小龍')).toBe('李小龍');
      expect(name.parse('a😀b')).toBe('a😀b');
    });

    it('refuses NUL, lone surrogates and control characters, blank text and text over the limit', () => {
      for (const bad of ['a\u0000b', 'a\uD800b', 'a\uDC00', '\uD83D', 'a\u0007', 'a\nb', 'a\u007F', 'a\u0085', '   ', '', 'x'.repeat(11)]) {
        expect(name.safeParse(bad).success).toBe(false);
      }
      expect(name.safeParse(42).success).toBe(false);
    });

    it('lets multi-line text keep tabs and line breaks but nothing else of the control range', () => {
      expect(free.parse('line 1\r\n\tline 2')).toBe('line 1\r\n\tline 2');
      expect(free.safeParse('a\u0000b').success).toBe(false);
      expect(free.safeParse('a\u001Bb').success).toBe(false);
      expect(free.safeParse('a\uDFFFb').success).toBe(false);
    });

    it('never repeats the value in its message', () => {
      const r = name.safeParse('Jane\u0000Doe');
      expect(r.success).toBe(false);
      expect(JSON.stringify(r.error!.issues)).not.toMatch(/Jane|Doe/);
    });
  });

  describe('safeText with refusePersonalData (issue 11, item 4)', () => {
    const guideline = safeText({ max: 2000, multiline: true, refusePersonalData: true });
    const issues = (value: string) => {
      const r = z.object({ guidelines: guideline }).safeParse({ guidelines: value });
      return r.success ? [] : r.error.issues;
    };

    it.each([
      ['Referring physician: Jane Roe', 'name'],
      ['Ask Dr. Roe when unsure', 'name'],
      ['scans from 2021-03-14 only', 'date'],
      ['MRN 8812345 is the pilot case', 'mrn'],
      ['questions to jane.roe@example.org', 'email'],
      ['see https://intranet.example.org/case', 'url'],
    ])('refuses %j naming the category (%s) and the field, never the text', (text, category) => {
      const found = issues(text);
      expect(found).toHaveLength(1);
      expect(describeIssues(found)).toBe(
        `guidelines: looks like personal data (${category}); text that is kept in the event log must not identify anyone: use the subject's pseudonymous id instead`,
      );
    });

    it('keeps ordinary guidelines, trimmed, and leaves other safeText fields alone', () => {
      const text = '  Describe the opacity: side, lobe, size in cm (e.g. 3.2 cm at L4-L5). Ages under 90 are fine; so is 2021.  ';
      expect(guideline.parse(text)).toBe(text.trim());
      expect(safeText({ max: 100 }).parse('Dr. Roe')).toBe('Dr. Roe');
    });
  });

  describe('isStorableText / isPlainText', () => {
    it('tells text PostgreSQL can store from text it cannot, and plain text from text with controls', () => {
      expect(isStorableText('a\nb')).toBe(true);
      expect(isStorableText('a\u0000b')).toBe(false);
      expect(isStorableText('\uDBFF')).toBe(false);
      expect(isPlainText('a\nb')).toBe(false);
      expect(isPlainText('Ünïcødé 😀')).toBe(true);
    });
  });

  describe('calendarDate', () => {
    it('accepts real dates from 1850 to 2200, 29 February of leap years included', () => {
      for (const ok of ['1950-02-28', '2000-02-29', '2024-02-29', '1850-01-01', '2200-12-31']) expect(isCalendarDate(ok)).toBe(true);
      expect(calendarDate().parse('1970-01-31')).toBe('1970-01-31');
    });

    it('refuses impossible dates, years out of range and other shapes', () => {
      for (const bad of [
        '1950-02-30',
        '1900-02-29',
        '2023-02-29',
        '2024-04-31',
        '2024-13-01',
        '2024-00-10',
        '2024-01-00',
        '0000-01-01',
        '1849-12-31',
        '2201-01-01',
        '17/04/1961',
        '1961-4-17',
        '1961-04-17T00:00:00Z',
        ' 1961-04-17',
      ]) {
        expect(isCalendarDate(bad)).toBe(false);
      }
      expect(calendarDate().safeParse(19610417).success).toBe(false);
    });
  });

  describe('isoDateTime', () => {
    it('accepts date-times with an offset on real dates in range', () => {
      for (const ok of ['2026-01-31T09:00:00Z', '2026-01-31T09:00:00.123Z', '2026-01-31T09:00:00+02:00', '2024-02-29T23:59:59-05:00'])
        expect(isIsoDateTime(ok)).toBe(true);
      expect(isoDateTime().parse('2026-01-31T09:00:00Z')).toBe('2026-01-31T09:00:00Z');
    });

    it('refuses year 0, impossible dates, dates out of range, no offset and an instant pushed out of range by its offset', () => {
      for (const bad of [
        '0000-01-01T00:00:00Z',
        '1950-02-30T00:00:00Z',
        '9999-12-31T23:59:59Z',
        '2026-01-31T09:00:00',
        '2026-01-31',
        'tomorrow',
        '2200-12-31T23:00:00-05:00',
      ]) {
        expect(isIsoDateTime(bad)).toBe(false);
      }
    });
  });

  describe('describeIssues', () => {
    it('names each field without repeating an enum value or an unknown key the client sent', () => {
      const schema = z.object({ decision: z.enum(['permit', 'deny']), birthDate: calendarDate() }).strict();
      const r = schema.safeParse({ decision: 'Jane Doe', birthDate: '1950-02-30', 'MRN 123': 1 });
      expect(r.success).toBe(false);
      const text = describeIssues(r.error!.issues);
      expect(text).toMatch(/decision: expected one of permit, deny/);
      expect(text).toMatch(/birthDate: a real calendar date/);
      expect(text).toMatch(/body: unknown field\(s\)/);
      expect(text).not.toMatch(/Jane|1950-02-30|MRN/);
    });
  });
});
