import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor, Roles } from '@trellis/auth';
import type { Actor } from '@trellis/contracts';
import { MAX_DATASETS, MAX_NAME_LENGTH, OPENLINEAGE_EVENT_TYPES } from './external-run-event';
import { OpenLineageImport } from './openlineage-import';

const name = { type: 'string', minLength: 1, maxLength: MAX_NAME_LENGTH };
const dataset = { type: 'object', required: ['namespace', 'name'], properties: { namespace: name, name } };

/** Where OpenLineage clients send (their HTTP transport's default endpoint), so they need only this platform's URL and a token. */
@ApiTags('lineage')
@ApiBearerAuth()
@Controller('api/v1/lineage')
export class OpenLineageImportController {
  constructor(private readonly imports: OpenLineageImport) {}

  @Post()
  @HttpCode(201)
  @Roles('engineer', 'steward', 'admin', 'service')
  @ApiOperation({
    summary:
      'Import an OpenLineage 2-0 RunEvent from another tool: its run, job and datasets join the lineage graph (an input named trellis/annotation-sets/<setId> is that ' +
      'annotation set). Kept as sent in the object storage, recorded by hash in the openlineage-import log; the same event sent again is recorded once ' +
      '(outcome duplicate). DatasetEvents and JobEvents are refused.',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['eventTime', 'producer', 'schemaURL', 'run', 'job'],
      properties: {
        eventType: { type: 'string', enum: [...OPENLINEAGE_EVENT_TYPES] },
        eventTime: { type: 'string', format: 'date-time' },
        producer: { type: 'string', format: 'uri' },
        schemaURL: { type: 'string', format: 'uri' },
        run: { type: 'object', required: ['runId'], properties: { runId: { type: 'string', format: 'uuid' } } },
        job: dataset,
        inputs: { type: 'array', maxItems: MAX_DATASETS, items: dataset },
        outputs: { type: 'array', maxItems: MAX_DATASETS, items: dataset },
      },
    },
  })
  receive(@Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.imports.receive(body, actor);
  }
}
