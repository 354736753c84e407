import { CliCommand, CliRefusedError, CliUsageError, JSON_SWITCH, jsonDocument, onlyFlags, parseCliArgs, positionals } from '@trellis/cli';
import { DEMO, DemoJourney } from './demo-journey';

const USAGE = `usage: trellis demo [--patience SECONDS] [--json]
  Walks the whole lifecycle on a running platform through its public HTTP and GraphQL APIs: a
  steward registers synthetic subjects with their consent and ingests their images and reports;
  three annotators caption them blind and a reviewer reviews and adjudicates; an engineer makes
  the tiny base model, trains a LoRA run (${DEMO.steps} steps, with a progress bar), evaluates it on
  held-out subjects and asks to promote it to champion; an approver approves; a subject withdraws
  consent; and the auditor's GraphQL questions are printed with their answers. Each step reuses
  what an earlier run made, so running it again is safe. TRELLIS_TOKEN must hold the admin role:
  the demo issues its people's API tokens (new ones each run, expiring in a day).
  --patience: how long to wait for the platform's consumers to hear of a step (default 120).
  --json: the account goes to stderr, and stdout carries one JSON document at the end: the
  champion's model version, the withdrawn subject, and the auditor's two answers.
example:
  trellis demo            # TRELLIS_TOKEN: an admin's token (npm run token -- create --roles admin --label me)
  trellis demo --json > demo.json`;

export const demoCommand: CliCommand = {
  summary: 'walk the whole lifecycle on a running platform with synthetic data (needs an admin token)',
  usage: USAGE,
  async run(argv) {
    const { positional, flags, switches } = parseCliArgs(argv, { switches: [JSON_SWITCH], error: (m) => new CliUsageError(m) });
    const json = switches.has(JSON_SWITCH);
    positionals(positional, []);
    onlyFlags(flags, ['patience']);
    const patience = flags.patience === undefined ? 120 : Number(flags.patience);
    if (!Number.isInteger(patience) || patience < 1)
      throw new CliUsageError(`--patience must be a whole number of seconds, got ${JSON.stringify(flags.patience)}`);
    const token = process.env.TRELLIS_TOKEN;
    if (!token) throw new CliRefusedError('set TRELLIS_TOKEN to an API token with the admin role (npm run token -- create --roles admin --label me)');
    const outcome = await new DemoJourney({
      baseUrl: process.env.TRELLIS_URL || 'http://127.0.0.1:3000',
      adminToken: token,
      say: (line) => (json ? console.error(line) : console.log(line)),
      note: (line) => console.error(line),
      patienceMs: patience * 1000,
    }).run();
    // The auditor's token stays out: a document meant for scripts and files.
    const { auditorToken: _token, ...answer } = outcome;
    if (json) console.log(jsonDocument(answer));
    return 0;
  },
};
