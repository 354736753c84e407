import type { Answer, TaskType } from './annotation.api';
import { MAX_PAIRS, type Draft } from './answer-draft';

/** The inputs for the project's kind of answer: a caption, question/answer pairs, or a label. */
export function AnswerEditor({
  id,
  type,
  labels,
  maxTextLength,
  draft,
  onChange,
  autoFocus,
}: {
  id: string;
  type: TaskType;
  labels: string[];
  maxTextLength: number;
  draft: Draft;
  onChange(d: Draft): void;
  autoFocus?: boolean;
}) {
  switch (type) {
    case 'caption':
      return (
        <div>
          <label htmlFor={`${id}-caption`}>Caption</label>
          <textarea
            id={`${id}-caption`}
            className="ann-text"
            rows={3}
            value={draft.caption}
            maxLength={maxTextLength}
            autoFocus={autoFocus}
            aria-describedby={`${id}-caption-count`}
            onChange={(e) => onChange({ ...draft, caption: e.target.value })}
          />
          <span id={`${id}-caption-count`} className="muted">
            {draft.caption.trim().length} / {maxTextLength} characters
          </span>
        </div>
      );
    case 'vqa':
      return <PairsEditor id={id} draft={draft} onChange={onChange} maxTextLength={maxTextLength} autoFocus={autoFocus} />;
    case 'classification':
      return (
        <fieldset className="ann-labels">
          <legend>Label</legend>
          {labels.map((l, i) => (
            <label key={l} className="ann-choice">
              <input
                type="radio"
                name={`${id}-label`}
                value={l}
                checked={draft.label === l}
                autoFocus={autoFocus && i === 0}
                onChange={() => onChange({ ...draft, label: l })}
              />{' '}
              {l}
            </label>
          ))}
        </fieldset>
      );
  }
}

function PairsEditor({
  id,
  draft,
  onChange,
  maxTextLength,
  autoFocus,
}: {
  id: string;
  draft: Draft;
  onChange(d: Draft): void;
  maxTextLength: number;
  autoFocus?: boolean;
}) {
  const set = (i: number, part: 'question' | 'answer', value: string) =>
    onChange({ ...draft, pairs: draft.pairs.map((p, k) => (k === i ? { ...p, [part]: value } : p)) });
  return (
    <fieldset className="ann-pairs">
      <legend>Questions and answers</legend>
      {draft.pairs.map((p, i) => (
        <div key={i} className="ann-pair">
          <div>
            <label htmlFor={`${id}-q${i}`}>Question {i + 1}</label>
            <input
              id={`${id}-q${i}`}
              value={p.question}
              maxLength={maxTextLength}
              autoFocus={autoFocus && i === 0}
              onChange={(e) => set(i, 'question', e.target.value)}
            />
          </div>
          <div>
            <label htmlFor={`${id}-a${i}`}>Answer {i + 1}</label>
            <input id={`${id}-a${i}`} value={p.answer} maxLength={maxTextLength} onChange={(e) => set(i, 'answer', e.target.value)} />
          </div>
          {draft.pairs.length > 1 ? (
            <button type="button" aria-label={`Remove question ${i + 1}`} onClick={() => onChange({ ...draft, pairs: draft.pairs.filter((_, k) => k !== i) })}>
              Remove
            </button>
          ) : null}
        </div>
      ))}
      <button
        type="button"
        disabled={draft.pairs.length >= MAX_PAIRS}
        onClick={() => onChange({ ...draft, pairs: [...draft.pairs, { question: '', answer: '' }] })}
      >
        Add a question
      </button>
    </fieldset>
  );
}

/** An answer as a reviewer reads it. */
export function AnswerView({ answer }: { answer: Answer }) {
  switch (answer.kind) {
    case 'caption':
      return <p className="ann-answer-text">{answer.caption}</p>;
    case 'vqa':
      return (
        <dl className="ann-qa">
          {answer.pairs.map((p, i) => (
            <div key={i}>
              <dt>{p.question}</dt>
              <dd>{p.answer}</dd>
            </div>
          ))}
        </dl>
      );
    case 'classification':
      return (
        <p className="ann-answer-text">
          Label: <strong>{answer.label}</strong>
        </p>
      );
  }
}
