import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor, Roles } from '@trellis/auth';
import type { Actor } from '@trellis/contracts';
import { RegisteredSubjectDto, RegisterSubjectDto, SubjectViewDto } from './subject.dto';
import { SubjectUseCases } from './subject.usecases';

@ApiTags('ingestion: subjects')
@ApiBearerAuth()
@Controller('ingestion/subjects')
export class SubjectsController {
  constructor(private readonly subjects: SubjectUseCases) {}

  @Post()
  @Roles('steward')
  @ApiOperation({
    summary: 'Register a data subject under a pseudonymous id',
    description:
      'Idempotent per external reference and identity: the same reference with the same name, birth date and MRN answers the existing subject (duplicate: true); with a different one it is 409 SUBJECT_IDENTITY_CONFLICT naming the fields. A subject needs an external reference or an identity.',
  })
  @ApiBody({ type: RegisterSubjectDto })
  @ApiOkResponse({ type: RegisteredSubjectDto })
  register(@Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.subjects.register(body, actor);
  }

  @Get(':ref')
  @Roles('steward', 'auditor')
  @ApiOperation({ summary: 'A subject (by id or external reference) with its consent history; never personal details' })
  @ApiOkResponse({ type: SubjectViewDto })
  get(@Param('ref') ref: string) {
    return this.subjects.get(ref);
  }
}
