import { ApiError } from '../api/api-client';
import { ErrorNote } from '../ui/components';
import { useLoad } from '../ui/use-load';
import { ImageViewer } from './image-viewer';
import { useAnnotationApi } from './use-annotation-api';

/** The image beside its redacted report: what annotators and reviewers judge an item by. */
export function TaskMedia({ taskId }: { taskId: string }) {
  return (
    <div className="ann-media">
      <ImageViewer taskId={taskId} />
      <Report taskId={taskId} />
    </div>
  );
}

function Report({ taskId }: { taskId: string }) {
  const api = useAnnotationApi();
  const report = useLoad(() => api.report(taskId), [api, taskId]);
  return (
    <section className="ann-report" aria-labelledby={`report-${taskId}`}>
      <h2 id={`report-${taskId}`}>Redacted report</h2>
      {report.error instanceof ApiError && report.error.status === 404 ? (
        <p className="muted">This image has no report.</p>
      ) : report.error ? (
        <ErrorNote error={report.error} />
      ) : report.data === undefined ? (
        <p className="muted" role="status">
          Loading the report…
        </p>
      ) : (
        <pre tabIndex={0} data-testid="task-report" aria-label="Redacted report text">
          {report.data}
        </pre>
      )}
    </section>
  );
}
