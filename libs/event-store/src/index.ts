export * from './event-store.exception';
export * from './expected-version';
export * from './event-hash';
export * from './postgres-event-store';
export * from './log-notifier';
export * from './catch-up-subscription';
export * from './projection-runner';
export * from './event-store.module';
