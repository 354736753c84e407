/**
 * Python's str.split() with no argument: runs of Unicode whitespace as Python defines it
 * (which, unlike JavaScript's \s, includes U+001C..U+001F and U+0085 and excludes U+FEFF).
 * The reference scripts ported here all split that way.
 */
// eslint-disable-next-line no-control-regex -- Python's str.split() whitespace includes the \x1c-\x1f separators
const PY_WHITESPACE = /[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

export function pythonSplit(text: string): string[] {
  return text.split(PY_WHITESPACE).filter((w) => w.length > 0);
}

const WS = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const LEADING = new RegExp(`^[${WS}]+`);
const TRAILING = new RegExp(`[${WS}]+$`);

/** Python's str.strip() with no argument. */
export function pythonStrip(text: string): string {
  return text.replace(LEADING, '').replace(TRAILING, '');
}

/** Python's str.rstrip() with no argument. */
export function pythonRstrip(text: string): string {
  return text.replace(TRAILING, '');
}
