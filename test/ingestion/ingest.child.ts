/**
 * A separate ingestion process for the crash test:
 *   ingest <subjectId> <file> <mimeType>   ingests one file (INGESTION_TEST_PAUSE_AFTER_BLOBS=1
 *                                          makes it stop after the blobs, before the event)
 *   recover                                what a restart does first: resolve stale upload
 *                                          intents (grace 0) and print the report as JSON
 */
import 'reflect-metadata';
import { readFile } from 'node:fs/promises';
import { startIngestionHarness, steward } from './ingestion-harness';

async function main(): Promise<void> {
  const [mode, ...args] = process.argv.slice(2);
  const h = await startIngestionHarness();
  try {
    if (mode === 'ingest') {
      const [subject, file, mimeType] = args;
      const result = await h.ingest.ingest({ subject, declaredMimeType: mimeType, bytes: await readFile(file) }, steward);
      process.stdout.write(`INGESTED ${result.assetId}\n`);
    } else if (mode === 'recover') {
      process.stdout.write(`RECOVERED ${JSON.stringify(await h.recovery.run(0))}\n`);
    } else throw new Error(`unknown mode ${mode}`);
  } finally {
    await h.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
