import { Controller, Get, Req } from '@nestjs/common';
import { GRANTABLE_ROLES } from '@trellis/contracts';
import type { AuthenticatedRequest } from './principal';
import { Roles } from './roles.decorator';
import { PrincipalDirectory } from './principals/principal-directory';

@Controller('auth')
export class WhoAmIController {
  constructor(private readonly directory: PrincipalDirectory) {}

  @Get('whoami')
  @Roles(...GRANTABLE_ROLES)
  async whoami(@Req() req: AuthenticatedRequest) {
    const p = req.principal!;
    return { principalId: p.id, displayName: await this.directory.displayName(p.id), roles: p.roles, via: p.via };
  }
}
