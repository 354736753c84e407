import { Controller, Get, Param, Post, Query, Res, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Actor } from '@trellis/contracts';
import { CurrentActor, Roles } from '@trellis/auth';
import { AnnotationSetUseCases } from './annotation-set.usecases';

interface HeaderResponse {
  setHeader(name: string, value: string): void;
}

@ApiTags('annotation')
@ApiBearerAuth()
@Controller('annotation/projects/:projectId')
export class AnnotationSetsController {
  constructor(private readonly sets: AnnotationSetUseCases) {}

  @Post('sets')
  @Roles('steward')
  @ApiOperation({ summary: 'Publish a new immutable annotation set version of the final items (consent-excluded items left out and counted)' })
  publish(@Param('projectId') projectId: string, @CurrentActor() actor: Actor) {
    return this.sets.publish(projectId, actor);
  }

  @Get('sets')
  @Roles('steward', 'reviewer', 'engineer', 'auditor')
  @ApiOperation({ summary: 'Published annotation set versions' })
  list(@Param('projectId') projectId: string) {
    return this.sets.list(projectId);
  }

  @Get('sets/:version')
  @Roles('steward', 'reviewer', 'engineer', 'auditor')
  @ApiOperation({ summary: 'The full content of a set version (verified against its hash)' })
  content(@Param('projectId') projectId: string, @Param('version') version: string) {
    return this.sets.content(projectId, version);
  }

  @Get('sets/:version/export')
  @Roles('steward', 'engineer', 'auditor')
  @ApiOperation({
    summary:
      'Export a set version as LLaVA conversation JSON, COCO captions JSON or JSONL; with bundle=tar, a tar of images/<sha256>.png and the export file whose image fields are those relative paths (items of subjects excluded since publication left out)',
  })
  @ApiQuery({ name: 'format', enum: ['llava', 'coco', 'jsonl'], required: false })
  @ApiQuery({ name: 'bundle', enum: ['tar'], required: false })
  async export(
    @Param('projectId') projectId: string,
    @Param('version') version: string,
    @Query('format') format: string | undefined,
    @Query('bundle') bundle: string | undefined,
    @Res({ passthrough: true }) res: HeaderResponse,
  ) {
    if (bundle !== undefined) {
      const tar = await this.sets.exportBundle(projectId, version, format, bundle);
      res.setHeader('x-trellis-left-out', String(tar.leftOut));
      return new StreamableFile(tar.stream, { type: 'application/x-tar', disposition: `attachment; filename="${tar.filename}"` });
    }
    const out = await this.sets.export(projectId, version, format);
    res.setHeader('content-type', `${out.contentType}; charset=utf-8`);
    res.setHeader('content-disposition', `attachment; filename="${out.filename}"`);
    return out.body;
  }

  @Get('agreement')
  @Roles('steward', 'reviewer', 'auditor')
  @ApiOperation({ summary: "Agreement now: Cohen's and Fleiss' kappa, Krippendorff's alpha, exact match and token F1, per project and per annotator" })
  agreement(@Param('projectId') projectId: string) {
    return this.sets.agreement(projectId);
  }
}
