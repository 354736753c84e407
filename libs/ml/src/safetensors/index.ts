export * from './half';
export * from './safetensors';
export * from './safetensors.exception';
export * from './variable-tensors.codec';
