export enum EventStoreErrorCode {
  WrongExpectedVersion = 'WRONG_EXPECTED_VERSION',
  InvalidAppend = 'INVALID_APPEND',
}

export class EventStoreException extends Error {
  constructor(
    readonly code: EventStoreErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'EventStoreException';
  }
}
