import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Actor } from '@trellis/contracts';
import { requestOf } from './request-of';

/** The actor for events a handler appends: always the authenticated principal, never the body. */
export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => {
  const actor = requestOf(ctx).actor;
  if (!actor) throw new Error('CurrentActor used on a handler the AuthGuard did not authenticate');
  return actor;
});
