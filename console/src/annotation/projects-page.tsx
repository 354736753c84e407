import { href } from '../app/router';
import { hasRole, useSession } from '../app/session';
import { Badge, Loading, Page, Table } from '../ui/components';
import { useLoad } from '../ui/use-load';
import { ANNOTATION_ROLES, type AgreementStatistics, type ProjectSummary } from './annotation.api';
import { AgreementHeadline, ProgressBar } from './project-progress';
import { useAnnotationApi } from './use-annotation-api';

interface Row {
  project: ProjectSummary;
  /** null: none for this role (or not yet computable). */
  agreement: AgreementStatistics | null;
}

/** `#/annotation`: every project with its progress and, for those who may see it, its agreement. */
export function ProjectsPage() {
  const session = useSession();
  const api = useAnnotationApi();
  const seesAgreement = hasRole(session, ...ANNOTATION_ROLES.agreement);
  const rows = useLoad(async (): Promise<Row[]> => {
    const list = await api.projects();
    return Promise.all(
      list.map(async (p) => ({
        project: await api.project(p.projectId),
        agreement: seesAgreement ? await api.agreement(p.projectId).catch(() => null) : null,
      })),
    );
  }, [api, seesAgreement]);
  return (
    <Page title="Annotation projects">
      <Loading state={rows}>
        {(data) => (
          <>
            <Table
              caption="Annotation projects"
              rows={data}
              rowKey={(r) => r.project.projectId}
              empty="No annotation projects yet: a steward creates one on a published dataset version."
              columns={[
                { header: 'Project', cell: (r) => <a href={href('annotation', r.project.projectId)}>{r.project.name}</a> },
                { header: 'Task', cell: (r) => r.project.rules.taskType },
                { header: 'Progress', cell: (r) => <ProgressBar tasks={r.project.tasks} name={r.project.name} /> },
                {
                  header: 'Agreement',
                  cell: (r) => (seesAgreement ? <AgreementHeadline stats={r.agreement} /> : <span className="muted">stewards, reviewers, auditors</span>),
                },
                {
                  header: 'Status',
                  cell: (r) => <Badge tone={r.project.status === 'active' ? 'ok' : 'info'}>{r.project.status}</Badge>,
                },
              ]}
            />
          </>
        )}
      </Loading>
    </Page>
  );
}
