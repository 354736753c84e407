import { Body, Controller, Delete, HttpCode, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthErrorCode, AuthException } from '../auth.exception';
import { Roles } from '../roles.decorator';
import { parseDisplayName, PrincipalDirectory, requirePrincipalId } from './principal-directory';

@ApiTags('auth')
@ApiBearerAuth()
@Controller('auth/principals')
export class PrincipalsController {
  constructor(private readonly directory: PrincipalDirectory) {}

  @Put(':principalId')
  @Roles('admin')
  @ApiOperation({ summary: "Set a principal's display name (kept out of events, in an erasable table)" })
  @ApiBody({ schema: { type: 'object', required: ['displayName'], properties: { displayName: { type: 'string', minLength: 1, maxLength: 200 } } } })
  async setDisplayName(@Param('principalId') principalId: string, @Body() body: unknown) {
    const id = requirePrincipalId(principalId);
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new AuthException(AuthErrorCode.InvalidRequest, 'body must be a JSON object with displayName', ['body']);
    const extra = Object.keys(body).filter((k) => k !== 'displayName');
    if (extra.length)
      throw new AuthException(
        AuthErrorCode.InvalidRequest,
        `unknown field(s): ${extra.map((k) => `body.${k}`).join(', ')}`,
        extra.map((k) => `body.${k}`),
      );
    const displayName = parseDisplayName((body as { displayName?: unknown }).displayName);
    await this.directory.setDisplayName(id, displayName);
    return { id, displayName };
  }

  @Delete(':principalId')
  @HttpCode(204)
  @Roles('admin')
  @ApiOperation({
    summary: 'Erase what is personal about a principal (its display name); events keep only the pseudonymous id. 404 if there was nothing to erase',
  })
  async erase(@Param('principalId') principalId: string): Promise<void> {
    const id = requirePrincipalId(principalId);
    if (!(await this.directory.erase(id))) throw new AuthException(AuthErrorCode.PrincipalNotFound, `principal ${id} has no personal details to erase`);
  }
}
