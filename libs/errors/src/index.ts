// Pure: no Nest, Apollo or TypeORM, so that contracts and the ML library can share the base
// exception without loading a server. The transport filters live in @trellis/runtime.
export * from './domain.exception';
export * from './domain-error.mapping';
