import { DomainException, ErrorClass, unreachable } from '@trellis/errors';

export enum WebhookErrorCode {
  InvalidRequest = 'INVALID_REQUEST',
  WebhookNotFound = 'WEBHOOK_NOT_FOUND',
  /** enqueue was handed an event that is not the registry's: a caller's bug, refused loudly. */
  NotARegistryEvent = 'NOT_A_REGISTRY_EVENT',
  /** A REGISTRY_WEBHOOK_* setting is unusable; found at start-up. */
  InvalidConfiguration = 'INVALID_CONFIGURATION',
}

export class WebhookException extends DomainException<WebhookErrorCode> {
  /** None of these heals by trying again. */
  override get transient(): boolean {
    return false;
  }

  get errorClass(): ErrorClass {
    switch (this.code) {
      case WebhookErrorCode.InvalidRequest:
        return 'validation';
      case WebhookErrorCode.WebhookNotFound:
        return 'not_found';
      case WebhookErrorCode.NotARegistryEvent:
      case WebhookErrorCode.InvalidConfiguration:
        return 'internal';
      default:
        return unreachable(this.code);
    }
  }
}
