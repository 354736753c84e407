import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Principal } from './principal';
import { requestOf } from './request-of';

/**
 * The authenticated principal with every role it holds. Access decisions use this, not the
 * actor: the actor carries the one role recorded on events, the first of the handler's roles
 * the principal holds, and a principal holding annotator and reviewer is both.
 */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = requestOf(ctx).principal;
  if (!principal) throw new Error('CurrentPrincipal used on a handler the AuthGuard did not authenticate');
  return principal;
});
