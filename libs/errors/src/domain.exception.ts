/** What kind of failure an error code is; each transport maps a class to its own status once. */
export type ErrorClass = 'validation' | 'unauthenticated' | 'forbidden' | 'not_found' | 'conflict' | 'unavailable' | 'internal';

/**
 * Base of the one typed exception per domain. A domain decides the class of each of its codes
 * with an exhaustive switch, so adding a code without classifying it does not compile.
 */
export abstract class DomainException<Code extends string = string> extends Error {
  abstract readonly errorClass: ErrorClass;
  /**
   * The most specific machine-readable reason, e.g. `TRUNCATED` under the code `ASSET_REJECTED`;
   * the code itself where there is nothing finer. Clients branch on it instead of parsing the
   * message, which is for people.
   */
  readonly reason: string;

  constructor(
    readonly code: Code,
    message: string,
    /** Dotted paths of offending input fields, when the error is about input. */
    readonly fields?: string[],
    reason?: string,
  ) {
    super(message);
    this.name = new.target.name;
    this.reason = reason ?? code;
  }

  /**
   * For an `unavailable` error: seconds after which the same request may succeed (an overloaded
   * upload queue, a database away). The HTTP filter sends it as `Retry-After`.
   */
  get retryAfterSeconds(): number | undefined {
    return this.errorClass === 'unavailable' ? 1 : undefined;
  }

  /**
   * Whether the same attempt may succeed later: a concurrent writer, a store not yet consistent,
   * an internal fault. A consumer retries a transient error and dead-letters any other at once,
   * since a broken rule or contract does not heal by waiting. Domains override it per code.
   */
  get transient(): boolean {
    return this.errorClass === 'internal' || this.errorClass === 'unavailable';
  }
}

export function unreachable(value: never): never {
  throw new Error(`unclassified error code ${String(value)}`);
}

/**
 * A permanent failure: a domain rule or contract said no. Anything that is not a domain error
 * (a lost connection, a driver fault) counts as transient, since it is not known to be final.
 */
export function isPermanentError(err: unknown): err is DomainException {
  return err instanceof DomainException && !err.transient;
}
