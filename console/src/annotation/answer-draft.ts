import type { Answer, TaskType } from './annotation.api';

// The answer an annotator is writing, before it is sent (pure, no DOM): one draft shape for the
// three task kinds, checked as the API will check it so the form can say what is missing.

export interface Draft {
  caption: string;
  pairs: { question: string; answer: string }[];
  label: string;
}

export const MAX_PAIRS = 20;

export function emptyDraft(): Draft {
  return { caption: '', pairs: [{ question: '', answer: '' }], label: '' };
}

/** A draft holding an answer already given (a rejected one to write again, an adjudicator's start). */
export function draftOf(answer: Answer | null | undefined): Draft {
  const d = emptyDraft();
  if (!answer) return d;
  switch (answer.kind) {
    case 'caption':
      return { ...d, caption: answer.caption };
    case 'vqa':
      return { ...d, pairs: answer.pairs.map((p) => ({ ...p })) };
    case 'classification':
      return { ...d, label: answer.label };
  }
}

/**
 * The answer to send, or what is wrong with the draft. The API has the last word (it also refuses
 * personal data in the text); this only spares a round trip for what is plainly missing.
 */
export function answerOf(type: TaskType, draft: Draft, rules: { maxTextLength: number; labels: string[] }): { answer: Answer } | { problem: string } {
  const tooLong = (t: string) => t.length > rules.maxTextLength;
  switch (type) {
    case 'caption': {
      const caption = draft.caption.trim();
      if (!caption) return { problem: 'Write a caption.' };
      if (tooLong(caption)) return { problem: `The caption has ${caption.length} characters; at most ${rules.maxTextLength}.` };
      return { answer: { kind: 'caption', caption } };
    }
    case 'vqa': {
      const pairs = draft.pairs.map((p) => ({ question: p.question.trim(), answer: p.answer.trim() })).filter((p) => p.question || p.answer);
      if (pairs.length === 0) return { problem: 'Write at least one question and its answer.' };
      if (pairs.length > MAX_PAIRS) return { problem: `At most ${MAX_PAIRS} questions.` };
      const half = pairs.findIndex((p) => !p.question || !p.answer);
      if (half >= 0) return { problem: `Question ${half + 1} needs both the question and its answer.` };
      const long = pairs.findIndex((p) => tooLong(p.question) || tooLong(p.answer));
      if (long >= 0) return { problem: `Question ${long + 1} is longer than ${rules.maxTextLength} characters.` };
      return { answer: { kind: 'vqa', pairs } };
    }
    case 'classification': {
      if (!draft.label) return { problem: 'Choose a label.' };
      if (!rules.labels.includes(draft.label)) return { problem: `"${draft.label}" is not one of the project's labels.` };
      return { answer: { kind: 'classification', label: draft.label } };
    }
  }
}

/** One line for an answer, in lists and status messages. */
export function answerSummary(answer: Answer): string {
  switch (answer.kind) {
    case 'caption':
      return answer.caption;
    case 'vqa':
      return answer.pairs.map((p) => `${p.question} — ${p.answer}`).join('; ');
    case 'classification':
      return answer.label;
  }
}

/** Ctrl+Enter (or ⌘+Enter) submits, from anywhere in the form. */
export function isSubmitKey(e: { key: string; ctrlKey: boolean; metaKey: boolean }): boolean {
  return e.key === 'Enter' && (e.ctrlKey || e.metaKey);
}
