import type { AnnotationSetRef, StoredFile, TrainingSnapshotFrozen } from '@trellis/contracts';
import {
  annotationSetDataset,
  artifactDatasets,
  buildRunEvent,
  eventTypeForOutcome,
  FACET_SCHEMA_URL,
  failureError,
  OpenLineageRunEvent,
  RUN_EVENT_SCHEMA_URL,
  RUN_EVENT_TYPES,
  RunEventInput,
  snapshotDataset,
  trainingJob,
  TRELLIS_OPENLINEAGE_PRODUCER,
} from './openlineage-event';
import { OpenLineageErrorCode, OpenLineageException } from './openlineage.exception';
import { CORE_ID, coreErrors, facetErrors, schemas } from './openlineage-schema.fixture';

const runId = '01930000-0000-7000-8000-000000000001';
const sha = (c: string) => c.repeat(64);

class Fixtures {
  static annotationSet(n: number): AnnotationSetRef {
    return { setId: `01930000-0000-7000-8000-0000000000a${n}`, projectId: '01930000-0000-7000-8000-0000000000f1', version: n, contentSha256: sha(String(n)) };
  }
  static snapshot(): TrainingSnapshotFrozen['data']['snapshot'] {
    return {
      manifest: { name: 'snapshot.json', key: `training-snapshots/${sha('5')}`, sha256: sha('5'), size: 4096 },
      merkleRoot: sha('6'),
      includedItems: 10,
      excludedItems: 2,
      includedSubjects: 5,
      excluded: [{ reason: 'consent-withdrawn', count: 2 }],
      trainItems: 8,
      heldOutItems: 2,
      trainSubjects: 4,
      heldOutSubjects: 1,
      consentAsOf: '2026-12-04T00:00:00.000Z',
    };
  }
  static artifact(name: string, c: string): StoredFile {
    return { name, key: `training-runs/${runId}/artifacts/${sha(c)}`, sha256: sha(c), size: 1234 };
  }
  static input(overrides: Partial<RunEventInput> = {}): RunEventInput {
    return {
      eventType: 'START',
      eventTime: '2026-12-04T10:00:00.000Z',
      runId,
      job: trainingJob('lora'),
      inputs: [snapshotDataset(Fixtures.snapshot()), annotationSetDataset(Fixtures.annotationSet(1)), annotationSetDataset(Fixtures.annotationSet(2))],
      outputs: [],
      ...overrides,
    };
  }
  /** One event of each type, as the trainer would send them through a run's life. */
  static lifecycle(): Record<(typeof RUN_EVENT_TYPES)[number], OpenLineageRunEvent> {
    const artifacts = [Fixtures.artifact('adapter_model.safetensors', 'b'), Fixtures.artifact('adapter_config.json', 'c'), Fixtures.snapshot().manifest];
    return {
      START: buildRunEvent(Fixtures.input({ facets: { nominalTime: { start: '2026-12-04T10:00:00.000Z' } } })),
      RUNNING: buildRunEvent(Fixtures.input({ eventType: 'RUNNING', inputs: [] })),
      COMPLETE: buildRunEvent(Fixtures.input({ eventType: eventTypeForOutcome('completed'), outputs: artifactDatasets(artifacts, Fixtures.snapshot()) })),
      FAIL: buildRunEvent(
        Fixtures.input({
          eventType: eventTypeForOutcome('failed'),
          facets: {
            error: {
              ...failureError({ code: 'DIVERGED', reason: 'loss was NaN at step 7' }),
              stackTrace: 'Error: diverged\n    at step (training-job.ts:1:1)',
            },
          },
        }),
      ),
      ABORT: buildRunEvent(
        Fixtures.input({
          eventType: eventTypeForOutcome('cancelled'),
          parentRun: { runId: '01930000-0000-7000-8000-0000000000c1', job: { namespace: 'trellis', name: 'trainer.retrain' } },
        }),
      ),
    };
  }
}

