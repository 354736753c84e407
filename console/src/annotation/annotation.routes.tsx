import type { RouteDef } from '../app/route-def';
import { AdjudicationPage } from './adjudication-page';
import { ANNOTATION_ROLES } from './annotation.api';
import { ProjectPage } from './project-page';
import { ProjectsPage } from './projects-page';
import { ReviewPage } from './review-page';
import { WorkspacePage } from './workspace-page';
import './annotation.css';

// The roles are the API's: a role it would refuse sees "not available to your roles" instead.
export const annotationRoutes: RouteDef[] = [
  { path: ['annotation'], nav: 'Annotation', roles: ANNOTATION_ROLES.list, render: () => <ProjectsPage /> },
  { path: ['annotation', ':projectId'], roles: ANNOTATION_ROLES.list, render: (p) => <ProjectPage projectId={p.projectId} /> },
  { path: ['annotation', ':projectId', 'work'], roles: ANNOTATION_ROLES.annotate, render: (p) => <WorkspacePage key={p.projectId} projectId={p.projectId} /> },
  { path: ['annotation', ':projectId', 'review'], roles: ANNOTATION_ROLES.review, render: (p) => <ReviewPage key={p.projectId} projectId={p.projectId} /> },
  {
    path: ['annotation', ':projectId', 'adjudicate'],
    roles: ANNOTATION_ROLES.review,
    render: (p) => <AdjudicationPage key={p.projectId} projectId={p.projectId} />,
  },
];
