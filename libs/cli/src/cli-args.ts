export interface CliArgs {
  positional: string[];
  /** `--name value` pairs. */
  flags: Record<string, string>;
  /** Flags that take no value (declared in `switches`) and were given. */
  switches: Set<string>;
}

/**
 * The one command-line parser of the `trellis` and `token` CLIs: `--name value` flags, declared
 * value-less switches, and positional arguments. A flag without its value is an error built by
 * `error` (each command adds its own usage text or error type).
 */
export function parseCliArgs(argv: string[], options: { switches?: string[]; error?: (message: string) => Error } = {}): CliArgs {
  const error = options.error ?? ((m: string) => new Error(m));
  const known = new Set(options.switches ?? []);
  const result: CliArgs = { positional: [], flags: {}, switches: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      result.positional.push(a);
      continue;
    }
    const name = a.slice(2);
    if (known.has(name)) {
      result.switches.add(name);
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) throw error(`${a} needs a value`);
    result.flags[name] = value;
    i++;
  }
  return result;
}
