import { DynamicModule, Module } from '@nestjs/common';
import { Test, TestingModule, TestingModuleBuilder } from '@nestjs/testing';
import { v4 as uuidv4, v7 as uuidv7 } from 'uuid';
import { DataSource } from 'typeorm';
import {
  Actor,
  ANNOTATION_LOG,
  annotationContracts,
  DatasetVersionPublished,
  EventContractRegistry,
  EventEnvelope,
  ingestionContracts,
} from '@trellis/contracts';
import { withTransaction } from '@trellis/common';
import { OBJECT_STORAGE, ObjectStorage, openObjectStorage } from '@trellis/storage';
import { PostgresEventStore, ProjectionRunner } from '@trellis/event-store';
import { openTestEventStore } from '@trellis/testing';
import { AnnotationEventsHandler } from './annotation-events.handler';
import { AnnotationErrorCode, AnnotationException } from './annotation.exception';
import { AnnotationModule } from './annotation.module';
import { ANNOTATION_STORAGE } from './annotation.tokens';
import { ExcludeSubjectUseCase } from './consent/exclude-subject.usecase';
import { RecordDatasetVersionUseCase } from './dataset-versions/record-dataset-version.usecase';
import { ImportAnnotationsUseCase } from './exchange/import-annotations.usecase';
import { ProjectUseCases } from './projects/project.usecases';
import { AnnotationProjection } from './read-models/annotation.projection';
import { AnnotationSetUseCases } from './sets/annotation-set.usecases';
import { DatasetVersionBuilder } from './testing/dataset-version.builder';
import { taskStream } from './tasks/task.streams';
import { TaskUseCases } from './tasks/task.usecases';

const steward: Actor = { id: 'prn-steward', role: 'steward' };
const ann = (n: number): Actor => ({ id: `prn-ann-${n}`, role: 'annotator' });
const rev = (n: number): Actor => ({ id: `prn-rev-${n}`, role: 'reviewer' });

const expectCode = async (p: Promise<unknown>, code: AnnotationErrorCode, message?: RegExp) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AnnotationException);
  expect((err as AnnotationException).code).toBe(code);
  if (message) expect((err as Error).message).toMatch(message);
  return err as AnnotationException;
};

/** What the host application gives AnnotationModule: the database, the event store, object storage. */
@Module({})
class AnnotationHostModule {
  static with(ds: DataSource, store: PostgresEventStore, storage: ObjectStorage): DynamicModule {
    return {
      module: AnnotationHostModule,
      global: true,
      providers: [
        { provide: DataSource, useValue: ds },
        { provide: PostgresEventStore, useValue: store },
        { provide: OBJECT_STORAGE, useValue: storage },
      ],
      exports: [DataSource, PostgresEventStore, OBJECT_STORAGE],
    };
  }
}

/**
 * AnnotationModule as the service builds it, over the test's database, store and storage, with
 * what `override` replaces; initialised, so its ingestion-event handler has its use cases.
 */
async function annotationTestingModule(
  deps: { ds: DataSource; store: PostgresEventStore; storage: ObjectStorage },
  override: (builder: TestingModuleBuilder) => TestingModuleBuilder = (b) => b,
): Promise<{ module: TestingModule; handler: AnnotationEventsHandler }> {
  const annotation = AnnotationModule.forRoot();
  const module = await override(
    Test.createTestingModule({ imports: [AnnotationHostModule.with(deps.ds, deps.store, deps.storage), annotation.module] }),
  ).compile();
  await module.init();
  return { module, handler: annotation.handler };
}

