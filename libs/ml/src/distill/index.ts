export * from './distillation.loss';
