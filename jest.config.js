// One runner, three tiers. Integration and e2e tiers share a global set-up that starts real
// PostgreSQL, Kafka and an S3 server; the unit tier starts nothing.
const { pathsToModuleNameMapper } = require('ts-jest');

// Jest gives each test file a copy of process.env, so libs/ml cannot quieten native
// TensorFlow's start-up notes from inside a test; the workers inherit this.
process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
const { compilerOptions } = require('./tsconfig.json');

const base = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/' }),
  rootDir: __dirname,
  roots: ['<rootDir>/libs', '<rootDir>/services', '<rootDir>/test', '<rootDir>/migrations', '<rootDir>/console'],
  setupFiles: ['reflect-metadata'],
};
const withServices = {
  ...base,
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  // testTimeout is not a per-project option; this file sets it for these tiers.
  setupFilesAfterEnv: ['<rootDir>/test/setup/long-timeout.ts'],
};

module.exports = {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['**/*.unit.spec.ts'], setupFilesAfterEnv: ['<rootDir>/test/setup/ml-backend.ts'] },
    { ...withServices, displayName: 'int', testMatch: ['**/*.int.spec.ts'] },
    { ...withServices, displayName: 'e2e', testMatch: ['**/*.e2e-spec.ts'] },
  ],
};
