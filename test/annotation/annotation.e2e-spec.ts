import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import request from 'supertest';
import { eventually, uniqueTitle } from '@trellis/testing';
import { AnnotationCliDeps, defaultDeps, runAnnotationCommand } from '../../services/annotation/src/cli/annotation.command';
import { PlatformTestApp, startPlatformTestApp } from '../platform/platform-test-app';

/** Ingestion answers a withdrawal with 200 (it is an action on an existing consent). */
const WITHDRAW_STATUS = 200;

/** A small PNG whose pixels depend on `seed`, so every subject's image has its own content. */
function png(seed: number): Buffer {
  const img = new PNG({ width: 32, height: 32 });
  for (let i = 0; i < img.data.length; i += 4) {
    img.data[i] = (seed * 53 + i) % 256;
    img.data[i + 1] = (seed * 97 + i * 3) % 256;
    img.data[i + 2] = (seed * 31) % 256;
    img.data[i + 3] = 255;
  }
  return PNG.sync.write(img);
}

/**
 * Ingestion to annotation over real Kafka: the platform in kafka mode relays the `ingestion`
 * log to `trellis.ingestion.v1` and the annotation consumer group turns a published dataset
 * version into tasks; a consent withdrawal travels the same way. The same scenario runs again
 * on the embedded default (in-process delivery from the PostgreSQL log). Everything is driven
 * through the REST APIs with real tokens.
 */
