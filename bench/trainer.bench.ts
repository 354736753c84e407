/**
 * npm run bench:trainer
 *
 * 1. The same LoRA run (the tiny base model, 200 steps of batch 8, held-out loss every 50 steps)
 *    through the trainer service (request, snapshot freeze, lease, staging, a forked worker,
 *    checkpoints stored every 50 steps, artifacts stored, events) and by calling the library's
 *    Trainer directly in this process on the same items, in the same run. Tokens per second
 *    over the whole wall time of each (the service's from request to TrainingCompleted). The
 *    service is measured in its steady state, after a 10-step warm-up run and once the worker
 *    forked for the next run has loaded (RunExecutor.spareReady), as a long-running trainer
 *    process works; this process has likewise loaded the library before the direct run.
 * 2. Freezing the snapshot of one annotation set of 100,000 items (consent joined, manifest,
 *    Merkle root, manifest stored, event appended) beside a plain SELECT of the same rows with
 *    their hashes, then again after 1% of its subjects withdrew.
 * PostgreSQL: DATABASE_URL or a fresh embedded cluster; blobs on the filesystem under
 * .trellis/bench-data. Prints a table, then one JSON line.
 *
 * BENCH_TRAINER_PARTS=snapshot runs part 2 alone (=lora part 1 alone; both by default): the
 * snapshot's figures need no LoRA run, and the 200 steps take minutes. The JSON line then
 * carries only the part's own figures. BENCH_TRAINER_STEPS and BENCH_SNAPSHOT_ITEMS change the
 * steps and the snapshot's items.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import sharp from 'sharp';
import { v7 as uuidv7 } from 'uuid';
import { DataSource } from 'typeorm';
import { Actor, canonicalJson, SubjectConsentState } from '@trellis/contracts';
import { createDataSource, withTransaction } from '@trellis/common';
import { messagingConfigFromEnv } from '@trellis/messaging';
import { applyLora, buildTrainingExample, collateSft, evaluateLoss, initMlBackend, loraTask, readBaseCheckpoint, SftItem, Trainer } from '@trellis/ml';
import { createObjectStorageFromEnv } from '@trellis/storage';
import { generateSyntheticDataset } from '@trellis/synthetic';
import { MIGRATIONS } from '../migrations';
import { keepAnnotationSet } from '../services/trainer/src/annotation-sets/annotation-set.repository';
import { BaseModelUseCases } from '../services/trainer/src/base-models/base-model.usecases';
import { findRun } from '../services/trainer/src/runs/run.queries';
import { RunExecutor } from '../services/trainer/src/execution/run-executor';
import { RunUseCases } from '../services/trainer/src/runs/run.usecases';
import { RunStreams } from '../services/trainer/src/runs/run.streams';
import { answerSha256, heldOutSubjects, itemLeafHash, supervisedPairs } from '../services/trainer/src/snapshot/snapshot';
import { FreezeSnapshotUseCase } from '../services/trainer/src/snapshot/freeze-snapshot.usecase';
import { TrainerAppModule } from '../services/trainer/src/trainer-app.module';
import { benchPostgres, printTable } from './bench-services';

const STEPS = Number(process.env.BENCH_TRAINER_STEPS || 200);
const SNAPSHOT_ITEMS = Number(process.env.BENCH_SNAPSHOT_ITEMS || 100_000);
const PARTS = new Set((process.env.BENCH_TRAINER_PARTS || 'lora,snapshot').split(',').map((p) => p.trim()));
for (const p of PARTS) if (p !== 'lora' && p !== 'snapshot') throw new Error(`BENCH_TRAINER_PARTS: unknown part ${p} (lora, snapshot)`);
const engineer: Actor = { id: 'prn-bench', role: 'engineer' };
const root = join(__dirname, '..');

const registered = (subjectId: string): SubjectConsentState => ({
  status: 'registered',
  subjectId,
  consents: { c: { status: 'active', decision: 'permit', purposes: ['model-training'], withdrawn: [], start: null, end: null } },
});

/** A published set as the trainer keeps it (its rows, its subjects' consent), kept as the trainer keeps one that arrives. */
async function insertSet(
  ds: DataSource,
  items: { itemId: string; subjectId: string; imageKey: string; imageSha256: string; answer: unknown }[],
): Promise<string> {
  const setId = uuidv7();
  await withTransaction(ds, (tx) =>
    keepAnnotationSet(
      tx,
      { setId, projectId: uuidv7(), version: 1, contentSha256: 'b'.repeat(64), artifactKey: 'bench', artifactSha256: 'b'.repeat(64), publishedAt: new Date() },
      items.map((b) => {
        const textSha256 = answerSha256(b.answer as never);
        return { ...b, textSha256, leafSha256: itemLeafHash({ ...b, setId, textSha256 }) };
      }),
    ),
  );
  const subjects = [...new Set(items.map((i) => i.subjectId))];
  for (let i = 0; i < subjects.length; i += 5000) {
    const batch = subjects.slice(i, i + 5000);
    await ds.query(
      `INSERT INTO trainer_subject_consents (subject_id, state) SELECT * FROM unnest($1::uuid[], $2::jsonb[]) ON CONFLICT (subject_id) DO NOTHING`,
      [batch, batch.map((s) => JSON.stringify(registered(s)))],
    );
  }
  return setId;
}

