export * from './byte-level';
export * from './bpe-trainer';
export * from './byte-level-bpe.tokenizer';
export * from './tokenizer.exception';
