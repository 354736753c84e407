/**
 * npm run bench:ingestion
 *
 * 1,000 generated 512x512 JPEGs (libs/synthetic) through the full ingest path (admission,
 * validation, decode, curated JPEG (metadata stripped) or PNG, 224x224 derivative, raw + curated blobs, upload intent,
 * AssetIngested event and read model) into a real S3-compatible server, beside a baseline
 * measured in the same run: plain minio `putObject` of the same files at the same concurrency.
 * The full path runs on the image codec the service would use (sharp when it loads, pure JS
 * otherwise; INGESTION_IMAGE_CODEC=js forces pure JS) and writes three blobs per image (the
 * original, the curated image, the 224x224 PNG), so it also reports the bytes it stored.
 * PostgreSQL: DATABASE_URL or a fresh embedded cluster. S3: S3_ENDPOINT (+ S3_ACCESS_KEY,
 * S3_SECRET_KEY) or infra/s3.sh started on BENCH_S3_PORT. Prints a table, then one JSON line.
 */
import 'reflect-metadata';
import { execFileSync, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { v4 as uuidv4 } from 'uuid';
import { createDataSource } from '@trellis/common';
import { MIGRATIONS } from '../migrations';
import { Actor, EventContractRegistry, ingestionContracts } from '@trellis/contracts';
import { PostgresEventStore } from '@trellis/event-store';
import { createObjectStorageFromEnv, S3ObjectStorage } from '@trellis/storage';
import { generateSyntheticDataset } from '@trellis/synthetic';
import { IngestAssetUseCase } from '../services/ingestion/src/assets/ingest-asset.usecase';
import { imageCodecInfo } from '../services/ingestion/src/assets/processing';
import { ConsentUseCases } from '../services/ingestion/src/consents/consent.usecases';
import { ingestionConfigFromEnv } from '../services/ingestion/src/ingestion.config';
import { SubjectUseCases } from '../services/ingestion/src/subjects/subject.usecases';
import { ingestionTestingModule } from '../test/ingestion/ingestion-harness';
import { benchPostgres, cpuPerEvent, cpuSample, printTable } from './bench-services';

const IMAGES = Number(process.env.BENCH_IMAGES || 1000);
const SIZE = 512;
const PER_SUBJECT = 20;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY || 8);
/** Processing worker threads (INGESTION_WORKERS), default one per core. */
const WORKERS = Number(process.env.INGESTION_WORKERS ?? availableParallelism());
const steward: Actor = { id: 'prn-bench', role: 'steward' };

