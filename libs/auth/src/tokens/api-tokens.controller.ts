import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import type { Actor } from '@trellis/contracts';
import { CurrentActor } from '../current-actor.decorator';
import { Roles } from '../roles.decorator';
import { ApiTokenUseCases } from './api-token.usecases';

@Controller('auth/tokens')
export class ApiTokensController {
  constructor(private readonly useCases: ApiTokenUseCases) {}

  @Post()
  @Roles('admin')
  issue(@Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.useCases.issue(body, actor);
  }

  @Get()
  @Roles('admin')
  list() {
    return this.useCases.list();
  }

  @Delete(':tokenId')
  @HttpCode(204)
  @Roles('admin')
  async revoke(@Param('tokenId') tokenId: string, @CurrentActor() actor: Actor): Promise<void> {
    await this.useCases.revoke(tokenId, actor);
  }
}
