import { SetMetadata } from '@nestjs/common';
import type { Role } from '@trellis/contracts';

export const ROLES_KEY = 'trellis:roles';
export const PUBLIC_KEY = 'trellis:public';

/** The roles allowed to call a handler. A handler with neither this nor @Public() is refused. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

/** Marks a handler that needs no credentials (health checks). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);
