export * from './linear';
export * from './seeded-random';
export * from './activations';
export * from './norms';
export * from './rotary-embedding';
export * from './attention-mask';
export * from './attention';
export * from './mlp';
