import type { RouteDef } from '../app/route-def';
import { RunsPage } from './runs-page';
import { RunPage } from './run-page';
import { RunRequestPage } from './run-request-page';

const READERS = ['engineer', 'approver', 'auditor'];

export const runsRoutes: RouteDef[] = [
  { path: ['runs'], nav: 'Runs', roles: READERS, render: (_p, route) => <RunsPage status={route.params.get('status') ?? undefined} /> },
  { path: ['runs', 'new'], roles: ['engineer'], render: () => <RunRequestPage /> },
  { path: ['runs', ':runId'], roles: READERS, render: (p) => <RunPage runId={p.runId} /> },
];
