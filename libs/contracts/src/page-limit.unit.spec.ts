import { PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX, parsePageLimit } from './page-limit';

describe(parsePageLimit.name, () => {
  it('gives the default when absent and an integer from 1 to the maximum as given', () => {
    expect([parsePageLimit(undefined), parsePageLimit('1'), parsePageLimit('250'), parsePageLimit(String(PAGE_LIMIT_MAX))]).toEqual([
      PAGE_LIMIT_DEFAULT,
      1,
      250,
      PAGE_LIMIT_MAX,
    ]);
  });

  it('gives undefined for anything else, so that the service names the field', () => {
    for (const raw of ['0', '-1', String(PAGE_LIMIT_MAX + 1), '2.5', 'two', '', ['1', '2'], null]) expect([raw, parsePageLimit(raw)]).toEqual([raw, undefined]);
  });
});
