import { answerOf, answerSummary, draftOf, emptyDraft, isSubmitKey } from './answer-draft';

const rules = { maxTextLength: 20, labels: ['effusion', 'nodule'] };

describe('answer drafts', () => {
  it('makes a caption answer, trimmed, and says what is missing', () => {
    expect(answerOf('caption', { ...emptyDraft(), caption: '  A small nodule. ' }, rules)).toEqual({ answer: { kind: 'caption', caption: 'A small nodule.' } });
    expect(answerOf('caption', emptyDraft(), rules)).toEqual({ problem: 'Write a caption.' });
    expect(answerOf('caption', { ...emptyDraft(), caption: 'x'.repeat(21) }, rules)).toEqual({ problem: 'The caption has 21 characters; at most 20.' });
  });

  it('makes question/answer pairs, skipping blank rows and refusing half ones', () => {
    const pairs = [
      { question: 'Where?', answer: 'Left' },
      { question: ' ', answer: '' },
    ];
    expect(answerOf('vqa', { ...emptyDraft(), pairs }, rules)).toEqual({ answer: { kind: 'vqa', pairs: [{ question: 'Where?', answer: 'Left' }] } });
    expect(answerOf('vqa', emptyDraft(), rules)).toEqual({ problem: 'Write at least one question and its answer.' });
    expect(answerOf('vqa', { ...emptyDraft(), pairs: [{ question: 'Size?', answer: '' }] }, rules)).toEqual({
      problem: 'Question 1 needs both the question and its answer.',
    });
  });

  it('takes a label from the project’s set only', () => {
    expect(answerOf('classification', { ...emptyDraft(), label: 'nodule' }, rules)).toEqual({ answer: { kind: 'classification', label: 'nodule' } });
    expect(answerOf('classification', emptyDraft(), rules)).toEqual({ problem: 'Choose a label.' });
    expect('problem' in answerOf('classification', { ...emptyDraft(), label: 'mass' }, rules)).toBe(true);
  });

  it('starts a draft from an answer, and summarises answers in one line', () => {
    expect(draftOf({ kind: 'caption', caption: 'A.' }).caption).toBe('A.');
    expect(draftOf({ kind: 'vqa', pairs: [{ question: 'Q', answer: 'A' }] }).pairs).toEqual([{ question: 'Q', answer: 'A' }]);
    expect(draftOf(null)).toEqual(emptyDraft());
    expect(
      answerSummary({
        kind: 'vqa',
        pairs: [
          { question: 'Q1', answer: 'A1' },
          { question: 'Q2', answer: 'A2' },
        ],
      }),
    ).toBe('Q1 — A1; Q2 — A2');
    expect(answerSummary({ kind: 'classification', label: 'nodule' })).toBe('nodule');
  });

  it('submits on Ctrl+Enter or Cmd+Enter only', () => {
    expect(isSubmitKey({ key: 'Enter', ctrlKey: true, metaKey: false })).toBe(true);
    expect(isSubmitKey({ key: 'Enter', ctrlKey: false, metaKey: true })).toBe(true);
    expect(isSubmitKey({ key: 'Enter', ctrlKey: false, metaKey: false })).toBe(false);
    expect(isSubmitKey({ key: 'a', ctrlKey: true, metaKey: false })).toBe(false);
  });
});
