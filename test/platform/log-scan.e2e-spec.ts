import { format } from 'node:util';
import request from 'supertest';
import { generateSyntheticDataset } from '@trellis/synthetic';
import { PlatformTestApp, startPlatformTestApp } from './platform-test-app';

/**
 * Everything the process writes while a flow runs: stdout, stderr and the console (which jest
 * replaces, so it is captured on its own), kept in memory and scanned afterwards.
 */
function captureOutput(): { text: () => string; restore: () => void } {
  const chunks: string[] = [];
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (chunks.push(String(chunk)), true)),
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (chunks.push(String(chunk)), true)),
    ...(['log', 'info', 'warn', 'error', 'debug', 'trace'] as const).map((m) =>
      jest.spyOn(console, m).mockImplementation((...args: unknown[]) => void chunks.push(format(...args))),
    ),
  ];
  return { text: () => chunks.join('\n'), restore: () => spies.forEach((s) => s.mockRestore()) };
}

describe('issue 11 item 4: personal data in logs', () => {
  const data = generateSyntheticDataset({ seed: 4, subjects: 3, itemsPerSubject: 1, imageSize: 32, imageFormat: 'png' });
  const personal = data.subjects.flatMap((s) => [s.name, s.birthDate, s.mrn]);
  let t: PlatformTestApp;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    t = await startPlatformTestApp();
    http = request(t.app.getHttpServer());
  });
  afterAll(() => t.close());

  it('writes no personal value of the synthetic subjects to stdout, stderr or the console: ingest, refusals and failing queries', async () => {
    const output = captureOutput();
    try {
      const steward = `Bearer ${(await t.token(['steward'])).token}`;
      for (const [i, s] of data.subjects.entries()) {
        const reg = await http
          .post('/ingestion/subjects')
          .set('authorization', steward)
          .send({ externalRef: `log-scan-${Date.now()}-${i}`, name: s.name, birthDate: s.birthDate, mrn: s.mrn });
        expect(reg.status).toBe(201);
        const subjectId = reg.body.subjectId as string;
        await http
          .post(`/ingestion/subjects/${subjectId}/consents`)
          .set('authorization', steward)
          .send({ decision: 'permit', purposes: ['model-training', 'human-annotation'] })
          .expect(201);
        const item = data.items.find((x) => x.subjectRef === s.subjectRef)!;
        const image = await http
          .post('/ingestion/assets')
          .set('authorization', steward)
          .field('subject', subjectId)
          .attach('file', item.encoded!.bytes, { filename: 'a.png', contentType: 'image/png' });
        expect(image.status).toBe(201);
        const report = await http
          .post('/ingestion/assets')
          .set('authorization', steward)
          .field('subject', subjectId)
          .field('describesAssetId', image.body.assetId)
          .attach('file', Buffer.from(`${item.report}\n${s.name}, born ${s.birthDate}, MRN ${s.mrn}`), { filename: 'r.txt', contentType: 'text/plain' });
        expect(report.status).toBe(201);
        // Personal values typed where they do not belong: refused, and not repeated anywhere.
        const wrong = await http
          .post('/ingestion/assets')
          .set('authorization', steward)
          .field('subject', subjectId)
          .field('mimeType', `${s.name} ${s.mrn}`)
          .field('kind', `${s.birthDate}`)
          .attach('file', Buffer.from('x'), { filename: 'x.bin', contentType: 'application/octet-stream' });
        expect(wrong.status).toBe(400);
        expect(JSON.stringify(wrong.body)).not.toContain(s.mrn);
        // Queries that fail with personal values as parameters (PostgreSQL repeats unparseable input in its message).
        for (const [sql, params] of [
          ['SELECT $1::uuid', [s.name]],
          ['SELECT $1::date, $2::int', [s.birthDate, s.mrn]],
          ['SELECT * FROM no_such_table WHERE name = $1 AND mrn = $2', [s.name, s.mrn]],
        ] as const) {
          await expect(t.dataSource.query(sql, [...params])).rejects.toBeDefined();
        }
      }
    } finally {
      output.restore();
    }
    const logged = output.text();
    expect(logged).toContain('query failed'); // the failures were logged, without their values
    expect(personal.filter((value) => logged.includes(value))).toEqual([]);
  });
});
