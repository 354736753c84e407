export * from './layers';
export * from './backend';
export * from './tokenizer';
