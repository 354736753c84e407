export * from './adamw.optimizer';
export * from './lr-schedule';
export * from './grad-clip';
export * from './data-order';
export * from './trainer';
export * from './training.exception';
export * from './multimodal-sft';
