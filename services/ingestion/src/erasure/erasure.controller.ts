import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { CurrentActor, Roles } from '@trellis/auth';
import type { Actor } from '@trellis/contracts';
import { EraseSubjectUseCase } from './erase-subject.usecase';

export class EraseSubjectDto {
  @ApiPropertyOptional({ enum: ['gdpr-art17', 'consent-withdrawn'], default: 'gdpr-art17' }) reason?: string;
}

export class ErasureReportDto {
  @ApiProperty({ format: 'uuid' }) subjectId!: string;
  @ApiProperty() reason!: string;
  @ApiProperty() assetCount!: number;
  @ApiProperty() blobsDeleted!: number;
}

@ApiTags('ingestion: erasure')
@ApiBearerAuth()
@Controller('ingestion/subjects/:subjectId/erasure')
export class ErasureController {
  constructor(private readonly erasure: EraseSubjectUseCase) {}

  @Post()
  @HttpCode(200)
  @Roles('steward')
  @ApiOperation({ summary: 'Erase a subject: personal details and every raw and curated blob; the event history keeps only ids and hashes' })
  @ApiBody({ type: EraseSubjectDto })
  erase(@Param('subjectId') subjectId: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.erasure.erase(subjectId, body, actor);
  }
}
