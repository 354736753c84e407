import type { RouteDef } from '../app/route-def';
import './models.css';
import { ModelsPage } from './models-page';
import { ModelPage } from './model-page';
import { VersionPage } from './version-page';

const READERS = ['engineer', 'approver', 'auditor'];

export const modelsRoutes: RouteDef[] = [
  { path: ['models'], nav: 'Models', roles: READERS, render: () => <ModelsPage /> },
  { path: ['models', ':name'], roles: READERS, render: (p) => <ModelPage name={p.name} /> },
  { path: ['models', ':name', 'versions', ':version'], roles: READERS, render: (p) => <VersionPage name={p.name} version={p.version} /> },
];
