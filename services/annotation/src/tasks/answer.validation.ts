import { type Answer, isStorableText } from '@trellis/contracts';
import { personalDataIn, personalDataMessage } from '@trellis/deidentify';
import { AnnotationErrorCode, AnnotationException } from '../annotation.exception';
import type { ProjectRules } from '../projects/project-rules';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(field: string, message: string): never {
  throw new AnnotationException(AnnotationErrorCode.InvalidAnswer, `${field}: ${message}`, [field]);
}

/**
 * Answer text goes into an event, which cannot be erased: besides storable and within the limit,
 * it must not hold an identifier the Safe Harbor redactor finds (issue 11, item 4).
 */
function text(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string') fail(field, 'must be a string');
  if (!isStorableText(value as string)) fail(field, 'must be valid Unicode without NUL characters');
  const t = (value as string).trim();
  if (t.length === 0) fail(field, 'must not be empty');
  if (t.length > max) fail(field, `must be at most ${max} characters, got ${t.length}`);
  const found = personalDataIn(t);
  if (found.length > 0) fail(field, personalDataMessage(found));
  return t;
}

/** A key the client sent, named in an error only when it looks like a field name (it is input too). */
const keyName = (key: string) => (/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(key) ? key : '?');

/**
 * Checks an annotator's answer against the project's task type: a non-empty caption within the
 * length limit, question/answer pairs each with both parts, or a label from the set. Text is
 * trimmed so that agreement is not spoiled by stray whitespace. `root` names the input in errors.
 */
export function validateAnswer(rules: ProjectRules, input: unknown, root = 'answer'): Answer {
  if (!isObject(input)) fail(root, 'must be an object');
  const a = input as Record<string, unknown>;
  const allowed = { caption: ['kind', 'caption'], vqa: ['kind', 'pairs'], classification: ['kind', 'label'] }[rules.taskType];
  const extra = Object.keys(a).filter((k) => !allowed.includes(k));
  if (extra.length) fail(`${root}.${keyName(extra[0])}`, `is not a field of a ${rules.taskType} answer (expected ${allowed.slice(1).join(', ')})`);
  if (a.kind !== undefined && a.kind !== rules.taskType) fail(`${root}.kind`, `this project takes ${rules.taskType} answers`);
  switch (rules.taskType) {
    case 'caption':
      return { kind: 'caption', caption: text(a.caption, `${root}.caption`, rules.maxTextLength) };
    case 'vqa': {
      if (!Array.isArray(a.pairs) || a.pairs.length === 0) fail(`${root}.pairs`, 'must be a non-empty list of { question, answer }');
      const pairs = a.pairs as unknown[];
      if (pairs.length > 20) fail(`${root}.pairs`, `at most 20 pairs, got ${pairs.length}`);
      return {
        kind: 'vqa',
        pairs: pairs.map((p, i) => {
          if (!isObject(p)) fail(`${root}.pairs.${i}`, 'must be an object { question, answer }');
          const pair = p as Record<string, unknown>;
          const unknown = Object.keys(pair).find((k) => k !== 'question' && k !== 'answer');
          if (unknown) fail(`${root}.pairs.${i}.${keyName(unknown)}`, 'is not a field of a question/answer pair');
          return {
            question: text(pair.question, `${root}.pairs.${i}.question`, rules.maxTextLength),
            answer: text(pair.answer, `${root}.pairs.${i}.answer`, rules.maxTextLength),
          };
        }),
      };
    }
    case 'classification': {
      const label = text(a.label, `${root}.label`, 200);
      if (!rules.labels.includes(label)) fail(`${root}.label`, `is not in the label set (${rules.labels.join(', ')})`);
      return { kind: 'classification', label };
    }
  }
}