async function app(ds: DataSource, env: NodeJS.ProcessEnv): Promise<INestApplicationContext> {
  return NestFactory.createApplicationContext(
    TrainerAppModule.forRoot({ dataSource: ds, databaseMode: 'external', messaging: messagingConfigFromEnv({ TRELLIS_MESSAGING: 'in-process' }), env }),
    { logger: ['error', 'warn'] },
  );
}

async function main(): Promise<void> {
  const dataDir = join(root, '.trellis', 'bench-data', 'trainer');
  rmSync(dataDir, { recursive: true, force: true });
  process.env.TRELLIS_DATA_DIR = dataDir;
  delete process.env.S3_ENDPOINT;
  const pg = await benchPostgres('trainer-pg', Number(process.env.TRELLIS_BENCH_PG_PORT || 54359));
  const ds = await createDataSource({ url: pg.url, poolSize: 8, migrations: MIGRATIONS });
  const storage = createObjectStorageFromEnv();
  const backend = await initMlBackend();
  process.stderr.write(`backend: ${backend.name}\n`);

  // --- the data: synthetic images (stored as ingestion would) with their captions and answers
  const synthetic = generateSyntheticDataset({ seed: 21, subjects: 12, itemsPerSubject: 2, imageSize: 32, imageFormat: 'png', withdrawnFraction: 0 });
  const subjectIds = new Map(synthetic.subjects.map((s) => [s.subjectRef, uuidv7()]));
  const rows: { itemId: string; subjectId: string; imageKey: string; imageSha256: string; answer: unknown; rgb: Uint8Array }[] = [];
  for (const item of synthetic.items) {
    const stored = await storage.putBuffer('curated', item.encoded!.bytes, { prefix: 'bench/' });
    const answer = { kind: 'vqa', pairs: [{ question: 'Describe the image.', answer: item.caption }, ...item.qa] };
    rows.push({ itemId: uuidv7(), subjectId: subjectIds.get(item.subjectRef)!, imageKey: stored.key, imageSha256: stored.sha256, answer, rgb: item.rgb });
  }
  const setId = await insertSet(ds, rows);

  const env = { ...process.env, TRAINER_CONCURRENCY: '1', TRAINER_POLL_MS: '100', TRAINER_WORK_DIR: join(dataDir, 'work') };
  const service = await app(ds, env);
  const base = await service.get(BaseModelUseCases).create({ preset: 'tiny', seed: 1 }, engineer);
  const hyperparameters = { steps: STEPS, evalEvery: 50, checkpointEvery: 50, batchSize: 8, seed: 3 };
  const body = { baseModelId: base.baseModelId, method: 'lora', annotationSets: [{ setId }], evaluation: { heldOutFraction: 0.25 }, hyperparameters };

  // --- 1. the LoRA run, through the service and directly
  const loraPart = async () => {
    // --- 1a. through the service, in its steady state: a trainer that has run once (a 10-step
    // warm-up run) has a worker ready, as a long-running trainer process does.
    const runThrough = async (b: typeof body) => {
      const t = process.hrtime.bigint();
      const requested = await service.get(RunUseCases).request(b, engineer);
      let r = await findRun(ds, requested.runId);
      while (r && !['completed', 'failed', 'cancelled'].includes(r.status)) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        r = await findRun(ds, requested.runId);
      }
      if (r?.status !== 'completed') throw new Error(`the service run ended ${r?.status}: ${JSON.stringify(r?.outcome)}`);
      return { run: r, seconds: Number(process.hrtime.bigint() - t) / 1e9 };
    };
    process.stderr.write('service: warm-up run ...\n');
    await runThrough({ ...body, hyperparameters: { ...hyperparameters, steps: 10 } });
    // The worker forked for the next run when the warm-up ended: measured once it has loaded.
    await service.get(RunExecutor).spareReady();
    process.stderr.write(`service: ${STEPS} LoRA steps ...\n`);
    const { run, seconds: serviceSeconds } = await runThrough(body);
    const outcome = run.outcome as { tokensSeen: number; wallSeconds: number; finalHeldOutLoss: number; backend: string };

    // --- 1b. the library's Trainer, directly, on the same items, split and settings
    process.stderr.write(`direct: ${STEPS} LoRA steps ...\n`);
    const t1 = process.hrtime.bigint();
    const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-base-'));
    for (const f of base.files) writeFileSync(join(dir, f.name), await storage.getBuffer('artifacts', f.key));
    const loaded = await readBaseCheckpoint(dir);
    const size = loaded.config.vision.imageSize;
    const heldOut = heldOutSubjects(
      rows.map((r) => r.subjectId),
      0.25,
      hyperparameters.seed,
    );
    const items = async (held: boolean): Promise<SftItem[]> => {
      const out: SftItem[] = [];
      for (const r of [...rows].sort((a, b) => (a.itemId < b.itemId ? -1 : 1)).filter((x) => heldOut.has(x.subjectId) === held)) {
        const bytes = await storage.getBuffer('curated', r.imageKey);
        const rgb = new Uint8Array(await sharp(bytes).removeAlpha().resize(size, size, { fit: 'fill' }).raw().toBuffer());
        for (const pair of supervisedPairs(r.answer as never)) out.push({ rgb, size, example: buildTrainingExample(loaded.tokenizer, pair) });
      }
      return out;
    };
    const train = await items(false);
    const evalItems = await items(true);
    const collate = (xs: SftItem[]) => collateSft(xs, loaded.tokenizer.padId);
    const targets = [...loaded.model.linearLayers().keys()].filter((n) => n.endsWith('.q_proj') || n.endsWith('.v_proj'));
    const adapters = applyLora(loaded.model, { r: 8, alpha: 16, dropout: 0.05, targetModules: targets, seed: hyperparameters.seed });
    const task = loraTask(loaded.model, adapters);
    const trainer = new Trainer(task, train, collate, {
      batchSize: 8,
      seed: hyperparameters.seed,
      optimizer: { lr: 1e-3 },
      schedule: { warmupSteps: 0, totalSteps: STEPS },
    });
    let tokens = 0;
    let heldOutLoss = evaluateLoss({ loss: (b) => loaded.model.loss(b), setTraining: task.setTraining }, evalItems, collate, 8);
    for (let s = 1; s <= STEPS; s++) {
      tokens += trainer.trainStep().tokens;
      if (s % 50 === 0 || s === STEPS) heldOutLoss = evaluateLoss({ loss: (b) => loaded.model.loss(b), setTraining: task.setTraining }, evalItems, collate, 8);
    }
    const directSeconds = Number(process.hrtime.bigint() - t1) / 1e9;
    trainer.dispose();
    loaded.model.dispose();
    return { outcome, serviceSeconds, tokens, directSeconds, heldOutLoss };
  };
  const lora = PARTS.has('lora') ? await loraPart() : null;
  await service.close();

  const snapshotPart = async () => {
    // --- 2. snapshot freeze of SNAPSHOT_ITEMS items beside a plain SELECT of the same rows
    process.stderr.write(`snapshot: ${SNAPSHOT_ITEMS} items ...\n`);
    const bigRows = Array.from({ length: SNAPSHOT_ITEMS }, (_, i) => {
      const r = rows[i % rows.length];
      return { ...r, itemId: uuidv7(), subjectId: uuidv7() };
    });
    // Ten items per subject, as a data set of many studies per patient would have.
    for (let i = 0; i < bigRows.length; i++) bigRows[i].subjectId = bigRows[i - (i % 10)].subjectId;
    const bigSet = await insertSet(ds, bigRows);
    const freezer = await app(ds, { ...env, TRAINER_CONCURRENCY: '0' });
    // Each side twice, the faster counted: both then read a warm cache.
    const selectOnce = async () => {
      const t = process.hrtime.bigint();
      const selected: unknown[] = await ds.query(
        'SELECT item_id, subject_id, image_sha256, text_sha256 FROM trainer_set_items WHERE set_id = $1 ORDER BY item_id',
        [bigSet],
      );
      if (selected.length !== SNAPSHOT_ITEMS) throw new Error('the SELECT missed rows');
      return Number(process.hrtime.bigint() - t) / 1e9;
    };
    const freezeOnce = async (included = SNAPSHOT_ITEMS) => {
      const big = await freezer.get(RunUseCases).request({ ...body, annotationSets: [{ setId: bigSet }] }, engineer);
      const t = process.hrtime.bigint();
      const { state } = await freezer.get(RunStreams).load(big.runId);
      const loaded = Number(process.hrtime.bigint() - t) / 1e6;
      const phases = await freezer.get(FreezeSnapshotUseCase).freeze(state, new Date());
      const seconds = Number(process.hrtime.bigint() - t) / 1e9;
      if ((await findRun(ds, big.runId))?.snapshot?.includedItems !== included) throw new Error('the snapshot missed rows');
      return { seconds, phases: { laps: { 'load the run': loaded, ...phases.laps }, overlapping: phases.overlapping } };
    };
    const selectSeconds = Math.min(await selectOnce(), await selectOnce());
    const freezes = [await freezeOnce(), await freezeOnce()];
    const fastest = freezes[0].seconds <= freezes[1].seconds ? freezes[0] : freezes[1];
    const freezeSeconds = fastest.seconds;
    // Then 1% of the subjects withdraw: the snapshot leaves their items out, so its root is no
    // longer the one kept with the set and is taken from the leaves (on the root's worker thread).
    const withdrawn: { subject_id: string }[] = await ds.query('SELECT subject_id FROM trainer_set_subjects WHERE set_id = $1 ORDER BY subject_id LIMIT $2', [
      bigSet,
      Math.max(1, Math.round(SNAPSHOT_ITEMS / 1000)),
    ]);
    await ds.query(
      `UPDATE trainer_subject_consents SET state = jsonb_set(state, '{consents,c,withdrawn}', '["model-training"]') WHERE subject_id = ANY($1::uuid[])`,
      [withdrawn.map((w) => w.subject_id)],
    );
    const left = SNAPSHOT_ITEMS - 10 * withdrawn.length;
    const withdrawalSeconds = Math.min((await freezeOnce(left)).seconds, (await freezeOnce(left)).seconds);
    await freezer.close();
    return { freezeSeconds, selectSeconds, fastest, withdrawalSeconds };
  };
  const snapshot = PARTS.has('snapshot') ? await snapshotPart() : null;
  await ds.destroy();
  await pg.stop();

  let figures: Record<string, unknown> = { backend: backend.name };
  if (lora) {
    const { outcome, serviceSeconds, tokens, directSeconds, heldOutLoss } = lora;
    const serviceTps = outcome.tokensSeen / serviceSeconds;
    const directTps = tokens / directSeconds;
    printTable(`LoRA, tiny base model, ${STEPS} steps of batch 8 (${backend.name})`, [
      ['path', 'tokens', 'wall s', 'tokens/s', 'held-out loss'],
      [
        'trainer service (request to TrainingCompleted, after a warm-up run)',
        String(outcome.tokensSeen),
        serviceSeconds.toFixed(1),
        serviceTps.toFixed(0),
        outcome.finalHeldOutLoss.toFixed(4),
      ],
      ['  of which in the worker (load, train, save)', '', outcome.wallSeconds.toFixed(1), '', ''],
      ['library Trainer, directly (load, train, evaluate)', String(tokens), directSeconds.toFixed(1), directTps.toFixed(0), heldOutLoss.toFixed(4)],
    ]);
    figures = {
      ...figures,
      direct_tokens_per_s: Math.round(directTps),
      service_overhead_ratio: Number((serviceTps / directTps).toFixed(3)),
      service_tokens_per_s: Math.round(serviceTps),
      steps: STEPS,
    };
  }
  if (snapshot) {
    const { freezeSeconds, selectSeconds, fastest, withdrawalSeconds } = snapshot;
    printTable(`Snapshot of one annotation set of ${SNAPSHOT_ITEMS} items`, [
      ['path', 'seconds', 'items/s'],
      ['freeze (consent join, manifest, Merkle root, stored, event), best of 2', freezeSeconds.toFixed(2), (SNAPSHOT_ITEMS / freezeSeconds).toFixed(0)],
      ['plain SELECT of the rows with their hashes, best of 2', selectSeconds.toFixed(2), (SNAPSHOT_ITEMS / selectSeconds).toFixed(0)],
      [
        `freeze after 1% of the subjects withdrew (root from the leaves), best of 2`,
        withdrawalSeconds.toFixed(2),
        (SNAPSHOT_ITEMS / withdrawalSeconds).toFixed(0),
      ],
    ]);
    // The freeze's own wall-clock laps; the root's worker thread hashes beside them, fed as the
    // items are written, and is timed from the last item on (what the freeze waits for).
    printTable('The faster freeze, phase by phase (laps add up to the freeze; the indented ran beside them)', [
      ['phase', 'ms', 'share'],
      ...Object.entries(fastest.phases.laps).map(([phase, ms]) => [phase, ms.toFixed(0), `${((ms / 1000 / freezeSeconds) * 100).toFixed(0)} %`]),
      ...Object.entries(fastest.phases.overlapping).map(([phase, ms]) => [`  ${phase}`, ms.toFixed(0), '']),
    ]);
    figures = {
      ...figures,
      snapshot_items: SNAPSHOT_ITEMS,
      snapshot_items_per_s: Math.round(SNAPSHOT_ITEMS / freezeSeconds),
      snapshot_ratio_vs_select: Number((selectSeconds / freezeSeconds).toFixed(3)),
      snapshot_with_withdrawals_ratio_vs_select: Number((selectSeconds / withdrawalSeconds).toFixed(3)),
    };
  }
  console.log(canonicalJson(figures));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
