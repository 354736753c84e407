import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** OpenAPI shapes; the use cases validate the body themselves (zod), so these only document it. */
export class RegisterSubjectDto {
  @ApiPropertyOptional({ description: "The caller's own reference (study id, site code); mapped to a pseudonymous UUID", example: 'S0001' })
  externalRef?: string;
  @ApiPropertyOptional({ description: 'Personal detail: kept only in the erasable identity table', example: 'Jane Doe' })
  name?: string;
  @ApiPropertyOptional({ description: 'A real calendar date YYYY-MM-DD (1850 to 2200); personal detail', format: 'date', example: '1970-01-31' })
  birthDate?: string;
  @ApiPropertyOptional({ description: 'Medical record number; personal detail', example: 'MRN-0012345' })
  mrn?: string;
}

export class RegisteredSubjectDto {
  @ApiProperty({ format: 'uuid' }) subjectId!: string;
  @ApiProperty({ description: 'true when the external reference was registered before, with the same identity' }) duplicate!: boolean;
}

export class ConsentViewDto {
  @ApiProperty({ format: 'uuid' }) consentId!: string;
  @ApiProperty() status!: string;
  @ApiProperty({ enum: ['permit', 'deny'] }) decision!: string;
  @ApiProperty({ type: [String] }) purposes!: string[];
  @ApiProperty({ type: [String] }) withdrawnPurposes!: string[];
  @ApiProperty({ nullable: true, type: String }) periodStart!: string | null;
  @ApiProperty({ nullable: true, type: String }) periodEnd!: string | null;
  @ApiProperty({ nullable: true, type: String }) sourceSha256!: string | null;
  @ApiProperty({ nullable: true, enum: ['R4', 'R5'] }) fhirVersion!: string | null;
  @ApiProperty() recordedAt!: string;
}

export class SubjectViewDto {
  @ApiProperty({ format: 'uuid' }) subjectId!: string;
  @ApiProperty({ enum: ['active', 'erasing', 'erased'] }) status!: string;
  @ApiProperty() registeredAt!: string;
  @ApiProperty({ nullable: true, type: String }) erasedAt!: string | null;
  @ApiProperty({ type: [String], description: 'Purposes currently permitted (active permits minus withdrawals and denials)' }) permittedPurposes!: string[];
  @ApiProperty({ type: [ConsentViewDto] }) consents!: ConsentViewDto[];
}
