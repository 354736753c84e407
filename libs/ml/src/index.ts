export * from './layers';
export * from './backend';
export * from './model';
export * from './tokenizer';
export * from './safetensors';
export * from './metrics';
