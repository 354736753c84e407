/**
 * Token administration from the shell, for bootstrapping the first admin and for operators:
 *   npm run token -- create --roles admin[,auditor...] --label "ci bot" [--principal ID] [--expires ISO-DATE]
 *   npm run token -- revoke <tokenId>
 *   npm run token -- list
 * Uses DATABASE_URL, or the embedded PostgreSQL under TRELLIS_DATA_DIR (started if not running).
 */
import 'reflect-metadata';
import { ApiTokenRepository, ApiTokenUseCases, authContracts } from '@trellis/auth';
import { Actor, EventContractRegistry } from '@trellis/contracts';
import { databaseConfigFromEnv } from '@trellis/common';
import { DomainException } from '@trellis/errors';
import { PostgresEventStore } from '@trellis/event-store';
import { connectDatabase } from '@trellis/runtime';
import { MIGRATIONS } from '../../../../migrations';
import { parseCliArgs } from '@trellis/cli';

/** Events written from the CLI are attributed to the local operator account, as admin. */
const CLI_ACTOR: Actor = { id: 'local-cli', role: 'admin' };

const USAGE = `usage:
  token create --roles ROLE[,ROLE...] --label TEXT [--principal ID] [--expires ISO-8601]
  token revoke TOKEN_ID
  token list`;

export function parseArgs(argv: string[]): { command: string; positional: string[]; flags: Record<string, string> } {
  const [command = '', ...rest] = argv;
  const { positional, flags } = parseCliArgs(rest, { error: (m) => new Error(`${m}\n${USAGE}`) });
  return { command, positional, flags };
}

async function main(): Promise<number> {
  const { command, positional, flags } = parseArgs(process.argv.slice(2));
  if (!['create', 'revoke', 'list'].includes(command)) {
    console.error(USAGE);
    return 2;
  }
  const db = await connectDatabase(databaseConfigFromEnv(), (m) => console.error(`[trellis] ${m}`), MIGRATIONS);
  try {
    const store = new PostgresEventStore(db.dataSource, new EventContractRegistry().include(authContracts));
    const useCases = new ApiTokenUseCases(db.dataSource, store, new ApiTokenRepository(db.dataSource));
    if (command === 'create') {
      const issued = await useCases.issue(
        {
          label: flags.label,
          roles: (flags.roles ?? '').split(',').map((r) => r.trim()).filter(Boolean),
          principalId: flags.principal,
          expiresAt: flags.expires,
        },
        CLI_ACTOR,
      );
      console.error(`created token ${issued.tokenId} for principal ${issued.principalId} with roles ${issued.roles.join(', ')}; it is shown only once:`);
      console.log(issued.token);
    } else if (command === 'revoke') {
      if (positional.length !== 1) throw new Error(USAGE);
      await useCases.revoke(positional[0], CLI_ACTOR);
      console.error(`revoked ${positional[0]}`);
    } else {
      for (const t of await useCases.list()) {
        console.log([t.tokenId, t.principalId, t.roles.join(','), t.revokedAt ? 'revoked' : t.expiresAt ?? 'no-expiry', t.label].join('\t'));
      }
    }
    return 0;
  } catch (err) {
    console.error(err instanceof DomainException ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err));
    return 1;
  } finally {
    await db.close();
  }
}

if (require.main === module) {
  main().then((code) => process.exit(code));
}
