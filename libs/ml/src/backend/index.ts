export * from './tfjs-registrations';
export * from './blas-library';
export * from './blas-kernels';
export * from './ml-backend';
export * from './gflops';
export * from './ml-backend.exception';
export * from './backend-choice';
export * from './elementwise-kernels';
