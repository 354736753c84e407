import type { RouteDef } from './route-def';
import { lineageRoutes } from '../lineage/lineage.routes';
import { modelsRoutes } from '../models/models.routes';
import { runsRoutes } from '../runs/runs.routes';
import { datasetsRoutes } from '../datasets/datasets.routes';
import { annotationRoutes } from '../annotation/annotation.routes';
import { subjectsRoutes } from '../subjects/subjects.routes';
import { auditRoutes } from '../audit/audit.routes';

/** Every page, in navigation order; each feature folder owns its routes. */
export const ROUTES: RouteDef[] = [...lineageRoutes, ...modelsRoutes, ...runsRoutes, ...datasetsRoutes, ...annotationRoutes, ...subjectsRoutes, ...auditRoutes];
