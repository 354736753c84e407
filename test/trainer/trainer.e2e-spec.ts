import { ChildProcess } from 'node:child_process';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Kafka } from 'kafkajs';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import * as tf from '@tensorflow/tfjs-core';
import { createObjectStorageFromEnv } from '@trellis/storage';
import { buildTrainingExample, collateSft, initMlBackend, loadLora, readBaseCheckpoint } from '@trellis/ml';
import { eventually, freePort, spawnTs, waitForExit } from '@trellis/testing';
import { PlatformTestApp, startPlatformTestApp } from '../platform/platform-test-app';
import { Http, ok, publishSyntheticSets, PublishedSets } from './trainer-fixture';

interface StoredFile {
  name: string;
  key: string;
  sha256: string;
  size: number;
}

interface Run {
  runId: string;
  lastProgress: { step: number; loss: number } | null;
  status: string;
  step: number;
  totalSteps: number | null;
  attempts: number;
  snapshot: { manifest: StoredFile; includedItems: number; excludedItems: number; excluded: { reason: string; count: number }[]; merkleRoot: string } | null;
  replaces: { runId: string; removedItems: number; removedSubjects: number } | null;
  outcome: {
    code?: string;
    reason?: string;
    step?: number | null;
    artifacts?: StoredFile[];
    finalHeldOutLoss?: number | null;
    baseHeldOutLoss?: number | null;
  } | null;
}

const LONG = 20 * 60_000;

/**
 * The trainer end to end, in the distributed shape: the platform (Kafka delivery, real
 * PostgreSQL and S3) takes requests and runs no training itself (TRAINER_CONCURRENCY=0);
 * standalone trainer processes (`services/trainer/src/main.ts`) share its queue and execute
 * the runs in their workers. Data reaches the trainer as users put it in: subjects, consent,
 * images, a dataset version, two annotation sets.
 */
