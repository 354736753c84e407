import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CurrentActor, Roles } from '@trellis/auth';
import type { Actor } from '@trellis/contracts';
import { ALL_EVENT_TYPES, DEFAULT_DELIVERY_LIMIT, DELIVERY_STATUSES, knownEventTypes, MAX_DELIVERY_LIMIT, MAX_URL_LENGTH } from './webhook-request';
import { WebhookUseCases } from './webhook.usecases';

@ApiTags('registry: webhooks')
@ApiBearerAuth()
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhookUseCases) {}

  @Post()
  @Roles('admin')
  @ApiOperation({
    summary:
      'Subscribe an HTTP endpoint to registry events. Each event is POSTed as JSON {id, type, occurredAt, position, data} with Trellis-Signature ' +
      '(t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>, as Stripe signs), Trellis-Event-Type and Trellis-Delivery-Id, ' +
      'retried with backoff until a 2xx. The answer holds the signing secret: it is shown this once.',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['url', 'eventTypes'],
      properties: {
        url: { type: 'string', format: 'uri', maxLength: MAX_URL_LENGTH, description: 'http or https, without user name, password or fragment' },
        eventTypes: { type: 'array', minItems: 1, items: { type: 'string', enum: [ALL_EVENT_TYPES, ...knownEventTypes()] } },
      },
    },
  })
  register(@Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.webhooks.register(body, actor);
  }

  @Get()
  @Roles('admin')
  @ApiOperation({ summary: 'Webhooks, newest first, disabled ones included (URLs without their query string)' })
  list() {
    return this.webhooks.list();
  }

  @Delete(':id')
  @HttpCode(200)
  @Roles('admin')
  @ApiOperation({ summary: 'Disable a webhook: nothing more is sent to it and its pending deliveries end failed; its delivery log stays' })
  disable(@Param('id') id: string) {
    return this.webhooks.disable(id);
  }

  @Get(':id/deliveries')
  @Roles('admin')
  @ApiOperation({ summary: "A webhook's deliveries, newest first: status, attempts, next attempt, last status code and error" })
  @ApiQuery({ name: 'status', required: false, enum: [...DELIVERY_STATUSES] })
  @ApiQuery({ name: 'limit', required: false, type: Number, description: `1 to ${MAX_DELIVERY_LIMIT}, default ${DEFAULT_DELIVERY_LIMIT}` })
  deliveries(@Param('id') id: string, @Query('limit') limit: unknown, @Query('status') status: unknown) {
    return this.webhooks.deliveries(id, limit, status);
  }
}
