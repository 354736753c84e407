/**
 * `trellis annotation <subcommand>`: project creation, publishing, export and import against a
 * running platform's REST API (TRELLIS_URL, TRELLIS_TOKEN), so it works the same for the
 * embedded default and a distributed deployment.
 */
import { readFile, writeFile } from 'node:fs/promises';
import {
  CliCommand,
  CliUsageError,
  commandUsage,
  emitter,
  JSON_SWITCH,
  jsonDocument,
  numberFlag,
  parseCliArgs,
  expectStatus,
  reportCliError,
  requireFlag,
  TrellisHttpClient,
  userPath,
} from '@trellis/cli';

const SUBCOMMAND_USAGE = {
  'create-project': `usage: trellis annotation create-project --dataset DATASET_ID --dataset-version N --type caption|vqa|classification
      [--labels A,B,...] (--guidelines TEXT | --guidelines-file PATH) --per-item N --threshold X
      [--name NAME] [--max-length N] [--json]
  Creates a project on a published dataset version; prints its id on stdout (with --json, the
  platform's answer: projectId, tasks, datasetVersionReceived).
example:
  trellis annotation create-project --dataset DATASET_ID --dataset-version 1 --type caption --guidelines-file guidelines.md --per-item 2 --threshold 0.5`,
  publish: `usage: trellis annotation publish --project PROJECT_ID [--json]
  Publishes the project's final items as a new immutable annotation set; prints its version (with
  --json, the set: version, itemCount, leftOutCount, contentSha256).
example:
  trellis annotation publish --project PROJECT_ID`,
  export: `usage: trellis annotation export --project PROJECT_ID --set-version N [--format llava|coco|jsonl] [--out FILE] [--json]
  Writes an annotation set (default llava) to FILE, or to stdout. With --json, stdout is one JSON
  document: the set (jsonl as an array of its records), or with --out { file, format, bytes }.
example:
  trellis annotation export --project PROJECT_ID --set-version 1 --format llava --out set.json`,
  import: `usage: trellis annotation import --project PROJECT_ID --format llava|coco|jsonl FILE [--json]
  Imports a file in one of the export formats into the project (all or nothing); with --json the
  platform's answer (imported, skipped [{ reason, count }]).
example:
  trellis annotation import --project PROJECT_ID --format llava set.json`,
};

export const ANNOTATION_USAGE = ['usage: trellis annotation <subcommand> ...', ...Object.values(SUBCOMMAND_USAGE).map((u) => u.replace(/^usage: /, ''))].join(
  '\n\n',
);

export interface HttpResult {
  status: number;
  text: string;
}

/** What the command needs from the outside world; tests hand in fakes. */
export interface AnnotationCliDeps {
  http(method: string, path: string, body?: { json?: unknown; raw?: Buffer }): Promise<HttpResult>;
  readFile(path: string): Promise<Buffer>;
  writeFile(path: string, data: string): Promise<void>;
  out(text: string): void;
  err(text: string): void;
}

export function parseFlags(argv: string[]): { positional: string[]; flags: Record<string, string>; json: boolean } {
  const { positional, flags, switches } = parseCliArgs(argv, { switches: [JSON_SWITCH], error: (m) => new CliUsageError(m) });
  return { positional, flags, json: switches.has(JSON_SWITCH) };
}

/**
 * Runs one subcommand; returns the exit code (0 done, 1 failed, 2 bad usage, 3 refused by the
 * platform). It reports its own errors through `deps.err`, so tests see what a user sees.
 */
