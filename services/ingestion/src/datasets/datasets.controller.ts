import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiProperty, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CurrentActor, Roles } from '@trellis/auth';
import { type Actor, MAX_VERSION, PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX, parseVersionNumber } from '@trellis/contracts';
import { IngestionErrorCode, IngestionException } from '../ingestion.exception';
import { DatasetUseCases } from './dataset.usecases';

export class CreateDatasetDto {
  @ApiProperty({ example: 'chest-xray-2026' }) name!: string;
}
export class AddAssetsDto {
  @ApiProperty({ type: [String], format: 'uuid' }) assetIds!: string[];
}

/** A path or query version number (the one reading in @trellis/contracts), else a 400 naming the field. */
export function version(raw: unknown, field: string): number {
  const n = parseVersionNumber(raw);
  if (n === undefined) {
    throw new IngestionException(IngestionErrorCode.InvalidRequest, `${field} must be a version number (an integer from 1 to ${MAX_VERSION})`, [field]);
  }
  return n;
}

@ApiTags('ingestion: datasets')
@ApiBearerAuth()
@Controller('ingestion/datasets')
export class DatasetsController {
  constructor(private readonly datasets: DatasetUseCases) {}

  @Post()
  @Roles('steward')
  @ApiOperation({ summary: 'Create a dataset (names are unique)' })
  @ApiBody({ type: CreateDatasetDto })
  create(@Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.datasets.create(body, actor);
  }

  @Get()
  @Roles('steward', 'engineer', 'auditor')
  @ApiOperation({ summary: 'Datasets by name, a page at a time (the next page: after = the last name of this one)' })
  @ApiQuery({ name: 'limit', required: false, type: Number, description: `1 to ${PAGE_LIMIT_MAX}, default ${PAGE_LIMIT_DEFAULT}` })
  @ApiQuery({ name: 'after', required: false, type: String, description: 'the last name of the previous page' })
  list(@Query('limit') limit?: string, @Query('after') after?: string) {
    return this.datasets.list(limit, after);
  }

  @Get(':ref')
  @Roles('steward', 'engineer', 'auditor')
  @ApiOperation({ summary: 'A dataset by id or name, with its published versions' })
  get(@Param('ref') ref: string) {
    return this.datasets.get(ref);
  }

  @Post(':ref/assets')
  @HttpCode(200)
  @Roles('steward')
  @ApiOperation({ summary: 'Add ingested, non-erased assets (adding a member again is a no-op)' })
  @ApiBody({ type: AddAssetsDto })
  add(@Param('ref') ref: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.datasets.addAssets(ref, body, actor);
  }

  @Delete(':ref/assets/:assetId')
  @HttpCode(204)
  @Roles('steward')
  @ApiOperation({ summary: 'Remove a member' })
  async remove(@Param('ref') ref: string, @Param('assetId') assetId: string, @CurrentActor() actor: Actor): Promise<void> {
    await this.datasets.removeAsset(ref, assetId, actor);
  }

  @Post(':ref/versions')
  @Roles('steward')
  @ApiOperation({ summary: 'Publish an immutable version: manifest in artifacts, RFC 6962 Merkle root over the members. Empty: 400; unchanged: 409' })
  publish(@Param('ref') ref: string, @CurrentActor() actor: Actor) {
    return this.datasets.publish(ref, actor);
  }

  @Get(':ref/versions/:version')
  @Roles('steward', 'engineer', 'auditor')
  @ApiOperation({ summary: "A version's manifest (verified against its recorded hash) and a time-limited download link" })
  manifest(@Param('ref') ref: string, @Param('version') v: string) {
    return this.datasets.manifest(ref, version(v, 'version'));
  }

  @Get(':ref/versions/:version/images/:assetId')
  @Roles('steward', 'engineer', 'auditor')
  @ApiOperation({
    summary:
      'The curated image (JPEG or PNG, as ingested) of an image member of a published version (size=224: the 224x224 PNG model input); never an erased one',
  })
  async image(
    @Param('ref') ref: string,
    @Param('version') v: string,
    @Param('assetId') assetId: string,
    @Query('size') size: string | undefined,
  ): Promise<StreamableFile> {
    const { stream, contentType } = await this.datasets.memberImage(ref, version(v, 'version'), assetId, size);
    return new StreamableFile(stream, { type: contentType });
  }

  @Get(':ref/diff')
  @Roles('steward', 'engineer', 'auditor')
  @ApiOperation({ summary: 'Members added, removed and changed (by content hash) between two versions' })
  diff(@Param('ref') ref: string, @Query('from') from: string, @Query('to') to: string) {
    return this.datasets.diff(ref, version(from, 'from'), version(to, 'to'));
  }
}
