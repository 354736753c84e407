export * from './lora-linear';
export * from './lora-adapters';
export * from './peft-config';
export * from './target-modules';
export * from './lora.exception';