export async function runAnnotationCommand(argv: string[], deps: AnnotationCliDeps): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    const { positional, flags, json } = parseFlags(rest);
    const emit = emitter(deps.out, json);
    const expect = async (res: Promise<HttpResult>, ok: number[]): Promise<HttpResult> => expectStatus(await res, ok);
    switch (sub) {
      case 'create-project': {
        const guidelines = flags['guidelines-file']
          ? (await deps.readFile(userPath(flags['guidelines-file']))).toString('utf8')
          : requireFlag(flags, 'guidelines');
        const body = {
          name: flags.name ?? `annotation of ${requireFlag(flags, 'dataset')} v${requireFlag(flags, 'dataset-version')}`,
          datasetId: requireFlag(flags, 'dataset'),
          datasetVersion: numberFlag(flags, 'dataset-version', true),
          taskType: requireFlag(flags, 'type'),
          ...(flags.labels
            ? {
                labels: flags.labels
                  .split(',')
                  .map((l) => l.trim())
                  .filter(Boolean),
              }
            : {}),
          guidelines,
          annotationsPerItem: numberFlag(flags, 'per-item', true),
          agreementThreshold: numberFlag(flags, 'threshold', true),
          ...(flags['max-length'] ? { maxTextLength: numberFlag(flags, 'max-length', true) } : {}),
        };
        const r = await expect(deps.http('POST', '/annotation/projects', { json: body }), [201]);
        const p = JSON.parse(r.text) as { projectId: string; tasks: Record<string, number>; datasetVersionReceived: boolean };
        deps.err(
          p.datasetVersionReceived
            ? `created project with ${p.tasks.open} task(s)`
            : 'created project; its tasks appear when the dataset version reaches the annotation service',
        );
        emit(p, () => deps.out(p.projectId));
        return 0;
      }
      case 'publish': {
        const r = await expect(deps.http('POST', `/annotation/projects/${encodeURIComponent(requireFlag(flags, 'project'))}/sets`), [201]);
        const s = JSON.parse(r.text) as { version: number; itemCount: number; leftOutCount: number; contentSha256: string };
        deps.err(`published set version ${s.version}: ${s.itemCount} item(s), ${s.leftOutCount} left out, sha256 ${s.contentSha256}`);
        emit(s, () => deps.out(String(s.version)));
        return 0;
      }
      case 'export': {
        const format = flags.format ?? 'llava';
        const path = `/annotation/projects/${encodeURIComponent(requireFlag(flags, 'project'))}/sets/${encodeURIComponent(requireFlag(flags, 'set-version'))}/export?format=${encodeURIComponent(format)}`;
        const r = await expect(deps.http('GET', path), [200]);
        if (flags.out) {
          const out = userPath(flags.out);
          await deps.writeFile(out, r.text);
          deps.err(`wrote ${out}`);
          if (json) deps.out(jsonDocument({ file: out, format, bytes: Buffer.byteLength(r.text) }));
        } else if (json) {
          // JSON Lines is the one format that is not a JSON document: its records become an array.
          const set: unknown =
            format === 'jsonl'
              ? r.text
                  .split('\n')
                  .filter((l) => l.trim() !== '')
                  .map((l) => JSON.parse(l) as unknown)
              : JSON.parse(r.text);
          deps.out(jsonDocument(set));
        } else deps.out(r.text);
        return 0;
      }
      case 'import': {
        if (positional.length !== 1) throw new CliUsageError('import takes exactly one FILE');
        const file = await deps.readFile(userPath(positional[0]));
        const path = `/annotation/projects/${encodeURIComponent(requireFlag(flags, 'project'))}/imports?format=${encodeURIComponent(requireFlag(flags, 'format'))}`;
        const r = await expect(deps.http('POST', path, { raw: file }), [201]);
        const result = JSON.parse(r.text) as { imported: number; skipped: { reason: string; count: number }[] };
        emit(result, () => {
          const skipped = result.skipped.map((s) => `${s.count} ${s.reason}`).join(', ');
          deps.out(`imported ${result.imported} item(s)${skipped ? `; skipped ${skipped}` : ''}`);
        });
        return 0;
      }
      default:
        throw new CliUsageError(sub ? `unknown subcommand ${JSON.stringify(sub)}` : 'a subcommand is required');
    }
  } catch (err) {
    return reportCliError(
      err,
      sub && sub in SUBCOMMAND_USAGE ? `trellis annotation ${sub}` : 'trellis annotation',
      commandUsage(annotationCommand, sub),
      deps.err,
    );
  }
}

/** The real world: fetch against TRELLIS_URL with TRELLIS_TOKEN, files, stdout/stderr. */
export function defaultDeps(env: NodeJS.ProcessEnv = process.env): AnnotationCliDeps {
  const client = new TrellisHttpClient(env.TRELLIS_URL || 'http://127.0.0.1:3000', env.TRELLIS_TOKEN);
  return {
    http: (method, path, body) => client.send(method, path, body?.raw ?? body?.json),
    readFile: (p) => readFile(p),
    writeFile: (p, d) => writeFile(p, d),
    out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
  };
}

export const annotationCommand: CliCommand = {
  summary: 'annotation projects: create-project, publish, export (llava|coco|jsonl), import',
  usage: ANNOTATION_USAGE,
  subcommands: SUBCOMMAND_USAGE,
  run: (argv) => runAnnotationCommand(argv, defaultDeps()),
};
