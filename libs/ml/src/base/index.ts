export * from './base-checkpoint';
export * from './tiny-base-model';
