import { CliCommand, CliRefusedError, CliUsageError, EXIT } from './cli-command';
import { runCli } from './cli-runner';
import { errorText, platformError } from './trellis-http.client';

/** A command that records its arguments and behaves as `behaviour` says. */
function command(behaviour: (argv: string[]) => Promise<number> = async () => EXIT.ok): CliCommand & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    summary: 'does things',
    usage: 'usage: trellis thing <sub> --flag V\nexample:\n  trellis thing go --flag 1',
    subcommands: { go: 'usage: trellis thing go --flag V\nexample:\n  trellis thing go --flag 1' },
    run: (argv) => {
      calls.push(argv);
      return behaviour(argv);
    },
  };
}

async function run(argv: string[], thing = command()) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli('trellis', { thing }, argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n'), thing };
}

describe('runCli', () => {
  describe('help', () => {
    it.each([[['--help']], [['-h']], [['help']]])('prints the overall usage with an example on stdout and exits 0 for %j', async (argv) => {
      const r = await run(argv);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/usage: trellis <command>/);
      expect(r.out).toMatch(/thing +does things/);
      expect(r.out).toMatch(/trellis ingest --help/);
      expect(r.out).toMatch(/exit codes: 0 ok, 1 failed .*, 2 usage error, 3 refused by the platform/);
      expect(r.out).toMatch(/^--json \(every command that talks to the platform\): its answer as one JSON document on stdout/m);
      expect(r.err).toBe('');
    });

    it.each([[['thing', '--help']], [['thing', '-h']], [['help', 'thing']], [['thing', 'other', '--flag', 'x', '--help']]])(
      "prints the command's usage and runs nothing for %j",
      async (argv) => {
        const r = await run(argv);
        expect(r.code).toBe(0);
        expect(r.out).toBe('usage: trellis thing <sub> --flag V\nexample:\n  trellis thing go --flag 1');
        expect(r.thing.calls).toEqual([]);
      },
    );

    it.each([[['thing', 'go', '--help']], [['help', 'thing', 'go']]])("prints a subcommand's own usage for %j", async (argv) => {
      const r = await run(argv);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^usage: trellis thing go --flag V\nexample:/);
    });
  });

  describe('usage errors', () => {
    it('exits 2 with the overall usage on stderr for no command, an unknown command, or help for an unknown one', async () => {
      for (const argv of [[], ['nope'], ['help', 'nope'], ['constructor']]) {
        const r = await run(argv);
        expect(r.code).toBe(2);
        expect(r.out).toBe('');
        expect(r.err).toMatch(/usage: trellis <command>/);
      }
      expect((await run(['nope'])).err).toMatch(/^trellis: unknown command "nope"/);
    });

    it("exits 2 with the message and the (sub)command's usage when the command throws CliUsageError", async () => {
      const r = await run(
        ['thing', 'go', '--flag'],
        command(async () => Promise.reject(new CliUsageError('--flag needs a value'))),
      );
      expect(r.code).toBe(2);
      expect(r.err).toBe('trellis thing: --flag needs a value\nusage: trellis thing go --flag V\nexample:\n  trellis thing go --flag 1');
    });
  });

  describe('exit codes of a run', () => {
    it("passes the command's own code through, with the arguments after its name", async () => {
      const r = await run(
        ['thing', 'go', '--flag', '1'],
        command(async () => EXIT.partlyFailed),
      );
      expect(r.code).toBe(1);
      expect(r.thing.calls).toEqual([['go', '--flag', '1']]);
    });

    it('exits 3 on a refusal by the platform and 1 on any other error, each one line without a stack trace', async () => {
      const refused = await run(
        ['thing'],
        command(async () => Promise.reject(platformError(undefined, 403, { error: 'FORBIDDEN', message: 'requires steward' }))),
      );
      expect(refused).toMatchObject({ code: 3, err: 'trellis thing: 403 FORBIDDEN: requires steward' });
      const failed = await run(
        ['thing'],
        command(async () => Promise.reject(new Error('cannot reach the platform'))),
      );
      expect(failed).toMatchObject({ code: 1, err: 'trellis thing: cannot reach the platform' });
      expect(
        (
          await run(
            ['thing'],
            command(async () => Promise.reject(platformError('publishing', 503, 'busy'))),
          )
        ).code,
      ).toBe(1);
      expect(
        (
          await run(
            ['thing'],
            command(async () => Promise.reject(new CliRefusedError('no'))),
          )
        ).code,
      ).toBe(3);
    });
  });
});

describe('errorText', () => {
  it('takes the reason from the body, else the error code', () => {
    expect(errorText({ error: 'ASSET_REJECTED', reason: 'TRUNCATED', message: 'the image data ends early' })).toEqual({
      error: 'ASSET_REJECTED',
      reason: 'TRUNCATED',
      message: 'the image data ends early',
    });
    expect(errorText({ error: 'NOT_FOUND', message: 'no such dataset' })).toEqual({ error: 'NOT_FOUND', reason: 'NOT_FOUND', message: 'no such dataset' });
  });

  it('does not repeat a reason the message starts with, and copes with bodies that are not error bodies', () => {
    expect(errorText({ error: 'ASSET_REJECTED', reason: 'TRUNCATED', message: 'TRUNCATED: the image data ends early' }).message).toBe(
      'the image data ends early',
    );
    expect(errorText('Bad Gateway')).toEqual({ error: 'HTTP_ERROR', reason: 'HTTP_ERROR', message: 'Bad Gateway' });
    expect(errorText(undefined)).toEqual({ error: 'HTTP_ERROR', reason: 'HTTP_ERROR', message: '' });
  });
});
