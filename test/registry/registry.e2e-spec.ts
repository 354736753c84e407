import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { createObjectStorageFromEnv } from '@trellis/storage';
import { eventually, uniqueName } from '@trellis/testing';
import { PlatformTestApp, startPlatformTestApp } from '../platform/platform-test-app';
import { Http, ok, publishSyntheticSets, PublishedSets } from '../trainer/trainer-fixture';

const LONG = 20 * 60_000;

interface Version {
  modelVersionId: string;
  version: number;
  source: { kind: string; runId?: string; requestedBy?: string };
  parameters: { languageModel: number; visionEncoder: number; projector: number; total: number; trainable: number };
  snapshot: { includedItems: number; includedSubjects: number } | null;
  aliases: string[];
  flag: { subjects: number; items: number } | null;
}

interface Evaluation {
  evaluationId: string;
  status: string;
  metrics: { bleu: number | null; ciderD: number | null; vqaAccuracy: number | null; perplexity: number | null } | null;
  itemCount: number | null;
  predictions: { key: string; sha256: string } | null;
  failure: unknown;
}

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * The registry end to end over Kafka, PostgreSQL and S3, in the platform: two training runs
 * become two versions of one registered model; both are evaluated on a held-out set of other
 * subjects; a set overlapping the training data is refused naming the items; the better version
 * passes the gates and becomes champion on a second person's approval; a consent withdrawal
 * flags it; the alias history says who held champion at a past moment; the card has the
 * consent basis and the agreement figures; a webhook receiver checks every signature.
 */
