import { parseCliArgs } from './cli-args';

describe('parseCliArgs', () => {
  it('separates positional arguments, --name value flags and declared switches', () => {
    const args = parseCliArgs(['folder', '--manifest', 'm.csv', '--publish', 'extra', '--dataset', 'demo'], { switches: ['publish'] });
    expect(args.positional).toEqual(['folder', 'extra']);
    expect(args.flags).toEqual({ manifest: 'm.csv', dataset: 'demo' });
    expect([...args.switches]).toEqual(['publish']);
  });

  it('refuses a flag without its value, with the error the command chooses', () => {
    class UsageError extends Error {}
    expect(() => parseCliArgs(['--manifest'])).toThrow('--manifest needs a value');
    expect(() => parseCliArgs(['--manifest', '--publish'], { error: (m) => new UsageError(m) })).toThrow(UsageError);
    // An undeclared switch is a flag that wants a value.
    expect(() => parseCliArgs(['--publish'])).toThrow('--publish needs a value');
  });
});
