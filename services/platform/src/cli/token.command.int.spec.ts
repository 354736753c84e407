import { CliRefusedError } from '@trellis/cli';
import { tokenCommand } from './token.command';

/** Runs the command in this process against the test database, with what it prints on stdout. */
async function token(...argv: string[]): Promise<{ code: number; stdout: string[] }> {
  const stdout: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((line: unknown) => void stdout.push(String(line)));
  const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    return { code: await tokenCommand.run(argv), stdout };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe('tokenCommand', () => {
  const env = process.env.DATABASE_URL;
  beforeAll(() => {
    process.env.DATABASE_URL = process.env.TRELLIS_TEST_DATABASE_URL;
  });
  afterAll(() => {
    if (env === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = env;
  });

  describe('create, list, revoke', () => {
    it('issues a token printed alone on stdout, lists it, revokes it, and refuses an unknown role', async () => {
      const label = `cli-${Date.now()}`;
      const created = await token('create', '--roles', 'annotator', '--label', label);
      expect(created.code).toBe(0);
      expect(created.stdout).toEqual([expect.stringMatching(/^trl_/)]);
      const listed = (await token('list')).stdout.find((l) => l.endsWith(`\t${label}`));
      expect(listed).toMatch(/\tannotator\tno-expiry\t/);
      const tokenId = listed!.split('\t')[0];
      expect((await token('revoke', tokenId)).code).toBe(0);
      expect((await token('list')).stdout.find((l) => l.startsWith(tokenId))).toMatch(/\trevoked\t/);
      await expect(token('create', '--roles', 'wizard', '--label', label)).rejects.toBeInstanceOf(CliRefusedError);
    });
  });
});
