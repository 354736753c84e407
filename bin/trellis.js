#!/usr/bin/env node
// The `trellis` command (`npm run trellis -- ...`, `npm run token -- ...`, `npx trellis ...`).
// It runs the compiled CLI from dist/ with plain node: under ts-node, tsconfig-paths/register
// reads process.argv for --project (its tsconfig option), so `--project ID` never reached our
// parser. dist/ is (re)built first when it is missing or older than the sources.
const { join } = require('node:path');

const root = join(__dirname, '..');
const entry = join(root, 'dist', 'services', 'platform', 'src', 'cli', 'trellis.cli.js');

require('../scripts/ensure-build.js').buildIfStale('the CLI');

// Relative paths the user types resolve against the directory they ran the command in:
// `npm run` and `npx` put it in INIT_CWD; a direct `node bin/trellis.js` run gets it here. The
// CLI itself runs from the repository root, as `npm start` does, so defaults such as
// .trellis/data are the platform's.
if (!process.env.INIT_CWD) process.env.INIT_CWD = process.cwd();
process.chdir(root);

require('../scripts/register-paths.js');
const { runTrellisCli } = require(entry);
runTrellisCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`trellis: ${err && err.message ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