/** Supertest parses JSON bodies itself; exports are read as the text a client would save. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- supertest types the raw response as any
const asText = (res: any, cb: (err: Error | null, body: string) => void) => {
  let text = '';
  res.on('data', (c: Buffer) => (text += c.toString()));
  res.on('end', () => cb(null, text));
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- supertest types the raw response as any
const asBuffer = (res: any, cb: (err: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
};

/** The regular files of a ustar archive, by name (enough to check an export bundle). */
function untar(tar: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (let at = 0; at + 512 <= tar.length;) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const name = header.subarray(0, 100).toString('ascii').replace(/\0.*$/s, '');
    const size = parseInt(header.subarray(124, 136).toString('ascii'), 8);
    files.set(name, tar.subarray(at + 512, at + 512 + size));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

describe.each(['kafka', 'in-process'] as const)('Annotation end to end (%s delivery)', (mode) => {
  let t: PlatformTestApp;
  let http: ReturnType<typeof request>;
  const tokens: Record<string, string> = {};
  const principal: Record<string, string> = {};
  /** Left by the first scenario for the CLI scenario: the dataset version and the published project. */
  const shared: { datasetId?: string; datasetVersion?: number; projectId?: string; llava?: unknown } = {};

  beforeAll(async () => {
    t = await startPlatformTestApp(mode);
    http = request(t.app.getHttpServer());
    for (const [name, roles] of Object.entries({
      steward: ['steward'],
      a1: ['annotator'],
      a2: ['annotator'],
      r1: ['reviewer'],
      r2: ['reviewer'],
      engineer: ['engineer'],
    })) {
      const issued = await t.token(roles);
      tokens[name] = issued.token;
      principal[name] = issued.principalId;
    }
  });
  afterAll(() => t.close());

  const as = (who: string) => ({ authorization: `Bearer ${tokens[who]}` });
  const ok = (res: request.Response, status = 200) => {
    if (res.status !== status) throw new Error(`expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };

  it('documents its REST API in the OpenAPI document', async () => {
    const doc = ok(await http.get('/docs-json'));
    for (const path of [
      '/annotation/projects',
      '/annotation/projects/{projectId}/tasks/next',
      '/annotation/tasks/{taskId}/annotation',
      '/annotation/tasks/{taskId}/reviews',
      '/annotation/tasks/{taskId}/adjudication',
      '/annotation/projects/{projectId}/sets/{version}/export',
      '/annotation/projects/{projectId}/imports',
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
  });

  it('turns a published dataset version into tasks, and review, adjudication, consent withdrawal and LLaVA round trip into annotation sets', async () => {
    // --- ingestion, through its REST API: three consenting subjects, one image each, a report on the first
    const subjects: { subjectId: string; consentId: string; imageId: string }[] = [];
    for (let n = 0; n < 3; n++) {
      const { subjectId } = ok(
        await http
          .post('/ingestion/subjects')
          .set(as('steward'))
          .send({ externalRef: `e2e-annotation-${Date.now()}-${n}` }),
        201,
      );
      const { consentId } = ok(
        await http
          .post(`/ingestion/subjects/${subjectId}/consents`)
          .set(as('steward'))
          .send({ decision: 'permit', purposes: ['model-training', 'research', 'human-annotation'] }),
        201,
      );
      const image = ok(
        await http
          .post('/ingestion/assets')
          .set(as('steward'))
          .field('subject', subjectId)
          .field('kind', 'image')
          .attach('file', png(n + (Date.now() % 1000)), { filename: 'film.png', contentType: 'image/png' }),
        201,
      );
      subjects.push({ subjectId, consentId, imageId: image.assetId });
    }
    const report = ok(
      await http
        .post('/ingestion/assets')
        .set(as('steward'))
        .field('subject', subjects[0].subjectId)
        .field('kind', 'report')
        .field('describesAssetId', subjects[0].imageId)
        .attach('file', Buffer.from('Findings: clear lungs. Impression: normal study.\n'), { filename: 'report.txt', contentType: 'text/plain' }),
      201,
    );
    const { datasetId } = ok(
      await http
        .post('/ingestion/datasets')
        .set(as('steward'))
        .send({ name: uniqueTitle('e2e annotation') }),
      201,
    );
    ok(
      await http
        .post(`/ingestion/datasets/${datasetId}/assets`)
        .set(as('steward'))
        .send({ assetIds: [...subjects.map((s) => s.imageId), report.assetId] }),
    );
    const published = ok(await http.post(`/ingestion/datasets/${datasetId}/versions`).set(as('steward')).send({}), 201);

    // --- an annotation project on that version: captions, two annotators per item. Annotation
    // refuses a version it has not received (yet), naming the field; the event may still be on its way.
    const projectBody = {
      name: 'film captions',
      datasetId,
      datasetVersion: published.version,
      taskType: 'caption',
      guidelines: 'One sentence: the body part and the main finding.',
      annotationsPerItem: 2,
      agreementThreshold: 0.5,
    };
    const unknown = await http
      .post('/annotation/projects')
      .set(as('steward'))
      .send({ ...projectBody, datasetVersion: published.version + 1 });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatch(/^UNKNOWN_DATASET(_VERSION)?$/);
    const project = await eventually(
      async () => {
        const res = await http.post('/annotation/projects').set(as('steward')).send(projectBody);
        if (res.status === 400 && /^UNKNOWN_DATASET/.test(res.body.error)) return undefined;
        return ok(res, 201);
      },
      90_000,
      250,
    );
    // The version reaches annotation through Kafka: three tasks, one per image (the report is context).
    const counts = await eventually(
      async () => {
        const p = ok(await http.get(`/annotation/projects/${project.projectId}`).set(as('steward')));
        return p.tasks.open === 3 ? p.tasks : undefined;
      },
      90_000,
      250,
    );
    expect(counts).toEqual({ open: 3, adjudication: 0, final: 0, cancelled: 0 });

    const itemOf = (imageId: string) => subjects.findIndex((s) => s.imageId === imageId);
    const captionA1 = ['a chest film with clear lungs', 'a knee film with a fracture', 'a hand film'];
    const captionA2 = ['chest film, lungs clear', 'an abdominal scan showing bowel gas', 'a hand film'];

    // a1 annotates all three items blind; the report travels with the first image as context.
    const a1Tasks: Record<number, string> = {};
    for (;;) {
      const { task } = ok(await http.post(`/annotation/projects/${project.projectId}/tasks/next`).set(as('a1')));
      if (!task) break;
      const i = itemOf(task.itemId);
      expect(task.reportAssetId).toBe(i === 0 ? report.assetId : null);
      const image = await http.get(`/annotation/tasks/${task.taskId}/image`).set(as('a1')).buffer(true).parse(asText);
      expect([image.status, image.headers['content-type']]).toEqual([200, 'image/png']);
      const context = await http.get(`/annotation/tasks/${task.taskId}/report`).set(as('a1')).buffer(true).parse(asText);
      if (i === 0) expect([context.status, context.body]).toEqual([200, expect.stringContaining('clear lungs')]);
      else expect([context.status, context.body.error ?? JSON.parse(context.body).error]).toEqual([404, 'REPORT_NOT_FOUND']);
      expect((await http.get(`/annotation/tasks/${task.taskId}/image`).set(as('a2'))).status).toBe(403);
      a1Tasks[i] = task.taskId;
      ok(
        await http
          .post(`/annotation/tasks/${task.taskId}/annotation`)
          .set(as('a1'))
          .send({ answer: { caption: captionA1[i] } }),
      );
    }
    expect(Object.keys(a1Tasks).sort()).toEqual(['0', '1', '2']);

    // Bad input over HTTP: empty caption (400), someone else's task (403), unknown task (404); nothing changes.
    const before = ok(await http.get(`/annotation/projects/${project.projectId}/review-queue`).set(as('r1'))).length;
    const { task: a2First } = ok(await http.post(`/annotation/projects/${project.projectId}/tasks/next`).set(as('a2')));
    expect(a2First.answer).toBeNull();
    expect(JSON.stringify(a2First)).not.toContain(captionA1[itemOf(a2First.itemId)]);
    const empty = await http
      .post(`/annotation/tasks/${a2First.taskId}/annotation`)
      .set(as('a2'))
      .send({ answer: { caption: '  ' } });
    expect([empty.status, empty.body.error, empty.body.fields]).toEqual([400, 'INVALID_ANSWER', ['answer.caption']]);
    const notA2s = Object.values(a1Tasks).find((id) => id !== a2First.taskId)!;
    const notMine = await http
      .post(`/annotation/tasks/${notA2s}/annotation`)
      .set(as('a2'))
      .send({ answer: { caption: 'x' } });
    expect([notMine.status, notMine.body.error]).toEqual([403, 'NOT_YOUR_TASK']);
    const missing = await http
      .post('/annotation/tasks/01930000-0000-7000-8000-000000000000/annotation')
      .set(as('a2'))
      .send({ answer: { caption: 'x' } });
    expect([missing.status, missing.body.error]).toEqual([404, 'TASK_NOT_FOUND']);
    expect(ok(await http.get(`/annotation/projects/${project.projectId}/review-queue`).set(as('r1'))).length).toBe(before);

    // The third subject withdraws consent for human annotation in the middle of the work.
    ok(
      await http
        .post(`/ingestion/subjects/${subjects[2].subjectId}/consents/${subjects[2].consentId}/withdraw`)
        .set(as('steward'))
        .send({ purposes: ['human-annotation'] }),
      WITHDRAW_STATUS,
    );
    await eventually(async () => ok(await http.get(`/annotation/projects/${project.projectId}`).set(as('steward'))).tasks.cancelled === 1, 90_000, 250);

    // a2 finishes: the cancelled item is not handed out any more (and a2's pending one on it, if any, is refused).
    let task = a2First;
    const a2Items: number[] = [];
    while (task) {
      const i = itemOf(task.itemId);
      const res = await http
        .post(`/annotation/tasks/${task.taskId}/annotation`)
        .set(as('a2'))
        .send({ answer: { caption: captionA2[i] } });
      if (i === 2) expect([res.status, res.body.error]).toEqual([409, 'TASK_NOT_OPEN']);
      else {
        ok(res);
        a2Items.push(i);
      }
      task = ok(await http.post(`/annotation/projects/${project.projectId}/tasks/next`).set(as('a2'))).task;
    }
    expect(a2Items.sort()).toEqual([0, 1]);

    // An annotator cannot review; r1 accepts every submitted annotation on the open items.
    expect((await http.get(`/annotation/projects/${project.projectId}/review-queue`).set(as('a1'))).status).toBe(403);
    const queue = ok(await http.get(`/annotation/projects/${project.projectId}/review-queue`).set(as('r1')));
    expect(queue).toHaveLength(4);
    for (const q of queue)
      ok(await http.post(`/annotation/tasks/${q.taskId}/reviews`).set(as('r1')).send({ assignmentId: q.assignmentId, verdict: 'accepted' }));

    // Item 0 captions agree (token F1 above 0.5): final. Item 1 does not: adjudication, where r2 writes the answer.
    const adjudication = ok(await http.get(`/annotation/projects/${project.projectId}/adjudication-queue`).set(as('r2')));
    expect(adjudication.map((a: { itemId: string }) => itemOf(a.itemId))).toEqual([1]);
    ok(
      await http
        .post(`/annotation/tasks/${adjudication[0].taskId}/adjudication`)
        .set(as('r2'))
        .send({ answer: { caption: 'a knee film with a tibial fracture' } }),
    );
    expect(ok(await http.get(`/annotation/projects/${project.projectId}`).set(as('steward'))).tasks).toEqual({
      open: 0,
      adjudication: 0,
      final: 2,
      cancelled: 1,
    });

    // Agreement per project and per annotator (reviewers and auditors read it).
    const agreement = ok(await http.get(`/annotation/projects/${project.projectId}/agreement`).set(as('r1')));
    expect(agreement).toMatchObject({ taskType: 'caption', items: 2, annotators: 2, exactMatchRate: 0 });
    expect(agreement.meanTokenF1).toBeGreaterThan(0);
    expect(agreement.perAnnotator.map((a: { annotatorId: string }) => a.annotatorId).sort()).toEqual([principal.a1, principal.a2].sort());

    // --- publish: two items, the withdrawn subject's item left out and counted
    const set = ok(await http.post(`/annotation/projects/${project.projectId}/sets`).set(as('steward')), 201);
    expect(set).toMatchObject({
      version: 1,
      itemCount: 2,
      leftOutCount: 1,
      leftOut: [{ reason: 'consent-withdrawn:human-annotation', count: 1 }],
      pendingCount: 0,
    });
    const [event] = await t.dataSource.query(
      `SELECT data, actor_id FROM trellis_events WHERE log = 'annotation' AND type = 'AnnotationSetPublished' AND data->>'projectId' = $1`,
      [project.projectId],
    );
    expect(event.data.contentSha256).toBe(set.contentSha256);
    const content = ok(await http.get(`/annotation/projects/${project.projectId}/sets/1`).set(as('engineer')));
    expect(content.items.map((i: { subjectId: string }) => i.subjectId)).not.toContain(subjects[2].subjectId);
    const item1 = content.items.find((i: { itemId: string }) => i.itemId === subjects[1].imageId);
    expect(item1).toMatchObject({ source: 'adjudication', annotators: [principal.a1, principal.a2].sort(), reviewers: [principal.r1, principal.r2].sort() });

    const llava = JSON.parse(
      ok(await http.get(`/annotation/projects/${project.projectId}/sets/1/export?format=llava`).set(as('engineer')).buffer(true).parse(asText)),
    );
    expect(llava).toHaveLength(2);
    for (const r of llava) {
      expect(r.conversations[0]).toEqual({ from: 'human', value: '<image>\nDescribe the image.' });
      expect(r.conversations[1].from).toBe('gpt');
    }
    expect(llava.find((r: { id: string }) => r.id === subjects[1].imageId).conversations[1].value).toBe('a knee film with a tibial fracture');
    Object.assign(shared, { datasetId, datasetVersion: published.version, projectId: project.projectId, llava });

    // --- what a trainer downloads: the images and the LLaVA file pointing at them by relative path
    const bundle = await http
      .get(`/annotation/projects/${project.projectId}/sets/1/export?format=llava&bundle=tar`)
      .set(as('engineer'))
      .buffer(true)
      .parse(asBuffer);
    expect(bundle.status).toBe(200);
    expect(bundle.headers['content-type']).toBe('application/x-tar');
    const files = untar(bundle.body as Buffer);
    const bundled = JSON.parse(files.get(`annotation-set-${project.projectId}-v1.json`)!.toString('utf8'));
    expect(bundled.map((r: { id: string }) => r.id)).toEqual(llava.map((r: { id: string }) => r.id));
    for (const r of bundled) {
      expect(r.image).toMatch(/^images\/[0-9a-f]{64}\.png$/);
      expect(createHash('sha256').update(files.get(r.image)!).digest('hex')).toBe(r.image.slice(7, 71));
    }
    // The engineer reads the dataset version and its images too (the model input is the 224 derivative).
    ok(await http.get(`/ingestion/datasets/${datasetId}`).set(as('engineer')));
    const manifest = ok(await http.get(`/ingestion/datasets/${datasetId}/versions/${published.version}`).set(as('engineer')));
    const member = manifest.members.find((m: { assetId: string }) => m.assetId === subjects[1].imageId);
    const curated = await http
      .get(`/ingestion/datasets/${datasetId}/versions/${published.version}/images/${subjects[1].imageId}`)
      .set(as('engineer'))
      .buffer(true)
      .parse(asBuffer);
    expect(curated.status).toBe(200);
    expect(
      createHash('sha256')
        .update(curated.body as Buffer)
        .digest('hex'),
    ).toBe(member.curatedSha256);
    const input = await http
      .get(`/ingestion/datasets/${datasetId}/versions/${published.version}/images/${subjects[1].imageId}?size=224`)
      .set(as('engineer'))
      .buffer(true)
      .parse(asBuffer);
    expect(bundled.find((r: { id: string }) => r.id === subjects[1].imageId).image).toBe(
      `images/${createHash('sha256')
        .update(input.body as Buffer)
        .digest('hex')}.png`,
    );
    expect((await http.get(`/ingestion/datasets/${datasetId}/versions/${published.version}/images/${report.assetId}`).set(as('engineer'))).status).toBe(404);
    expect((await http.get(`/ingestion/datasets/${datasetId}/versions/${published.version}/images/${subjects[1].imageId}`).set(as('a1'))).status).toBe(403);

    // --- round trip: import the LLaVA export into a second project on the same version, publish, export again
    const second = ok(
      await http.post('/annotation/projects').set(as('steward')).send({
        name: 'film captions, imported',
        datasetId,
        datasetVersion: published.version,
        taskType: 'caption',
        guidelines: 'Imported.',
        annotationsPerItem: 1,
        agreementThreshold: 0,
      }),
      201,
    );
    // Created from the stored version, without the withdrawn subject.
    expect(second.tasks).toEqual({ open: 2, adjudication: 0, final: 0, cancelled: 0 });
    const malformed = await http
      .post(`/annotation/projects/${second.projectId}/imports?format=llava`)
      .set(as('steward'))
      .set('content-type', 'application/octet-stream')
      .send(Buffer.from('[{"id":'));
    expect([malformed.status, malformed.body.error]).toEqual([400, 'INVALID_IMPORT']);
    // Over the JSON parser's 100 KB as application/json: a 413 that says how to send it, not a 500.
    const big = await http
      .post(`/annotation/projects/${second.projectId}/imports?format=llava`)
      .set(as('steward'))
      .set('content-type', 'application/json')
      .send(JSON.stringify([{ id: 'x'.repeat(200_000) }]));
    expect([big.status, big.body.error]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect(big.body.message).toMatch(/application\/octet-stream/);
    const imported = ok(
      await http
        .post(`/annotation/projects/${second.projectId}/imports?format=llava`)
        .set(as('steward'))
        .set('content-type', 'application/octet-stream')
        .send(Buffer.from(JSON.stringify(llava))),
      201,
    );
    expect(imported).toMatchObject({ imported: 2, skipped: [] });
    ok(await http.post(`/annotation/projects/${second.projectId}/sets`).set(as('steward')), 201);
    const again = ok(await http.get(`/annotation/projects/${second.projectId}/sets/1/export?format=jsonl`).set(as('steward')).buffer(true).parse(asText));
    const fromJsonl = String(again)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(fromJsonl).toEqual(
      llava.map((r: { id: string; image: string; conversations: { value: string }[] }) => ({ id: r.id, image: r.image, caption: r.conversations[1].value })),
    );
    const llavaAgain = JSON.parse(
      ok(await http.get(`/annotation/projects/${second.projectId}/sets/1/export?format=llava`).set(as('steward')).buffer(true).parse(asText)),
    );
    expect(llavaAgain).toEqual(llava);
  });
  it('serves the trellis annotation CLI: create-project, export to a file, import, publish', async () => {
    expect(shared.projectId).toBeDefined();
    await t.app.listen(0, '127.0.0.1');
    const url = await t.app.getUrl();
    const lines: string[] = [];
    const cli = (who: string): AnnotationCliDeps => ({
      ...defaultDeps({ TRELLIS_URL: url, TRELLIS_TOKEN: tokens[who] }),
      out: (l) => lines.push(l),
      err: () => undefined,
    });
    const dir = mkdtempSync(join(tmpdir(), 'annotation-cli-'));
    const exported = join(dir, 'set.llava.json');
    expect(
      await runAnnotationCommand(['export', '--project', shared.projectId!, '--set-version', '1', '--format', 'llava', '--out', exported], cli('steward')),
    ).toBe(0);
    expect(JSON.parse(readFileSync(exported, 'utf8'))).toEqual(shared.llava);
    const create = [
      'create-project',
      '--dataset',
      shared.datasetId!,
      '--dataset-version',
      String(shared.datasetVersion),
      '--type',
      'caption',
      '--guidelines',
      'Imported from the CLI.',
      '--per-item',
      '1',
      '--threshold',
      '0',
    ];
    // An annotator may not create projects: the platform refuses (403), exit code 3.
    expect(await runAnnotationCommand(create, cli('a1'))).toBe(3);
    expect(await runAnnotationCommand(create, cli('steward'))).toBe(0);
    const projectId = lines.pop()!;
    expect(await runAnnotationCommand(['import', '--project', projectId, '--format', 'llava', exported], cli('steward'))).toBe(0);
    expect(lines.pop()).toBe('imported 2 item(s)');
    expect(await runAnnotationCommand(['publish', '--project', projectId], cli('steward'))).toBe(0);
    expect(lines.pop()).toBe('1');
    const out = join(dir, 'again.llava.json');
    expect(await runAnnotationCommand(['export', '--project', projectId, '--set-version', '1', '--out', out], cli('engineer'))).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(shared.llava);
  });
});
