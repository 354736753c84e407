import { DomainException, type ErrorClass, unreachable } from '@trellis/errors';

export enum LoraErrorCode {
  /** Rank, alpha or dropout out of range, or an adapter_config.json that is not a LoRA config. */
  InvalidConfig = 'LORA_INVALID_CONFIG',
  /** A PEFT feature we do not implement (DoRA, rank patterns, regex targets ...). */
  UnsupportedConfig = 'LORA_UNSUPPORTED_CONFIG',
  /** A target module name is empty or matches no linear layer. */
  InvalidTarget = 'LORA_INVALID_TARGET',
  AlreadyApplied = 'LORA_ALREADY_APPLIED',
  /** merge() on a merged adapter, unmerge() on one that is not. */
  InvalidMergeState = 'LORA_INVALID_MERGE_STATE',
  /** merge()/unmerge() need a float base weight; an NF4 base has none to add to. */
  UnsupportedBase = 'LORA_UNSUPPORTED_BASE',
  InvalidRngState = 'LORA_INVALID_RNG_STATE',
  AdapterNotFound = 'LORA_ADAPTER_NOT_FOUND',
  /** The adapter file carries a base weight (PEFT saves one for a targeted lm_head) that is not this model's. */
  BaseMismatch = 'LORA_BASE_MISMATCH',
}

export class LoraException extends DomainException<LoraErrorCode> {
  constructor(code: LoraErrorCode, message: string, fields: string[] = []) {
    super(code, message, fields);
  }

  get errorClass(): ErrorClass {
    switch (this.code) {
      case LoraErrorCode.InvalidConfig:
      case LoraErrorCode.UnsupportedConfig:
      case LoraErrorCode.InvalidTarget:
      case LoraErrorCode.UnsupportedBase:
      case LoraErrorCode.InvalidRngState:
      case LoraErrorCode.BaseMismatch:
        return 'validation';
      case LoraErrorCode.AlreadyApplied:
      case LoraErrorCode.InvalidMergeState:
        return 'conflict';
      case LoraErrorCode.AdapterNotFound:
        return 'not_found';
      default:
        return unreachable(this.code);
    }
  }
}
