import { DomainException, ErrorClass, unreachable } from '@trellis/errors';

export enum SafetensorsErrorCode {
  InvalidHeader = 'SAFETENSORS_INVALID_HEADER',
  UnknownDtype = 'SAFETENSORS_UNKNOWN_DTYPE',
  InvalidOffsets = 'SAFETENSORS_INVALID_OFFSETS',
  ShapeMismatch = 'SAFETENSORS_SHAPE_MISMATCH',
  TensorNotFound = 'SAFETENSORS_TENSOR_NOT_FOUND',
  InvalidIndex = 'SAFETENSORS_INVALID_INDEX',
  InvalidTensor = 'SAFETENSORS_INVALID_TENSOR',
  /** A file's tensors do not fit the variables they are loaded into (missing, unexpected, shape, dtype). */
  CheckpointMismatch = 'SAFETENSORS_CHECKPOINT_MISMATCH',
}

export class SafetensorsException extends DomainException<SafetensorsErrorCode> {
  constructor(code: SafetensorsErrorCode, message: string, fields: string[] = []) {
    super(code, message, fields);
  }

  get errorClass(): ErrorClass {
    switch (this.code) {
      case SafetensorsErrorCode.InvalidHeader:
      case SafetensorsErrorCode.UnknownDtype:
      case SafetensorsErrorCode.InvalidOffsets:
      case SafetensorsErrorCode.ShapeMismatch:
      case SafetensorsErrorCode.InvalidIndex:
      case SafetensorsErrorCode.InvalidTensor:
      case SafetensorsErrorCode.CheckpointMismatch:
        return 'validation';
      case SafetensorsErrorCode.TensorNotFound:
        return 'not_found';
      default:
        return unreachable(this.code);
    }
  }
}
