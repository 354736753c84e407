import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Actor } from '@trellis/contracts';
import { CurrentActor, Roles } from '@trellis/auth';
import { v7 as uuidv7 } from 'uuid';
import { RecordDatasetVersionUseCase } from '../dataset-versions/record-dataset-version.usecase';
import { ProjectUseCases } from './project.usecases';

@ApiTags('annotation')
@ApiBearerAuth()
@Controller('annotation')
export class ProjectsController {
  constructor(
    private readonly projects: ProjectUseCases,
    private readonly versions: RecordDatasetVersionUseCase,
  ) {}

  @Post('projects')
  @Roles('steward')
  @ApiOperation({ summary: 'Create an annotation project on a published dataset version; its tasks are created from the version' })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['name', 'datasetId', 'datasetVersion', 'taskType', 'guidelines', 'annotationsPerItem', 'agreementThreshold'],
      properties: {
        name: { type: 'string' },
        datasetId: {
          type: 'string',
          description: "the dataset's id, or its name; the version must have reached annotation (GET /annotation/dataset-versions)",
        },
        datasetVersion: { type: 'integer', minimum: 1 },
        taskType: { type: 'string', enum: ['caption', 'vqa', 'classification'] },
        labels: { type: 'array', items: { type: 'string' }, description: 'classification only, at least two' },
        guidelines: { type: 'string' },
        annotationsPerItem: { type: 'integer', minimum: 1, maximum: 10 },
        agreementThreshold: { type: 'number', minimum: 0, maximum: 1 },
        maxTextLength: { type: 'integer', minimum: 1, maximum: 4000, default: 1000 },
        reassignRejectedToSameAnnotator: {
          type: 'boolean',
          default: false,
          description: 'let a rejected item go back to the annotator it was rejected from when no other annotator of the project is left for it',
        },
      },
    },
  })
  create(@Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.projects.create(body, actor);
  }

  @Post('projects/:projectId/archive')
  @HttpCode(200)
  @Roles('steward')
  @ApiOperation({ summary: 'Archive a project: it hands out no more tasks and is listed as archived; its sets stay readable and publishable' })
  archive(@Param('projectId') projectId: string, @CurrentActor() actor: Actor) {
    return this.projects.archive(projectId, actor);
  }

  @Get('projects')
  @Roles('steward', 'annotator', 'reviewer', 'engineer', 'auditor')
  @ApiOperation({ summary: 'List annotation projects' })
  list() {
    return this.projects.list();
  }

  @Get('projects/:projectId')
  @Roles('steward', 'annotator', 'reviewer', 'engineer', 'auditor')
  @ApiOperation({ summary: 'A project with its task counts by status' })
  get(@Param('projectId') projectId: string) {
    return this.projects.get(projectId);
  }

  @Get('dataset-versions')
  @Roles('steward', 'auditor')
  @ApiOperation({ summary: 'Dataset versions received from ingestion (ready, pending after a storage failure, or unreadable with the problem)' })
  datasetVersions() {
    return this.projects.datasetVersions();
  }

  @Post('dataset-versions/:datasetId/:version/retry')
  @Roles('steward')
  @ApiOperation({ summary: "Read the manifest of a version left pending by a storage failure again; creates the waiting projects' tasks once it is readable" })
  retryDatasetVersion(@Param('datasetId') datasetId: string, @Param('version') version: string) {
    return this.versions.retry(datasetId, version, uuidv7());
  }
}
