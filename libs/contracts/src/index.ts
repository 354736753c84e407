export * from './roles';
export * from './envelope';
export * from './canonical-json';
export * from './contract.exception';
export * from './event-contract.registry';
export * from './topics';
export * from './ingestion.contracts';
export * from './annotation.contracts';
