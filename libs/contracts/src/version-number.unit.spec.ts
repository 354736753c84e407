import { MAX_VERSION, parseVersionNumber } from './version-number';

describe('parseVersionNumber', () => {
  it('reads decimal integers from 1 to the PostgreSQL int maximum', () => {
    expect(parseVersionNumber('1')).toBe(1);
    expect(parseVersionNumber('42')).toBe(42);
    expect(parseVersionNumber(String(MAX_VERSION))).toBe(MAX_VERSION);
  });

  it.each(['0', '-1', '1e3', '0x10', '1.0', '01', ' 7', '7 ', '', '2147483648', '99999999999', 'one'])('refuses %j', (raw) => {
    expect(parseVersionNumber(raw)).toBeUndefined();
  });

  it('refuses what is not text', () => {
    expect(parseVersionNumber(3)).toBeUndefined();
    expect(parseVersionNumber(undefined)).toBeUndefined();
  });
});
