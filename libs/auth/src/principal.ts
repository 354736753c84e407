import type { Actor, Role } from '@trellis/contracts';

/** Who is calling, as established by an API token or a JWT. Pseudonymous by construction. */
export interface Principal {
  id: string;
  roles: Role[];
  via: 'api-token' | 'jwt';
  tokenId?: string;
}

/** What the guard leaves on the request for handlers: the principal and the actor it acts as. */
export interface AuthenticatedRequest {
  principal?: Principal;
  actor?: Actor;
  headers: Record<string, string | string[] | undefined>;
}
