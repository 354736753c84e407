import { href } from '../app/router';
import { hasRole, useSession } from '../app/session';
import { Badge, ErrorNote, KeyValues, Loading, Page, Short, Table, When } from '../ui/components';
import { useLoad, type Loaded } from '../ui/use-load';
import { ANNOTATION_ROLES, type AgreementStatistics, type AnnotationSetContent, type AnnotationSetRecord, type ProjectSummary } from './annotation.api';
import { answerSummary } from './answer-draft';
import { ProgressBar } from './project-progress';
import { agreementTone, consentLeftOut, leftOutByReason, percent, progressOf, ratio } from './progress';
import { useAnnotationApi } from './use-annotation-api';

/** Items per page of the per-item agreement table (a set may hold thousands). */
const ITEM_ROWS = 100;

/** `#/annotation/<project>`: progress, agreement per item and per annotator, what consent left out, and the work the role may do. */
export function ProjectPage({ projectId }: { projectId: string }) {
  const api = useAnnotationApi();
  const project = useLoad(() => api.project(projectId), [api, projectId]);
  return (
    <Loading state={project}>
      {(p) => (
        <Page title={p.name} actions={<WorkLinks project={p} />}>
          <ProjectFacts project={p} />
          <h2>Progress</h2>
          <ProgressBar tasks={p.tasks} name={p.name} />
          <TaskCountsLine project={p} />
          <LeftOutForConsent project={p} />
          <Agreement project={p} />
        </Page>
      )}
    </Loading>
  );
}

function WorkLinks({ project }: { project: ProjectSummary }) {
  const session = useSession();
  const links: [string, string][] = [];
  if (project.status === 'active' && hasRole(session, ...ANNOTATION_ROLES.annotate)) links.push(['Annotate', href('annotation', project.projectId, 'work')]);
  if (hasRole(session, ...ANNOTATION_ROLES.review)) {
    links.push(['Review queue', href('annotation', project.projectId, 'review')]);
    links.push(['Adjudication queue', href('annotation', project.projectId, 'adjudicate')]);
  }
  return (
    <nav aria-label="Work on this project" className="ann-work-links">
      <a href={href('annotation')}>All projects</a>
      {links.map(([label, to]) => (
        <a key={label} href={to} className="ann-button-link">
          {label}
        </a>
      ))}
    </nav>
  );
}

function ProjectFacts({ project: p }: { project: ProjectSummary }) {
  return (
    <KeyValues
      rows={[
        ['status', <Badge tone={p.status === 'active' ? 'ok' : 'info'}>{p.status}</Badge>],
        ['task', `${p.rules.taskType}${p.rules.labels.length ? ` (${p.rules.labels.join(', ')})` : ''}`],
        [
          'dataset version',
          <>
            {p.datasetVersionReceived ? null : <Badge tone="warn">not received yet</Badge>} <Short id={p.datasetId} /> v{p.datasetVersion}
          </>,
        ],
        ['annotations per item', p.rules.annotationsPerItem],
        ['agreement threshold', ratio(p.rules.agreementThreshold)],
        ['guidelines', p.guidelines],
        ['created', <When at={p.createdAt} />],
      ]}
    />
  );
}

function TaskCountsLine({ project }: { project: ProjectSummary }) {
  const c = progressOf(project.tasks);
  return (
    <p className="muted" data-testid="task-counts">
      {c.open} open · {c.adjudication} in adjudication · {c.final} final · {c.cancelled} cancelled
    </p>
  );
}

function LeftOutForConsent({ project }: { project: ProjectSummary }) {
  const session = useSession();
  const api = useAnnotationApi();
  const readsVersions = hasRole(session, ...ANNOTATION_ROLES.datasetVersions);
  const readsSets = hasRole(session, ...ANNOTATION_ROLES.sets);
  const versions = useLoad(async () => (readsVersions ? api.datasetVersions() : []), [api, readsVersions]);
  const sets = useLoad(async () => (readsSets ? api.sets(project.projectId) : []), [api, readsSets, project.projectId]);
  const version = versions.data?.find((v) => v.datasetId === project.datasetId && v.version === project.datasetVersion);
  const left = consentLeftOut(project.tasks, version?.items);
  const newest: AnnotationSetRecord | undefined = sets.data?.[sets.data.length - 1];
  return (
    <section aria-labelledby="consent-title">
      <h2 id="consent-title">Items left out for consent</h2>
      <KeyValues
        rows={[
          ['without a task (excluded before the tasks were made)', left.withoutTask ?? <span className="muted">stewards and auditors see this</span>],
          ['tasks cancelled (excluded afterwards)', left.cancelled],
          ['in all', left.total ?? `at least ${left.cancelled}`],
          [
            'left out of the newest set',
            newest ? (
              <>
                v{newest.version}: {newest.leftOutCount}
                {leftOutByReason(newest).map(([reason, n]) => (
                  <span key={reason}>
                    {' '}
                    <Badge tone="warn">
                      {reason}: {n}
                    </Badge>
                  </span>
                ))}
              </>
            ) : readsSets ? (
              <span className="muted">no set published yet</span>
            ) : (
              <span className="muted">not shown to your roles</span>
            ),
          ],
        ]}
      />
      {versions.error ? <ErrorNote error={versions.error} /> : null}
      {sets.error ? <ErrorNote error={sets.error} /> : null}
      <NewestSetItems project={project} newest={newest} />
    </section>
  );
}