describe(buildRunEvent.name, () => {
  const events = Fixtures.lifecycle();

  it.each(RUN_EVENT_TYPES)('builds a %s event that the official 2-0-2 schema accepts', (type) => {
    expect(events[type].eventType).toBe(type);
    expect(coreErrors(events[type])).toEqual([]);
  });

  it.each(RUN_EVENT_TYPES)('gives the %s event only facets whose own fetched schemas accept them', (type) => {
    expect(facetErrors(events[type])).toEqual([]);
  });

  it('exercises every facet it can emit, so that none escapes the schema check', () => {
    const emitted = new Set(
      Object.values(events)
        .flatMap((e) => [
          ...Object.values(e.run.facets),
          ...Object.values(e.job.facets),
          ...[...e.inputs, ...e.outputs].flatMap((d) => Object.values(d.facets)),
          ...e.inputs.flatMap((d) => Object.values(d.inputFacets)),
          ...e.outputs.flatMap((d) => Object.values(d.outputFacets)),
        ])
        .map((f) => f._schemaURL),
    );
    expect([...emitted].sort()).toEqual(Object.values(FACET_SCHEMA_URL).sort());
  });

  it('points schemaURL and every facet URL at the schema files kept in spec/', () => {
    const ids = schemas.map((s) => s.$id);
    expect(RUN_EVENT_SCHEMA_URL).toBe(`${CORE_ID}#/$defs/RunEvent`);
    expect(ids).toContain(CORE_ID);
    for (const url of Object.values(FACET_SCHEMA_URL)) {
      const [id, pointer] = url.split('#');
      expect(ids).toContain(id);
      expect(pointer).toMatch(/^\/\$defs\/\w+$/);
    }
  });

  it('marks the job as Trellis batch training', () => {
    expect(events.START.job).toEqual({
      namespace: 'trellis',
      name: 'trainer.lora',
      facets: {
        jobType: {
          _producer: TRELLIS_OPENLINEAGE_PRODUCER,
          _schemaURL: FACET_SCHEMA_URL.jobType,
          processingType: 'BATCH',
          integration: 'TRELLIS',
          jobType: 'TRAINING',
        },
      },
    });
    expect(events.START.producer).toBe(TRELLIS_OPENLINEAGE_PRODUCER);
  });

  it('names the snapshot and the annotation sets as inputs by storage key or id, versioned by content hash', () => {
    expect(events.START.inputs.map((d) => [d.name, d.facets.version?.datasetVersion, d.inputFacets.inputStatistics?.rowCount])).toEqual([
      [`artifacts/training-snapshots/${sha('5')}`, sha('5'), 10],
      ['annotation-sets/01930000-0000-7000-8000-0000000000a1', sha('1'), undefined],
      ['annotation-sets/01930000-0000-7000-8000-0000000000a2', sha('2'), undefined],
    ]);
  });

  it('names the artifacts as outputs, leaving out the snapshot manifest that TrainingCompleted also lists', () => {
    expect(events.COMPLETE.outputs.map((d) => [d.name, d.facets.version?.datasetVersion, d.outputFacets.outputStatistics])).toEqual([
      [`artifacts/training-runs/${runId}/artifacts/${sha('b')}`, sha('b'), expect.objectContaining({ size: 1234, fileCount: 1 })],
      [`artifacts/training-runs/${runId}/artifacts/${sha('c')}`, sha('c'), expect.objectContaining({ size: 1234, fileCount: 1 })],
    ]);
  });

  it('carries the failure code and reason on FAIL', () => {
    expect(events.FAIL.run.facets.errorMessage).toMatchObject({ message: 'DIVERGED: loss was NaN at step 7', programmingLanguage: 'TYPESCRIPT' });
  });

  it('copies nothing from the contract but ids, hashes, counts and storage keys', () => {
    // Every string field of the contract fixtures that is not one of those, planted with a marker.
    const marked = { ...Fixtures.snapshot(), consentAsOf: '1999-09-09T09:09:09.999Z', manifest: { ...Fixtures.snapshot().manifest, name: 'MARKER.json' } };
    const json = JSON.stringify(
      buildRunEvent(
        Fixtures.input({ inputs: [snapshotDataset(marked)], outputs: artifactDatasets([{ ...Fixtures.artifact('x', 'd'), name: 'MARKER.bin' }], marked) }),
      ),
    );
    expect(json).not.toContain('MARKER');
    expect(json).not.toContain(marked.consentAsOf);
  });

  it('truncates a runaway stack trace rather than sending it whole', () => {
    const event = buildRunEvent(Fixtures.input({ eventType: 'FAIL', facets: { error: { message: 'INTERNAL: x', stackTrace: 'x'.repeat(100_000) } } }));
    expect((event.run.facets.errorMessage.stackTrace as string).length).toBeLessThanOrEqual(16_000);
    expect(coreErrors(event)).toEqual([]);
  });

  it('refuses input the schema would refuse, naming every field', () => {
    const build = () =>
      buildRunEvent(
        Fixtures.input({
          runId: 'run-1',
          eventTime: '2026-12-04 10:00:00',
          job: { namespace: '', name: 'trainer.lora' },
          inputs: [{ namespace: 'trellis', name: 'x', rowCount: -1 }],
          producer: 'trellis',
        }),
      );
    let caught: unknown;
    try {
      build();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(OpenLineageException);
    expect((caught as OpenLineageException).code).toBe(OpenLineageErrorCode.InvalidEvent);
    expect((caught as OpenLineageException).fields).toEqual(['eventTime', 'runId', 'job.namespace', 'producer', 'inputs.0.rowCount']);
  });
});

describe('the 2-0-2 schema', () => {
  const valid = () => JSON.parse(JSON.stringify(Fixtures.lifecycle().COMPLETE)) as Record<string, unknown>;

  it('rejects an event without eventTime', () => {
    const event = valid();
    delete event.eventTime;
    expect(coreErrors(event)).not.toEqual([]);
  });

  it('rejects an unknown eventType', () => {
    expect(coreErrors({ ...valid(), eventType: 'FINISHED' })).not.toEqual([]);
  });

  it('rejects a run id that is not a UUID and a time without offset', () => {
    expect(coreErrors({ ...valid(), run: { runId: 'run-1' } })).not.toEqual([]);
    expect(coreErrors({ ...valid(), eventTime: '2026-12-04T10:00:00' })).not.toEqual([]);
  });

  it('rejects a facet without _producer, and a jobType facet without integration', () => {
    const event = Fixtures.lifecycle().START;
    const { _producer: _dropped, ...noProducer } = event.job.facets.jobType;
    expect(coreErrors({ ...event, job: { ...event.job, facets: { jobType: noProducer } } })).not.toEqual([]);
    const { integration: _gone, ...noIntegration } = event.job.facets.jobType;
    expect(facetErrors({ ...event, job: { ...event.job, facets: { jobType: noIntegration as typeof event.job.facets.jobType } } })).not.toEqual([]);
  });
});

describe(eventTypeForOutcome.name, () => {
  it('maps each way a run ends to its OpenLineage event type', () => {
    expect([eventTypeForOutcome('completed'), eventTypeForOutcome('failed'), eventTypeForOutcome('cancelled')]).toEqual(['COMPLETE', 'FAIL', 'ABORT']);
  });
});
