import { DomainException, ErrorClass, unreachable } from '@trellis/errors';

export enum EventStoreErrorCode {
  WrongExpectedVersion = 'WRONG_EXPECTED_VERSION',
  InvalidAppend = 'INVALID_APPEND',
  LogNotFound = 'LOG_NOT_FOUND',
}

export class EventStoreException extends DomainException<EventStoreErrorCode> {
  constructor(
    code: EventStoreErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(code, message);
  }

  /** A concurrent writer moved the stream on: reloading and deciding again may succeed. */
  override get transient(): boolean {
    return this.code === EventStoreErrorCode.WrongExpectedVersion;
  }

  get errorClass(): ErrorClass {
    switch (this.code) {
      case EventStoreErrorCode.WrongExpectedVersion:
        return 'conflict';
      case EventStoreErrorCode.InvalidAppend:
        return 'validation';
      case EventStoreErrorCode.LogNotFound:
        return 'not_found';
      default:
        return unreachable(this.code);
    }
  }
}
