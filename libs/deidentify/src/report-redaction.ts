/**
 * HIPAA Safe Harbor (45 CFR 164.514(b)(2)) identifiers this redactor finds in free-text reports.
 * Biometric identifiers and photographs cannot occur in text; vehicle identifiers are only
 * caught when labelled (other-id).
 */
export const HIPAA_CATEGORIES = [
  'name',
  'address',
  'zip',
  'date',
  'age',
  'phone',
  'fax',
  'email',
  'ssn',
  'mrn',
  'health-plan',
  'account',
  'license',
  'device',
  'url',
  'ip',
  'other-id',
] as const;
export type HipaaCategory = (typeof HIPAA_CATEGORIES)[number];

/**
 * The longest report text redacted: a long pathology or discharge report is tens of kilobytes,
 * so a million characters leaves room while bounding the work (every rule is linear in the
 * text; see UNBOUNDED_RUNS).
 */
export const MAX_REPORT_CHARS = 1_000_000;

/**
 * The only unbounded repetitions in the rules. Each is a run of one character class that the
 * match consumes whole once it starts, so no position is scanned again; every other repetition
 * has an upper bound, which keeps the work per starting position constant and the whole pass
 * linear on adversarial text (a test checks the rules against this list).
 */
export const UNBOUNDED_RUNS = ['[A-Za-z0-9-]{2,}', '\\d{7,}'];

export interface RedactionResult {
  text: string;
  /** How many of each were replaced; never the replaced text. */
  summary: Record<HipaaCategory, number>;
}

/**
 * 3-digit ZIP prefixes whose areas hold 20,000 people or fewer (HHS guidance, 2000 census):
 * Safe Harbor requires 000 for these instead of the real prefix.
 */
export const RESTRICTED_ZIP3 = new Set(['036', '059', '063', '102', '203', '556', '692', '790', '821', '823', '830', '831', '878', '879', '884', '890', '893']);

const MONTHS = 'January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec';
const STATES =
  'AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC|PR';
// A capitalised word that is a plausible name part: not an all-caps label like MRN or DOB.
const NAME_WORD = "[A-Z](?:[a-z]|'[A-Z])[A-Za-z'-]{0,40}";
const STREET_TYPES = 'Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Boulevard|Blvd|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Circle|Cir|Highway|Hwy|Parkway|Pkwy|Square|Sq';

export type Rule = {
  category: HipaaCategory;
  pattern: RegExp;
  replace: (m: RegExpExecArray) => string;
  /** Further categories one match also removed (a ZIP inside an address). */
  also?: (m: RegExpExecArray) => HipaaCategory[];
};

function zip3(zip: string): string {
  const prefix = zip.slice(0, 3);
  return RESTRICTED_ZIP3.has(prefix) ? '000' : prefix;
}

const keepYear = (year: string) => `[DATE] ${year}`;

/**
 * Rules run in this order; each replaces with a bracketed token the later rules cannot match.
 * Order matters: URLs before e-mail and IP (URLs contain both shapes), labelled identifiers
 * before generic number patterns, addresses before names (street types like "Dr").
 */
