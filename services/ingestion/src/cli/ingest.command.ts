import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import {
  CliCommand,
  CliUsageError,
  errorText,
  JSON_SWITCH,
  jsonDocument,
  parseCliArgs,
  platformError,
  ProgressBar,
  TrellisHttpClient,
  userPath,
} from '@trellis/cli';
import type { AssetRejectionCode } from '@trellis/contracts';
import { ManifestEntry, ManifestRow, parseManifest, resolveInside } from './manifest.parser';

export const INGEST_USAGE = `usage: trellis ingest <folder> --manifest <file.csv|file.jsonl> [--dataset <name>] [--publish] [--concurrency N] [--json]
  Uploads the files a manifest lists (paths inside <folder>), adds them to the dataset and, with
  --publish, publishes a new version. Files already ingested are skipped, so a re-run resumes.
  --concurrency N (1..64, default 4) uploads at once; when the platform is busy (503 with
  Retry-After) a file is sent again after that wait, so a high N does not lose files.
  manifest columns: path, subject (id or external ref; also subjectRef/subjectId), kind, mimeType, describes (path of the described image)
  exit code 1 when any file was rejected (each listed with its reason)
  --json: one JSON object on stdout in place of the summary lines (ingested, duplicate, rejected
  [{ line, path, reason, message }], dataset { name, datasetId, added, version and merkleRoot or unchanged }, and
  error when the dataset step failed); the progress stays on stderr
example:
  trellis ingest demo --manifest demo/manifest.jsonl --dataset demo --publish`;

const KNOWN_FLAGS = ['manifest', 'dataset', 'concurrency'];

const TYPE_BY_EXTENSION: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.dcm': 'application/dicom',
  '.txt': 'text/plain',
  '.json': 'application/fhir+json',
};

export interface IngestSummary {
  ingested: number;
  duplicate: number;
  rejected: { line: number; path: string; reason: string; message: string }[];
  dataset?: { name: string; datasetId: string; added: number; version?: number; merkleRoot?: string; unchanged?: boolean };
}

function parseArgs(argv: string[]): { folder: string; manifest: string; dataset?: string; publish: boolean; concurrency: number; json: boolean } {
  const { positional, flags, switches } = parseCliArgs(argv, { switches: ['publish', JSON_SWITCH], error: (m) => new CliUsageError(m) });
  const unknown = Object.keys(flags).find((f) => !KNOWN_FLAGS.includes(f));
  if (unknown) throw new CliUsageError(`unknown option --${unknown}`);
  if (positional.length !== 1) throw new CliUsageError(positional.length === 0 ? 'a <folder> is required' : `one <folder> only, got ${positional.join(' ')}`);
  if (flags.manifest === undefined) throw new CliUsageError('--manifest is required');
  const concurrency = flags.concurrency === undefined ? 4 : Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new CliUsageError('--concurrency must be 1..64');
  return {
    folder: userPath(positional[0]),
    manifest: userPath(flags.manifest),
    dataset: flags.dataset,
    publish: switches.has('publish'),
    concurrency,
    json: switches.has(JSON_SWITCH),
  };
}

/**
 * Bulk import through the REST API. Idempotent and so resumable: before uploading, a file's
 * hash is looked up for its subject and a file already ingested is counted as a duplicate
 * without sending it again; the server answers a repeated upload with the existing asset too.
 * Reports that describe an image are sent after every image. `out` is stdout: the summary
 * lines, or with --json the summary as one JSON document.
 */
