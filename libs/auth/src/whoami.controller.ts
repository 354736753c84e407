import { Controller, Get, Req } from '@nestjs/common';
import { GRANTABLE_ROLES } from '@trellis/contracts';
import type { AuthenticatedRequest } from './principal';
import { Roles } from './roles.decorator';

@Controller('auth')
export class WhoAmIController {
  @Get('whoami')
  @Roles(...GRANTABLE_ROLES)
  whoami(@Req() req: AuthenticatedRequest) {
    const p = req.principal!;
    return { principalId: p.id, roles: p.roles, via: p.via };
  }
}
