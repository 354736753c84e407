import { Controller, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiConsumes, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Readable } from 'node:stream';
import type { Actor } from '@trellis/contracts';
import { CurrentActor, Roles } from '@trellis/auth';
import { AnnotationErrorCode, AnnotationException } from '../annotation.exception';
import { ImportAnnotationsUseCase, MAX_IMPORT_BYTES } from './import-annotations.usecase';

type RawRequest = Readable & { body?: unknown; headers: Record<string, string | string[] | undefined> };

/**
 * The file is the request body as sent (text/plain, application/x-ndjson, application/octet-stream
 * are read here, up to MAX_IMPORT_BYTES); a body the JSON parser already took is used as parsed.
 */
async function fileText(req: RawRequest): Promise<string> {
  const type = String(req.headers['content-type'] ?? '');
  if (req.body !== undefined && type.includes('json') && !type.includes('ndjson')) return JSON.stringify(req.body);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_IMPORT_BYTES)
      throw new AnnotationException(AnnotationErrorCode.InvalidImport, `the import file is larger than ${MAX_IMPORT_BYTES} bytes`, ['file']);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

@ApiTags('annotation')
@ApiBearerAuth()
@Controller('annotation/projects/:projectId')
export class ImportsController {
  constructor(private readonly imports: ImportAnnotationsUseCase) {}

  @Post('imports')
  @Roles('steward')
  @ApiOperation({
    summary: 'Import final answers labelled elsewhere (LLaVA, COCO captions or JSONL); all or nothing, errors name record and field',
    description:
      'Send the file as the request body. As application/octet-stream, application/x-ndjson or text/plain it is read as sent, up to 50 MiB. ' +
      'An application/json body goes through the JSON parser, which takes at most 100 KB and answers a larger one with 413: send files of any size as application/octet-stream.',
  })
  @ApiQuery({ name: 'format', enum: ['llava', 'coco', 'jsonl'] })
  @ApiConsumes('application/json', 'application/x-ndjson', 'text/plain', 'application/octet-stream')
  async import(@Param('projectId') projectId: string, @Query('format') format: string | undefined, @Req() req: RawRequest, @CurrentActor() actor: Actor) {
    return this.imports.import(projectId, format, await fileText(req), actor);
  }
}
