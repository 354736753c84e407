import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Role } from '@trellis/contracts';
import { AuthErrorCode, AuthException } from './auth.exception';
import { Authenticator } from './authenticator';
import { requestOf } from './request-of';
import { PUBLIC_KEY, ROLES_KEY } from './roles.decorator';

/**
 * Global guard on every HTTP route and GraphQL resolver: deny by default. A handler runs only
 * if it is marked @Public() or the caller holds one of its @Roles(). The actor recorded on
 * events is derived here from the principal, with the first allowed role it holds; decisions
 * that depend on roles use the principal (CurrentPrincipal), which holds them all.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;

    const req = requestOf(ctx);
    const header = req.headers['authorization'];
    const principal = await this.authenticator.authenticate(Array.isArray(header) ? header[0] : header);
    const allowed = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    if (!allowed || allowed.length === 0) {
      throw new AuthException(AuthErrorCode.Forbidden, 'this operation declares no roles and is refused');
    }
    const role = allowed.find((r) => principal.roles.includes(r));
    if (!role) throw new AuthException(AuthErrorCode.Forbidden, `requires one of the roles: ${allowed.join(', ')}`);
    req.principal = principal;
    req.actor = { id: principal.id, role };
    return true;
  }
}
