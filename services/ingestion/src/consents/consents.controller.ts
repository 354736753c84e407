import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath, ApiExtraModels } from '@nestjs/swagger';
import { CurrentActor, Roles } from '@trellis/auth';
import type { Actor } from '@trellis/contracts';
import { EraseSubjectUseCase } from '../erasure/erase-subject.usecase';
import { RecordConsentDto, RecordedConsentDto, WithdrawConsentDto } from './consent.dto';
import { ConsentUseCases } from './consent.usecases';

@ApiTags('ingestion: consents')
@ApiBearerAuth()
@ApiExtraModels(RecordConsentDto)
@Controller('ingestion/subjects/:subjectId/consents')
export class ConsentsController {
  constructor(
    private readonly consents: ConsentUseCases,
    private readonly erasure: EraseSubjectUseCase,
  ) {}

  @Post()
  @Roles('steward')
  @ApiOperation({ summary: 'Record a consent: the native shape, or a FHIR R4/R5 Consent resource' })
  @ApiBody({
    schema: {
      oneOf: [
        { $ref: getSchemaPath(RecordConsentDto) },
        {
          type: 'object',
          description: 'FHIR R4 or R5 Consent resource',
          properties: { resourceType: { type: 'string', enum: ['Consent'] } },
          required: ['resourceType'],
        },
      ],
    },
  })
  @ApiOkResponse({ type: RecordedConsentDto })
  record(@Param('subjectId') subjectId: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.consents.record(subjectId, body, actor);
  }

  @Post(':consentId/withdraw')
  @HttpCode(200)
  @Roles('steward')
  @ApiOperation({ summary: 'Withdraw a consent (some or all purposes); eraseData erases the subject too' })
  @ApiBody({ type: WithdrawConsentDto })
  withdraw(@Param('subjectId') subjectId: string, @Param('consentId') consentId: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.consents.withdraw(subjectId, consentId, body, actor, (id, reason, a) => this.erasure.erase(id, { reason }, a));
  }
}