describe('Annotation use cases (PostgreSQL, S3)', () => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let runner: ProjectionRunner;
  let storage: ObjectStorage;
  let handler: AnnotationEventsHandler;
  let projects: ProjectUseCases;
  let tasks: TaskUseCases;
  let sets: AnnotationSetUseCases;
  let imports: ImportAnnotationsUseCase;
  let exclusions: ExcludeSubjectUseCase;
  let modules: TestingModule[] = [];
  let opened: Awaited<ReturnType<typeof openTestEventStore>>;

  beforeAll(async () => {
    opened = await openTestEventStore(new EventContractRegistry().include(ingestionContracts).include(annotationContracts));
    ds = opened.ds;
    close = opened.close;
    storage = await openObjectStorage(process.env);
    runner = new ProjectionRunner(ds, opened.store, opened.notifier);
    const built = await moduleWith();
    handler = built.handler;
    projects = built.module.get(ProjectUseCases);
    tasks = built.module.get(TaskUseCases);
    sets = built.module.get(AnnotationSetUseCases);
    imports = built.module.get(ImportAnnotationsUseCase);
    exclusions = built.module.get(ExcludeSubjectUseCase);
  });
  afterAll(async () => {
    for (const m of modules) await m.close();
    modules = [];
    await runner.stopAll();
    await close();
  });

  /** The module over the test's database, store and storage; closed after the suite. */
  const moduleWith = async (override?: (builder: TestingModuleBuilder) => TestingModuleBuilder) => {
    const built = await annotationTestingModule({ ds, store: opened.store, storage }, override);
    modules.push(built.module);
    return built;
  };

  /** Delivers an ingestion event to the handler in a transaction, as the inbox does. */
  const deliver = (type: string, data: unknown) =>
    withTransaction(ds, (tx) => handler.handle({ eventId: uuidv7(), type, data, log: 'ingestion', position: 1 } as EventEnvelope, tx));

  const annotationEvents = async (): Promise<number> => (await ds.query('SELECT count(*)::int AS n FROM trellis_events WHERE log = $1', [ANNOTATION_LOG]))[0].n;

  const projectRequest = (v: DatasetVersionPublished['data'], over: Record<string, unknown> = {}) => ({
    name: 'findings',
    datasetId: v.datasetId,
    datasetVersion: v.version,
    taskType: 'classification',
    labels: ['normal', 'abnormal'],
    guidelines: 'Label the main finding.',
    annotationsPerItem: 2,
    agreementThreshold: 1,
    ...over,
  });

  describe('ProjectUseCases.create', () => {
    it('creates one task per image from a version published before the project, with the report as context', async () => {
      const dv = new DatasetVersionBuilder().image().reportForLastImage().image().image();
      await deliver('DatasetVersionPublished', await dv.publish(storage));
      const p = await projects.create(projectRequest(await dv.publish(storage)), steward);
      expect(p.tasks).toEqual({ open: 3, adjudication: 0, final: 0, cancelled: 0 });
      const rows = await ds.query('SELECT item_id, report_key FROM annotation_tasks WHERE project_id = $1 ORDER BY item_id', [p.projectId]);
      expect(rows.map((r: { item_id: string }) => r.item_id)).toEqual(dv.images().map((i) => i.assetId));
      expect(rows.filter((r: { report_key: string | null }) => r.report_key !== null)).toHaveLength(1);
    });

    it('refuses a version that has not arrived (naming the known ones), then creates the tasks once even if the event came twice', async () => {
      const dv = new DatasetVersionBuilder().image().image();
      const published = { ...(await dv.publish(storage)), name: `films-${uuidv4()}` };
      await expectCode(projects.create(projectRequest(published), steward), AnnotationErrorCode.UnknownDataset, /has received no version/);
      await deliver('DatasetVersionPublished', published);
      await deliver('DatasetVersionPublished', published);
      await expectCode(
        projects.create(projectRequest(published, { datasetVersion: 2 }), steward),
        AnnotationErrorCode.UnknownDatasetVersion,
        /known versions: 1$/,
      );
      const p = await projects.create(projectRequest(published, { datasetId: published.name }), steward);
      expect(p).toMatchObject({ datasetId: dv.datasetId, status: 'active', tasks: { open: 2 } });
    });

    it('records a manifest whose hash does not verify as unreadable and creates no task', async () => {
      const dv = new DatasetVersionBuilder().image();
      const published = await dv.publish(storage);
      await deliver('DatasetVersionPublished', { ...published, manifest: { ...published.manifest, sha256: 'f'.repeat(64) } });
      const versions = await projects.datasetVersions();
      expect(versions.find((v) => v.datasetId === dv.datasetId)).toMatchObject({ status: 'unreadable', problem: expect.stringMatching(/sha256/) });
      // A project on it would never get a task.
      await expectCode(projects.create(projectRequest(published), steward), AnnotationErrorCode.DatasetVersionUnreadable);
    });
  });

  describe('RecordDatasetVersionUseCase', () => {
    it('records a manifest that is not in storage as unreadable instead of failing the consumer', async () => {
      const dv = new DatasetVersionBuilder().image();
      const published = await dv.publish(storage);
      await deliver('DatasetVersionPublished', { ...published, manifest: { ...published.manifest, key: `datasets/${dv.datasetId}/${'0'.repeat(64)}` } });
      const versions = await projects.datasetVersions();
      expect(versions.find((v) => v.datasetId === dv.datasetId)).toMatchObject({
        status: 'unreadable',
        problem: expect.stringMatching(/not in the artifacts area/),
      });
    });
  });

  describe('RecordDatasetVersionUseCase when storage fails transiently', () => {
    it('records the version as pending instead of failing the consumer, and a retry creates the waiting tasks', async () => {
      let down = true;
      const flaky = new Proxy(storage, {
        get(target, prop, receiver) {
          if (prop === 'getBuffer' && down)
            return async () => {
              throw new Error('connect ECONNREFUSED');
            };
          if (prop === 'stat' && down)
            return async () => {
              throw new Error('connect ECONNREFUSED');
            };
          const value = Reflect.get(target, prop, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const versions = (await moduleWith((b) => b.overrideProvider(ANNOTATION_STORAGE).useValue(flaky))).module.get(RecordDatasetVersionUseCase);
      const dv = new DatasetVersionBuilder().image().image();
      const published = await dv.publish(storage);
      await withTransaction(ds, (tx) => versions.record(tx, published, uuidv7()));
      const p = await projects.create(projectRequest(published), steward);
      expect((await projects.datasetVersions()).find((v) => v.datasetId === dv.datasetId)).toMatchObject({
        status: 'pending',
        problem: expect.stringMatching(/could not be read from storage/),
      });
      expect((await projects.get(p.projectId)).tasks.open).toBe(0);
      await expectCode(versions.retry(dv.datasetId, '1e11', uuidv7()), AnnotationErrorCode.InvalidRequest, /version must be a version number/);
      await expectCode(versions.retry(uuidv4(), '1', uuidv7()), AnnotationErrorCode.DatasetVersionNotFound);
      expect(await versions.retry(dv.datasetId, String(published.version), uuidv7())).toMatchObject({ status: 'pending' });
      down = false;
      expect(await versions.retry(dv.datasetId, String(published.version), uuidv7())).toMatchObject({ status: 'ready', problem: null });
      expect((await projects.get(p.projectId)).tasks.open).toBe(2);
      await expectCode(versions.retry(dv.datasetId, String(published.version), uuidv7()), AnnotationErrorCode.DatasetVersionNotPending);
    });
  });

  describe('TaskUseCases.pullNext under concurrency', () => {
    it('hands out no more slots than annotations per item when many annotators pull at once', async () => {
      const dv = new DatasetVersionBuilder().image();
      await deliver('DatasetVersionPublished', await dv.publish(storage));
      const p = await projects.create(projectRequest(await dv.publish(storage)), steward);
      const pulled = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => tasks.pullNext(p.projectId, ann(100 + n))));
      expect(pulled.filter((t) => t !== null)).toHaveLength(2);
      const [{ n }] = await ds.query('SELECT count(*)::int AS n FROM annotation_assignments WHERE project_id = $1', [p.projectId]);
      expect(n).toBe(2);
    });
  });

  describe('TaskUseCases.reviewQueue and blind annotation', () => {
    it('never assigns an item to someone who was shown its answers in the review queue, even if they also annotate', async () => {
      const dv = new DatasetVersionBuilder().image();
      await deliver('DatasetVersionPublished', await dv.publish(storage));
      const p = await projects.create(projectRequest(await dv.publish(storage)), steward);
      const t = (await tasks.pullNext(p.projectId, ann(301)))!;
      await tasks.submit(t.taskId, { answer: { label: 'normal' } }, ann(301));
      const both: Actor = { id: 'prn-both-302', role: 'reviewer' };
      const queue = await tasks.reviewQueue(p.projectId, both);
      expect(queue.map((q) => q.taskId)).toEqual([t.taskId]);
      expect(await tasks.pullNext(p.projectId, { ...both, role: 'annotator' })).toBeNull();
      expect((await tasks.pullNext(p.projectId, ann(303)))!.taskId).toBe(t.taskId);
    });
  });

  describe('TaskUseCases.release and expireStale', () => {
    it('reopens the slot of a released or expired assignment for another annotator', async () => {
      const dv = new DatasetVersionBuilder().image();
      await deliver('DatasetVersionPublished', await dv.publish(storage));
      const p = await projects.create(projectRequest(await dv.publish(storage), { annotationsPerItem: 1 }), steward);
      const t = (await tasks.pullNext(p.projectId, ann(201)))!;
      expect(await tasks.pullNext(p.projectId, ann(202))).toBeNull();
      await expectCode(tasks.release(t.taskId, ann(202)), AnnotationErrorCode.NotYourTask);
      expect(await tasks.release(t.taskId, ann(201))).toEqual({ taskId: t.taskId, status: 'open' });
      expect(await tasks.pullNext(p.projectId, ann(201))).toBeNull();
      expect((await tasks.pullNext(p.projectId, ann(202)))!.taskId).toBe(t.taskId);
      await expectCode(tasks.expireStale(p.projectId, { olderThanMinutes: -1 }, steward), AnnotationErrorCode.InvalidRequest, /olderThanMinutes/);
      expect(await tasks.expireStale(p.projectId, { olderThanMinutes: 60 }, steward)).toEqual({ expired: 0 });
      expect(await tasks.expireStale(p.projectId, { olderThanMinutes: 0 }, steward)).toEqual({ expired: 1 });
      expect((await tasks.pullNext(p.projectId, ann(203)))!.taskId).toBe(t.taskId);
    });
  });

  describe('TaskUseCases', () => {
    let projectId: string;
    let dv: DatasetVersionBuilder;
    beforeAll(async () => {
      dv = new DatasetVersionBuilder().image().image().image();
      await deliver('DatasetVersionPublished', await dv.publish(storage));
      projectId = (await projects.create(projectRequest(await dv.publish(storage)), steward)).projectId;
    });

    it('hands an annotator their unfinished task again, then a new item after submitting, never the same item twice', async () => {
      const first = (await tasks.pullNext(projectId, ann(1)))!;
      expect((await tasks.pullNext(projectId, ann(1)))!.taskId).toBe(first.taskId);
      await tasks.submit(first.taskId, { answer: { label: 'normal' } }, ann(1));
      const seen = new Set([first.itemId]);
      for (;;) {
        const next = await tasks.pullNext(projectId, ann(1));
        if (!next) break;
        expect(seen.has(next.itemId)).toBe(false);
        seen.add(next.itemId);
        await tasks.submit(next.taskId, { answer: { label: 'abnormal' } }, ann(1));
      }
      expect(seen.size).toBe(3);
    });

    it('refuses an unknown label, an empty caption field, a task that does not exist and one that is not yours, changing nothing', async () => {
      const t = (await tasks.pullNext(projectId, ann(2)))!;
      const before = await annotationEvents();
      const bad = await expectCode(
        tasks.submit(t.taskId, { answer: { label: 'unsure' } }, ann(2)),
        AnnotationErrorCode.InvalidAnswer,
        /answer.label: is not in the label set \(normal, abnormal\)/,
      );
      expect(bad.fields).toEqual(['answer.label']);
      await expectCode(
        tasks.submit(t.taskId, { answer: { caption: '' } }, ann(2)),
        AnnotationErrorCode.InvalidAnswer,
        /answer.caption: is not a field of a classification answer/,
      );
      await expectCode(tasks.submit(uuidv4(), { answer: { label: 'normal' } }, ann(2)), AnnotationErrorCode.TaskNotFound);
      await expectCode(tasks.submit('not-a-uuid', { answer: { label: 'normal' } }, ann(2)), AnnotationErrorCode.InvalidRequest, /task id must be a UUID/);
      await expectCode(tasks.submit(t.taskId, { answer: { label: 'normal' } }, ann(3)), AnnotationErrorCode.NotYourTask);
      await expectCode(tasks.get(t.taskId, ann(3)), AnnotationErrorCode.NotYourTask);
      expect(await annotationEvents()).toBe(before);
    });

    it('lets no one review their own item, then accepts agreeing items and adjudicates disagreeing ones', async () => {
      // ann-2 and ann-3 annotate all three items; ann-1 already has; ann-2 agrees with ann-1 on every item.
      // ann-2 (already holding one task) annotates all three items, agreeing with ann-1 except on the first.
      let disagreed: string | undefined;
      for (;;) {
        const t = await tasks.pullNext(projectId, ann(2));
        if (!t) break;
        const [{ answer }]: { answer: { label: string } }[] = await ds.query(
          `SELECT answer FROM annotation_assignments WHERE task_id = $1 AND annotator_id = 'prn-ann-1'`,
          [t.taskId],
        );
        const label = disagreed ? answer.label : answer.label === 'normal' ? 'abnormal' : 'normal';
        disagreed ??= t.taskId;
        await tasks.submit(t.taskId, { answer: { label } }, ann(2));
      }
      const queue = await tasks.reviewQueue(projectId, ann(1));
      expect(queue).toHaveLength(0);
      const reviewable = await tasks.reviewQueue(projectId, rev(1));
      expect(reviewable).toHaveLength(6);
      const before = await annotationEvents();
      await expectCode(
        tasks.review(
          reviewable[0].taskId,
          { assignmentId: reviewable[0].assignmentId, verdict: 'accepted' },
          { id: reviewable[0].annotatorId, role: 'reviewer' },
        ),
        AnnotationErrorCode.SelfReview,
      );
      expect(await annotationEvents()).toBe(before);
      const statuses = [];
      for (const r of reviewable) statuses.push((await tasks.review(r.taskId, { assignmentId: r.assignmentId, verdict: 'accepted' }, rev(1))).status);
      expect(statuses.filter((s) => s === 'final')).toHaveLength(2);
      expect(statuses.filter((s) => s === 'adjudication')).toHaveLength(1);
      const [item] = await tasks.adjudicationQueue(projectId, rev(2));
      expect(item.taskId).toBe(disagreed);
      expect(item.answers).toHaveLength(2);
      await expectCode(
        tasks.adjudicate(item.taskId, { chosenAssignmentId: item.answers[0].assignmentId }, { id: 'prn-ann-2', role: 'reviewer' }),
        AnnotationErrorCode.SelfReview,
      );
      await expectCode(tasks.adjudicate(item.taskId, { answer: { label: 'maybe' } }, rev(2)), AnnotationErrorCode.InvalidAnswer);
      expect(await tasks.adjudicate(item.taskId, { answer: { label: 'abnormal' } }, rev(2))).toEqual({ taskId: item.taskId, status: 'final' });
      const [final] = await ds.query('SELECT final_answer, final_source, adjudicator_id FROM annotation_tasks WHERE task_id = $1', [item.taskId]);
      expect(final).toEqual({ final_answer: { kind: 'classification', label: 'abnormal' }, final_source: 'adjudication', adjudicator_id: 'prn-rev-2' });
      // Two annotators, three shared items, one disagreement: observed agreement 2/3.
      const agreement = await sets.agreement(projectId);
      expect(agreement).toMatchObject({ items: 3, annotators: 2, cohensKappa: { pairs: 1 } });
      expect(agreement.cohensKappa!.value).toBeLessThan(1);
    });
  });

  describe('ExcludeSubjectUseCase via ConsentWithdrawn, then AnnotationSetUseCases.publish', () => {
    it('cancels the open tasks of a withdrawn subject and leaves their items out of the set, counted with the reason', async () => {
      const withdrawn = uuidv4();
      const dv = new DatasetVersionBuilder().image().image(withdrawn).image();
      await deliver('DatasetVersionPublished', await dv.publish(storage));
      const p = await projects.create(
        projectRequest(await dv.publish(storage), { taskType: 'caption', labels: undefined, annotationsPerItem: 1, agreementThreshold: 0.5 }),
        steward,
      );
      await deliver('ConsentWithdrawn', { subjectId: withdrawn, consentId: uuidv4(), purposes: ['human-annotation'], eraseData: false });
      expect((await projects.get(p.projectId)).tasks).toMatchObject({ open: 2, cancelled: 1 });
      const first = (await tasks.pullNext(p.projectId, ann(1)))!;
      await expectCode(
        tasks.submit(first.taskId, { answer: { caption: '   ' } }, ann(1)),
        AnnotationErrorCode.InvalidAnswer,
        /answer.caption: must not be empty/,
      );
      for (;;) {
        const t = await tasks.pullNext(p.projectId, ann(1));
        if (!t) break;
        await tasks.submit(t.taskId, { answer: { caption: `film of item ${t.itemId.slice(0, 4)}` } }, ann(1));
        const [a] = await tasks.reviewQueue(p.projectId, rev(1));
        await tasks.review(a.taskId, { assignmentId: a.assignmentId, verdict: 'accepted' }, rev(1));
      }
      const set = await sets.publish(p.projectId, steward);
      expect(set).toMatchObject({
        version: 1,
        itemCount: 2,
        leftOutCount: 1,
        leftOut: [{ reason: 'consent-withdrawn:human-annotation', count: 1 }],
        pendingCount: 0,
      });
      const content = await sets.content(p.projectId, '1');
      expect(content.items.map((i) => i.subjectId)).not.toContain(withdrawn);
      expect(content.items.every((i) => i.annotators.includes('prn-ann-1') && i.reviewers.includes('prn-rev-1'))).toBe(true);
    });
  });

  describe('AnnotationSetUseCases.get', () => {
    it('refuses a version number beyond a PostgreSQL integer with the field named, instead of failing in the database', async () => {
      const dv = new DatasetVersionBuilder().image();
      await deliver('DatasetVersionPublished', await dv.publish(storage));
      const p = await projects.create(projectRequest(await dv.publish(storage)), steward);
      const err = await expectCode(
        sets.get(p.projectId, '100000000000'),
        AnnotationErrorCode.InvalidRequest,
        /version must be a version number \(an integer from 1 to 2147483647\)/,
      );
      expect(err.fields).toEqual(['params.version']);
      await expectCode(sets.content(p.projectId, '1e11'), AnnotationErrorCode.InvalidRequest);
    });
  });

  describe('AnnotationSetUseCases.publish with subjects excluded before the version arrived', () => {
    it('counts the items that never got a task as left out, with the reason', async () => {
      const early = uuidv4();
      const dv = new DatasetVersionBuilder().image().image(early);
      await deliver('ConsentWithdrawn', { subjectId: early, consentId: uuidv4(), purposes: ['human-annotation'], eraseData: false });
      await deliver('DatasetVersionPublished', await dv.publish(storage));
      const p = await projects.create(projectRequest(await dv.publish(storage), { annotationsPerItem: 1 }), steward);
      expect((await projects.get(p.projectId)).tasks).toMatchObject({ open: 1, cancelled: 0 });
      const t = (await tasks.pullNext(p.projectId, ann(401)))!;
      await tasks.submit(t.taskId, { answer: { label: 'normal' } }, ann(401));
      const [a] = await tasks.reviewQueue(p.projectId, rev(401));
      await tasks.review(a.taskId, { assignmentId: a.assignmentId, verdict: 'accepted' }, rev(401));
      const set = await sets.publish(p.projectId, steward);
      expect(set).toMatchObject({ itemCount: 1, leftOutCount: 1, leftOut: [{ reason: 'consent-withdrawn:human-annotation', count: 1 }], pendingCount: 0 });
    });
  });

  describe('AnnotationSetUseCases.publish while a subject is being excluded', () => {
    it('waits for the exclusion to commit and leaves the subject out of the set', async () => {
      const late = uuidv4();
      const dv = new DatasetVersionBuilder().image().image(late);
      await deliver('DatasetVersionPublished', await dv.publish(storage));
      const p = await projects.create(projectRequest(await dv.publish(storage), { annotationsPerItem: 1 }), steward);
      for (;;) {
        const t = await tasks.pullNext(p.projectId, ann(501));
        if (!t) break;
        await tasks.submit(t.taskId, { answer: { label: 'normal' } }, ann(501));
        const [a] = await tasks.reviewQueue(p.projectId, rev(501));
        await tasks.review(a.taskId, { assignmentId: a.assignmentId, verdict: 'accepted' }, rev(501));
      }
      const tx = ds.createQueryRunner();
      await tx.connect();
      await tx.startTransaction();
      try {
        await exclusions.exclude(tx, late, ['consent-withdrawn:human-annotation'], uuidv7());
        const publishing = sets.publish(p.projectId, steward);
        const settled = publishing.then(
          () => 'published' as const,
          () => 'failed' as const,
        );
        // Either publish finishes while the exclusion is uncommitted (the race), or it waits on the exclusions lock.
        const waiting = (async () => {
          for (;;) {
            const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`);
            if (n > 0) return 'waiting' as const;
            await new Promise((r) => setImmediate(r));
          }
        })();
        expect(await Promise.race([settled, waiting])).toBe('waiting');
        await tx.commitTransaction();
        const set = await publishing;
        expect(set).toMatchObject({ itemCount: 1, leftOutCount: 1, leftOut: [{ reason: 'consent-withdrawn:human-annotation', count: 1 }] });
      } finally {
        if (tx.isTransactionActive) await tx.rollbackTransaction();
        await tx.release();
      }
    });
  });

  describe('ProjectUseCases.create while a subject is being excluded', () => {
    it('waits for the exclusion instead of deadlocking with it', async () => {
      const other = uuidv4();
      const first = new DatasetVersionBuilder().image(other);
      await deliver('DatasetVersionPublished', await first.publish(storage));
      await projects.create(projectRequest(await first.publish(storage)), steward);
      const dv = new DatasetVersionBuilder().image();
      const published = await dv.publish(storage);
      await deliver('DatasetVersionPublished', published);
      const tx = ds.createQueryRunner();
      await tx.connect();
      await tx.startTransaction();
      try {
        // The exclusion holds the exclusions lock; the project creation then waits for it...
        await exclusions.exclude(tx, uuidv4(), ['subject-erased'], uuidv7());
        const creating = projects.create(projectRequest(published), steward);
        const settled = creating.then(
          () => 'created' as const,
          () => 'failed' as const,
        );
        const waiting = (async () => {
          for (;;) {
            const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`);
            if (n > 0) return 'waiting' as const;
            await new Promise((r) => setImmediate(r));
          }
        })();
        expect(await Promise.race([settled, waiting])).toBe('waiting');
        // ...while the exclusion goes on to append to the annotation log (cancelling another subject's task).
        expect(await exclusions.exclude(tx, other, ['subject-erased'], uuidv7())).toBe(1);
        await tx.commitTransaction();
        expect((await creating).tasks.open).toBe(1);
      } finally {
        if (tx.isTransactionActive) await tx.rollbackTransaction();
        await tx.release();
      }
    });
  });

  describe('ExcludeSubjectUseCase when an annotator writes to the task concurrently', () => {
    it('reloads the task and cancels it instead of failing the consumer and losing the exclusion', async () => {
      const subject = uuidv4();
      const dv = new DatasetVersionBuilder().image(subject);
      await deliver('DatasetVersionPublished', await dv.publish(storage));
      const p = await projects.create(projectRequest(await dv.publish(storage), { annotationsPerItem: 1 }), steward);
      const t = (await tasks.pullNext(p.projectId, ann(601)))!;
      let raced = false;
      /** Commits the annotator's submission right after the consumer read the task: its append then conflicts. */
      const racingStore = new Proxy(opened.store, {
        get(target, prop, receiver) {
          if (prop === 'readStream') {
            return async (...args: Parameters<PostgresEventStore['readStream']>) => {
              const read = await target.readStream(...args);
              if (!raced && args[1] === taskStream(t.taskId)) {
                raced = true;
                await tasks.submit(t.taskId, { answer: { label: 'normal' } }, ann(601));
              }
              return read;
            };
          }
          const value = Reflect.get(target, prop, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const racing = (await moduleWith((b) => b.overrideProvider(PostgresEventStore).useValue(racingStore))).module.get(ExcludeSubjectUseCase);
      await withTransaction(ds, (tx) => racing.exclude(tx, subject, ['subject-erased'], uuidv7()));
      expect(raced).toBe(true);
      const [row] = await ds.query('SELECT status, cancel_reason FROM annotation_tasks WHERE task_id = $1', [t.taskId]);
      expect(row).toEqual({ status: 'cancelled', cancel_reason: 'subject-erased' });
      expect(await ds.query('SELECT reason FROM annotation_excluded_subjects WHERE subject_id = $1', [subject])).toEqual([{ reason: 'subject-erased' }]);
    });
  });

  describe('ExcludeSubjectUseCase via SubjectErased', () => {
    it("cancels an erased subject's open tasks with the reason and ignores a withdrawal of research alone", async () => {
      const erased = uuidv4();
      const researchOnly = uuidv4();
      const dv = new DatasetVersionBuilder().image(erased).image(researchOnly);
      await deliver('DatasetVersionPublished', await dv.publish(storage));
      const p = await projects.create(projectRequest(await dv.publish(storage)), steward);
      await deliver('ConsentWithdrawn', { subjectId: researchOnly, consentId: uuidv4(), purposes: ['research'], eraseData: false });
      await deliver('SubjectErased', { subjectId: erased, reason: 'gdpr-art17', assetCount: 1, blobsDeleted: 3 });
      const rows = await ds.query('SELECT subject_id, status, cancel_reason FROM annotation_tasks WHERE project_id = $1', [p.projectId]);
      expect(rows).toEqual(
        expect.arrayContaining([
          { subject_id: erased, status: 'cancelled', cancel_reason: 'subject-erased' },
          { subject_id: researchOnly, status: 'open', cancel_reason: null },
        ]),
      );
      const [event] = await ds.query(
        `SELECT actor_id, actor_role FROM trellis_events WHERE log = 'annotation' AND type = 'TaskCancelled' AND data->>'projectId' = $1`,
        [p.projectId],
      );
      expect(event).toEqual({ actor_id: 'annotation-service', actor_role: 'service' });
    });
  });

  describe('ImportAnnotationsUseCase.import', () => {
    let projectId: string;
    let dv: DatasetVersionBuilder;
    beforeAll(async () => {
      dv = new DatasetVersionBuilder().image().image();
      await deliver('DatasetVersionPublished', await dv.publish(storage));
      projectId = (await projects.create(projectRequest(await dv.publish(storage)), steward)).projectId;
    });

    it('refuses a malformed file, an unknown label, an empty caption and an unknown image with the record and field named, changing nothing', async () => {
      const [a, b] = dv.images();
      const before = await annotationEvents();
      await expectCode(imports.import(projectId, 'llava', '[{"id": ', steward), AnnotationErrorCode.InvalidImport, /not valid JSON/);
      await expectCode(imports.import(projectId, 'llava', '{"id": 1}', steward), AnnotationErrorCode.InvalidImport, /JSON array/);
      const jsonl = `${JSON.stringify({ id: a.assetId, label: 'normal' })}\n${JSON.stringify({ id: b.assetId, label: 'unsure' })}\n`;
      const err = await expectCode(
        imports.import(projectId, 'jsonl', jsonl, steward),
        AnnotationErrorCode.InvalidImport,
        /line 2: answer.label: is not in the label set/,
      );
      expect(err.fields).toEqual(['answer.label']);
      await expectCode(
        imports.import(projectId, 'jsonl', JSON.stringify({ id: uuidv4(), label: 'normal' }), steward),
        AnnotationErrorCode.InvalidImport,
        /line 1: id: names no image/,
      );
      await expectCode(
        imports.import(projectId, 'coco', '{"images": [], "annotations": []}', steward),
        AnnotationErrorCode.InvalidImport,
        /only be imported into a caption project/,
      );
      await expectCode(imports.import(projectId, 'xml', '<a/>', steward), AnnotationErrorCode.InvalidRequest, /format must be one of/);
      expect(await annotationEvents()).toBe(before);
      expect((await projects.get(projectId)).tasks.final).toBe(0);
    });

    it('imports valid records matched by image key, making the items final', async () => {
      const [a, b] = dv.images();
      const jsonl = `${JSON.stringify({ image: a.derivativeKey, label: 'normal' })}\n${JSON.stringify({ id: b.assetId, label: 'abnormal' })}\n`;
      expect(await imports.import(projectId, 'jsonl', jsonl, steward)).toMatchObject({ imported: 2, skipped: [] });
      expect((await projects.get(projectId)).tasks.final).toBe(2);
      await expectCode(imports.import(projectId, 'jsonl', jsonl, steward), AnnotationErrorCode.InvalidImport, /already has a final answer/);
    });
  });
  describe('ProjectUseCases.archive', () => {
    it('archives a project: listed as archived, it hands out no task, and archiving again is a conflict', async () => {
      const dv = new DatasetVersionBuilder().image();
      await deliver('DatasetVersionPublished', await dv.publish(storage));
      const p = await projects.create(projectRequest(await dv.publish(storage)), steward);
      expect(await projects.archive(p.projectId, steward)).toMatchObject({ status: 'archived', archivedAt: expect.any(String) });
      expect((await projects.list()).find((x) => x.projectId === p.projectId)).toMatchObject({ status: 'archived' });
      await expectCode(tasks.pullNext(p.projectId, ann(701)), AnnotationErrorCode.ProjectArchived);
      await expectCode(projects.archive(p.projectId, steward), AnnotationErrorCode.ProjectArchived);
      await expectCode(projects.archive(uuidv4(), steward), AnnotationErrorCode.ProjectNotFound);
    });
  });

  describe('TaskUseCases.pullNext after a rejection', () => {
    const rejectFirst = async (over: Record<string, unknown>) => {
      const dv = new DatasetVersionBuilder().image();
      await deliver('DatasetVersionPublished', await dv.publish(storage));
      const p = await projects.create(projectRequest(await dv.publish(storage), over), steward);
      const a = ann(800 + Math.floor(Math.random() * 100));
      const b: Actor = { id: `${a.id}-b`, role: 'annotator' };
      const ta = (await tasks.pullNext(p.projectId, a))!;
      await tasks.pullNext(p.projectId, b);
      await tasks.submit(ta.taskId, { answer: { label: 'normal' } }, a);
      await tasks.submit(ta.taskId, { answer: { label: 'normal' } }, b);
      const queue = await tasks.reviewQueue(p.projectId, rev(800));
      const mine = queue.find((q) => q.annotatorId === a.id)!;
      await tasks.review(ta.taskId, { assignmentId: mine.assignmentId, verdict: 'rejected', reason: 'look again' }, rev(800));
      return { p, a, b, taskId: ta.taskId };
    };

    it('gives the item back to the rejected annotator when the project allows it and nobody else of the project is left', async () => {
      const { p, a, b, taskId } = await rejectFirst({ reassignRejectedToSameAnnotator: true });
      expect(await tasks.pullNext(p.projectId, b)).toBeNull();
      const again = (await tasks.pullNext(p.projectId, a))!;
      expect(again).toMatchObject({ taskId, status: 'assigned', answer: null });
      await tasks.submit(taskId, { answer: { label: 'normal' } }, a);
      const queue = await tasks.reviewQueue(p.projectId, rev(800));
      expect(queue.map((q) => q.annotatorId).sort()).toEqual([a.id, b.id].sort());
      for (const q of queue) expect(await tasks.review(taskId, { assignmentId: q.assignmentId, verdict: 'accepted' }, rev(800))).toBeDefined();
      expect((await projects.get(p.projectId)).tasks.final).toBe(1);
    });

    it('makes the item wait for someone new by default, and gives it to a new annotator', async () => {
      const { p, a, taskId } = await rejectFirst({});
      expect(p.rules.reassignRejectedToSameAnnotator).toBe(false);
      expect(await tasks.pullNext(p.projectId, a)).toBeNull();
      expect((await tasks.pullNext(p.projectId, { id: `${a.id}-c`, role: 'annotator' }))!.taskId).toBe(taskId);
    });
  });

  describe('AnnotationProjection', () => {
    it('rebuilds the same read model by replaying the annotation log', async () => {
      const snapshot = async () => ({
        projects: await ds.query('SELECT * FROM annotation_projects ORDER BY project_id'),
        tasks: await ds.query(
          'SELECT task_id, project_id, item_id, subject_id, image_key, report_key, status, cancel_reason, final_answer, final_source, agreement, adjudicator_id FROM annotation_tasks ORDER BY task_id',
        ),
        assignments: await ds.query('SELECT * FROM annotation_assignments ORDER BY assignment_id'),
        sets: await ds.query('SELECT * FROM annotation_sets ORDER BY set_id'),
      });
      const before = await snapshot();
      expect(before.tasks.length).toBeGreaterThan(10);
      expect(before.sets.length).toBeGreaterThan(0);
      await runner.rebuild(new AnnotationProjection());
      expect(await snapshot()).toEqual(before);
    });
  });
});
