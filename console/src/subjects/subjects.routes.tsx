import type { RouteDef } from '../app/route-def';

export const subjectsRoutes: RouteDef[] = [];
