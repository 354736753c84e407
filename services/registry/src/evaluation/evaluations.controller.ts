import { Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { CurrentActor, Roles } from '@trellis/auth';
import type { Actor } from '@trellis/contracts';
import { EvaluationExecutor } from './execution/evaluation-executor';
import { EvaluationUseCases } from './evaluation.usecases';

const setRef: SchemaObject = {
  oneOf: [
    { type: 'object', required: ['setId'], properties: { setId: { type: 'string', format: 'uuid' } } },
    {
      type: 'object',
      required: ['projectId', 'version'],
      properties: { projectId: { type: 'string', format: 'uuid' }, version: { type: 'integer', minimum: 1 } },
    },
  ],
};

@ApiTags('registry: evaluations')
@ApiBearerAuth()
@Controller('registry/evaluations')
export class EvaluationsController {
  constructor(
    private readonly evaluations: EvaluationUseCases,
    private readonly executor: EvaluationExecutor,
  ) {}

  @Post()
  @Roles('engineer')
  @ApiOperation({
    summary:
      "Evaluate a version on a published annotation set (BLEU and CIDEr-D on captions, VQA accuracy on questions and labels, perplexity), generating greedily with the adapter applied, off the request path; a set sharing any item or subject with the version's training snapshot is refused, naming the overlap",
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['model', 'version', 'annotationSet'],
      properties: {
        model: { type: 'string' },
        version: { type: 'integer', minimum: 1 },
        annotationSet: setRef,
        seed: { type: 'integer', minimum: 0, default: 0 },
        maxNewTokens: { type: 'integer', minimum: 1, maximum: 512, default: 32 },
      },
    },
  })
  async request(@Body() body: unknown, @CurrentActor() actor: Actor) {
    const evaluation = await this.evaluations.request(body, actor);
    this.executor.nudge();
    return evaluation;
  }

  @Get()
  @Roles('engineer', 'approver', 'auditor')
  @ApiOperation({ summary: 'Evaluations, newest first (of one version with model and version)' })
  @ApiQuery({ name: 'model', required: false })
  @ApiQuery({ name: 'version', required: false, type: Number })
  @ApiQuery({ name: 'limit', required: false, type: Number })
  list(@Query('model') model?: string, @Query('version') version?: string, @Query('limit') limit?: string) {
    return this.evaluations.list({ model, version, limit });
  }

  @Get(':evaluationId')
  @Roles('engineer', 'approver', 'auditor')
  @ApiOperation({ summary: 'An evaluation: status, metrics, item count and the stored per-item predictions' })
  get(@Param('evaluationId') id: string) {
    return this.evaluations.get(id);
  }
}