describe('Trainer end to end', () => {
  let t: PlatformTestApp;
  let http: Http;
  const tokens: Record<string, string> = {};
  let sets: PublishedSets;
  let baseModelId: string;
  const trainers: ChildProcess[] = [];
  const storage = createObjectStorageFromEnv();
  /** An OpenLineage collector: what the trainer processes POST (OPENLINEAGE_URL). */
  const collected: { path: string; body: { eventType: string; run: { runId: string } } }[] = [];
  let collector: Server;

  const as = (who: string) => ({ authorization: `Bearer ${tokens[who]}` });

  async function startTrainer(): Promise<ChildProcess> {
    const port = await freePort();
    const child = spawnTs('services/trainer/src/main.ts', [], {
      PORT: String(port),
      DATABASE_URL: process.env.TRELLIS_TEST_DATABASE_URL,
      TRELLIS_MESSAGING: 'kafka',
      TRAINER_CONCURRENCY: '1',
      TRAINER_LEASE_SECONDS: '4',
      TRAINER_POLL_MS: '200',
      TRAINER_WORK_DIR: mkdtempSync(join(tmpdir(), 'trellis-trainer-')),
      OPENLINEAGE_URL: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    trainers.push(child);
    await eventually(async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.status === 200, 240_000, 250).catch((err: Error) => {
      throw new Error(`${err.message}\n${output}`);
    });
    return child;
  }

  /** Each scenario that trains makes sure one trainer process runs, so each can also run alone (-t). */
  async function ensureTrainer(): Promise<void> {
    if (trainers.length === 0) await startTrainer();
  }

  async function stopTrainers(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    for (const c of trainers.splice(0)) {
      c.kill(signal);
      await waitForExit(c);
    }
  }

  const getRun = async (runId: string): Promise<Run> => ok(await http.get(`/training/runs/${runId}`).set(as('engineer')));
  const until = (runId: string, done: (r: Run) => boolean, timeout = LONG) =>
    eventually(
      async () => {
        const r = await getRun(runId);
        return done(r) ? r : undefined;
      },
      timeout,
      500,
    );
  const finished = (runId: string) => until(runId, (r) => ['completed', 'failed', 'cancelled'].includes(r.status));
  const requestRun = async (body: object): Promise<Run> => ok(await http.post('/training/runs').set(as('engineer')).send(body), 201);
  const bytesOf = (f: StoredFile) => storage.getBuffer('artifacts', f.key);
  const artifact = (r: Run, name: string) => {
    const found = r.outcome!.artifacts!.find((a) => a.name === name);
    if (!found) throw new Error(`run ${r.runId} has no artifact ${name}: ${r.outcome!.artifacts!.map((a) => a.name).join(', ')}`);
    return found;
  };
  const trainerEvents = async (runId: string): Promise<{ type: string; data: Record<string, unknown> }[]> =>
    t.dataSource.query(`SELECT type, data FROM trellis_events WHERE log = 'trainer' AND stream_id = $1 ORDER BY stream_version`, [`training-run-${runId}`]);

  const lora = (extra: object = {}) => ({
    baseModelId,
    method: 'lora',
    annotationSets: [{ setId: sets.captionSetId }, { setId: sets.vqaSetId }],
    evaluation: { heldOutFraction: 0.25 },
    hyperparameters: { steps: 30, evalEvery: 10, checkpointEvery: 10, batchSize: 8, seed: 5, ...extra },
  });

  beforeAll(async () => {
    collector = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        collected.push({ path: req.url ?? '', body: JSON.parse(body) });
        res.writeHead(201).end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    process.env.TRAINER_CONCURRENCY = '0';
    t = await startPlatformTestApp('kafka');
    http = request(t.app.getHttpServer());
    for (const [name, roles] of Object.entries({ steward: ['steward'], engineer: ['engineer'] })) tokens[name] = (await t.token(roles)).token;
    sets = await publishSyntheticSets(http, tokens.steward, { seed: 11, subjects: 8, itemsPerSubject: 2 });
    const base = ok(await http.post('/training/base-models').set(as('engineer')).send({ preset: 'tiny', seed: 1 }), 201);
    baseModelId = base.baseModelId;
    // The sets reach the trainer through Kafka; a request names them once they have.
    await eventually(
      async () =>
        (await t.dataSource.query('SELECT 1 FROM trainer_annotation_sets WHERE set_id = ANY($1::uuid[])', [[sets.captionSetId, sets.vqaSetId]])).length === 2,
      120_000,
      250,
    );
  }, LONG);

  afterAll(async () => {
    await stopTrainers('SIGKILL');
    await t?.close();
    collector?.close();
  });

  it('registers the tiny base model with its files, hashes and pre-training', async () => {
    const base = ok(await http.get(`/training/base-models/${baseModelId}`).set(as('engineer')));
    expect(base.files.map((f: StoredFile) => f.name)).toEqual(expect.arrayContaining(['config.json', 'tokenizer.json']));
    for (const f of base.files as StoredFile[])
      expect(
        createHash('sha256')
          .update(await bytesOf(f))
          .digest('hex'),
      ).toBe(f.sha256);
    expect(base.pretraining.finalHeldOutLoss).toBeLessThan(base.pretraining.initialHeldOutLoss);
    expect(base.architecture.linearModules.some((n: string) => n.endsWith('q_proj'))).toBe(true);
  });

  it('refuses bad requests naming each field, and appends nothing', async () => {
    const before = (await t.dataSource.query(`SELECT count(*)::int AS n FROM trellis_events WHERE log = 'trainer'`))[0].n;
    const cases: [object, string[]][] = [
      [{ ...lora(), annotationSets: [{ setId: '01930000-0000-7000-8000-00000000dead' }] }, ['body.annotationSets.0']],
      [lora({ loraRank: 0 }), ['body.hyperparameters.loraRank']],
      [lora({ targetModules: ['q_proj', 'no_such_proj'] }), ['body.hyperparameters.targetModules']],
      [{ ...lora(), evaluation: { heldOutFraction: 1.5 } }, ['body.evaluation.heldOutFraction']],
      [{ ...lora(), baseModelId: '01930000-0000-7000-8000-00000000beef' }, ['body.baseModelId']],
      [{ ...lora(), method: 'dpo' }, ['body.method']],
    ];
    for (const [body, fields] of cases) {
      const res = await http.post('/training/runs').set(as('engineer')).send(body);
      expect([res.status, res.body.error, res.body.fields]).toEqual([400, 'INVALID_REQUEST', fields]);
    }
    // A run's loss curve: a malformed id is 400 naming it, an unknown one 404.
    const malformed = await http.get('/training/runs/not-a-run/progress').set(as('engineer'));
    expect([malformed.status, malformed.body.fields]).toEqual([400, ['params.runId']]);
    expect((await http.get('/training/runs/01930000-0000-7000-8000-00000000dead/progress').set(as('engineer'))).status).toBe(404);
    expect((await t.dataSource.query(`SELECT count(*)::int AS n FROM trellis_events WHERE log = 'trainer'`))[0].n).toBe(before);
  });

  it(
    'refuses an uploaded base checkpoint with a wrong shape, naming the tensor',
    async () => {
      const base = ok(await http.get(`/training/base-models/${baseModelId}`).set(as('engineer')));
      let upload = http.post('/training/base-models/import').set(as('engineer'));
      for (const f of base.files as StoredFile[]) {
        let bytes = await bytesOf(f);
        if (f.name === 'config.json') {
          const config = JSON.parse(bytes.toString('utf8'));
          config.text_config.intermediate_size += 8;
          bytes = Buffer.from(JSON.stringify(config));
        }
        upload = upload.attach('files', bytes, f.name);
      }
      const res = await upload;
      expect([res.status, res.body.error, res.body.fields]).toEqual([400, 'INVALID_REQUEST', ['files']]);
      expect(res.body.message).toMatch(/mlp\.(gate|up|down)_proj\.weight/);
      const names = await http.post('/training/base-models/import').set(as('engineer')).attach('files', Buffer.from('{}'), 'notes.txt');
      expect([names.status, names.body.fields]).toEqual([400, ['files']]);
    },
    LONG,
  );

  it(
    'trains LoRA, QLoRA and distillation runs to artifacts whose hashes match the events, below the base model’s held-out loss',
    async () => {
      await ensureTrainer();
      const teacher = ok(await http.post('/training/base-models').set(as('engineer')).send({ preset: 'tiny', seed: 1, steps: 400 }), 201);
      const runs = [
        await requestRun(lora()),
        await requestRun({ ...lora(), method: 'qlora' }),
        await requestRun({
          ...lora(),
          method: 'distill',
          teacherModelId: teacher.baseModelId,
          hyperparameters: { steps: 30, evalEvery: 10, checkpointEvery: 10, seed: 5 },
        }),
      ];
      for (const requested of runs) {
        const run = await finished(requested.runId);
        expect([run.status, run.outcome?.reason]).toEqual(['completed', undefined]);
        for (const a of run.outcome!.artifacts!)
          expect(
            createHash('sha256')
              .update(await bytesOf(a))
              .digest('hex'),
          ).toBe(a.sha256);
        expect(run.outcome!.finalHeldOutLoss!).toBeLessThan(run.outcome!.baseHeldOutLoss!);
        const manifest = JSON.parse((await bytesOf(run.snapshot!.manifest)).toString('utf8'));
        expect(manifest.merkleRoot).toBe(run.snapshot!.merkleRoot);
        const log = (await bytesOf(artifact(run, 'training.log'))).toString('utf8');
        const tensors = /tensors alive: (\d+) before the run, (\d+) after/.exec(log)!;
        expect(tensors[2]).toBe(tensors[1]);
        const events = await trainerEvents(run.runId);
        const types = events.map((e) => e.type);
        expect(types[0]).toBe('TrainingRequested');
        // The loss curve: one point per TrainingProgressed, as recorded; the last is the run's lastProgress.
        const curve = ok(await http.get(`/training/runs/${run.runId}/progress`).set(as('engineer'))) as { step: number; loss: number; at: string }[];
        const reported = events.filter((e) => e.type === 'TrainingProgressed');
        expect(curve.map((p) => [p.step, p.loss])).toEqual(reported.map((e) => [(e.data as { step: number }).step, (e.data as { loss: number }).loss]));
        expect(curve.length).toBeGreaterThan(1);
        expect(curve[curve.length - 1]).toMatchObject({ step: run.lastProgress!.step, loss: run.lastProgress!.loss });
        expect(types).toEqual(
          expect.arrayContaining(['TrainingSnapshotFrozen', 'TrainingStarted', 'TrainingProgressed', 'TrainingCheckpointed', 'TrainingCompleted']),
        );
      }

      // OpenLineage: each run's START .. COMPLETE in the openlineage log, POSTed to the collector,
      // and on trellis.openlineage.v1 as the RunEvent JSON itself.
      const loraRunId = runs[0].runId;
      const logged = (await t.dataSource.query(`SELECT data FROM trellis_events WHERE log = 'openlineage' AND stream_id = $1 ORDER BY stream_version`, [
        `openlineage-run-${loraRunId}`,
      ])) as { data: { eventType: string } }[];
      expect(logged.map((e) => e.data.eventType)).toEqual(['START', 'RUNNING', 'RUNNING', 'COMPLETE']);
      await eventually(
        async () =>
          collected
            .filter((c) => c.body.run.runId === loraRunId)
            .map((c) => c.body.eventType)
            .join() === 'START,RUNNING,RUNNING,COMPLETE',
        60_000,
        250,
      );
      expect(collected[0].path).toBe('/api/v1/lineage');
      const kafka = new Kafka({ brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: 0 });
      const consumer = kafka.consumer({ groupId: `trainer-e2e-${Date.now()}` });
      const seen: string[] = [];
      await consumer.connect();
      try {
        await consumer.subscribe({ topic: 'trellis.openlineage.v1', fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ message }) => {
            const event = JSON.parse(message.value!.toString('utf8')) as { eventType: string; run: { runId: string }; schemaURL: string };
            if (event.run.runId === loraRunId && event.schemaURL.includes('openlineage.io/spec/2-0-2')) seen.push(event.eventType);
          },
        });
        await eventually(async () => seen.includes('COMPLETE'), 60_000, 250);
      } finally {
        await consumer.disconnect();
      }
      expect(seen).toContain('START');
    },
    LONG,
  );

  it(
    'gives back, through loadLora, the logits the trained run computed',
    async () => {
      const runs = ok(await http.get('/training/runs?status=completed').set(as('engineer'))) as Run[];
      const run = await getRun(runs.find((r) => (r as unknown as { method: string }).method === 'lora')!.runId);
      const base = ok(await http.get(`/training/base-models/${baseModelId}`).set(as('engineer')));
      const dir = mkdtempSync(join(tmpdir(), 'trellis-loadlora-'));
      for (const f of base.files as StoredFile[]) writeFileSync(join(dir, f.name), await bytesOf(f));
      const adapterDir = mkdtempSync(join(tmpdir(), 'trellis-adapter-'));
      for (const name of ['adapter_config.json', 'adapter_model.safetensors']) writeFileSync(join(adapterDir, name), await bytesOf(artifact(run, name)));
      const probe = JSON.parse((await bytesOf(artifact(run, 'probe_logits.json'))).toString('utf8')) as {
        pair: { prompt: string; answer: string };
        imageSha256: string;
        logits: number[];
      };
      await initMlBackend();
      const loaded = await readBaseCheckpoint(dir);
      loadLora(loaded.model, adapterDir);
      const imageKey = JSON.parse((await bytesOf(run.snapshot!.manifest)).toString('utf8')).items.find(
        (i: { imageSha256: string }) => i.imageSha256 === probe.imageSha256,
      ).imageKey;
      const sharp = (await import('sharp')).default;
      const rgb = await sharp(await storage.getBuffer('curated', imageKey))
        .removeAlpha()
        .resize(loaded.config.vision.imageSize, loaded.config.vision.imageSize, { fit: 'fill' })
        .raw()
        .toBuffer();
      const batch = collateSft(
        [{ rgb: new Uint8Array(rgb), size: loaded.config.vision.imageSize, example: buildTrainingExample(loaded.tokenizer, probe.pair) }],
        loaded.tokenizer.padId,
      );
      const out = tf.tidy(() => loaded.model.forward(batch).flatten().slice(0, probe.logits.length));
      const logits = Array.from(out.dataSync());
      out.dispose();
      tf.dispose(batch as unknown as tf.TensorContainer);
      loaded.model.dispose();
      for (let i = 0; i < logits.length; i++) expect(logits[i]).toBeCloseTo(probe.logits[i], 4);
    },
    LONG,
  );

  it(
    'excludes a subject whose consent is withdrawn between request and freeze, and retrains without a subject who withdrew after',
    async () => {
      await stopTrainers();
      const requested = await requestRun(lora({ steps: 10 }));
      const gone = sets.subjects[0];
      ok(
        await http
          .post(`/ingestion/subjects/${gone.subjectId}/consents/${gone.consentId}/withdraw`)
          .set(as('steward'))
          .send({ purposes: ['model-training'] }),
      );
      await eventually(
        async () =>
          (
            await t.dataSource.query(`SELECT 1 FROM trainer_subject_consents WHERE subject_id = $1 AND state::text LIKE '%"withdrawn": ["model-training"]%'`, [
              gone.subjectId,
            ])
          ).length === 1,
        120_000,
        250,
      );
      await startTrainer();
      const run = await finished(requested.runId);
      expect(run.status).toBe('completed');
      const manifest = JSON.parse((await bytesOf(run.snapshot!.manifest)).toString('utf8'));
      expect(manifest.items.some((i: { subjectId: string }) => i.subjectId === gone.subjectId)).toBe(false);
      expect(
        manifest.excluded.filter((e: { subjectId: string; reason: string }) => e.subjectId === gone.subjectId).map((e: { reason: string }) => e.reason),
      ).toEqual(new Array(gone.itemIds.length * 2).fill('consent-withdrawn'));

      // A second subject withdraws after the run: the retrain leaves them out and records the difference.
      const later = sets.subjects[1];
      ok(
        await http
          .post(`/ingestion/subjects/${later.subjectId}/consents/${later.consentId}/withdraw`)
          .set(as('steward'))
          .send({ purposes: ['model-training'] }),
      );
      await eventually(
        async () =>
          (
            await t.dataSource.query(`SELECT 1 FROM trainer_subject_consents WHERE subject_id = $1 AND state::text LIKE '%"withdrawn": ["model-training"]%'`, [
              later.subjectId,
            ])
          ).length === 1,
        120_000,
        250,
      );
      const retrain = ok(await http.post(`/training/runs/${run.runId}/retrain-excluding-withdrawn`).set(as('engineer')), 201);
      const done = await finished(retrain.runId);
      expect(done.status).toBe('completed');
      expect(done.replaces).toMatchObject({ runId: run.runId, removedItems: later.itemIds.length * 2, removedSubjects: 1 });
      const again = JSON.parse((await bytesOf(done.snapshot!.manifest)).toString('utf8'));
      expect(again.items.some((i: { subjectId: string }) => i.subjectId === later.subjectId)).toBe(false);
      expect(again.items.length).toBe(manifest.items.length - later.itemIds.length * 2);
    },
    LONG,
  );

  it(
    'resumes a run whose trainer was killed with SIGKILL from its last checkpoint, ending with the same adapter bytes as an uninterrupted run',
    async () => {
      await ensureTrainer();
      const body = lora({ steps: 40, evalEvery: 20, checkpointEvery: 10, seed: 9 });
      const straight = await finished((await requestRun(body)).runId);
      expect(straight.status).toBe('completed');
      const killed = await requestRun(body);
      await until(
        killed.runId,
        (r) => r.status === 'running' && (r as unknown as { checkpoint: { step: number } | null }).checkpoint !== null && r.step < 40,
        LONG,
      );
      await stopTrainers('SIGKILL');
      await startTrainer();
      const resumed = await finished(killed.runId);
      expect(resumed.status).toBe('completed');
      expect(resumed.attempts).toBe(2);
      const started = (await trainerEvents(killed.runId)).filter((e) => e.type === 'TrainingStarted');
      expect(started[1].data.resumedFromStep).toBeGreaterThanOrEqual(10);
      expect(artifact(resumed, 'adapter_model.safetensors').sha256).toBe(artifact(straight, 'adapter_model.safetensors').sha256);
    },
    LONG,
  );

  it(
    'cancels a running run at a step boundary and fails a diverging one with its step, leaving no worker behind',
    async () => {
      await ensureTrainer();
      const long = await requestRun(lora({ steps: 5000 }));
      await until(long.runId, (r) => r.status === 'running' && r.step >= 2);
      ok(await http.post(`/training/runs/${long.runId}/cancel`).set(as('engineer')));
      const cancelled = await finished(long.runId);
      expect(cancelled.status).toBe('cancelled');
      expect(cancelled.step).toBeLessThan(5000);

      const nan = await finished(
        (await requestRun({ ...lora(), method: 'full', hyperparameters: { learningRate: 1e30, maxGradNorm: null, schedule: 'constant', steps: 200, seed: 5 } }))
          .runId,
      );
      expect([nan.status, nan.outcome?.code]).toEqual(['failed', 'DIVERGED']);
      expect(nan.outcome!.step).toBeGreaterThan(0);
      expect(nan.outcome!.reason).toMatch(/loss is (NaN|Infinity|-Infinity)|gradient norm/);
      const leases = await t.dataSource.query('SELECT lease_owner FROM trainer_runs WHERE run_id = ANY($1::uuid[])', [[long.runId, nan.runId]]);
      expect(leases).toEqual([{ lease_owner: null }, { lease_owner: null }]);
    },
    LONG,
  );
});