function benchS3(): { env: NodeJS.ProcessEnv; stop(): void } {
  if (process.env.S3_ENDPOINT) return { env: process.env, stop: () => undefined };
  const port = Number(process.env.BENCH_S3_PORT || 18533);
  const env = { ...process.env, S3_PORT: String(port), TRELLIS_DATA_DIR: join(__dirname, '..', '.trellis', 'bench-data') };
  const script = join(__dirname, '..', 'infra', 's3.sh');
  const wasRunning = spawnSync('bash', [script, 'status'], { env, stdio: 'ignore' }).status === 0;
  execFileSync('bash', [script, 'start'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  return {
    env: {
      ...process.env,
      S3_ENDPOINT: `http://127.0.0.1:${port}`,
      S3_ACCESS_KEY: process.env.S3_ACCESS_KEY || 'trellis',
      S3_SECRET_KEY: process.env.S3_SECRET_KEY || 'trellis-secret',
    },
    stop: () => {
      if (!wasRunning) execFileSync('bash', [script, 'stop'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    },
  };
}

async function pool<T>(items: T[], concurrency: number, work: (item: T, i: number) => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i], i);
      }
    }),
  );
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function main(): Promise<void> {
  const pg = await benchPostgres('ingestion', Number(process.env.BENCH_PG_PORT || 54363));
  const s3 = benchS3();
  const ds = await createDataSource({ url: pg.url, poolSize: 20, migrations: MIGRATIONS });
  try {
    // The files: generated a subject at a time so only the encoded JPEGs stay in memory.
    const files: { subjectIndex: number; bytes: Buffer }[] = [];
    for (let s = 0; files.length < IMAGES; s++) {
      const { items } = generateSyntheticDataset({
        seed: 1000 + s,
        subjects: 1,
        itemsPerSubject: Math.min(PER_SUBJECT, IMAGES - files.length),
        imageSize: SIZE,
        imageFormat: 'jpeg',
      });
      for (const item of items) files.push({ subjectIndex: s, bytes: item.encoded!.bytes });
    }
    const totalBytes = files.reduce((n, f) => n + f.bytes.length, 0);

    const run = uuidv4().slice(0, 8);
    const storage = createObjectStorageFromEnv({ ...s3.env, S3_BUCKET_PREFIX: 'trellis-bench-' }) as S3ObjectStorage;
    await storage.init();
    const store = new PostgresEventStore(ds, new EventContractRegistry().include(ingestionContracts));
    // The same S3 adapter, counting what the full path writes through it.
    let storedBytes = 0;
    let puts = 0;
    const counted = Object.assign(Object.create(storage) as S3ObjectStorage, {
      putBuffer: (...args: Parameters<S3ObjectStorage['putBuffer']>) => {
        storedBytes += args[1].length;
        puts += 1;
        return storage.putBuffer(...args);
      },
    });
    // IngestionModule as the service builds it (processing workers from its configuration), not
    // initialised: upload recovery does not run during the measurement.
    const module = await ingestionTestingModule({ ds, store, storage: counted, config: { ...ingestionConfigFromEnv({}), workers: WORKERS } });
    const subjects = module.get(SubjectUseCases);
    const consents = module.get(ConsentUseCases);
    const ingest = module.get(IngestAssetUseCase);
    const subjectIds: string[] = [];
    for (let s = 0; s <= files[files.length - 1].subjectIndex; s++) {
      const { subjectId } = await subjects.register({ externalRef: `bench-${run}-${s}` }, steward);
      await consents.record(subjectId, { decision: 'permit', purposes: ['model-training'] }, steward);
      subjectIds.push(subjectId);
    }

    // Baseline: the same bytes, one putObject each, same concurrency, same server.
    const bucket = 'trellis-bench-baseline';
    if (!(await storage.client.bucketExists(bucket))) await storage.client.makeBucket(bucket, 'us-east-1');
    const cpu0 = cpuSample();
    const baselineSeconds = await pool(files, CONCURRENCY, async (f, i) => {
      await storage.client.putObject(bucket, `${run}/${i}.jpg`, f.bytes, f.bytes.length, { 'Content-Type': 'image/jpeg' });
    });

    const cpu1 = cpuSample();
    let duplicates = 0;
    const platformSeconds = await pool(files, CONCURRENCY, async (f) => {
      const r = await ingest.ingest({ subject: subjectIds[f.subjectIndex], declaredMimeType: 'image/jpeg', bytes: f.bytes }, steward);
      if (r.duplicate) duplicates += 1;
    });
    const cpu2 = cpuSample();
    if (duplicates > 0) throw new Error(`${duplicates} images came back as duplicates: the bench must ingest distinct files`);
    // The processing workers are threads that would keep the process alive.
    await module.close();
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM ingestion_assets WHERE subject_id = ANY($1::uuid[])`, [subjectIds]);
    if (n !== files.length) throw new Error(`expected ${files.length} ingested assets, found ${n}`);

    const mb = totalBytes / 1e6;
    const rows = [
      ['path', 'images', 'MB', 'seconds', 'images/s', 'MB/s'],
      [
        'minio putObject (baseline)',
        String(files.length),
        mb.toFixed(1),
        baselineSeconds.toFixed(2),
        (files.length / baselineSeconds).toFixed(1),
        (mb / baselineSeconds).toFixed(2),
      ],
      [
        'ingest (full path)',
        String(files.length),
        mb.toFixed(1),
        platformSeconds.toFixed(2),
        (files.length / platformSeconds).toFixed(1),
        (mb / platformSeconds).toFixed(2),
      ],
    ];
    // Per image, mean milliseconds in each stage. With uploads and workers running at once the
    // stages overlap, so they add up to more than the wall time per image.
    const st = ingest.stageMs;
    const per = (ms: number) => ms / Math.max(1, st.images);
    const stages = {
      process: per(st.process),
      decode: per(st.decode),
      derivative: per(st.derivative),
      curate: per(st.curate),
      hash: per(st.hash),
      put: per(st.put),
      append: per(st.append),
    };
    printTable(`Stages of the full path, mean ms per image over ${st.images} images (process = waiting for the pool, queueing included)`, [
      ['stage', 'ms/image'],
      ...Object.entries(stages).map(([k, v]) => [k, v.toFixed(2)]),
    ]);
    // Both paths share the machine's cores with the S3 server and PostgreSQL: CPU per image says
    // how many images a second the cores could carry at best, whatever the waits.
    const cpu = { baseline: cpuPerEvent(cpu0, cpu1, files.length), ingest: cpuPerEvent(cpu1, cpu2, files.length) };
    const cpuMs = (c: typeof cpu.ingest, k: 'bench' | 'postgres' | 's3' | 'total') => (c ? (c[k] / 1000).toFixed(2) : 'n/a');
    printTable(`CPU per image (ms; the bench process includes its processing worker threads; /proc, Linux only)`, [
      ['path', 'bench process', 'PostgreSQL', 'S3 server', 'total'],
      ...(['baseline', 'ingest'] as const).map((k) => [
        k === 'baseline' ? 'minio putObject (baseline)' : 'ingest (full path)',
        ...(['bench', 'postgres', 's3', 'total'] as const).map((f) => cpuMs(cpu[k], f)),
      ]),
    ]);
    const codec = imageCodecInfo();
    printTable(
      `Ingestion: ${files.length} JPEGs ${SIZE}x${SIZE} (mean ${(totalBytes / files.length / 1024).toFixed(1)} KiB), concurrency ${CONCURRENCY}, ${WORKERS} processing workers, ` +
        `image codec ${codec.codec} (${codec.detail}), S3 ${s3.env.S3_ENDPOINT}; the full path stored ${puts} blobs, ${(storedBytes / 1e6).toFixed(1)} MB`,
      rows,
    );
    console.log(
      JSON.stringify({
        bench: 'ingestion',
        images: files.length,
        image_size: SIZE,
        mean_bytes: Math.round(totalBytes / files.length),
        concurrency: CONCURRENCY,
        processing_workers: WORKERS,
        image_codec: codec.codec,
        ingest_blobs: puts,
        ingest_stored_mb: +(storedBytes / 1e6).toFixed(1),
        baseline_images_per_s: +(files.length / baselineSeconds).toFixed(2),
        baseline_mb_per_s: +(mb / baselineSeconds).toFixed(3),
        ingest_images_per_s: +(files.length / platformSeconds).toFixed(2),
        ingest_mb_per_s: +(mb / platformSeconds).toFixed(3),
        stage_ms_per_image: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, +v.toFixed(2)])),
        cpu_ms_per_image: Object.fromEntries(
          Object.entries(cpu).map(([k, c]) => [k, c && { bench: c.bench / 1000, postgres: c.postgres / 1000, s3: c.s3 / 1000, total: c.total / 1000 }]),
        ),
        throughput_ratio_vs_put: +(baselineSeconds / platformSeconds).toFixed(3),
      }),
    );
  } finally {
    await ds.destroy();
    await pg.stop();
    s3.stop();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