function Agreement({ project }: { project: ProjectSummary }) {
  const session = useSession();
  const api = useAnnotationApi();
  const allowed = hasRole(session, ...ANNOTATION_ROLES.agreement);
  const stats = useLoad(async () => (allowed ? api.agreement(project.projectId) : null), [api, allowed, project.projectId]);
  return (
    <section aria-labelledby="agreement-title">
      <h2 id="agreement-title">Agreement now</h2>
      {allowed ? (
        <Loading state={stats as Loaded<AgreementStatistics>}>{(s) => <AgreementTables stats={s} />}</Loading>
      ) : (
        <p className="muted">Agreement is shown to stewards, reviewers and auditors.</p>
      )}
    </section>
  );
}

function AgreementTables({ stats: s }: { stats: AgreementStatistics }) {
  return (
    <>
      <KeyValues
        rows={[
          ['items decided', s.items],
          ['annotations', s.annotations],
          ['annotators', s.annotators],
          ["Krippendorff's α", ratio(s.krippendorffAlpha)],
          ["Fleiss' κ", s.fleissKappa ? `${ratio(s.fleissKappa.value)} (${s.fleissKappa.items} items, ${s.fleissKappa.ratersPerItem} raters each)` : '—'],
          ...(s.taskType === 'classification'
            ? ([["Cohen's κ (mean of pairs)", s.cohensKappa ? `${ratio(s.cohensKappa.value)} (${s.cohensKappa.pairs} pairs)` : '—']] as [string, string][])
            : ([
                ['exact match', percent(s.exactMatchRate)],
                ['mean token F1', ratio(s.meanTokenF1)],
              ] as [string, string][])),
        ]}
      />
      <Table
        caption="Agreement per annotator"
        rows={s.perAnnotator}
        rowKey={(a) => a.annotatorId}
        empty="No accepted annotations yet."
        columns={[
          { header: 'Annotator', cell: (a) => <Short id={a.annotatorId} /> },
          { header: 'Items', cell: (a) => a.items },
          { header: 'Agrees with the final answer', cell: (a) => percent(a.agreementWithFinal) },
          ...(s.taskType === 'classification'
            ? [{ header: "Mean Cohen's κ", cell: (a: (typeof s.perAnnotator)[number]) => ratio(a.meanPairwiseCohensKappa) }]
            : [{ header: 'Mean similarity to final', cell: (a: (typeof s.perAnnotator)[number]) => ratio(a.meanSimilarityToFinal) }]),
        ]}
      />
    </>
  );
}

/** Agreement per item, as the newest published set froze it (the API keeps no per-item list otherwise). */
function NewestSetItems({ project, newest }: { project: ProjectSummary; newest: AnnotationSetRecord | undefined }) {
  const api = useAnnotationApi();
  const content = useLoad(
    async (): Promise<AnnotationSetContent | null> => (newest ? api.set(project.projectId, newest.version) : null),
    [api, project.projectId, newest?.version],
  );
  if (!newest) return null;
  return (
    <section aria-labelledby="items-title">
      <h2 id="items-title">Agreement per item (set v{newest.version})</h2>
      <Loading state={content}>
        {(c) =>
          c ? (
            <>
              <Table
                caption={`Items of set v${newest.version}`}
                rows={c.items.slice(0, ITEM_ROWS)}
                rowKey={(i) => i.itemId}
                columns={[
                  { header: 'Item', cell: (i) => <Short id={i.itemId} /> },
                  {
                    header: 'Agreement',
                    cell: (i) => <Badge tone={agreementTone(i.agreement, project.rules.agreementThreshold)}>{ratio(i.agreement)}</Badge>,
                  },
                  { header: 'Decided by', cell: (i) => i.source },
                  { header: 'Annotators', cell: (i) => i.annotators.length },
                  { header: 'Final answer', cell: (i) => answerSummary(i.answer) },
                ]}
              />
              {c.items.length > ITEM_ROWS ? (
                <p className="muted">
                  The first {ITEM_ROWS} of {c.items.length} items.
                </p>
              ) : null}
            </>
          ) : null
        }
      </Loading>
    </section>
  );
}
