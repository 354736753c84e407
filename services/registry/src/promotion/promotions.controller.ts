import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CurrentActor, Roles } from '@trellis/auth';
import type { Actor } from '@trellis/contracts';
import { PromotionUseCases } from './promotion.usecases';

const commentBody = { schema: { type: 'object', required: ['comment'], properties: { comment: { type: 'string', maxLength: 2000 } } } };

@ApiTags('registry: promotions')
@ApiBearerAuth()
@Controller('registry')
export class PromotionsController {
  constructor(private readonly promotions: PromotionUseCases) {}

  @Post('promotions')
  @Roles('engineer')
  @ApiOperation({
    summary:
      'Ask to move an alias to a version: the gates run at once (metrics vs the holder on the same evaluation set within the tolerance, the 7B parameter budget, no consent flag, a complete model card), each verdict recorded; passing, it waits for a second person with the approver role',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['model', 'version', 'alias', 'reason'],
      properties: {
        model: { type: 'string' },
        version: { type: 'integer', minimum: 1 },
        alias: { type: 'string', description: 'champion, candidate or any lowercase name' },
        reason: { type: 'string', maxLength: 2000 },
        tolerance: { type: 'number', minimum: 0, maximum: 100, description: 'absolute, in each metric unit; default REGISTRY_PROMOTION_TOLERANCE (0)' },
        evaluationSetSha256: { type: 'string', description: 'the set to compare on; default the latest set both versions were evaluated on' },
      },
    },
  })
  request(@Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.promotions.request(body, actor);
  }

  @Get('promotions')
  @Roles('engineer', 'approver', 'auditor')
  @ApiOperation({ summary: 'Promotions, newest first, with their gate verdicts and decision; of one model when named' })
  @ApiQuery({ name: 'status', required: false, enum: ['pending', 'approved', 'rejected'] })
  @ApiQuery({ name: 'model', required: false, type: String, description: 'a registered model name (404 if there is none)' })
  @ApiQuery({ name: 'limit', required: false, type: Number })
  list(@Query('status') status?: string, @Query('limit') limit?: string, @Query('model') model?: string) {
    return this.promotions.list(status, limit, model);
  }

  @Get('promotions/:promotionId')
  @Roles('engineer', 'approver', 'auditor')
  @ApiOperation({ summary: 'A promotion: gates, verdicts, requester, approver and comment' })
  get(@Param('promotionId') id: string) {
    return this.promotions.get(id);
  }

  @Post('promotions/:promotionId/approve')
  @HttpCode(200)
  @Roles('approver')
  @ApiOperation({ summary: "Approve a pending promotion (not by its requester, nor by the requester of the version's run): the alias moves" })
  @ApiBody(commentBody)
  approve(@Param('promotionId') id: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.promotions.approve(id, body, actor);
  }

  @Post('promotions/:promotionId/reject')
  @HttpCode(200)
  @Roles('approver')
  @ApiOperation({ summary: 'Reject a pending promotion with a comment' })
  @ApiBody(commentBody)
  reject(@Param('promotionId') id: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.promotions.reject(id, body, actor);
  }

  @Post('models/:name/aliases/:alias/rollback')
  @HttpCode(200)
  @Roles('engineer', 'approver')
  @ApiOperation({ summary: 'Move an alias back to its previous holder that is neither archived nor flagged; recorded with actor and reason' })
  @ApiBody({ schema: { type: 'object', required: ['reason'], properties: { reason: { type: 'string', maxLength: 2000 } } } })
  rollback(@Param('name') name: string, @Param('alias') alias: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.promotions.rollback(name, alias, body, actor);
  }

  @Post('models/:name/aliases/:alias/demote')
  @HttpCode(200)
  @Roles('engineer', 'approver')
  @ApiOperation({
    summary:
      'Take an alias off its version (a flagged one, say): it goes back to the last holder neither archived nor flagged, or off the model; recorded with actor and reason (REGISTRY_AUTO_DEMOTE does this on every flag)',
  })
  @ApiBody({ schema: { type: 'object', required: ['reason'], properties: { reason: { type: 'string', maxLength: 2000 } } } })
  demote(@Param('name') name: string, @Param('alias') alias: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.promotions.demote(name, alias, body, actor);
  }
}
