export * from './linear';
export * from './seeded-random';
