import { DomainException, ErrorClass, unreachable } from '@trellis/errors';

export enum ContractErrorCode {
  UnknownEventType = 'UNKNOWN_EVENT_TYPE',
  UnknownSchemaVersion = 'UNKNOWN_SCHEMA_VERSION',
  InvalidEventData = 'INVALID_EVENT_DATA',
  MissingUpcaster = 'MISSING_UPCASTER',
  DuplicateRegistration = 'DUPLICATE_REGISTRATION',
}

export class ContractException extends DomainException<ContractErrorCode> {
  constructor(code: ContractErrorCode, message: string, fields: string[] = []) {
    super(code, message, fields);
  }

  get errorClass(): ErrorClass {
    switch (this.code) {
      case ContractErrorCode.InvalidEventData:
      case ContractErrorCode.UnknownEventType:
      case ContractErrorCode.UnknownSchemaVersion:
        return 'validation';
      case ContractErrorCode.MissingUpcaster:
      case ContractErrorCode.DuplicateRegistration:
        return 'internal';
      default:
        return unreachable(this.code);
    }
  }
}
