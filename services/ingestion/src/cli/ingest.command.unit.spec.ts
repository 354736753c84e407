import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliRefusedError, jsonDocument, TrellisHttpClient } from '@trellis/cli';
import { INGEST_USAGE, runIngest } from './ingest.command';

type Answer = { status: number; body?: unknown };

/** The ingestion REST API as the command uses it, on a local port: one subject, one file already ingested, one the platform rejects. */
class FakeIngestion {
  readonly requests: string[] = [];
  datasetAnswer: Answer = { status: 201, body: { datasetId: 'ds-1' } };
  private server!: Server;

  constructor(private readonly duplicateSha256: string) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      void this.answer(req).then(({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(body === undefined ? '' : JSON.stringify(body));
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  private async answer(req: IncomingMessage): Promise<Answer> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url!, 'http://x');
    this.requests.push(`${req.method} ${url.pathname}`);
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /ingestion/subjects/S1') return { status: 200, body: { subjectId: 'sub-1' } };
    if (route === 'GET /ingestion/assets') {
      return { status: 200, body: url.searchParams.get('sha256') === this.duplicateSha256 ? [{ assetId: 'asset-dup', status: 'ingested' }] : [] };
    }
    if (route === 'POST /ingestion/assets') {
      const form = await new Response(Buffer.concat(chunks), { headers: { 'content-type': req.headers['content-type']! } }).formData();
      const name = (form.get('file') as File).name;
      if (name === 'broken.png') return { status: 422, body: { error: 'ASSET_REJECTED', reason: 'TRUNCATED', message: 'the image data ends early' } };
      return { status: 201, body: { assetId: `asset-${name}` } };
    }
    if (route === 'GET /ingestion/datasets/demo') return { status: 404, body: { error: 'DATASET_NOT_FOUND', message: 'no dataset demo' } };
    if (route === 'POST /ingestion/datasets') return this.datasetAnswer;
    if (route === 'POST /ingestion/datasets/ds-1/assets') {
      return { status: 200, body: { added: (JSON.parse(Buffer.concat(chunks).toString()) as { assetIds: string[] }).assetIds.length } };
    }
    if (route === 'POST /ingestion/datasets/ds-1/versions') return { status: 201, body: { version: 1, merkleRoot: 'ab'.repeat(32) } };
    return { status: 404, body: { error: 'NOT_FOUND', message: route } };
  }
}

describe('runIngest', () => {
  let folder: string;
  let platform: FakeIngestion;
  let client: TrellisHttpClient;
  let stdout: jest.SpyInstance;
  let stderr: jest.SpyInstance;

  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'trellis-ingest-cli-'));
    const duplicate = Buffer.from('already ingested');
    await writeFile(join(folder, 'a.png'), 'image a');
    await writeFile(join(folder, 'b.png'), duplicate);
    await writeFile(join(folder, 'broken.png'), 'broken');
    await writeFile(join(folder, 'a.txt'), 'report on a');
    await writeFile(
      join(folder, 'manifest.jsonl'),
      [
        { path: 'a.png', subject: 'S1' },
        { path: 'b.png', subject: 'S1' },
        { path: 'broken.png', subject: 'S1' },
        { path: 'a.txt', subject: 'S1', kind: 'report', describes: 'a.png' },
        { path: '../outside.png', subject: 'S1' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
    platform = new FakeIngestion(createHash('sha256').update(duplicate).digest('hex'));
    client = new TrellisHttpClient(await platform.start(), 'trl_test');
    // The progress bar writes to the real stderr; nothing may write to the real stdout.
    stdout = jest.spyOn(process.stdout, 'write');
    stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });

  afterEach(async () => {
    stdout.mockRestore();
    stderr.mockRestore();
    await platform.stop();
    await rm(folder, { recursive: true, force: true });
  });

  const args = (...more: string[]) => [folder, '--manifest', join(folder, 'manifest.jsonl'), '--dataset', 'demo', '--publish', ...more];

  it('prints the summary lines on stdout, each rejected file with its reason, and exits 1', async () => {
    const out: string[] = [];
    const { code } = await runIngest(args(), client, (l) => out.push(l));
    expect(code).toBe(1);
    expect(out).toEqual([
      'ingested: 2',
      'duplicate: 1',
      'rejected: 2',
      '  line 3 broken.png: TRUNCATED: the image data ends early',
      '  line 5 ../outside.png: PATH_ESCAPES_FOLDER: "../outside.png" leaves the folder',
      `dataset demo (ds-1): 3 added, published version 1 (merkle root ${'ab'.repeat(32)})`,
    ]);
  });

  it('--json prints one JSON document on stdout: counts, each rejected file with its reason code, the dataset and its version', async () => {
    const out: string[] = [];
    const { code } = await runIngest(args('--json'), client, (l) => out.push(l));
    expect(code).toBe(1);
    expect(out).toHaveLength(1);
    expect(out[0]).toBe(jsonDocument(JSON.parse(out[0])));
    expect(JSON.parse(out[0])).toEqual({
      ingested: 2,
      duplicate: 1,
      rejected: [
        { line: 3, path: 'broken.png', reason: 'TRUNCATED', message: 'the image data ends early' },
        { line: 5, path: '../outside.png', reason: 'PATH_ESCAPES_FOLDER', message: '"../outside.png" leaves the folder' },
      ],
      dataset: { name: 'demo', datasetId: 'ds-1', added: 3, version: 1, merkleRoot: 'ab'.repeat(32) },
    });
    expect(stdout).not.toHaveBeenCalled();
    expect(stderr.mock.calls.map(([t]) => String(t)).join('')).toMatch(/5\/5 ingested 2 duplicate 1 rejected 2/);
  });

  it("--json still prints the files' outcome when the platform refuses the dataset step, with the error, and the refusal decides the exit code", async () => {
    platform.datasetAnswer = { status: 400, body: { error: 'INVALID_REQUEST', message: 'body.name: too long' } };
    const out: string[] = [];
    await expect(runIngest(args('--json'), client, (l) => out.push(l))).rejects.toThrow(CliRefusedError);
    expect(out).toHaveLength(1);
    const summary = JSON.parse(out[0]) as Record<string, unknown>;
    expect(summary).toMatchObject({ ingested: 2, duplicate: 1, error: 'dataset demo: 400 INVALID_REQUEST: body.name: too long' });
    expect(summary.rejected).toHaveLength(2);
    expect(summary.dataset).toBeUndefined();
    expect(platform.requests).not.toContain('POST /ingestion/datasets/ds-1/versions');
  });

  it('says so in its usage', () => {
    expect(INGEST_USAGE.split('\n')[0]).toContain('[--json]');
  });
});
