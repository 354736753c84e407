import { Body, Controller, Get, HttpCode, Param, Post, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Actor } from '@trellis/contracts';
import { CurrentActor, CurrentPrincipal, type Principal, Roles } from '@trellis/auth';
import { TaskMediaUseCase } from './task-media.usecase';
import { TaskUseCases } from './task.usecases';

@ApiTags('annotation')
@ApiBearerAuth()
@Controller('annotation')
export class TasksController {
  constructor(
    private readonly tasks: TaskUseCases,
    private readonly media: TaskMediaUseCase,
  ) {}

  @Post('projects/:projectId/tasks/next')
  @HttpCode(200)
  @Roles('annotator')
  @ApiOperation({ summary: 'Pull the next task: your unfinished one, else an item you have not seen; { task: null } when there is none' })
  async next(@Param('projectId') projectId: string, @CurrentActor() actor: Actor) {
    return { task: await this.tasks.pullNext(projectId, actor) };
  }

  @Get('tasks/:taskId')
  @Roles('annotator')
  @ApiOperation({ summary: "Your view of a task assigned to you (blind: never other annotators' answers)" })
  get(@Param('taskId') taskId: string, @CurrentActor() actor: Actor) {
    return this.tasks.get(taskId, actor);
  }

  @Get('tasks/:taskId/image')
  @Roles('annotator', 'reviewer')
  @ApiOperation({ summary: 'The image of a task (the 224x224 derivative the model sees, else the curated PNG)' })
  async image(@Param('taskId') taskId: string, @CurrentPrincipal() principal: Principal) {
    const { stream, contentType } = await this.media.open(taskId, 'image', principal);
    return new StreamableFile(stream, { type: contentType });
  }

  @Get('tasks/:taskId/report')
  @Roles('annotator', 'reviewer')
  @ApiOperation({ summary: 'The redacted report describing the image, as context (404 when the image has none)' })
  async report(@Param('taskId') taskId: string, @CurrentPrincipal() principal: Principal) {
    const { stream, contentType } = await this.media.open(taskId, 'report', principal);
    return new StreamableFile(stream, { type: contentType });
  }

  @Post('tasks/:taskId/annotation')
  @HttpCode(200)
  @Roles('annotator')
  @ApiOperation({ summary: 'Submit your annotation: { answer: { caption } | { pairs: [{ question, answer }] } | { label } }' })
  @ApiBody({ schema: { type: 'object', required: ['answer'], properties: { answer: { type: 'object' } } } })
  submit(@Param('taskId') taskId: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.tasks.submit(taskId, body, actor);
  }

  @Post('tasks/:taskId/release')
  @HttpCode(200)
  @Roles('annotator')
  @ApiOperation({ summary: 'Give an unfinished task back; its slot goes to another annotator (never to you again)' })
  release(@Param('taskId') taskId: string, @CurrentActor() actor: Actor) {
    return this.tasks.release(taskId, actor);
  }

  @Post('projects/:projectId/expire-assignments')
  @HttpCode(200)
  @Roles('steward')
  @ApiOperation({ summary: 'Expire assignments left unfinished for longer than olderThanMinutes, reopening their slots' })
  @ApiBody({ schema: { type: 'object', required: ['olderThanMinutes'], properties: { olderThanMinutes: { type: 'integer', minimum: 0 } } } })
  expire(@Param('projectId') projectId: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.tasks.expireStale(projectId, body, actor);
  }

  @Get('projects/:projectId/review-queue')
  @Roles('reviewer')
  @ApiOperation({ summary: 'Submitted annotations waiting for review, on items you did not annotate' })
  reviewQueue(@Param('projectId') projectId: string, @CurrentActor() actor: Actor) {
    return this.tasks.reviewQueue(projectId, actor);
  }

  @Post('tasks/:taskId/reviews')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({ summary: 'Accept or reject (with a reason) one annotation of an item you did not annotate' })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['assignmentId', 'verdict'],
      properties: { assignmentId: { type: 'string', format: 'uuid' }, verdict: { type: 'string', enum: ['accepted', 'rejected'] }, reason: { type: 'string' } },
    },
  })
  review(@Param('taskId') taskId: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.tasks.review(taskId, body, actor);
  }

  @Post('tasks/:taskId/send-to-adjudication')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({
    summary: 'Send an item with at least one answer to adjudication (an item you did not annotate), before or instead of deciding its answers by review',
  })
  sendToAdjudication(@Param('taskId') taskId: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.tasks.sendToAdjudication(taskId, body, actor);
  }

  @Get('projects/:projectId/adjudication-queue')
  @Roles('reviewer')
  @ApiOperation({ summary: 'Items whose accepted annotations missed the agreement threshold, with those annotations' })
  adjudicationQueue(@Param('projectId') projectId: string, @CurrentActor() actor: Actor) {
    return this.tasks.adjudicationQueue(projectId, actor);
  }

  @Post('tasks/:taskId/adjudication')
  @HttpCode(200)
  @Roles('reviewer')
  @ApiOperation({ summary: 'Decide an item in adjudication: choose an accepted annotation or write the final answer' })
  @ApiBody({ schema: { type: 'object', properties: { chosenAssignmentId: { type: 'string', format: 'uuid' }, answer: { type: 'object' } } } })
  adjudicate(@Param('taskId') taskId: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.tasks.adjudicate(taskId, body, actor);
  }
}
