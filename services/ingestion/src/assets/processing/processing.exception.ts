export enum AssetValidationCode {
  EMPTY_FILE = 'EMPTY_FILE',
  WRONG_MAGIC = 'WRONG_MAGIC',
  UNSUPPORTED_TYPE = 'UNSUPPORTED_TYPE',
  TOO_LARGE = 'TOO_LARGE',
  TOO_MANY_PIXELS = 'TOO_MANY_PIXELS',
  TRUNCATED = 'TRUNCATED',
  DECODE_FAILED = 'DECODE_FAILED',
  NOT_UTF8 = 'NOT_UTF8',
  INVALID_FHIR = 'INVALID_FHIR',
  UNSUPPORTED_DICOM = 'UNSUPPORTED_DICOM',
}

/**
 * Why an uploaded file was refused. The message says what is wrong (sizes, limits, the
 * structure that is missing) and never quotes the content, which may hold personal data;
 * it goes into AssetRejected as is.
 */
export class AssetValidationError extends Error {
  readonly code: AssetValidationCode;

  /** Takes the enum member or its string value ('TRUNCATED'), which is the same code. */
  constructor(code: AssetValidationCode | `${AssetValidationCode}`, message: string) {
    super(message);
    this.code = code as AssetValidationCode;
    this.name = 'AssetValidationError';
  }
}
