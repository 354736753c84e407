import { useState, type FormEvent, type KeyboardEvent } from 'react';
import { href } from '../app/router';
import { ErrorNote, Loading, Page, Short } from '../ui/components';
import { useLoad } from '../ui/use-load';
import type { AdjudicationQueueEntry, Answer, ProjectSummary } from './annotation.api';
import { answerOf, draftOf, isSubmitKey } from './answer-draft';
import { AnswerEditor, AnswerView } from './answer-editor';
import { ratio } from './progress';
import { QueueNav } from './queue-nav';
import { currentItem } from './review-queue';
import { TaskMedia } from './task-media';
import { useAnnotationApi } from './use-annotation-api';

/** `#/annotation/<project>/adjudicate`: items whose accepted answers disagree; choose one, or write the final answer. */
export function AdjudicationPage({ projectId }: { projectId: string }) {
  const api = useAnnotationApi();
  const data = useLoad(async () => ({ project: await api.project(projectId), queue: await api.adjudicationQueue(projectId) }), [api, projectId]);
  const [wanted, setWanted] = useState<string>();
  const [status, setStatus] = useState('');
  return (
    <Page
      title="Adjudication"
      actions={
        <nav aria-label="Project" className="ann-work-links">
          <a href={href('annotation', projectId)}>Project page</a>
          <a href={href('annotation', projectId, 'review')}>Review queue</a>
        </nav>
      }
    >
      <p className="ann-status" role="status" aria-live="polite" data-testid="adjudication-status">
        {status}
      </p>
      <Loading state={data}>
        {({ project, queue }) => {
          const items = queue.map((q) => ({ taskId: q.taskId, itemId: q.itemId, entries: q.answers }));
          const item = currentItem(items, wanted);
          const entry = queue.find((q) => q.taskId === item?.taskId);
          if (!item || !entry) return <p className="card">No item waits for adjudication in this project.</p>;
          return (
            <>
              <QueueNav items={items} current={item.taskId} onPick={setWanted} what="answer" />
              <AdjudicationItem
                key={item.taskId}
                entry={entry}
                project={project}
                onDecided={() => {
                  setStatus('Decided: the item has its final answer.');
                  data.reload();
                }}
              />
            </>
          );
        }}
      </Loading>
    </Page>
  );
}

function AdjudicationItem({ entry, project, onDecided }: { entry: AdjudicationQueueEntry; project: ProjectSummary; onDecided(): void }) {
  const api = useAnnotationApi();
  const [draft, setDraft] = useState(() => draftOf(entry.answers[0]?.answer));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const decide = async (decision: { chosenAssignmentId: string } | { answer: Answer }) => {
    setBusy(true);
    setError(null);
    try {
      await api.adjudicate(entry.taskId, decision);
      onDecided();
    } catch (err) {
      setError(err as Error);
      setBusy(false);
    }
  };
  const write = (e?: FormEvent) => {
    e?.preventDefault();
    const made = answerOf(project.rules.taskType, draft, project.rules);
    if ('problem' in made) return setProblem(made.problem);
    setProblem(null);
    void decide({ answer: made.answer });
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (!isSubmitKey(e)) return;
    e.preventDefault();
    write();
  };
  return (
    <article className="ann-task" aria-label={`Item ${entry.itemId}`}>
      <TaskMedia taskId={entry.taskId} />
      {entry.sentBy ? (
        <h2>
          Answers{' '}
          <span className="muted">(a reviewer sent this item to adjudication{entry.agreement === null ? '' : `; agreement ${ratio(entry.agreement)}`})</span>
        </h2>
      ) : (
        <h2>
          Accepted answers{' '}
          <span className="muted">
            (agreement {ratio(entry.agreement ?? 0)}, the project needs {ratio(project.rules.agreementThreshold)})
          </span>
        </h2>
      )}
      <div className="ann-side-by-side">
        {entry.answers.map((a, i) => (
          <section key={a.assignmentId} className="card ann-answer" aria-label={`Answer ${i + 1}`}>
            <h3>
              Answer {i + 1} <span className="muted">by {a.annotator.displayName ?? <Short id={a.annotatorId} />}</span>
              {a.status === 'submitted' ? <span className="muted"> (not reviewed)</span> : null}
            </h3>
            <AnswerView answer={a.answer} />
            <button type="button" className="primary" disabled={busy} onClick={() => void decide({ chosenAssignmentId: a.assignmentId })}>
              Choose answer {i + 1}
            </button>
          </section>
        ))}
      </div>
      <form onSubmit={write} onKeyDown={onKeyDown} aria-label="Write the final answer" className="ann-answer-form">
        <h3>Or write the final answer</h3>
        <AnswerEditor
          id="adjudicate"
          type={project.rules.taskType}
          labels={project.rules.labels}
          maxTextLength={project.rules.maxTextLength}
          draft={draft}
          onChange={setDraft}
        />
        <button type="submit" disabled={busy} aria-keyshortcuts="Control+Enter">
          Decide with this answer
        </button>
      </form>
      {problem ? (
        <p role="alert" className="note note-error">
          {problem}
        </p>
      ) : null}
      {error ? <ErrorNote error={error} /> : null}
    </article>
  );
}
