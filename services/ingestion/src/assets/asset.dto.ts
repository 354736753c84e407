import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class UploadAssetDto {
  @ApiProperty({ type: 'string', format: 'binary', description: 'The image (PNG, JPEG, DICOM) or report (text/plain, FHIR DiagnosticReport JSON)' })
  file!: unknown;
  @ApiProperty({ description: 'Subject id, or the external reference it was registered with' }) subject!: string;
  @ApiPropertyOptional({
    enum: ['image/png', 'image/jpeg', 'application/dicom', 'text/plain', 'application/fhir+json'],
    description: "Declared type; default: the file part's Content-Type. Must match the bytes.",
  })
  mimeType?: string;
  @ApiPropertyOptional({ enum: ['image', 'report'] }) kind?: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'Reports: the image (same subject) this report describes' }) describesAssetId?: string;
}

export class IngestedAssetDto {
  @ApiProperty({ format: 'uuid' }) assetId!: string;
  @ApiProperty({ format: 'uuid' }) subjectId!: string;
  @ApiProperty({ description: 'true: these bytes were already ingested for this subject; the existing asset is returned' }) duplicate!: boolean;
  @ApiProperty({ enum: ['image', 'report'] }) kind!: string;
  @ApiProperty() mimeType!: string;
  @ApiProperty() sha256!: string;
  @ApiProperty() size!: number;
  @ApiProperty({ nullable: true, type: Number }) width!: number | null;
  @ApiProperty({ nullable: true, type: Number }) height!: number | null;
}
