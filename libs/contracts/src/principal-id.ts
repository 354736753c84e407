/**
 * What a principal id may be, wherever it comes from (an API token's principal, a JWT `sub`):
 * letters, digits and `. _ : | -`, 1 to 100 characters. No control characters, no spaces and no
 * `@`, so an e-mail address (personal data, which must not enter the immutable log) cannot
 * become an actor id: an identity provider whose `sub` is one must map it to a pseudonym.
 */
export const PRINCIPAL_ID_PATTERN = /^[A-Za-z0-9._:|-]{1,100}$/;

export function isPrincipalId(value: unknown): value is string {
  return typeof value === 'string' && PRINCIPAL_ID_PATTERN.test(value);
}
