export * from './half';
export * from './safetensors';
export * from './safetensors.exception';
