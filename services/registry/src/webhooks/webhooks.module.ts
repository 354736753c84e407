import { Module } from '@nestjs/common';
import { webhookConfigFromEnv, WEBHOOK_CONFIG } from './webhook.config';
import { WebhookSender } from './webhook.sender';
import { WebhookStore } from './webhook.store';
import { WebhookUseCases } from './webhook.usecases';
import { WebhooksController } from './webhooks.controller';

/**
 * Webhooks on registry events. The registry module imports it and calls
 * `WebhookUseCases.enqueue(tx, envelope)` for each event it appends, in the append's transaction.
 * Needs DataSource (global DatabaseModule); uses the event store's LogNotifier when there is one.
 * Tests override WEBHOOK_CONFIG.
 */
@Module({
  controllers: [WebhooksController],
  providers: [{ provide: WEBHOOK_CONFIG, useFactory: () => webhookConfigFromEnv() }, WebhookStore, WebhookUseCases, WebhookSender],
  exports: [WebhookUseCases, WebhookSender],
})
export class WebhooksModule {}
