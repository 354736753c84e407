export enum ContractErrorCode {
  UnknownEventType = 'UNKNOWN_EVENT_TYPE',
  UnknownSchemaVersion = 'UNKNOWN_SCHEMA_VERSION',
  InvalidEventData = 'INVALID_EVENT_DATA',
  MissingUpcaster = 'MISSING_UPCASTER',
  DuplicateRegistration = 'DUPLICATE_REGISTRATION',
}

export class ContractException extends Error {
  constructor(
    readonly code: ContractErrorCode,
    message: string,
    /** Dotted paths of the offending fields, for INVALID_EVENT_DATA. */
    readonly fields: string[] = [],
  ) {
    super(message);
    this.name = 'ContractException';
  }
}
