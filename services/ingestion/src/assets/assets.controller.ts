import { Body, Controller, Get, Param, Post, Query, Res, UploadedFile, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentActor, Roles } from '@trellis/auth';
import type { Actor } from '@trellis/contracts';
import { maxBytesFromEnv } from '../ingestion.config';
import { IngestionErrorCode, IngestionException } from '../ingestion.exception';
import { IngestedAssetDto, UploadAssetDto } from './asset.dto';
import { AssetQueries } from './asset.queries';
import { IngestAssetUseCase } from './ingest-asset.usecase';
import { UploadGate } from './upload-gate';

/** What multer's memory storage hands over for the `file` part. */
interface UploadedPart {
  buffer: Buffer;
  mimetype: string;
  size: number;
}

@ApiTags('ingestion: assets')
@ApiBearerAuth()
@Controller('ingestion/assets')
export class AssetsController {
  constructor(
    private readonly ingestAsset: IngestAssetUseCase,
    private readonly assets: AssetQueries,
    private readonly gate: UploadGate,
  ) {}

  @Post()
  @Roles('steward')
  // Multer keeps the part in memory up to the limit and refuses anything larger (413).
  @UseInterceptors(FileInterceptor('file', { limits: { fileSize: maxBytesFromEnv(), files: 1, fields: 10 } }))
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: UploadAssetDto })
  @ApiOperation({ summary: 'Ingest an image or a report for a subject (201 new, 200 duplicate); a refusal is 400 ASSET_REJECTED with its reason code' })
  @ApiOkResponse({ type: IngestedAssetDto })
  @ApiBadRequestResponse({ description: '{ error: "ASSET_REJECTED", message: "<REASON_CODE>: <what is wrong>" }' })
  @ApiServiceUnavailableResponse({ description: '{ error: "UPLOADS_BUSY" }: too many uploads at once; retry after the Retry-After header (seconds)' })
  async upload(
    @UploadedFile() file: UploadedPart | undefined,
    @Body() body: Record<string, string | undefined>,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) res: { status(code: number): unknown },
  ) {
    if (!file) throw new IngestionException(IngestionErrorCode.InvalidRequest, 'a multipart part named "file" is required', ['file']);
    if (!body?.subject)
      throw new IngestionException(IngestionErrorCode.InvalidRequest, 'the "subject" field (subject id or external reference) is required', ['subject']);
    const subject = body.subject;
    const result = await this.gate.run(() =>
      this.ingestAsset.ingest(
        {
          subject,
          declaredMimeType: body.mimeType || file.mimetype,
          kind: body.kind,
          describesAssetId: body.describesAssetId || null,
          bytes: file.buffer,
        },
        actor,
      ),
    );
    res.status(result.duplicate ? 200 : 201);
    return result;
  }

  @Get()
  @Roles('steward', 'auditor')
  @ApiOperation({ summary: "A subject's assets, optionally the one with given content (sha256 of the original)" })
  @ApiQuery({ name: 'subjectId', required: true })
  @ApiQuery({ name: 'sha256', required: false })
  find(@Query('subjectId') subjectId: string, @Query('sha256') sha256?: string) {
    return this.assets.find(subjectId, sha256);
  }

  @Get(':assetId')
  @Roles('steward', 'auditor')
  @ApiOperation({ summary: 'One asset from the catalog: hashes, storage keys, de-identification record' })
  get(@Param('assetId') assetId: string) {
    return this.assets.get(assetId);
  }
}
