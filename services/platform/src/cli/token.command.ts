import { CliCommand, CliRefusedError, CliUsageError, parseCliArgs } from '@trellis/cli';
import type { Actor } from '@trellis/contracts';
import { DomainException } from '@trellis/errors';

/** Events written from the CLI are attributed to the local operator account, as admin. */
const CLI_ACTOR: Actor = { id: 'local-cli', role: 'admin' };

const SUBCOMMAND_USAGE = {
  create: `usage: trellis token create --roles ROLE[,ROLE...] --label TEXT [--principal ID] [--expires ISO-8601]
  Issues an API token and prints it on stdout; it is shown only once.
example:
  trellis token create --roles admin --label me`,
  revoke: `usage: trellis token revoke TOKEN_ID
  Revokes a token (its id is the first column of \`trellis token list\`).
example:
  trellis token revoke TOKEN_ID`,
  list: `usage: trellis token list
  Lists the tokens: id, principal, roles, expiry or revocation, label (never the token itself).
example:
  trellis token list`,
};

const FLAGS: Record<keyof typeof SUBCOMMAND_USAGE, string[]> = { create: ['roles', 'label', 'principal', 'expires'], revoke: [], list: [] };

export const TOKEN_USAGE = [
  'usage: trellis token <subcommand> ...   (also: npm run token -- <subcommand> ...)',
  '  Token administration for bootstrapping the first admin and for operators. Talks to the',
  "  platform's database directly (DATABASE_URL, or the embedded PostgreSQL under TRELLIS_DATA_DIR,",
  '  found running or started for the command), so it works while the platform is stopped.',
  '',
  ...Object.values(SUBCOMMAND_USAGE).map((u) => u.replace(/^usage: /, '')),
].join('\n');

type Subcommand = keyof typeof SUBCOMMAND_USAGE;

export function parseTokenArgs(argv: string[]): { sub: Subcommand; positional: string[]; flags: Record<string, string> } {
  const [sub, ...rest] = argv;
  if (!sub) throw new CliUsageError('a subcommand is required');
  if (!(sub in SUBCOMMAND_USAGE)) throw new CliUsageError(`unknown subcommand ${JSON.stringify(sub)}`);
  const command = sub as Subcommand;
  const { positional, flags } = parseCliArgs(rest, { error: (m) => new CliUsageError(m) });
  const unknown = Object.keys(flags).find((f) => !FLAGS[command].includes(f));
  if (unknown) throw new CliUsageError(`unknown option --${unknown}`);
  if (command === 'create') {
    for (const f of ['roles', 'label']) if (!flags[f]) throw new CliUsageError(`--${f} is required`);
  }
  if (command === 'revoke' && positional.length !== 1) throw new CliUsageError('revoke takes exactly one TOKEN_ID');
  if (command !== 'revoke' && positional.length > 0) throw new CliUsageError(`unexpected argument ${JSON.stringify(positional[0])}`);
  return { sub: command, positional, flags };
}

async function runToken(argv: string[]): Promise<number> {
  const { sub, positional, flags } = parseTokenArgs(argv);
  // The database stack (Nest, TypeORM) takes seconds to load: only for a command that uses it,
  // so `trellis --help` and every other command start at once.
  await import('reflect-metadata');
  const [
    { NestFactory },
    { ApiTokenUseCases, AuthModule, authContracts },
    { DatabaseModule, databaseConfigFromEnv },
    { EventContractRegistry },
    { PostgresEventStore },
    { connectDatabase },
    { MIGRATIONS },
  ] = await Promise.all([
    import('@nestjs/core'),
    import('@trellis/auth'),
    import('@trellis/common'),
    import('@trellis/contracts'),
    import('@trellis/event-store'),
    import('@trellis/runtime'),
    import('../../../../migrations'),
  ]);
  const db = await connectDatabase(databaseConfigFromEnv(), (m) => console.error(`[trellis] ${m}`), MIGRATIONS);
  let app: Awaited<ReturnType<typeof NestFactory.createApplicationContext>> | undefined;
  try {
    // AuthModule as the platform builds it, over this database and an event store of the auth log
    // alone: EventStoreModule would also start the LISTEN notifier, which a one-shot command never reads.
    const store = new PostgresEventStore(db.dataSource, new EventContractRegistry().include(authContracts));
    const eventStore = {
      module: class TokenEventStore {},
      global: true,
      providers: [{ provide: PostgresEventStore, useValue: store }],
      exports: [PostgresEventStore],
    };
    app = await NestFactory.createApplicationContext(
      { module: class TokenCommandModule {}, imports: [DatabaseModule.forDataSource(db.dataSource, db.mode), eventStore, AuthModule] },
      // stdout carries only the command's output (scripts read a created token from it); a failure
      // to build reaches the CLI's exit code instead of aborting the process.
      { logger: false, abortOnError: false },
    );
    const useCases = app.get(ApiTokenUseCases);
    if (sub === 'create') {
      const issued = await useCases.issue(
        {
          label: flags.label,
          roles: flags.roles
            .split(',')
            .map((r) => r.trim())
            .filter(Boolean),
          principalId: flags.principal,
          // Naming --principal is the operator's explicit choice to act as that principal (recorded
          // in the event; refused for people unless TRELLIS_ALLOW_TOKENS_FOR_PEOPLE=1).
          onBehalfOf: flags.principal === undefined ? undefined : true,
          expiresAt: flags.expires,
        },
        CLI_ACTOR,
      );
      console.error(`created token ${issued.tokenId} for principal ${issued.principalId} with roles ${issued.roles.join(', ')}; it is shown only once:`);
      console.log(issued.token);
    } else if (sub === 'revoke') {
      await useCases.revoke(positional[0], CLI_ACTOR);
      console.error(`revoked ${positional[0]}`);
    } else {
      for (const t of await useCases.list()) {
        console.log([t.tokenId, t.principalId, t.roles.join(','), t.revokedAt ? 'revoked' : (t.expiresAt ?? 'no-expiry'), t.label].join('\t'));
      }
    }
    return 0;
  } catch (err) {
    // A rule of the platform said no (unknown role, no such token): a refusal, not a crash.
    if (err instanceof DomainException && err.errorClass !== 'internal') throw new CliRefusedError(`${err.code}: ${err.message}`);
    throw err;
  } finally {
    await app?.close();
    await db.close();
  }
}

export const tokenCommand: CliCommand = {
  summary: 'API tokens: create, revoke, list (also npm run token -- ...)',
  usage: TOKEN_USAGE,
  subcommands: SUBCOMMAND_USAGE,
  run: runToken,
};
