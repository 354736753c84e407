import { randomBytes, randomInt } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { encodeRgbPng } from '@trellis/synthetic';
import { IngestionHarness, startIngestionHarness, steward } from './ingestion-harness';

/** Every file under a directory, recursively (as root: PostgreSQL's own files too). */
async function* filesUnder(dir: string): AsyncGenerator<string> {
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* filesUnder(path);
    else if (e.isFile()) yield path;
  }
}

/** Which of the values occur, as UTF-8 bytes, in any file of PostgreSQL's data directory (WAL included). */
async function foundInDatabaseFiles(ds: DataSource, values: string[]): Promise<string[]> {
  await ds.query('CHECKPOINT');
  const [{ data_directory }] = await ds.query('SHOW data_directory');
  const found = new Set<string>();
  for await (const file of filesUnder(data_directory)) {
    const bytes = await readFile(file).catch(() => Buffer.alloc(0));
    for (const v of values) if (bytes.includes(Buffer.from(v, 'utf8'))) found.add(`${v} in ${file.slice(data_directory.length)}`);
  }
  return [...found];
}

// Issue 11, item 5: erasure leaves no readable residue.
describe('issue 11 item 5: personal details are erasable by construction (crypto-shredding)', () => {
  let h: IngestionHarness;
  beforeAll(async () => (h = await startIngestionHarness()));
  afterAll(() => h.close());

  it('never writes a subject identity in plain text, and leaves none in PostgreSQL files or the blob store after erasure', async () => {
    const tag = randomBytes(4).toString('hex');
    const identity = {
      name: `Quorvath Ellindrae${tag}`,
      mrn: `MRN${randomInt(10 ** 8, 10 ** 9)}`,
      birthDate: `19${randomInt(10, 40)}-0${randomInt(1, 9)}-1${randomInt(0, 9)}`,
      externalRef: `shred-${tag}`,
    };
    const secrets = [identity.name, identity.mrn, identity.externalRef, identity.birthDate];
    const subjectId = await h.consentingSubject(identity);
    const report = Buffer.from(`Patient: ${identity.name}   MRN: ${identity.mrn}\nDOB ${identity.birthDate}. Chest film clear.`, 'utf8');
    await h.ingest.ingest({ subject: identity.externalRef, declaredMimeType: 'text/plain', bytes: report }, steward);
    const png = encodeRgbPng(new Uint8Array(16 * 16 * 3).fill(120), 16, 16);
    await h.ingest.ingest({ subject: subjectId, declaredMimeType: 'image/png', bytes: png }, steward);

    // Sealed on the way in: the table holds ciphertext, and the lookup by reference still works.
    expect(await foundInDatabaseFiles(h.ds, secrets)).toEqual([]);
    expect((await h.subjects.get(identity.externalRef)).subjectId).toBe(subjectId);

    await h.erasure.erase(subjectId, { reason: 'gdpr-art17' }, steward);

    expect(await foundInDatabaseFiles(h.ds, secrets)).toEqual([]);
    expect(await h.ds.query('SELECT 1 FROM ingestion_subject_keys WHERE subject_id = $1', [subjectId])).toEqual([]);
    const leftInBlobs: string[] = [];
    for (const { area, key } of await h.keys()) {
      const bytes = await h.storage.getBuffer(area, key).catch(() => Buffer.alloc(0));
      for (const v of [identity.name, identity.mrn]) if (bytes.includes(Buffer.from(v))) leftInBlobs.push(`${v} in ${area}/${key}`);
    }
    expect(leftInBlobs).toEqual([]);
    // An erased subject's consent no longer reads active.
    const view = await h.subjects.get(subjectId);
    expect(view.status).toBe('erased');
    expect(view.permittedPurposes).toEqual([]);
    expect(view.consents.map((c) => c.status)).toEqual(['inactive']);
  });
});
