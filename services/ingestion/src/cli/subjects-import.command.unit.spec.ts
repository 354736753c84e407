import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliUsageError, jsonDocument, TrellisHttpClient } from '@trellis/cli';
import { runSubjectsImport, SUBJECTS_USAGE } from './subjects-import.command';

type Answer = { status: number; body: unknown };

/** The subject endpoints on a local port: S1 is new, S2 known with one consent, S3 a reference taken by someone else. */
const ROUTES: Record<string, (body: { externalRef?: string }) => Answer> = {
  'POST /ingestion/subjects': ({ externalRef }) =>
    externalRef === 'S1'
      ? { status: 201, body: { subjectId: 'sub-1' } }
      : externalRef === 'S2'
        ? { status: 201, body: { subjectId: 'sub-2', duplicate: true } }
        : { status: 409, body: { error: 'SUBJECT_IDENTITY_CONFLICT', message: 'the reference is registered with a different name' } },
  'GET /ingestion/subjects/sub-2': () => ({
    status: 200,
    body: { consents: [{ consentId: 'c-old', decision: 'permit', purposes: ['research'], withdrawnPurposes: [], periodStart: null, periodEnd: null }] },
  }),
  'POST /ingestion/subjects/sub-1/consents': () => ({ status: 201, body: { consentId: 'c-1' } }),
  'POST /ingestion/subjects/sub-2/consents/c-old/withdraw': () => ({ status: 200, body: {} }),
};

describe('runSubjectsImport', () => {
  let folder: string;
  let server: Server;
  let client: TrellisHttpClient;
  let file: string;

  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'trellis-subjects-cli-'));
    file = join(folder, 'subjects.jsonl');
    await writeFile(
      file,
      [
        JSON.stringify({ subjectRef: 'S1', name: 'A', consents: [{ purposes: ['model-training'] }] }),
        JSON.stringify({ subjectRef: 'S2', name: 'B', consents: [{ purposes: ['research'], withdrawn: true }] }),
        JSON.stringify({ subjectRef: 'S3', name: 'C' }),
        '{ not json',
      ].join('\n'),
    );
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const route = ROUTES[`${req.method} ${req.url}`];
        const a = route ? route(chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {}) : { status: 404, body: { error: 'NOT_FOUND' } };
        res.writeHead(a.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(a.body));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    client = new TrellisHttpClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'trl_test');
  });

  afterEach(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await rm(folder, { recursive: true, force: true });
  });

  it('prints the counts and each failed line on stdout, and exits 1', async () => {
    const out: string[] = [];
    expect(await runSubjectsImport(['import', file], client, (l) => out.push(l))).toBe(1);
    expect(out).toEqual([
      'registered: 1, already known: 1, consents recorded: 1, withdrawn: 1, failed: 2',
      '  line 3 (S3): the reference is registered with a different name',
      '  line 4: not valid JSON',
    ]);
  });

  it('--json prints one JSON document: the counts and each failed line with its reason code', async () => {
    const out: string[] = [];
    expect(await runSubjectsImport(['import', file, '--json'], client, (l) => out.push(l))).toBe(1);
    expect(out).toHaveLength(1);
    expect(out[0]).toBe(jsonDocument(JSON.parse(out[0])));
    expect(JSON.parse(out[0])).toEqual({
      registered: 1,
      existing: 1,
      consents: 1,
      withdrawals: 1,
      failed: [
        { line: 3, subjectRef: 'S3', reason: 'SUBJECT_IDENTITY_CONFLICT', message: 'the reference is registered with a different name' },
        { line: 4, reason: 'BAD_LINE', message: 'not valid JSON' },
      ],
    });
  });

  it('refuses anything but one file, with or without --json', async () => {
    for (const argv of [['import'], ['import', '--json'], ['import', file, 'other'], ['import', file, '--colour', 'red'], ['export', file]]) {
      await expect(runSubjectsImport(argv, client, () => undefined)).rejects.toThrow(CliUsageError);
    }
    expect(SUBJECTS_USAGE.split('\n')[0]).toBe('usage: trellis subjects import <subjects.jsonl> [--json]');
  });
});