describe('Registry end to end', () => {
  let t: PlatformTestApp;
  let http: Http;
  const tokens: Record<string, string> = {};
  const principals: Record<string, string> = {};
  let training: PublishedSets;
  let heldOut: PublishedSets;
  let baseModelId: string;
  const modelName = uniqueName('chest-captioner');
  let receiver: Server;
  const deliveries: Delivery[] = [];
  let webhookSecret: string;
  let webhookId: string | undefined;
  const versions: Version[] = [];
  const evaluations: Evaluation[] = [];
  const storage = createObjectStorageFromEnv();

  const as = (who: string) => ({ authorization: `Bearer ${tokens[who]}` });
  const version = async (n: number): Promise<Version> => ok(await http.get(`/registry/models/${modelName}/versions/${n}`).set(as('auditor')));

  // Every projection of the language model's layers (the vision tower's q, k, v share the names;
  // lm_head and the projector stay frozen), not only q_proj and v_proj (the default): with those
  // two the tiny model kept its base's habit, learnt from one-word answers, of ending after a
  // colour ("A small white"), and a version whose every caption stopped short of four words
  // scored BLEU 0 and lost the metrics gate to the one-step version (once in CI; the split and
  // data order follow the random item and subject ids). Trained on the same data through the
  // library, over ten random splits and orders, all seven gave whole captions every time (train
  // loss 0.73 against 1.3 for the two).
  const targetModules = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

  async function train(steps: number): Promise<string> {
    const run = ok(
      await http
        .post('/training/runs')
        .set(as('trainer'))
        .send({
          baseModelId,
          method: 'lora',
          modelName,
          annotationSets: [{ setId: training.captionSetId }],
          evaluation: { heldOutFraction: 0.25 },
          hyperparameters: { steps, evalEvery: steps, checkpointEvery: steps, batchSize: 8, seed: 3, learningRate: 0.01, targetModules },
        }),
      201,
    );
    return run.runId;
  }

  async function evaluate(n: number, setId: string): Promise<Evaluation> {
    const requested = ok(
      await http.post('/registry/evaluations').set(as('trainer')).send({ model: modelName, version: n, annotationSet: { setId }, maxNewTokens: 40 }),
      201,
    );
    return eventually(
      async () => {
        const e: Evaluation = ok(await http.get(`/registry/evaluations/${requested.evaluationId}`).set(as('auditor')));
        if (e.status === 'failed') throw new Error(`evaluation failed: ${JSON.stringify(e.failure)}`);
        return e.status === 'completed' ? e : undefined;
      },
      LONG,
      500,
    );
  }

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        deliveries.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    Object.assign(process.env, { TRAINER_POLL_MS: '200', REGISTRY_EVALUATION_POLL_MS: '200', REGISTRY_WEBHOOK_POLL_MS: '200' });
    t = await startPlatformTestApp('kafka');
    http = request(t.app.getHttpServer());
    const roles: Record<string, string[]> = {
      steward: ['steward'],
      a1: ['annotator'],
      a2: ['annotator'],
      reviewer: ['reviewer'],
      // The engineer who trains may also approve in general, but never a promotion of their own run.
      trainer: ['engineer', 'approver'],
      promoter: ['engineer', 'approver'],
      approver: ['approver'],
      auditor: ['auditor'],
      admin: ['admin'],
    };
    for (const [name, r] of Object.entries(roles)) {
      const issued = await t.token(r);
      tokens[name] = issued.token;
      principals[name] = issued.principalId;
    }
    const hook = ok(
      await http
        .post('/webhooks')
        .set(as('admin'))
        .send({
          url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/trellis`,
          eventTypes: ['ModelVersionRegistered', 'AliasMoved', 'ModelVersionFlagged', 'EvaluationCompleted'],
        }),
      201,
    );
    webhookSecret = hook.secret;
    webhookId = hook.id;
    training = await publishSyntheticSets(http, tokens.steward, {
      seed: 21,
      subjects: 6,
      itemsPerSubject: 2,
      doubleAnnotation: { annotators: [tokens.a1, tokens.a2], reviewer: tokens.reviewer },
    });
    heldOut = await publishSyntheticSets(http, tokens.steward, { seed: 22, subjects: 4, itemsPerSubject: 3 });
    baseModelId = ok(await http.post('/training/base-models').set(as('trainer')).send({ preset: 'tiny', seed: 1 }), 201).baseModelId;
    await eventually(
      async () =>
        (await t.dataSource.query('SELECT 1 FROM trainer_annotation_sets WHERE set_id = $1', [training.captionSetId])).length === 1 &&
        (await t.dataSource.query('SELECT 1 FROM registry_annotation_sets WHERE set_id = ANY($1::uuid[])', [[heldOut.captionSetId, training.vqaSetId]]))
          .length === 2,
      120_000,
      250,
    );
  }, LONG);

  afterAll(async () => {
    try {
      // The database outlives this suite: a webhook left enabled would be sent every later suite's registry events.
      if (webhookId) ok(await http.delete(`/webhooks/${webhookId}`).set(as('admin')), 200);
      // The suite demotes its flagged champion in its last test; should it fail before that, a
      // flagged champion would stay and the health suite after it would report the registry
      // degraded. Demoting a free alias is refused (409), as is a model never registered (404);
      // neither appends.
      if (http && tokens.approver) {
        const res = await http.post(`/registry/models/${modelName}/aliases/champion/demote`).set(as('approver')).send({ reason: 'suite cleanup' });
        expect([200, 404, 409]).toContain(res.status);
      }
    } finally {
      await t?.close();
      receiver?.close();
    }
  });

  it(
    'registers each completed run as a version of the model it names, with its run, snapshot and parameters by part',
    async () => {
      const runs = [await train(1), await train(150)];
      for (const [i, runId] of runs.entries()) {
        const v = await eventually(
          async () => {
            const res = await http.get(`/registry/models/${modelName}/versions/${i + 1}`).set(as('auditor'));
            return res.status === 200 ? (res.body as Version) : undefined;
          },
          LONG,
          500,
        );
        expect(v.source).toEqual({ kind: 'training-run', runId, requestedBy: principals.trainer });
        expect(v.snapshot!.includedItems).toBe(12);
        // The tiny preset's parts, from the library's exact counter; the adapter is what trained.
        expect(v.parameters.total).toBe(v.parameters.languageModel + v.parameters.visionEncoder + v.parameters.projector);
        expect(v.parameters.visionEncoder).toBeGreaterThan(0);
        expect(v.parameters.trainable).toBeGreaterThan(0);
        expect(v.parameters.trainable).toBeLessThan(v.parameters.total);
        versions.push(v);
      }
      const found = ok(await http.get(`/registry/models?name=${modelName}`).set(as('auditor')));
      expect(found.map((m: { name: string; latestVersion: number }) => [m.name, m.latestVersion])).toEqual([[modelName, 2]]);
    },
    LONG,
  );

  it('refuses an evaluation set that shares items and subjects with the training snapshot, naming them', async () => {
    const res = await http
      .post('/registry/evaluations')
      .set(as('trainer'))
      .send({ model: modelName, version: 2, annotationSet: { setId: training.vqaSetId } });
    expect([res.status, res.body.error, res.body.fields]).toEqual([400, 'EVALUATION_OVERLAP', ['body.annotationSet']]);
    const someItem = training.subjects[0].itemIds[0];
    expect(res.body.message).toContain(someItem);
    expect(res.body.message).toMatch(/12 item\(s\)/);
    expect(res.body.message).toMatch(/6 subject\(s\)/);
  });

  it(
    'evaluates both versions on the held-out set off the request path, storing the predictions',
    async () => {
      for (const n of [1, 2]) evaluations.push(await evaluate(n, heldOut.captionSetId));
      for (const e of evaluations) {
        expect(e.itemCount).toBe(12);
        expect(e.metrics!.bleu).not.toBeNull();
        expect(e.metrics!.ciderD).not.toBeNull();
        expect(e.metrics!.vqaAccuracy).toBeNull();
        const lines = (await storage.getBuffer('artifacts', e.predictions!.key)).toString('utf8').trim().split('\n');
        expect(lines).toHaveLength(12);
        expect(JSON.parse(lines[0])).toEqual(expect.objectContaining({ kind: 'caption', prompt: 'Describe the image.', prediction: expect.any(String) }));
      }
      // 150 steps fit the captions better than one: the perplexity on subjects never seen says so.
      expect(evaluations[1].metrics!.perplexity!).toBeLessThan(evaluations[0].metrics!.perplexity!);
    },
    LONG,
  );

  it(
    'promotes through the gates and a second person: refusals recorded, the better version becomes champion',
    async () => {
      const card = { intendedUse: 'Drafting chest image captions for review by a radiologist.', caveats: 'Tiny test model.', license: 'apache-2.0' };
      // No card yet: the gates refuse, and say why.
      const refused = ok(
        await http.post('/registry/promotions').set(as('promoter')).send({ model: modelName, version: 1, alias: 'champion', reason: 'first model' }),
        201,
      );
      expect(refused.status).toBe('rejected');
      expect(refused.verdicts.find((v: { gate: string }) => v.gate === 'model-card')).toMatchObject({
        passed: false,
        reason: expect.stringMatching(/intendedUse, caveats, license/),
      });

      for (const n of [1, 2]) ok(await http.put(`/registry/models/${modelName}/versions/${n}/card`).set(as('trainer')).send(card));
      const first = ok(
        await http.post('/registry/promotions').set(as('promoter')).send({ model: modelName, version: 1, alias: 'champion', reason: 'first model' }),
        201,
      );
      expect([first.status, first.verdicts.every((v: { passed: boolean }) => v.passed)]).toEqual(['pending', true]);
      ok(await http.post(`/registry/promotions/${first.promotionId}/approve`).set(as('approver')).send({ comment: 'baseline' }));
      const championOneAt = new Date().toISOString();

      // Version 2 against the champion on the same held-out set.
      const second = ok(
        await http.post('/registry/promotions').set(as('promoter')).send({ model: modelName, version: 2, alias: 'champion', reason: 'longer training' }),
        201,
      );
      // Every failing verdict with its reason, should the better version not pass.
      expect(second.verdicts.filter((v: { passed: boolean }) => !v.passed)).toEqual([]);
      expect(second.status).toBe('pending');
      const [heldOutSet] = await t.dataSource.query('SELECT content_sha256 FROM registry_annotation_sets WHERE set_id = $1', [heldOut.captionSetId]);
      expect(second.evaluationSetSha256).toBe(heldOutSet.content_sha256);
      expect(second.verdicts.map((v: { gate: string; passed: boolean }) => [v.gate, v.passed])).toEqual([
        ['metrics', true],
        ['parameter-budget', true],
        ['consent', true],
        ['model-card', true],
      ]);
      const self = await http.post(`/registry/promotions/${second.promotionId}/approve`).set(as('promoter')).send({ comment: 'mine' });
      expect([self.status, self.body.error]).toEqual([403, 'APPROVER_NOT_INDEPENDENT']);
      const runOwner = await http.post(`/registry/promotions/${second.promotionId}/approve`).set(as('trainer')).send({ comment: 'my run' });
      expect([runOwner.status, runOwner.body.error]).toEqual([403, 'APPROVER_NOT_INDEPENDENT']);
      const engineerOnly = await http.post(`/registry/promotions/${second.promotionId}/approve`).set(as('auditor')).send({ comment: 'x' });
      expect(engineerOnly.status).toBe(403);
      const approved = ok(await http.post(`/registry/promotions/${second.promotionId}/approve`).set(as('approver')).send({ comment: 'better perplexity' }));
      expect([approved.status, approved.decidedBy]).toEqual(['approved', principals.approver]);
      expect((await version(2)).aliases).toEqual(['champion']);

      // Who held champion at a past moment, and who moved it there: one query.
      const past = ok(await http.get(`/registry/models/${modelName}/aliases?alias=champion&at=${encodeURIComponent(championOneAt)}`).set(as('auditor')));
      expect(past.holders.champion).toMatchObject({ version: 1, movedBy: principals.approver, kind: 'promotion', reason: 'baseline' });
      // The same question over GraphQL, answered by the lineage graph once it has heard both moves.
      const aliasHistory = async (at: string | null) =>
        (
          await http
            .post('/graphql')
            .set(as('auditor'))
            .send({
              query:
                'query ($model: String!, $at: String) { aliasHistory(model: $model, alias: "champion", at: $at) { holders { alias version movedBy kind reason } moves { version previousVersion } } }',
              variables: { model: modelName, at },
            })
        ).body;
      await eventually(async () => (await aliasHistory(null)).data?.aliasHistory?.moves.length === 2, 60_000, 250);
      expect(await aliasHistory(championOneAt)).toEqual({
        data: {
          aliasHistory: {
            holders: [{ alias: 'champion', version: 1, movedBy: principals.approver, kind: 'promotion', reason: 'baseline' }],
            moves: [{ version: 1, previousVersion: null }],
          },
        },
      });
      expect((await aliasHistory(null)).data.aliasHistory.holders).toEqual([
        { alias: 'champion', version: 2, movedBy: principals.approver, kind: 'promotion', reason: 'better perplexity' },
      ]);
      const now = ok(await http.get(`/registry/models/${modelName}/aliases?alias=champion`).set(as('auditor')));
      expect(now.moves.map((m: { version: number; previousVersion: number | null }) => [m.version, m.previousVersion])).toEqual([
        [1, null],
        [2, 1],
      ]);

      // This model's promotions alone, newest first, also by status; another model's, newer, stays out
      // (its rows written straight into the read model: only the list is under test here).
      const other = { modelId: randomUUID(), promotionId: randomUUID() };
      await t.dataSource.query(`INSERT INTO registry_models (model_id, name, created_by, created_at) VALUES ($1, $2, 'prn-test', now())`, [
        other.modelId,
        `${modelName}-other`,
      ]);
      await t.dataSource.query(
        `INSERT INTO registry_promotions (promotion_id, model_id, alias, model_version_id, tolerance, requested_by, reason, status, requested_at)
         VALUES ($1, $2, 'champion', $3, 0, 'prn-test', 'other model', 'approved', now())`,
        [other.promotionId, other.modelId, randomUUID()],
      );
      const ids = (list: { promotionId: string; modelId: string }[]) => list.map((p) => p.promotionId);
      const ofModel = ok(await http.get(`/registry/promotions?model=${modelName}`).set(as('auditor')));
      expect(ids(ofModel)).toEqual([second.promotionId, first.promotionId, refused.promotionId]);
      expect(ids(ok(await http.get(`/registry/promotions?model=${modelName}&status=approved&limit=1`).set(as('auditor'))))).toEqual([second.promotionId]);
      const [{ count: others }] = await t.dataSource.query('SELECT count(*)::int AS count FROM registry_promotions WHERE model_id <> $1', [ofModel[0].modelId]);
      const everyModel = ok(await http.get('/registry/promotions?limit=1000').set(as('auditor')));
      expect(everyModel).toHaveLength(others + 3);
      expect(ids(everyModel)[0]).toBe(other.promotionId);
      expect((await http.get('/registry/promotions?model=no-such-model').set(as('auditor'))).status).toBe(404);
      const badName = await http.get('/registry/promotions?model=Not%20a%20name').set(as('auditor'));
      expect([badName.status, badName.body.fields]).toEqual([400, ['query.model']]);
      await t.dataSource.query('DELETE FROM registry_promotions WHERE promotion_id = $1', [other.promotionId]);
      await t.dataSource.query('DELETE FROM registry_models WHERE model_id = $1', [other.modelId]);
    },
    LONG,
  );

  it('writes a model card with the consent basis, the agreement figures and the evaluation results', async () => {
    const res = await http.get(`/registry/models/${modelName}/versions/2/card`).set(as('auditor'));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/markdown/);
    const card = res.text;
    expect(card).toMatch(/^---\nlicense: "apache-2\.0"\n/);
    expect(card).toContain('model-index:');
    expect(card).toContain('Consent basis: every training item’s subject held active consent for the purpose `model-training`');
    // Two annotators wrote the same caption for each of the 12 training items, a reviewer accepted both: full agreement, no adjudication.
    const row = card.split('\n').find((l) => l.includes(training.captionSetId) && l.startsWith('|'))!;
    expect(
      row
        .split('|')
        .map((c) => c.trim())
        .slice(-4, -1),
    ).toEqual(['1', '12', '0']);
    expect(card).toContain('Drafting chest image captions for review by a radiologist.');
    // PNG images carry no tags to remove: ingestion recorded method none for each of the 12.
    expect(card).toMatch(/### De-identification\n+- none: 12 assets/);
    for (const section of ['Model details', 'Intended use', 'Factors', 'Metrics', 'Evaluation data', 'Training data', 'Ethical considerations', 'Caveats']) {
      expect(card).toContain(section);
    }
  });

  it(
    'flags the champion when a subject of its snapshot withdraws consent; health and the API say it needs retraining',
    async () => {
      const subject = training.subjects[0];
      ok(
        await http
          .post(`/ingestion/subjects/${subject.subjectId}/consents/${subject.consentId}/withdraw`)
          .set(as('steward'))
          .send({ purposes: ['model-training'] }),
      );
      const flagged = await eventually(async () => ((await version(2)).flag ? version(2) : undefined), 120_000, 250);
      expect(flagged.flag).toEqual({ subjects: 1, items: 2 });
      const health = ok(await http.get('/health'));
      expect(health.components.registry).toMatchObject({
        status: 'degraded',
        needsRetraining: [{ model: modelName, version: 2, aliases: ['champion'], subjects: 1 }],
      });
      // A flagged version cannot be promoted: the consent gate fails.
      const again = ok(
        await http.post('/registry/promotions').set(as('promoter')).send({ model: modelName, version: 2, alias: 'candidate', reason: 'try' }),
        201,
      );
      expect(again.verdicts.find((v: { gate: string }) => v.gate === 'consent')).toMatchObject({ passed: false });
      // The retrain is asked for here and heard by the trainer.
      ok(await http.post(`/registry/models/${modelName}/versions/2/retrain`).set(as('trainer')));
      const retrain = await eventually(
        async () => (await t.dataSource.query(`SELECT run_id FROM trainer_runs WHERE request->>'replaces' = $1`, [versions[1].source.runId]))[0],
        120_000,
        250,
      );
      expect(retrain.run_id).toEqual(expect.any(String));
      // Both versions trained on the withdrawn subject: demoting takes champion off the model.
      const demoted = ok(await http.post(`/registry/models/${modelName}/aliases/champion/demote`).set(as('approver')).send({ reason: 'consent withdrawn' }));
      expect(demoted).toEqual({ alias: 'champion', version: null });
      expect(ok(await http.get('/health')).components.registry.needsRetraining).toEqual([]);
    },
    LONG,
  );

  it('delivers the registry events to the webhook, each signed over its body with a timestamp', async () => {
    await eventually(async () => deliveries.some((d) => JSON.parse(d.body).type === 'ModelVersionFlagged'), 60_000, 250);
    const types = new Set(deliveries.map((d) => JSON.parse(d.body).type));
    for (const type of ['ModelVersionRegistered', 'AliasMoved', 'ModelVersionFlagged', 'EvaluationCompleted']) expect(types).toContain(type);
    for (const d of deliveries) {
      const header = String(d.headers['trellis-signature']);
      const [, timestamp, signature] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header)!;
      const expected = createHmac('sha256', webhookSecret).update(`${timestamp}.${d.body}`).digest();
      expect(timingSafeEqual(expected, Buffer.from(signature, 'hex'))).toBe(true);
      expect(Math.abs(Date.now() / 1000 - Number(timestamp))).toBeLessThan(600);
    }
  });
});
