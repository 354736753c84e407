import type { RouteDef } from '../app/route-def';

export const modelsRoutes: RouteDef[] = [];
