export * from './domain-error.mapping';
export * from './http-exception.filter';
export * from './graphql-error.formatter';
