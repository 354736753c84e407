import { Body, Controller, Get, Header, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CurrentActor, Roles } from '@trellis/auth';
import { MODEL_CARD_FIELDS, TRAINING_METHODS, type Actor } from '@trellis/contracts';
import { ModelCardUseCase } from '../model-cards/model-card.usecase';
import { ModelUseCases } from './model.usecases';

const reasonBody = { schema: { type: 'object', required: ['reason'], properties: { reason: { type: 'string', maxLength: 2000 } } } };

@ApiTags('registry: models')
@ApiBearerAuth()
@Controller('registry/models')
export class ModelsController {
  constructor(
    private readonly models: ModelUseCases,
    private readonly cards: ModelCardUseCase,
  ) {}

  @Post()
  @Roles('engineer')
  @ApiOperation({ summary: 'Register a model name (a completed training run also creates its model on its first version)' })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,99}$' }, description: { type: 'string', maxLength: 4000 } },
    },
  })
  create(@Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.models.create(body, actor);
  }

  @Get()
  @Roles('engineer', 'approver', 'auditor')
  @ApiOperation({ summary: 'Registered models, by name (part of it), tag (key or key=value, on the model or any version) and alias' })
  @ApiQuery({ name: 'name', required: false })
  @ApiQuery({ name: 'tag', required: false })
  @ApiQuery({ name: 'alias', required: false })
  @ApiQuery({ name: 'limit', required: false, type: Number })
  search(@Query('name') name?: string, @Query('tag') tag?: string, @Query('alias') alias?: string, @Query('limit') limit?: string) {
    return this.models.search({ name, tag, alias, limit });
  }

  @Get(':name')
  @Roles('engineer', 'approver', 'auditor')
  @ApiOperation({ summary: 'A registered model: description, tags, aliases and latest version' })
  get(@Param('name') name: string) {
    return this.models.get(name);
  }

  @Get(':name/versions')
  @Roles('engineer', 'approver', 'auditor')
  @ApiOperation({ summary: "The model's versions, oldest first" })
  versions(@Param('name') name: string) {
    return this.models.versions(name);
  }

  @Post(':name/versions')
  @Roles('engineer')
  @ApiOperation({ summary: 'Register a version by hand from files already in object storage (area artifacts), on a registered base model' })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['baseModelId', 'method', 'files'],
      properties: {
        baseModelId: { type: 'string', format: 'uuid' },
        method: { type: 'string', enum: [...TRAINING_METHODS] },
        files: {
          type: 'array',
          minItems: 1,
          maxItems: 50,
          items: { type: 'object', required: ['name', 'key'], properties: { name: { type: 'string' }, key: { type: 'string' } } },
        },
      },
    },
  })
  register(@Param('name') name: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.models.registerByHand(name, body, actor);
  }

  @Get(':name/versions/:version')
  @Roles('engineer', 'approver', 'auditor')
  @ApiOperation({ summary: 'A version: its run, base model, method, files and hashes, snapshot, parameters by part, aliases, archive and consent flag' })
  version(@Param('name') name: string, @Param('version') version: string) {
    return this.models.version(name, version);
  }

  @Patch(':name/versions/:version')
  @Roles('engineer')
  @ApiOperation({ summary: "Describe or tag a version (a tag's value null removes it); the version itself is immutable" })
  @ApiBody({
    schema: {
      type: 'object',
      properties: {
        description: { type: 'string', nullable: true, maxLength: 4000 },
        tags: { type: 'object', additionalProperties: { type: 'string', nullable: true, maxLength: 500 } },
      },
    },
  })
  update(@Param('name') name: string, @Param('version') version: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.models.update(name, version, body, actor);
  }

  @Post(':name/versions/:version/archive')
  @HttpCode(200)
  @Roles('engineer')
  @ApiOperation({ summary: 'Archive a version (deleting means archiving, recorded with a reason); a version holding an alias cannot be archived' })
  @ApiBody(reasonBody)
  archive(@Param('name') name: string, @Param('version') version: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.models.archive(name, version, body, actor);
  }

  @Get(':name/versions/:version/card')
  @Roles('engineer', 'approver', 'auditor')
  @Header('Content-Type', 'text/markdown; charset=utf-8')
  @ApiProduces('text/markdown')
  @ApiOperation({
    summary:
      'The model card, generated from the events: Markdown with Hugging Face YAML metadata (license, base_model, datasets, metrics, tags, model-index) and the sections of Mitchell et al. 2019, training data with consent basis, de-identification and annotator agreement',
  })
  card(@Param('name') name: string, @Param('version') version: string) {
    return this.cards.render(name, version);
  }

  @Put(':name/versions/:version/card')
  @Roles('engineer', 'approver')
  @ApiOperation({ summary: "Edit the model card's people-written fields; each edit is a new revision (fields not given are kept)" })
  @ApiBody({ schema: { type: 'object', properties: Object.fromEntries(MODEL_CARD_FIELDS.map((f) => [f, { type: 'string', nullable: true }])) } })
  editCard(@Param('name') name: string, @Param('version') version: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.models.editCard(name, version, body, actor);
  }

  @Get(':name/versions/:version/card/revisions')
  @Roles('engineer', 'approver', 'auditor')
  @ApiOperation({ summary: "Every revision of the card's people-written fields, with who edited them" })
  cardHistory(@Param('name') name: string, @Param('version') version: string) {
    return this.models.cardHistory(name, version);
  }

  @Post(':name/versions/:version/retrain')
  @HttpCode(200)
  @Roles('engineer')
  @ApiOperation({
    summary: "A flagged version: ask the trainer to retrain its run without the subjects who withdrew (the trainer's retrain-excluding-withdrawn)",
  })
  retrain(@Param('name') name: string, @Param('version') version: string, @CurrentActor() actor: Actor) {
    return this.models.requestRetrain(name, version, actor);
  }

  @Get(':name/aliases')
  @Roles('engineer', 'approver', 'auditor')
  @ApiOperation({ summary: 'Alias history: every move with actor, kind and reason; with `at`, the holder of each alias at that moment (holders)' })
  @ApiQuery({ name: 'alias', required: false })
  @ApiQuery({ name: 'at', required: false, description: 'ISO 8601 date-time with offset' })
  aliases(@Param('name') name: string, @Query('alias') alias?: string, @Query('at') at?: string) {
    return this.models.aliasHistory(name, alias, at);
  }
}
