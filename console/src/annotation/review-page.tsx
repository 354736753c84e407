import { useState, type FormEvent, type KeyboardEvent } from 'react';
import { href } from '../app/router';
import { ErrorNote, Loading, Page, Short } from '../ui/components';
import { useLoad } from '../ui/use-load';
import type { ReviewQueueEntry, Verdict } from './annotation.api';
import { isSubmitKey } from './answer-draft';
import { AnswerView } from './answer-editor';
import { currentItem, groupByTask, verdictMessage, type QueuedItem } from './review-queue';
import { TaskMedia } from './task-media';
import { useAnnotationApi } from './use-annotation-api';
import { QueueNav } from './queue-nav';

/**
 * `#/annotation/<project>/review`: submitted answers on items the reviewer did not annotate, an
 * item's answers side by side; accept, or reject with a reason. The API keeps it blind (opening
 * the queue records that the reviewer saw these answers, so they are never given these items to
 * annotate) and refuses self-review.
 */
export function ReviewPage({ projectId }: { projectId: string }) {
  const api = useAnnotationApi();
  const queue = useLoad(() => api.reviewQueue(projectId), [api, projectId]);
  const [wanted, setWanted] = useState<string>();
  const [status, setStatus] = useState('');
  return (
    <Page
      title="Review"
      actions={
        <nav aria-label="Project" className="ann-work-links">
          <a href={href('annotation', projectId)}>Project page</a>
          <a href={href('annotation', projectId, 'adjudicate')}>Adjudication queue</a>
        </nav>
      }
    >
      <p className="ann-status" role="status" aria-live="polite" data-testid="review-status">
        {status}
      </p>
      <Loading state={queue}>
        {(rows) => {
          const items = groupByTask(rows);
          const item = currentItem(items, wanted);
          if (!item) return <p className="card">Nothing waits for your review in this project.</p>;
          return (
            <>
              <QueueNav items={items} current={item.taskId} onPick={setWanted} what="answer" />
              <ReviewItem
                key={item.taskId}
                item={item}
                onReviewed={(message) => {
                  setStatus(message);
                  queue.reload();
                }}
              />
              <p className="muted">Items also go to adjudication by themselves when the answers you accept disagree by more than the project allows.</p>
            </>
          );
        }}
      </Loading>
    </Page>
  );
}

function ReviewItem({ item, onReviewed }: { item: QueuedItem<ReviewQueueEntry>; onReviewed(message: string): void }) {
  return (
    <article className="ann-task" aria-label={`Item ${item.itemId}`}>
      <TaskMedia taskId={item.taskId} />
      <h2>Blind answers</h2>
      <div className="ann-side-by-side">
        {item.entries.map((e, i) => (
          <ReviewCard key={e.assignmentId} entry={e} n={i + 1} onReviewed={onReviewed} />
        ))}
      </div>
      <SendToAdjudication taskId={item.taskId} onSent={onReviewed} />
    </article>
  );
}

/** A hard case, or answers that disagree in a way agreement does not measure: an adjudicator decides it. */
function SendToAdjudication({ taskId, onSent }: { taskId: string; onSent(message: string): void }) {
  const api = useAnnotationApi();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const send = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.sendToAdjudication(taskId);
      onSent('Sent to adjudication: an adjudicator chooses or writes its final answer.');
    } catch (err) {
      setError(err as Error);
      setBusy(false);
    }
  };
  return (
    <div className="ann-actions">
      <button type="button" disabled={busy} onClick={() => void send()}>
        Send to adjudication
      </button>
      {error ? <ErrorNote error={error} /> : null}
    </div>
  );
}

function ReviewCard({ entry, n, onReviewed }: { entry: ReviewQueueEntry; n: number; onReviewed(message: string): void }) {
  const api = useAnnotationApi();
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const send = async (verdict: Verdict) => {
    setBusy(true);
    setError(null);
    try {
      const r = await api.review(entry.taskId, entry.assignmentId, verdict);
      onReviewed(verdictMessage(verdict.verdict, r.status));
    } catch (err) {
      setError(err as Error);
      setBusy(false);
    }
  };
  const reject = (e?: FormEvent) => {
    e?.preventDefault();
    if (!reason.trim()) {
      setProblem('Say why: a rejection needs a reason the annotator can act on.');
      return;
    }
    setProblem(null);
    void send({ verdict: 'rejected', reason: reason.trim() });
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (!isSubmitKey(e)) return;
    e.preventDefault();
    reject();
  };
  const reasonId = `reason-${entry.assignmentId}`;
  return (
    <section className="card ann-answer" aria-label={`Answer ${n}`} data-assignment-id={entry.assignmentId}>
      <h3>
        Answer {n} <span className="muted">by {entry.annotator.displayName ?? <Short id={entry.annotatorId} />}</span>
      </h3>
      <AnswerView answer={entry.answer} />
      <div className="ann-actions">
        <button type="button" className="primary" disabled={busy} onClick={() => void send({ verdict: 'accepted' })} aria-label={`Accept answer ${n}`}>
          Accept
        </button>
      </div>
      <form onSubmit={reject} onKeyDown={onKeyDown} aria-label={`Reject answer ${n}`}>
        <label htmlFor={reasonId}>Reason for rejecting answer {n}</label>
        <textarea id={reasonId} className="ann-text" rows={2} value={reason} onChange={(e) => setReason(e.target.value)} />
        <button type="submit" disabled={busy} aria-label={`Reject answer ${n}`}>
          Reject
        </button>
      </form>
      {problem ? (
        <p role="alert" className="note note-error">
          {problem}
        </p>
      ) : null}
      {error ? <ErrorNote error={error} /> : null}
    </section>
  );
}
