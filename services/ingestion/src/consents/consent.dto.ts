import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

class PeriodDto {
  @ApiPropertyOptional({ format: 'date-time', nullable: true }) start?: string | null;
  @ApiPropertyOptional({ format: 'date-time', nullable: true }) end?: string | null;
}

/** Either this shape, or a FHIR R4/R5 Consent resource (`resourceType: "Consent"`). */
export class RecordConsentDto {
  @ApiPropertyOptional({ enum: ['draft', 'proposed', 'active', 'rejected', 'inactive', 'not-done', 'entered-in-error', 'unknown'], default: 'active' })
  status?: string;
  @ApiProperty({ enum: ['permit', 'deny'] }) decision!: string;
  @ApiProperty({ type: [String], enum: ['model-training', 'research', 'human-annotation'], isArray: true }) purposes!: string[];
  @ApiPropertyOptional({ type: PeriodDto }) period?: PeriodDto;
  @ApiPropertyOptional({ description: 'SHA-256 of the signed consent document (the document itself is not sent)' }) sourceSha256?: string;
}

export class RecordedConsentDto {
  @ApiProperty({ format: 'uuid' }) consentId!: string;
  @ApiProperty({ nullable: true, enum: ['R4', 'R5'] }) fhirVersion!: string | null;
}

export class WithdrawConsentDto {
  @ApiPropertyOptional({ type: [String], description: 'Default: every purpose the consent still permits' }) purposes?: string[];
  @ApiPropertyOptional({ default: false, description: 'The subject also asks for deletion: the subject is erased' }) eraseData?: boolean;
}