export const RULES: Rule[] = [
  {
    category: 'url',
    pattern: /\b(?:https?|ftp):\/\/[^\s<>"')\]]{1,2048}|\bwww\.[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}[^\s<>"')\]]{0,2048}/gi,
    replace: () => '[URL]',
  },
  // RFC 5321 limits: local part 64, label 63; bounded runs keep the work per position constant
  // (an unbounded local part made "a.a.a..." quadratic: 45 s for 200 KB).
  { category: 'email', pattern: /\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}\b/g, replace: () => '[EMAIL]' },
  { category: 'ip', pattern: /\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b/g, replace: () => '[IP]' },
  // IPv6: full, compressed (::) and IPv4-mapped forms; at least two groups and a colon run.
  {
    category: 'ip',
    pattern:
      /(?<![\w:])(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){1,7}:(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6})?|::(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{1,4})(?![\w:])/g,
    replace: () => '[IP]',
  },
  {
    category: 'ssn',
    pattern: /\b(?:SSN|Social Security(?: Number| No\.?)?)\s{0,8}[:#]?\s{0,8}\d{3}[- ]?\d{2}[- ]?\d{4}\b|\b\d{3}-\d{2}-\d{4}\b/gi,
    replace: (m) => (/^\d/.test(m[0]) ? '[SSN]' : m[0].replace(/\d{3}[- ]?\d{2}[- ]?\d{4}$/, '[SSN]')),
  },
  labelled('mrn', /(?:MRN|Medical Record(?: Number| No\.?| #)?|Patient ID|Chart(?: Number| No\.?)?)/, '[MRN]'),
  labelled(
    'health-plan',
    /(?:Health Plan(?: ID| Number| No\.?| Beneficiary(?: Number)?)?|Member ID|Insurance ID|Policy(?: Number| No\.?)|Beneficiary(?: Number| No\.?))/,
    '[HEALTH-PLAN]',
  ),
  labelled('account', /(?:Account(?: Number| No\.?| #)?|Acct\.?(?: No\.?| #)?|Billing(?: Number| No\.?))/, '[ACCOUNT]'),
  labelled('license', /(?:Licen[cs]e(?: Number| No\.?| #)?|Certificate(?: Number| No\.?)?|DEA(?: Number| No\.?)?|NPI)/, '[LICENSE]'),
  labelled('device', /(?:Device (?:serial number|serial|ID|identifier)|Serial(?: Number| No\.?)?|S\/N|UDI|Implant ID)/, '[DEVICE-ID]'),
  labelled(
    'other-id',
    /(?:Accession(?: Number| No\.?| #)?|Order(?: Number| No\.?| #)|Encounter(?: Number| No\.?| ID)|Visit(?: Number| No\.?| ID)|Vehicle(?: ID| plate)?|VIN|Case(?: Number| No\.?| #))/,
    '[ID]',
  ),
  {
    category: 'fax',
    pattern:
      /\b(Fax|Facsimile)(\s{0,8}(?:No\.?|Number|#)?\s{0,8}[:#]?\s{0,8})(?:\+?1[\s.-]?)?(?:(?:\(\d{3}\)\s?|\d{3}[\s.-]?)\d{3}[\s.-]?\d{4}|\d{3}[\s.-]\d{4})\b/gi,
    replace: (m) => `${m[1]}${m[2]}[FAX]`,
  },
  {
    category: 'phone',
    pattern: /(?<![\w-])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?:\s{0,4}(?:x|ext\.?)\s{0,4}\d{1,5})?\b/gi,
    replace: () => '[PHONE]',
  },
  // A 7-digit local number only when a label or a calling verb says it is one: bare `ddd-dddd`
  // also occurs in identifiers and ranges.
  {
    category: 'phone',
    pattern:
      /\b(Phone|Telephone|Tel\.?|Ph\.?|Mobile|Cell(?: phone)?|Pager|Home|Work|(?:call|called|reach|reached|text)(?: (?:him|her|them|the patient|patient))?(?: at| on)?)(\s{0,8}(?:No\.?|Number|#)?\s{0,8}[:#]?\s{0,8})\d{3}[-.\s]\d{4}(?![\w-]|\.\d)/gi,
    replace: (m) => `${m[1]}${m[2]}[PHONE]`,
  },
  // Dates: keep the year, drop month and day.
  {
    category: 'date',
    pattern: /\b(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b/g,
    replace: (m) => keepYear(m[1]),
  },
  { category: 'date', pattern: /\b(?:0?[1-9]|1[0-2])\/(?:0?[1-9]|[12]\d|3[01])\/(\d{4}|\d{2})\b/g, replace: (m) => keepYear(m[1]) },
  // Day over 12 first: 14/03/1980 can only be day/month/year.
  { category: 'date', pattern: /\b(?:1[3-9]|2\d|3[01])\/(?:0?[1-9]|1[0-2])\/(\d{4}|\d{2})\b/g, replace: (m) => keepYear(m[1]) },
  { category: 'date', pattern: /\b(\d{4})[/.](?:0?[1-9]|1[0-2])[/.](?:0?[1-9]|[12]\d|3[01])\b(?![/.]\d)/g, replace: (m) => keepYear(m[1]) },
  // Hyphenated month-day-year and day-month-year (4-digit year; `L4-L5` has letters, an SSN has 3-2-4 digits).
  { category: 'date', pattern: /(?<![\w-])(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12]\d|3[01])-(\d{4})\b(?!-\d)/g, replace: (m) => keepYear(m[1]) },
  { category: 'date', pattern: /(?<![\w-])(?:1[3-9]|2\d|3[01])-(?:0?[1-9]|1[0-2])-(\d{4})\b(?!-\d)/g, replace: (m) => keepYear(m[1]) },
  { category: 'date', pattern: /\b(?:0?[1-9]|[12]\d|3[01])\.(?:0?[1-9]|1[0-2])\.(\d{4})\b/g, replace: (m) => keepYear(m[1]) },
  // Month.day.year: what day.month.year above left (the second part is over 12).
  { category: 'date', pattern: /(?<![\d.])(?:0?[1-9]|1[0-2])\.(?:1[3-9]|2\d|3[01])\.(\d{4})\b(?!\.\d)/g, replace: (m) => keepYear(m[1]) },
  // Bare month/day without a year: only zero-padded two-digit pairs (03/14), or any m/d after
  // "on", "dated" or "since". Single digits (2/6 murmur, 5/5 strength) are scores and ratios,
  // and a pair labelled as blood pressure or followed by mmHg (12/08 mmHg) is a pressure.
  {
    category: 'date',
    pattern:
      /(?<![\d/.]|(?:BP|blood pressure|pressure)\s{0,8}:?\s{0,8})(?:(?:0[1-9]|1[0-2])\/(?:0[1-9]|[12]\d|3[01])|(?<=\b(?:on|dated|since) )(?:0?[1-9]|1[0-2])\/(?:0?[1-9]|[12]\d|3[01]))(?![\d/]|\.\d|\s{0,8}mm\s{0,8}Hg)/gi,
    replace: () => '[DATE]',
  },
  {
    category: 'date',
    pattern: new RegExp(`\\b(?:0?[1-9]|[12]\\d|3[01])(?:st|nd|rd|th)?[ -](?:${MONTHS})\\.?,?[ -](\\d{4})\\b`, 'gi'),
    replace: (m) => keepYear(m[1]),
  },
  {
    category: 'date',
    pattern: new RegExp(`\\b(?:${MONTHS})\\.? (?:0?[1-9]|[12]\\d|3[01])(?:st|nd|rd|th)?,? (\\d{4})\\b`, 'gi'),
    replace: (m) => keepYear(m[1]),
  },
  { category: 'date', pattern: new RegExp(`\\b(?:${MONTHS})\\.? (?:0?[1-9]|[12]\\d|3[01])(?:st|nd|rd|th)?\\b(?!,? \\d)`, 'g'), replace: () => '[DATE]' },
  {
    category: 'date',
    pattern: new RegExp(`\\b(?:January|February|March|April|June|July|August|September|October|November|December) (\\d{4})\\b`, 'g'),
    replace: (m) => keepYear(m[1]),
  },
  // Ages over 89 (the group "90 or older" is all Safe Harbor allows).
  {
    category: 'age',
    pattern:
      /\b(?:(?:9\d|1[0-4]\d)(?:\s{0,8}|-)(?:years?|yrs?|y\/o|yo)(?:[\s-]old)?|(?:Age|aged)\s{0,8}:?\s{0,8}(?:9\d|1[0-4]\d)\b(?:\s{0,8}(?:years?|yrs?))?)/gi,
    replace: () => '[AGE 90+]',
  },
  // Street address, optionally followed by city, state and ZIP (city is a subdivision smaller than a state).
  {
    category: 'address',
    pattern: new RegExp(
      `\\b\\d{1,6}(?: [A-Z][A-Za-z]{1,40}){1,3} (?:${STREET_TYPES})\\.?(?: (?:Apt|Suite|Unit|#)\\.? ?[A-Za-z0-9-]{1,12})?(?:,? (${NAME_WORD}(?: ${NAME_WORD}){0,2}),? (${STATES})\\.?(?: (\\d{5})(?:-\\d{4})?)?)?\\b`,
      'g',
    ),
    replace: (m) => `[ADDRESS]${m[1] ? ', [CITY]' : ''}${m[2] ? `, ${m[2]}` : ''}${m[3] ? ` [ZIP ${zip3(m[3])}]` : ''}`,
    also: (m) => (m[3] ? ['zip'] : []),
  },
  { category: 'address', pattern: /\b(?:P\.? ?O\.? Box|Post Office Box) \d{1,10}\b/gi, replace: () => '[ADDRESS]' },
  // City, ST 12345 without a street.
  {
    category: 'address',
    pattern: new RegExp(`\\b(${NAME_WORD}(?: ${NAME_WORD}){0,2}), (${STATES}) (\\d{5})(?:-\\d{4})?\\b`, 'g'),
    replace: (m) => `[CITY], ${m[2]} [ZIP ${zip3(m[3])}]`,
    also: () => ['zip'],
  },
  { category: 'zip', pattern: /\b(ZIP(?: code)?|Postal code)(\s{0,8}:?\s{0,8})(\d{5})(?:-\d{4})?\b/gi, replace: (m) => `${m[1]}${m[2]}[ZIP ${zip3(m[3])}]` },
  // Names: titles, then labels. (Known names of the subject are handled first, in redactReport.)
  {
    category: 'name',
    pattern: new RegExp(`\\b(Mr|Mrs|Ms|Miss|Mx|Dr|Prof)(\\.?\\s{1,4})${NAME_WORD}(?:\\s{1,4}(?:[A-Z]\\.\\s{1,4})?${NAME_WORD})?`, 'g'),
    replace: (m) => `${m[1]}${m[2]}[NAME]`,
  },
  {
    category: 'name',
    pattern: new RegExp(
      `\\b(Patient(?: name)?|Name|Pt|Referring(?: physician)?|Physician|Attending|Radiologist|Technologist|Signed by|Dictated by|Reported by|Next of kin|Guardian|Contact)(\\s{0,8}:\\s{0,8})(?!(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\\b)${NAME_WORD}(?:,? ${NAME_WORD}){0,3}`,
      'gi',
    ),
    replace: (m) => `${m[1]}${m[2]}[NAME]`,
  },
  // Any remaining long digit run or prefixed identifier is some record number.
  { category: 'other-id', pattern: /\b(?:[A-Z]{2,5}-?)?\d{7,}\b/g, replace: () => '[ID]' },
];

/** The URL, e-mail and IP rules at the head of RULES. */
const EARLY_RULES = 4;

/** `Label: value` where the label says what the identifier is; the label stays, the value goes. */
function labelled(category: HipaaCategory, label: RegExp, token: string): Rule {
  return {
    category,
    pattern: new RegExp(`\\b(${label.source})(\\s{0,8}[:#]?\\s{0,8})(?=[A-Za-z0-9-]{0,40}\\d)[A-Za-z0-9][A-Za-z0-9-]{2,}\\b`, 'gi'),
    replace: (m) => `${m[1]}${m[m.length - 1]}${token}`,
  };
}

/**
 * Replaces HIPAA Safe Harbor identifiers in a report with bracketed tokens (`[NAME]`,
 * `[DATE] 2021`, `[PHONE]`, `[ZIP 627]`, ...). The caller's erasable personal data of the subject
 * is removed wherever it occurs: `knownNames` in any case and order, `knownDates` (a birth date,
 * `YYYY-MM-DD`) in the common written forms, whole date including the year (a known birth year
 * can give an age over 89), and `knownIdentifiers` (MRN and other record numbers) as literal
 * tokens. Pattern rules catch the rest. Measurements, vertebral levels and bare years are left alone.
 */
export function redactReport(text: string, options: { knownNames?: string[]; knownDates?: string[]; knownIdentifiers?: string[] } = {}): RedactionResult {
  const summary = Object.fromEntries(HIPAA_CATEGORIES.map((c) => [c, 0])) as Record<HipaaCategory, number>;
  let out = text;
  const apply = (rule: Rule) => {
    out = out.replace(rule.pattern, (...args: unknown[]) => {
      summary[rule.category]++;
      // Rebuild an exec-style array from replace's arguments (match, groups..., offset, input, [named]).
      const hasNamed = typeof args[args.length - 1] === 'object' && args[args.length - 1] !== null;
      const groups = args.slice(0, hasNamed ? -3 : -2) as unknown as RegExpExecArray;
      for (const extra of rule.also?.(groups) ?? []) summary[extra]++;
      return rule.replace(groups);
    });
  };
  const replaceKnown = (pattern: RegExp | null, category: HipaaCategory, token: string) => {
    if (!pattern) return;
    out = out.replace(pattern, () => {
      summary[category]++;
      return token;
    });
  };
  // URLs, e-mail and IP addresses first: a known name inside an address must not split it.
  RULES.slice(0, EARLY_RULES).forEach(apply);
  replaceKnown(literalPattern(options.knownIdentifiers ?? []), 'mrn', '[MRN]');
  replaceKnown(literalPattern((options.knownDates ?? []).flatMap(dateForms)), 'date', '[DATE]');
  for (const pattern of knownNamePatterns(options.knownNames ?? [])) replaceKnown(pattern, 'name', '[NAME]');
  RULES.slice(EARLY_RULES).forEach(apply);
  return { text: out, summary };
}

const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** The ways a report writes a date given as YYYY-MM-DD; anything else is matched literally. */
function dateForms(date: string): string[] {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(date.trim());
  if (!m) return date.trim() ? [date.trim()] : [];
  const [, y, mm, dd] = m;
  const month = Number(mm);
  const day = Number(dd);
  if (month < 1 || month > 12 || day < 1 || day > 31) return [date.trim()];
  const ms = [mm, String(month)];
  const ds = [dd, String(day)];
  const full = MONTH_NAMES[month - 1];
  const names = [full, full.slice(0, 3), ...(full === 'September' ? ['Sept'] : [])];
  const forms = new Set<string>([`${y}${mm}${dd}`]);
  for (const sep of ['-', '/', '.']) {
    for (const a of ms)
      for (const b of ds) {
        forms.add(`${y}${sep}${a}${sep}${b}`);
        forms.add(`${a}${sep}${b}${sep}${y}`);
        forms.add(`${b}${sep}${a}${sep}${y}`);
        forms.add(`${a}${sep}${b}${sep}${y.slice(2)}`);
        forms.add(`${b}${sep}${a}${sep}${y.slice(2)}`);
      }
  }
  for (const n of names)
    for (const d of ds) {
      forms.add(`${n} ${d}, ${y}`);
      forms.add(`${n} ${d} ${y}`);
      forms.add(`${n}. ${d}, ${y}`);
      forms.add(`${d} ${n} ${y}`);
      forms.add(`${d}-${n}-${y}`);
      forms.add(`${d} ${n}, ${y}`);
    }
  return [...forms];
}

/** Literal values as whole tokens (not inside a longer number or word), any case, longest first. */
function literalPattern(values: string[]): RegExp | null {
  const distinct = [...new Set(values.map((v) => v.trim()).filter((v) => v.length >= 3))];
  if (!distinct.length) return null;
  const alternatives = distinct.sort((a, b) => b.length - a.length).map(escape);
  return new RegExp(`(?<![\\p{L}\\d])(?:${alternatives.join('|')})(?![\\p{L}\\d])`, 'giu');
}

/** Full names first (longest wins), then each part of 2+ letters, as whole words. */
function knownNamePatterns(names: string[]): RegExp[] {
  const parts = new Set<string>();
  const full: string[] = [];
  for (const name of names) {
    const words = name.split(/[\s^,]+/).filter((w) => w.length >= 2);
    if (words.length > 1) {
      full.push(words.map(escape).join('[\\s^,]{1,4}'));
      full.push([...words].reverse().map(escape).join('[\\s^,]{1,4}'));
    }
    for (const w of words) parts.add(escape(w));
  }
  const patterns: RegExp[] = [];
  if (full.length) patterns.push(new RegExp(`(?<![\\p{L}\\d])(?:${full.sort((a, b) => b.length - a.length).join('|')})(?![\\p{L}\\d])`, 'giu'));
  if (parts.size) patterns.push(new RegExp(`(?<![\\p{L}\\d])(?:${[...parts].sort((a, b) => b.length - a.length).join('|')})(?![\\p{L}\\d])`, 'giu'));
  return patterns;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
