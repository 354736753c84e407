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
  @ApiOperation({ summary: 'Register a data subject under a pseudonymous id (idempotent per external reference)' })
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
