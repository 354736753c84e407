import type { RouteDef } from '../app/route-def';
import { DatasetPage, DatasetVersionPage } from './dataset-page';
import { DatasetsPage } from './datasets-page';

/** Who reads datasets (GET /ingestion/datasets/:ref). */
const READERS = ['steward', 'engineer', 'auditor'];

export const datasetsRoutes: RouteDef[] = [
  { path: ['datasets'], nav: 'Datasets', roles: READERS, render: () => <DatasetsPage /> },
  { path: ['datasets', ':ref'], roles: READERS, render: (p) => <DatasetPage datasetRef={p.ref} /> },
  { path: ['datasets', ':ref', 'versions', ':version'], roles: READERS, render: (p) => <DatasetVersionPage datasetRef={p.ref} version={p.version} /> },
];
