import type { RouteDef } from '../app/route-def';
import { AuditPage } from './audit-page';

export const auditRoutes: RouteDef[] = [{ path: ['audit'], nav: 'Audit', roles: ['auditor'], render: (_p, route) => <AuditPage route={route} /> }];
