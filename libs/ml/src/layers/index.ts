export * from './linear';
export * from './seeded-random';
export * from './tf-gradients';
