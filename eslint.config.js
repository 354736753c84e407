// Lint: the import boundaries of the architecture, plus typescript-eslint's recommended rules.
// `npm test` runs it (with the format check and the type check) before the tests.
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const boundaries = require('./eslint/boundaries.rule');

module.exports = tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      '.trellis/',
      'coverage/',
      'console/src/api/graphql.generated.ts',
      '**/*.js',
      '!eslint/**',
      '!eslint.config.js',
      '!bin/**',
      '!scripts/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { trellis: { rules: { boundaries: boundaries.rule } } },
    rules: {
      'trellis/boundaries': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Declarations of untyped third-party modules (dcmjs): a DICOM value's type depends on its VR.
    files: ['**/*.d.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Reference values printed by PyTorch/bitsandbytes, kept digit for digit as they were printed.
    files: ['**/*.fixture.ts', '**/fixtures/**', '**/reference/**', '**/*.unit.spec.ts'],
    rules: { 'no-loss-of-precision': 'off' },
  },
  {
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
        fetch: 'readonly',
        setTimeout: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
