import type { DomainException } from '@trellis/errors';

type ExceptionClass<E extends DomainException> = abstract new (...args: never[]) => E;

/**
 * Runs fn and checks that it throws the domain exception `type` with `code` (and a message
 * matching `message`); returns the exception for further checks.
 */
export function expectException<E extends DomainException>(fn: () => unknown, type: ExceptionClass<E>, code: E['code'], message?: RegExp | string): E {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  return check(thrown, type, code, message);
}

/** expectException for a promise. */
export async function expectRejection<E extends DomainException>(
  promise: Promise<unknown>,
  type: ExceptionClass<E>,
  code: E['code'],
  message?: RegExp | string,
): Promise<E> {
  let thrown: unknown;
  try {
    await promise;
  } catch (err) {
    thrown = err;
  }
  return check(thrown, type, code, message);
}

function check<E extends DomainException>(thrown: unknown, type: ExceptionClass<E>, code: E['code'], message?: RegExp | string): E {
  expect(thrown).toBeInstanceOf(type);
  const err = thrown as E;
  expect(err.code).toBe(code);
  if (message !== undefined) expect(err.message).toMatch(message);
  return err;
}