export async function runIngest(
  argv: string[],
  client = new TrellisHttpClient(),
  out: (line: string) => void = (l) => console.log(l),
): Promise<{ code: number; summary: IngestSummary }> {
  const args = parseArgs(argv);
  const format = extname(args.manifest).toLowerCase() === '.csv' ? 'csv' : 'jsonl';
  const folder = await stat(args.folder).catch(() => undefined);
  if (!folder?.isDirectory()) throw new Error(`${args.folder} is not a folder`);
  const entries: ManifestEntry[] = parseManifest(await readFile(args.manifest, 'utf8'), format);
  const summary: IngestSummary = { ingested: 0, duplicate: 0, rejected: [] };
  const assetByPath = new Map<string, string>();
  const subjectIds = new Map<string, Promise<string | null>>();
  const rows: ManifestRow[] = [];
  for (const e of entries) {
    if (e.ok) rows.push(e.row);
    else summary.rejected.push({ line: e.line, path: e.path, reason: e.reason, message: e.message });
  }
  const bar = new ProgressBar(entries.length);
  let done = summary.rejected.length;
  const tick = () => bar.update(done, `ingested ${summary.ingested} duplicate ${summary.duplicate} rejected ${summary.rejected.length}`);
  tick();

  const subjectIdOf = (ref: string) => {
    if (!subjectIds.has(ref)) {
      subjectIds.set(
        ref,
        client.request('GET', `/ingestion/subjects/${encodeURIComponent(ref)}`).then((r) => (r.status === 200 ? (r.body.subjectId as string) : null)),
      );
    }
    return subjectIds.get(ref)!;
  };

  const one = async (row: ManifestRow): Promise<void> => {
    const reject = (reason: string, message: string) => summary.rejected.push({ line: row.line, path: row.path, reason, message });
    const where = await resolveInside(args.folder, row.path);
    if (!where.ok) return void reject(where.reason, where.message);
    const mimeType = row.mimeType ?? TYPE_BY_EXTENSION[extname(row.path).toLowerCase()];
    if (!mimeType) return void reject('BAD_ROW', `no mimeType given and none known for the extension of ${row.path}`);
    let describesAssetId: string | undefined;
    if (row.describes) {
      describesAssetId = assetByPath.get(row.describes);
      if (!describesAssetId) return void reject('INVALID_DESCRIBES' satisfies AssetRejectionCode, `the described image ${row.describes} was not ingested`);
    }
    const bytes = await readFile(where.file);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const subjectId = await subjectIdOf(row.subject);
    if (subjectId) {
      const found = await client.request('GET', `/ingestion/assets?subjectId=${subjectId}&sha256=${sha256}`);
      const existing = found.status === 200 ? (found.body as { assetId: string; status: string }[]).find((a) => a.status === 'ingested') : undefined;
      if (existing) {
        assetByPath.set(row.path, existing.assetId);
        summary.duplicate += 1;
        return;
      }
    }
    const form = new FormData();
    form.set('subject', row.subject);
    form.set('mimeType', mimeType);
    if (row.kind) form.set('kind', row.kind);
    if (describesAssetId) form.set('describesAssetId', describesAssetId);
    form.set('file', new Blob([bytes], { type: mimeType }), row.path.split('/').pop());
    const res = await client.request('POST', '/ingestion/assets', form);
    if (res.status === 201 || res.status === 200) {
      assetByPath.set(row.path, res.body.assetId);
      if (res.body.duplicate) summary.duplicate += 1;
      else summary.ingested += 1;
      return;
    }
    const { reason, message } = errorText(res.body);
    reject(reason, message);
  };

  const pool = async (batch: ManifestRow[]) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(args.concurrency, batch.length) }, async () => {
        while (next < batch.length) {
          const row = batch[next++];
          await one(row);
          done += 1;
          tick();
        }
      }),
    );
  };
  await pool(rows.filter((r) => !r.describes));
  await pool(rows.filter((r) => r.describes));
  bar.finish();

  summary.rejected.sort((a, b) => a.line - b.line);
  // The files' outcome first: a refused dataset step must not hide which files were rejected.
  if (!args.json) {
    out(`ingested: ${summary.ingested}`);
    out(`duplicate: ${summary.duplicate}`);
    out(`rejected: ${summary.rejected.length}`);
    for (const r of summary.rejected) out(`  line ${r.line} ${r.path}: ${r.reason}: ${r.message}`);
  }

  let datasetFailure: unknown;
  if (args.dataset) {
    try {
      summary.dataset = await addToDataset(client, args.dataset, [...new Set(assetByPath.values())], args.publish);
    } catch (err) {
      datasetFailure = err;
    }
  }
  if (args.json) {
    out(
      jsonDocument(
        datasetFailure === undefined ? summary : { ...summary, error: datasetFailure instanceof Error ? datasetFailure.message : String(datasetFailure) },
      ),
    );
  } else if (summary.dataset) {
    const d = summary.dataset;
    out(
      `dataset ${d.name} (${d.datasetId}): ${d.added} added` +
        (d.version ? `, published version ${d.version} (merkle root ${d.merkleRoot})` : d.unchanged ? ', unchanged since the last version' : ''),
    );
  }
  // Thrown after the summary, so that its exit code (3 refused, 1 failed) is the dataset step's.
  if (datasetFailure !== undefined) throw datasetFailure;
  return { code: summary.rejected.length > 0 ? 1 : 0, summary };
}

async function addToDataset(client: TrellisHttpClient, name: string, assetIds: string[], publish: boolean): Promise<NonNullable<IngestSummary['dataset']>> {
  let res = await client.request('GET', `/ingestion/datasets/${encodeURIComponent(name)}`);
  if (res.status === 404) {
    res = await client.request('POST', '/ingestion/datasets', { name });
    // Another import created it meanwhile.
    if (res.status === 409) res = await client.request('GET', `/ingestion/datasets/${encodeURIComponent(name)}`);
  }
  if (res.status !== 200 && res.status !== 201) throw platformError(`dataset ${name}`, res.status, res.body);
  const datasetId = res.body.datasetId as string;
  let added = 0;
  for (let i = 0; i < assetIds.length; i += 1000) {
    const r = await client.request('POST', `/ingestion/datasets/${datasetId}/assets`, { assetIds: assetIds.slice(i, i + 1000) });
    if (r.status !== 200) throw platformError(`adding assets to ${name}`, r.status, r.body);
    added += r.body.added;
  }
  const result: NonNullable<IngestSummary['dataset']> = { name, datasetId, added };
  if (publish) {
    const p = await client.request('POST', `/ingestion/datasets/${datasetId}/versions`);
    if (p.status === 201) Object.assign(result, { version: p.body.version, merkleRoot: p.body.merkleRoot });
    else if (p.status === 409) result.unchanged = true;
    else throw platformError(`publishing ${name}`, p.status, p.body);
  }
  return result;
}

export const ingestCommand: CliCommand = {
  summary: 'bulk-import a folder: <folder> --manifest <csv|jsonl> [--dataset <name>] [--publish]',
  usage: INGEST_USAGE,
  run: async (argv: string[]) => (await runIngest(argv)).code,
};
