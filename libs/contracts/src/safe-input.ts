import { z } from 'zod';
import { personalDataIn, personalDataMessage } from '@trellis/deidentify';

/**
 * The shared building blocks of every request schema (issue 11, item 6): text that PostgreSQL can
 * store as sent, and dates that are real calendar dates in a range a person or a consent can have.
 * Messages never repeat the value: it may be personal data.
 */

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** C0 controls, DEL and C1 controls: never part of a name, label or reference. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;
/** In multi-line text, tab, line feed and carriage return are fine; other controls are not. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_EXCEPT_WHITESPACE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/** Valid Unicode (no lone surrogates) without NUL: what a PostgreSQL text or jsonb value can hold. */
export function isStorableText(value: string): boolean {
  return !LONE_SURROGATE.test(value) && !value.includes('\u0000');
}

/** A name, label or reference: storable, and no control characters at all. */
export function isPlainText(value: string): boolean {
  return isStorableText(value) && !CONTROL.test(value);
}

export interface SafeTextOptions {
  /** Maximum length in UTF-16 code units, after trimming. */
  max: number;
  /** Minimum length after trimming; 1 by default (blank text is refused). */
  min?: number;
  /** Free text (guidelines, reasons): tab and line breaks allowed; other controls still refused. */
  multiline?: boolean;
  /**
   * Text that goes into an event (names, labels, guidelines, answers, reasons): refused when the
   * Safe Harbor redactor finds an identifier in it, since the event log cannot be erased.
   */
  refusePersonalData?: boolean;
}

/**
 * A string that is valid Unicode, without NUL, without control characters (tab and line breaks
 * allowed with `multiline`), trimmed, between `min` (1) and `max` characters; with
 * `refusePersonalData`, also free of anything the Safe Harbor redactor would remove.
 */
export function safeText({ max, min = 1, multiline = false, refusePersonalData = false }: SafeTextOptions) {
  const controls = multiline ? CONTROL_EXCEPT_WHITESPACE : CONTROL;
  const text = z
    .string()
    .refine((s) => !LONE_SURROGATE.test(s), 'not valid Unicode (a lone surrogate)')
    .refine((s) => !controls.test(s), multiline ? 'contains a control character' : 'contains a control character (line breaks included)')
    .transform((s) => s.trim())
    .pipe(
      z
        .string()
        .min(min, min === 1 ? 'must not be blank' : `at least ${min} characters`)
        .max(max, `at most ${max} characters`),
    );
  if (!refusePersonalData) return text;
  return text.superRefine((s, ctx) => {
    const found = personalDataIn(s);
    if (found.length > 0) ctx.addIssue({ code: 'custom', message: personalDataMessage(found) });
  });
}

/** The years a birth date, a consent period or an expiry may fall in. */
export const MIN_YEAR = 1850;
export const MAX_YEAR = 2200;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Whether `value` is a real calendar date YYYY-MM-DD between MIN_YEAR and MAX_YEAR (not 1950-02-30). */
export function isCalendarDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return year >= MIN_YEAR && year <= MAX_YEAR && month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month);
}

/** A real calendar date YYYY-MM-DD, years MIN_YEAR..MAX_YEAR. */
export function calendarDate() {
  return z.string().refine(isCalendarDate, `a real calendar date YYYY-MM-DD between ${MIN_YEAR} and ${MAX_YEAR}`);
}

/** An ISO 8601 date-time with an offset (Z or ±hh:mm) whose date part is a real date in range. */
export function isIsoDateTime(value: string): boolean {
  if (!z.string().datetime({ offset: true }).safeParse(value).success) return false;
  if (!isCalendarDate(value.slice(0, 10))) return false;
  const t = Date.parse(value);
  if (Number.isNaN(t)) return false;
  // The offset may move the instant across a year boundary: check the instant too.
  const year = new Date(t).getUTCFullYear();
  return year >= MIN_YEAR && year <= MAX_YEAR;
}

/** An ISO 8601 date-time with an offset, on a real date, years MIN_YEAR..MAX_YEAR. */
export function isoDateTime() {
  return z.string().refine(isIsoDateTime, `an ISO 8601 date-time with an offset (e.g. 2026-01-31T09:00:00Z), years ${MIN_YEAR} to ${MAX_YEAR}`);
}

interface Issue {
  code: string;
  path: (string | number)[];
  message: string;
  options?: readonly unknown[];
  keys?: string[];
  expected?: unknown;
  received?: unknown;
}

/** A field name that may be repeated in an error (a key a client sent is input too). */
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** The offending field of an issue as a dotted path; `body` for the body itself. */
export function issueField(issue: Pick<Issue, 'path'>): string {
  return issue.path.map((p) => (typeof p === 'number' || FIELD_NAME.test(p) ? String(p) : '?')).join('.') || 'body';
}

/**
 * Zod issues as one line naming each offending field, without any value the client sent (zod's
 * own messages repeat an enum value or unknown keys).
 */
export function describeIssues(issues: readonly Issue[]): string {
  return issues
    .map((i) => {
      const field = issueField(i);
      switch (i.code) {
        case 'invalid_enum_value':
          return `${field}: expected one of ${(i.options ?? []).map(String).join(', ')}`;
        case 'invalid_type':
          return i.received === 'undefined' ? `${field}: required` : `${field}: expected ${String(i.expected)}`;
        case 'unrecognized_keys': {
          const keys = i.keys ?? [];
          return keys.every((k) => FIELD_NAME.test(k)) ? `${field}: unknown field(s) ${keys.join(', ')}` : `${field}: unknown field(s)`;
        }
        case 'invalid_literal':
          return `${field}: expected ${JSON.stringify(i.expected)}`;
        default:
          return `${field}: ${i.message}`;
      }
    })
    .join('; ');
}
