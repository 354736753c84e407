import { CliRefusedError, CliUsageError } from './cli-command';
import { bodyOf, expectStatus, numberFlag, onlyFlags, positionals, queryString, requireFlag, subcommandsUsage, wholeNumber } from './cli-helpers';

describe('cli helpers', () => {
  it('checks flags and arguments with usage errors that name them', () => {
    expect(requireFlag({ model: 'm' }, 'model')).toBe('m');
    expect(() => requireFlag({ model: '' }, 'model')).toThrow(new CliUsageError('--model is required'));
    expect([numberFlag({ rank: '8' }, 'rank'), numberFlag({}, 'rank')]).toEqual([8, undefined]);
    expect(() => numberFlag({}, 'rank', true)).toThrow(new CliUsageError('--rank is required'));
    expect(() => numberFlag({ rank: 'eight' }, 'rank')).toThrow(new CliUsageError('--rank must be a number, got "eight"'));
    expect(() => numberFlag({ rank: ' ' }, 'rank')).toThrow(CliUsageError);
    expect(wholeNumber('12', 'VERSION')).toBe(12);
    expect(() => wholeNumber('1.5', 'VERSION')).toThrow(new CliUsageError('VERSION must be a whole number, got "1.5"'));
    expect(() => onlyFlags({ a: '1', b: '2' }, ['a'])).toThrow(new CliUsageError('unknown option --b'));
    expect(positionals(['x', 'y'], ['NAME', 'VERSION'])).toEqual(['x', 'y']);
    expect(() => positionals(['x'], ['NAME', 'VERSION'])).toThrow(new CliUsageError('VERSION is required'));
    expect(() => positionals(['x', 'y', 'z'], ['NAME', 'VERSION'])).toThrow(new CliUsageError('unexpected argument "z"'));
  });

  it('builds query strings and usages', () => {
    expect(queryString({ a: 'x y', b: undefined, c: '&' })).toBe('?a=x%20y&c=%26');
    expect(queryString({ b: undefined })).toBe('');
    expect(subcommandsUsage('lineage', { show: 'usage: trellis lineage show ID\n  ...', walk: 'usage: trellis lineage walk ID' })).toBe(
      'usage: trellis lineage <subcommand> ...\n\ntrellis lineage show ID\n  ...\n\ntrellis lineage walk ID',
    );
  });

  it('passes an expected answer and turns another into the platform error; parses JSON bodies', () => {
    const ok = { status: 200, text: '{"a":1}' };
    expect(expectStatus(ok, [200])).toBe(ok);
    expect(bodyOf(ok)).toEqual({ a: 1 });
    expect(bodyOf({ text: '# card' })).toBe('# card');
    expect(() => expectStatus({ status: 403, text: '{"error":"FORBIDDEN","message":"requires one of the roles: auditor"}' }, [200])).toThrow(CliRefusedError);
  });
});
