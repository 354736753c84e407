export * from './layers';
export * from './backend';
