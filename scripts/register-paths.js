// Resolves the @trellis/* path aliases of tsconfig.json against the compiled output in dist/.
const { register } = require('tsconfig-paths');
const { join } = require('node:path');
const { compilerOptions } = require('../tsconfig.json');

register({ baseUrl: join(__dirname, '..', 'dist'), paths: compilerOptions.paths });
