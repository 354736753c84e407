import type { ReactNode } from 'react';
import type { Route } from './router';

/** One page: its path pattern (`:name` segments are parameters), nav label and who may open it. */
export interface RouteDef {
  path: string[];
  /** The label in the top navigation, for a section's first page. */
  nav?: string;
  /** Roles that may open it (admin always may); none: every signed-in principal. */
  roles?: string[];
  render(params: Record<string, string>, route: Route): ReactNode;
}
