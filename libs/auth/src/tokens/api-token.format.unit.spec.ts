import { generateApiToken, hashApiToken, looksLikeApiToken } from './api-token.format';

describe('api token format', () => {
  it('generates distinct 256-bit tokens that look like tokens', () => {
    const a = generateApiToken();
    const b = generateApiToken();
    expect(a).not.toBe(b);
    expect(a).toMatch(/^trl_[A-Za-z0-9_-]{43}$/);
    expect(looksLikeApiToken(a)).toBe(true);
    expect(looksLikeApiToken('trl_short')).toBe(false);
    expect(looksLikeApiToken(a.replace('trl_', 'xyz_'))).toBe(false);
  });

  it('hashes with SHA-256 (reference value from sha256sum)', () => {
    expect(hashApiToken('trl_example')).toBe('7aea120e5baaf5f2fdfbef35d8b9e3ce1ac39e490f45e5b9fc7f43eae2eeb200');
  });
});
