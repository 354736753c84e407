import type { RouteDef } from '../app/route-def';
import { HomePage } from './home-page';
import { LineagePage } from './lineage-page';

const READERS = ['auditor', 'engineer', 'approver', 'steward'];

export const lineageRoutes: RouteDef[] = [
  { path: [], render: () => <HomePage /> },
  { path: ['lineage'], nav: 'Lineage', roles: READERS, render: (_p, route) => <LineagePage route={route} /> },
  { path: ['lineage', ':id'], roles: READERS, render: (p, route) => <LineagePage id={p.id} route={route} /> },
];
