export * from './bleu';
export * from './cider';
export * from './frechet';
export * from './metrics.exception';
export * from './perplexity';
export * from './python-split';
export * from './vqa';
