/** What kind of failure an error code is; each transport maps a class to its own status once. */
export type ErrorClass = 'validation' | 'unauthenticated' | 'forbidden' | 'not_found' | 'conflict' | 'internal';

/**
 * Base of the one typed exception per domain. A domain decides the class of each of its codes
 * with an exhaustive switch, so adding a code without classifying it does not compile.
 */
export abstract class DomainException<Code extends string = string> extends Error {
  abstract readonly errorClass: ErrorClass;

  constructor(
    readonly code: Code,
    message: string,
    /** Dotted paths of offending input fields, when the error is about input. */
    readonly fields?: string[],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export function unreachable(value: never): never {
  throw new Error(`unclassified error code ${String(value)}`);
}
