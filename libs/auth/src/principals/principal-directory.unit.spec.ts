import { AuthErrorCode, AuthException } from '../auth.exception';
import { parseDisplayName, requirePrincipalId } from './principal-directory';

const refused = (f: () => unknown, message: RegExp, field = 'body.displayName') => {
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(AuthException);
  expect((thrown as AuthException).code).toBe(AuthErrorCode.InvalidRequest);
  expect((thrown as AuthException).fields).toEqual([field]);
  expect((thrown as Error).message).toMatch(message);
};

describe('parseDisplayName', () => {
  it('trims and keeps a name of up to 200 characters, any script', () => {
    expect(parseDisplayName('  Dr. Ada Lovelace ')).toBe('Dr. Ada Lovelace');
    expect(parseDisplayName('李小龍')).toBe('李小龍');
    expect(parseDisplayName('é'.repeat(200))).toHaveLength(200);
  });

  it('refuses an empty or too long name, control characters and a non-string, naming the field but not the value', () => {
    refused(() => parseDisplayName('   '), /must not be empty/);
    refused(() => parseDisplayName('x'.repeat(201)), /at most 200/);
    refused(() => parseDisplayName('Ada\nLovelace'), /control characters/);
    refused(() => parseDisplayName('Ada\u001b[31m'), /control characters/);
    refused(() => parseDisplayName(42), /must be a string/);
    refused(() => parseDisplayName('secret\u0007name'), /^body\.displayName must not contain control characters$/);
  });
});

describe('requirePrincipalId', () => {
  it('takes a pseudonymous id and refuses anything else, naming the parameter', () => {
    expect(requirePrincipalId('prn-0193abcd')).toBe('prn-0193abcd');
    refused(() => requirePrincipalId('a b'), /principal id/, 'params.principalId');
  });
});
