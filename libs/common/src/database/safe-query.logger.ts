import type { Logger as TypeOrmLogger, QueryRunner } from 'typeorm';

/** What a failed query may say about itself: codes and schema names, never values. */
interface PgErrorFields {
  code?: unknown;
  table?: unknown;
  column?: unknown;
  constraint?: unknown;
  routine?: unknown;
}

const MAX_QUERY_CHARS = 300;

/**
 * TypeORM's own loggers print a failed query with its parameters and the driver's message,
 * and both can carry personal data: parameters are a subject's name, birth date and MRN, and
 * PostgreSQL's message repeats input it could not parse (`invalid input syntax for type uuid:
 * "<value>"`) or a duplicate key (`Key (mrn)=(<value>)`). This logger writes the SQLSTATE code,
 * the table, column, constraint and routine names and the statement text (written by us,
 * values travel as parameters), and nothing else.
 */
export class SafeQueryLogger implements TypeOrmLogger {
  constructor(private readonly write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {}

  logQuery(): void {}

  logQueryError(error: string | Error, query: string): void {
    const e = (typeof error === 'object' && error !== null ? error : {}) as PgErrorFields;
    const fields = (['code', 'table', 'column', 'constraint', 'routine'] as const)
      .filter((k) => typeof e[k] === 'string' && /^[\w.$-]{1,100}$/.test(e[k] as string))
      .map((k) => `${k}=${e[k] as string}`);
    this.write(`[typeorm] query failed (${fields.join(' ') || 'no SQLSTATE'}): ${statementText(query)}`);
  }

  logQuerySlow(time: number, query: string): void {
    this.write(`[typeorm] slow query (${time} ms): ${statementText(query)}`);
  }

  logSchemaBuild(): void {}

  logMigration(message: string): void {
    this.write(`[typeorm] ${oneLine(message)}`);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown, _queryRunner?: QueryRunner): void {
    // TypeORM's own notices (never query data); anything else is reduced to its type.
    if (level === 'warn') this.write(`[typeorm] warning: ${typeof message === 'string' ? oneLine(message) : typeof message}`);
  }
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim().slice(0, MAX_QUERY_CHARS);
}

/** The statement, on one line and bounded; string literals are masked in case one was ever inlined. */
function statementText(query: string): string {
  return oneLine(String(query).replace(/'(?:[^']|'')*'/g, "'…'"));
}
