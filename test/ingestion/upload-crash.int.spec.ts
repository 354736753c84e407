import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRgbJpeg, generateSyntheticDataset } from '@trellis/synthetic';
import { spawnTs, waitForExit, waitForLine } from '@trellis/testing';
import { UploadRecovery } from '../../services/ingestion/src/assets/upload-recovery.service';
import { IngestionHarness, startIngestionHarness, steward } from './ingestion-harness';

const CHILD = 'test/ingestion/ingest.child.ts';

/** Runs the child to completion and returns the line it printed with `prefix`. */
async function runChild(args: string[], prefix: string): Promise<string> {
  const child = spawnTs(CHILD, args);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d.toString()));
  child.stderr!.on('data', (d) => (err += d.toString()));
  const code = await waitForExit(child);
  if (code !== 0) throw new Error(`child ${args[0]} exited with ${code}: ${err}`);
  const line = out.split('\n').find((l) => l.startsWith(prefix));
  if (!line) throw new Error(`child ${args[0]} printed no ${prefix} line: ${out}`);
  return line.slice(prefix.length).trim();
}

describe(UploadRecovery.name, () => {
  let h: IngestionHarness;
  let dir: string;

  beforeAll(async () => {
    h = await startIngestionHarness();
    dir = await mkdtemp(join(tmpdir(), 'trellis-crash-'));
  });
  afterAll(async () => {
    await h.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Every blob under the prefix belongs to an ingested asset, and every ingested asset's blobs exist. */
  async function consistent(subjectId: string): Promise<void> {
    const rows = await h.ds.query(`SELECT raw_key, curated_key, derivative_key FROM ingestion_assets WHERE subject_id = $1 AND status = 'ingested'`, [
      subjectId,
    ]);
    const referenced = new Set<string>(
      rows.flatMap((r: { raw_key: string; curated_key: string; derivative_key: string | null }) => [
        `raw:${r.raw_key}`,
        `curated:${r.curated_key}`,
        ...(r.derivative_key ? [`curated:${r.derivative_key}`] : []),
      ]),
    );
    const present = new Set((await h.keys(`subjects/${subjectId}/`)).map((k) => `${k.area}:${k.key}`));
    expect([...present].sort()).toEqual([...referenced].sort());
    const [{ events }] = await h.ds.query(`SELECT count(*)::int AS events FROM trellis_events WHERE type = 'AssetIngested' AND data->>'subjectId' = $1`, [
      subjectId,
    ]);
    expect(events).toBe(rows.length);
  }

  describe('run', () => {
    it('leaves no orphan blob after a process is killed between writing blobs and appending the event', async () => {
      const subjectId = await h.consentingSubject();
      const data = generateSyntheticDataset({ seed: 11, subjects: 1, itemsPerSubject: 2, imageSize: 96 });
      // One asset completes normally first: recovery must not touch its blobs.
      const kept = join(dir, 'kept.jpg');
      await writeFile(kept, encodeRgbJpeg(data.items[0].rgb, 96, 96));
      const keptId = await runChild(['ingest', subjectId, kept, 'image/jpeg'], 'INGESTED');

      const file = join(dir, 'killed.jpg');
      await writeFile(file, encodeRgbJpeg(data.items[1].rgb, 96, 96));
      const child = spawnTs(CHILD, ['ingest', subjectId, file, 'image/jpeg'], { INGESTION_TEST_PAUSE_AFTER_BLOBS: '1' });
      await waitForLine(child, 'BLOBS_WRITTEN');
      child.kill('SIGKILL');
      await waitForExit(child);

      // The state a crash leaves: an intent whose blobs exist, and no event for it.
      const [intent] = await h.ds.query('SELECT asset_id, blobs FROM ingestion_upload_intents WHERE subject_id = $1', [subjectId]);
      expect(intent.blobs).toHaveLength(3);
      for (const b of intent.blobs) expect(await h.storage.stat(b.area, b.key)).not.toBeNull();
      expect(await h.store.readStream('ingestion', `asset-${intent.asset_id}`)).toEqual([]);

      // The restart.
      const report = JSON.parse(await runChild(['recover'], 'RECOVERED'));
      expect(report).toMatchObject({ abandoned: 1, blobsDeleted: 3 });
      for (const b of intent.blobs) expect(await h.storage.stat(b.area, b.key)).toBeNull();
      expect(await h.ds.query('SELECT 1 FROM ingestion_upload_intents WHERE subject_id = $1', [subjectId])).toEqual([]);
      await consistent(subjectId);
      expect(
        (await h.ds.query('SELECT asset_id FROM ingestion_assets WHERE subject_id = $1', [subjectId])).map((r: { asset_id: string }) => r.asset_id),
      ).toEqual([keptId]);

      // The import is simply run again: the file is ingested this time.
      const retried = await runChild(['ingest', subjectId, file, 'image/jpeg'], 'INGESTED');
      expect(retried).not.toBe(intent.asset_id);
      await consistent(subjectId);
    });

    it('leaves an intent younger than the grace period alone (its upload may still be running)', async () => {
      const subjectId = await h.consentingSubject();
      await h.ds.query(`INSERT INTO ingestion_upload_intents (asset_id, subject_id, blobs) VALUES (gen_random_uuid(), $1, '[]')`, [subjectId]);
      expect(await h.recovery.run(60_000)).toMatchObject({ abandoned: 0 });
      expect(await h.ds.query('SELECT 1 FROM ingestion_upload_intents WHERE subject_id = $1', [subjectId])).toHaveLength(1);
      await h.recovery.run(0);
      expect(await h.ds.query('SELECT 1 FROM ingestion_upload_intents WHERE subject_id = $1', [subjectId])).toHaveLength(0);
    });

    it('completes an intent whose event did commit: only the intent goes, the blobs stay', async () => {
      const subjectId = await h.consentingSubject();
      const data = generateSyntheticDataset({ seed: 12, subjects: 1, itemsPerSubject: 1, imageSize: 64, imageFormat: 'png' });
      const asset = await h.ingest.ingest({ subject: subjectId, declaredMimeType: 'image/png', bytes: data.items[0].encoded!.bytes }, steward);
      const [row] = await h.ds.query('SELECT raw_key, curated_key, derivative_key FROM ingestion_assets WHERE asset_id = $1', [asset.assetId]);
      const blobs = [
        { area: 'raw', key: row.raw_key },
        { area: 'curated', key: row.curated_key },
        { area: 'curated', key: row.derivative_key },
      ];
      // As if the process died after its commit but a stale intent were still found.
      await h.ds.query(`INSERT INTO ingestion_upload_intents (asset_id, subject_id, blobs) VALUES ($1, $2, $3)`, [
        asset.assetId,
        subjectId,
        JSON.stringify(blobs),
      ]);
      expect(await h.recovery.run(0)).toMatchObject({ completed: 1, abandoned: 0, blobsDeleted: 0 });
      await consistent(subjectId);
    });
  });
});
