import { HIPAA_CATEGORIES, HipaaCategory, redactReport } from './report-redaction';

const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;

/**
 * The Safe Harbor categories the report redactor finds in `text`, in HIPAA_CATEGORIES order;
 * empty when it would leave the text as it is. Free text that enters the immutable event log
 * (dataset and project names, labels, guidelines, answers, review reasons) is checked with this
 * and refused when anything is found: an event cannot be erased, and silently rewriting what a
 * person typed would change a label or a guideline behind their back.
 */
export function personalDataIn(text: string): HipaaCategory[] {
  // A UUID is how Trellis names subjects, assets and datasets pseudonymously; its hex digits
  // may look like an account number to the redactor (1 in about 250 random ones did), which made
  // a name such as "annotation of <dataset id> v1" fail at random.
  const { summary } = redactReport(text.replace(UUID, 'uuid'));
  return HIPAA_CATEGORIES.filter((c) => summary[c] > 0);
}

/**
 * The message for text refused by personalDataIn: names what was found, never the text itself.
 */
export function personalDataMessage(categories: readonly HipaaCategory[]): string {
  return `looks like personal data (${categories.join(', ')}); text that is kept in the event log must not identify anyone: use the subject's pseudonymous id instead`;
}
