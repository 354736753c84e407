import { useCallback, useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { href } from '../app/router';
import { ErrorNote, Page } from '../ui/components';
import { useLoad } from '../ui/use-load';
import type { AssignmentView } from './annotation.api';
import { answerOf, draftOf, isSubmitKey, type Draft } from './answer-draft';
import { AnswerEditor } from './answer-editor';
import { TaskMedia } from './task-media';
import { useAnnotationApi } from './use-annotation-api';

/**
 * `#/annotation/<project>/work`: the annotator's next task (their unfinished one first), its image
 * beside its redacted report, and the answer; Ctrl+Enter submits and the next task comes.
 */
export function WorkspacePage({ projectId }: { projectId: string }) {
  const api = useAnnotationApi();
  const project = useLoad(() => api.project(projectId), [api, projectId]);
  /** undefined: pulling; null: none in hand. */
  const [task, setTask] = useState<AssignmentView | null | undefined>(undefined);
  const [noneLeft, setNoneLeft] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState(false);
  const pulls = useRef(0);

  const pull = useCallback(
    async (said?: string) => {
      const mine = ++pulls.current;
      setTask(undefined);
      setError(null);
      try {
        const { task: next } = await api.nextTask(projectId);
        if (mine !== pulls.current) return;
        setTask(next);
        setNoneLeft(next === null);
        setStatus([said, next ? 'Your next task is here.' : 'No task left for you in this project.'].filter(Boolean).join(' '));
      } catch (err) {
        if (mine !== pulls.current) return;
        setTask(null);
        setError(err as Error);
      }
    },
    [api, projectId],
  );
  useEffect(() => {
    void pull();
  }, [pull]);

  const release = async (t: AssignmentView) => {
    setBusy(true);
    setError(null);
    try {
      await api.release(t.taskId);
      setTask(null);
      setNoneLeft(false);
      setStatus('Released: the task goes to another annotator (never back to you).');
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page
      title={project.data ? `Annotate: ${project.data.name}` : 'Annotate'}
      actions={
        <nav aria-label="Project" className="ann-work-links">
          <a href={href('annotation', projectId)}>Project page</a>
        </nav>
      }
    >
      <p className="ann-status" role="status" aria-live="polite" data-testid="work-status">
        {status}
      </p>
      {error ? <ErrorNote error={error} /> : null}
      {task === undefined ? (
        <p className="muted">Pulling your next task…</p>
      ) : task === null ? (
        <div className="card">
          <p>{noneLeft ? 'Nothing left for you to annotate here: every item has its annotations, or you have seen it already.' : 'No task in hand.'}</p>
          <button type="button" className="primary" onClick={() => void pull()}>
            Pull the next task
          </button>
        </div>
      ) : (
        <TaskForm
          key={task.taskId}
          task={task}
          busy={busy}
          setBusy={setBusy}
          onError={setError}
          onSubmitted={() => void pull('Submitted.')}
          onRelease={() => void release(task)}
        />
      )}
    </Page>
  );
}

function TaskForm({
  task,
  busy,
  setBusy,
  onError,
  onSubmitted,
  onRelease,
}: {
  task: AssignmentView;
  busy: boolean;
  setBusy(b: boolean): void;
  onError(e: Error | null): void;
  onSubmitted(): void;
  onRelease(): void;
}) {
  const api = useAnnotationApi();
  const [draft, setDraft] = useState<Draft>(() => draftOf(task.answer));
  const [problem, setProblem] = useState<string | null>(null);
  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    if (busy) return;
    const made = answerOf(task.taskType, draft, task);
    if ('problem' in made) {
      setProblem(made.problem);
      return;
    }
    setProblem(null);
    setBusy(true);
    onError(null);
    try {
      await api.submit(task.taskId, made.answer);
      onSubmitted();
    } catch (err) {
      onError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (!isSubmitKey(e)) return;
    e.preventDefault();
    void submit();
  };
  return (
    <article className="ann-task" aria-label="Task" data-task-id={task.taskId}>
      <details className="ann-guidelines" open>
        <summary>Guidelines</summary>
        <p>{task.guidelines}</p>
      </details>
      <TaskMedia taskId={task.taskId} />
      <form onSubmit={submit} onKeyDown={onKeyDown} aria-label="Your answer" className="ann-answer-form">
        <AnswerEditor id="work" type={task.taskType} labels={task.labels} maxTextLength={task.maxTextLength} draft={draft} onChange={setDraft} autoFocus />
        {problem ? (
          <p role="alert" className="note note-error">
            {problem}
          </p>
        ) : null}
        <div className="ann-actions">
          <button type="submit" className="primary" disabled={busy} aria-keyshortcuts="Control+Enter">
            Submit <kbd>Ctrl</kbd>+<kbd>Enter</kbd>
          </button>
          <button type="button" disabled={busy} onClick={onRelease}>
            Release this task
          </button>
        </div>
      </form>
    </article>
  );
}
