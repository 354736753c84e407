import { DomainException, ErrorClass, unreachable } from '@trellis/errors';

export enum TokenizerErrorCode {
  InvalidTokenizerJson = 'INVALID_TOKENIZER_JSON',
  UnsupportedComponent = 'UNSUPPORTED_TOKENIZER_COMPONENT',
  InvalidTrainingOptions = 'INVALID_TRAINING_OPTIONS',
  UnknownToken = 'UNKNOWN_TOKEN',
  UnknownId = 'UNKNOWN_TOKEN_ID',
}

export class TokenizerException extends DomainException<TokenizerErrorCode> {
  constructor(code: TokenizerErrorCode, message: string, fields: string[] = []) {
    super(code, message, fields);
  }

  get errorClass(): ErrorClass {
    switch (this.code) {
      case TokenizerErrorCode.InvalidTokenizerJson:
      case TokenizerErrorCode.UnsupportedComponent:
      case TokenizerErrorCode.InvalidTrainingOptions:
      case TokenizerErrorCode.UnknownToken:
      case TokenizerErrorCode.UnknownId:
        return 'validation';
      default:
        return unreachable(this.code);
    }
  }
}
