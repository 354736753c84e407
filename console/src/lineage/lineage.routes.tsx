import type { RouteDef } from '../app/route-def';

export const lineageRoutes: RouteDef[] = [];
