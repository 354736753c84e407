import { writeSyntheticFolder } from '@trellis/synthetic';
import { CliCommand, CliUsageError, parseCliArgs, userPath } from '@trellis/cli';

const USAGE = `usage: trellis synthetic <folder> [--seed N] [--subjects N] [--items-per-subject N] [--size PIXELS] [--format png|jpeg|dicom]
  Writes a seeded synthetic data set (images, reports with fake identifiers, manifest.jsonl,
  subjects.jsonl) for trying the platform; needs no running platform.
example:
  trellis synthetic demo
  trellis subjects import demo/subjects.jsonl
  trellis ingest demo --manifest demo/manifest.jsonl --dataset demo --publish`;

const FORMATS = ['png', 'jpeg', 'dicom'] as const;

function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new CliUsageError(`--${flag} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/** Local only (no platform needed): makes demo data, since real domain data cannot ship with the code. */
export const syntheticCommand: CliCommand = {
  summary: 'write a synthetic demo data set (images, reports, manifest, subjects) to a folder',
  usage: USAGE,
  async run(argv) {
    const { positional, flags } = parseCliArgs(argv, { error: (m) => new CliUsageError(m) });
    const unknown = Object.keys(flags).filter((f) => !['seed', 'subjects', 'items-per-subject', 'size', 'format'].includes(f));
    if (unknown.length > 0) throw new CliUsageError(`unknown option --${unknown[0]}`);
    if (positional.length !== 1) throw new CliUsageError(positional.length === 0 ? 'a <folder> is required' : `one <folder> only, got ${positional.join(' ')}`);
    const format = (flags.format ?? 'png') as (typeof FORMATS)[number];
    if (!FORMATS.includes(format)) throw new CliUsageError(`--format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(flags.format)}`);
    const written = await writeSyntheticFolder(userPath(positional[0]), {
      seed: positiveInt('seed', flags.seed, 1),
      subjects: positiveInt('subjects', flags.subjects, 5),
      itemsPerSubject: positiveInt('items-per-subject', flags['items-per-subject'], 4),
      imageSize: positiveInt('size', flags.size, 128),
      imageFormat: format,
    });
    console.log(`manifest: ${written.manifestPath}\nsubjects: ${written.subjectsPath}`);
    return 0;
  },
};
