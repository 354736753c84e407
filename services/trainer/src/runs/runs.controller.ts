import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { CurrentActor, Roles } from '@trellis/auth';
import { TRAINING_METHODS, TRAINING_PURPOSES, type Actor } from '@trellis/contracts';
import { RunUseCases } from './run.usecases';

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

@ApiTags('trainer: runs')
@ApiBearerAuth()
@Controller('training/runs')
export class RunsController {
  constructor(private readonly runs: RunUseCases) {}

  @Post()
  @Roles('engineer')
  @ApiOperation({
    summary:
      'Request a training run (LoRA, QLoRA, distillation or full fine-tuning) on published annotation sets; it is queued, freezes its consent-safe snapshot before the first step and trains off the request path',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['baseModelId', 'method', 'annotationSets'],
      properties: {
        baseModelId: { type: 'string', format: 'uuid', description: 'a registered base model (GET /training/base-models)' },
        method: { type: 'string', enum: [...TRAINING_METHODS] },
        teacherModelId: { type: 'string', format: 'uuid', description: 'distillation only: the teacher, a registered base model' },
        annotationSets: { type: 'array', minItems: 1, maxItems: 20, items: setRef },
        evaluation: {
          description: 'held-out subjects drawn from the training sets (default heldOutFraction 0.2), or separate evaluation sets',
          oneOf: [
            { type: 'object', properties: { heldOutFraction: { type: 'number', minimum: 0, maximum: 1, description: 'above 0 and below 1' } } },
            { type: 'object', properties: { annotationSets: { type: 'array', items: setRef } } },
          ],
        },
        modelName: {
          type: 'string',
          pattern: '^[a-z0-9][a-z0-9._-]{0,99}$',
          description: "the registered model the run's version goes to; default <base preset>-<method>",
        },
        purpose: {
          type: 'string',
          enum: [...TRAINING_PURPOSES],
          default: 'model-training',
          description: 'the consent purpose every included subject must permit',
        },
        hyperparameters: {
          type: 'object',
          properties: {
            loraRank: { type: 'integer', minimum: 1, default: 8 },
            loraAlpha: { type: 'number', default: '2 x rank' },
            loraDropout: { type: 'number', minimum: 0, maximum: 1, default: 0.05 },
            targetModules: { type: 'array', items: { type: 'string' }, default: ['q_proj', 'v_proj'] },
            rslora: { type: 'boolean', default: false },
            learningRate: { type: 'number', description: 'default 1e-3 for LoRA/QLoRA, 3e-4 otherwise' },
            warmupSteps: { type: 'integer', minimum: 0, default: 0 },
            schedule: { type: 'string', enum: ['constant', 'cosine'], default: 'cosine' },
            weightDecay: { type: 'number', minimum: 0, default: 0 },
            batchSize: { type: 'integer', minimum: 1, default: 8 },
            gradAccumulation: { type: 'integer', minimum: 1, default: 1 },
            maxGradNorm: { type: 'number', nullable: true, default: 1 },
            steps: { type: 'integer', minimum: 1, default: 100 },
            epochs: { type: 'integer', minimum: 1, description: 'instead of steps' },
            seed: { type: 'integer', minimum: 0, default: 0 },
            evalEvery: { type: 'integer', minimum: 1, default: 25 },
            checkpointEvery: { type: 'integer', minimum: 1, default: 50 },
            temperature: { type: 'number', default: 2, description: 'distillation only' },
            distillAlpha: { type: 'number', minimum: 0, maximum: 1, default: 0.5, description: 'distillation only: weight of the teacher loss' },
          },
        },
      },
    },
  })
  request(@Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.runs.request(body, actor);
  }

  @Get()
  @Roles('engineer', 'approver', 'auditor')
  @ApiOperation({ summary: 'Training runs, newest first' })
  @ApiQuery({ name: 'status', required: false, enum: ['requested', 'frozen', 'running', 'completed', 'failed', 'cancelled'] })
  @ApiQuery({ name: 'limit', required: false, type: Number })
  list(@Query('status') status: string | undefined, @Query('limit') limit: string | undefined) {
    return this.runs.list(status, limit);
  }

  @Get(':runId')
  @Roles('engineer', 'approver', 'auditor')
  @ApiOperation({ summary: 'A training run: status, snapshot, progress, checkpoint, outcome and artifacts' })
  get(@Param('runId') runId: string) {
    return this.runs.get(runId);
  }

  @Get(':runId/progress')
  @Roles('engineer', 'approver', 'auditor')
  @ApiOperation({ summary: "A training run's loss curve: every progress report (step, loss, held-out loss, learning rate, throughput, time)" })
  progress(@Param('runId') runId: string) {
    return this.runs.progress(runId);
  }

  @Post(':runId/cancel')
  @HttpCode(200)
  @Roles('engineer')
  @ApiOperation({ summary: 'Cancel a run: a queued run ends at once, a running one at its next step boundary' })
  cancel(@Param('runId') runId: string, @CurrentActor() actor: Actor) {
    return this.runs.cancel(runId, actor);
  }

  @Post(':runId/retrain-excluding-withdrawn')
  @Roles('engineer')
  @ApiOperation({
    summary:
      "A new run with this run's configuration and seed on its snapshot less every subject who has since withdrawn consent or been erased; the new snapshot records the run it replaces and what it removed",
  })
  retrain(@Param('runId') runId: string, @CurrentActor() actor: Actor) {
    return this.runs.retrainExcludingWithdrawn(runId, actor);
  }
}
