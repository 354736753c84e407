import { randomUUID } from 'node:crypto';
import { DynamicModule, Module } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { Actor, EventContractRegistry, ingestionContracts } from '@trellis/contracts';
import { PostgresEventStore } from '@trellis/event-store';
import { createObjectStorageFromEnv, OBJECT_STORAGE, ObjectStorage, S3ObjectStorage, StorageArea } from '@trellis/storage';
import { openTestEventStore } from '@trellis/testing';
import { IngestAssetUseCase } from '../../services/ingestion/src/assets/ingest-asset.usecase';
import { UploadRecovery } from '../../services/ingestion/src/assets/upload-recovery.service';
import { ConsentUseCases } from '../../services/ingestion/src/consents/consent.usecases';
import { DatasetUseCases } from '../../services/ingestion/src/datasets/dataset.usecases';
import { EraseSubjectUseCase } from '../../services/ingestion/src/erasure/erase-subject.usecase';
import { IngestionConfig, ingestionConfigFromEnv } from '../../services/ingestion/src/ingestion.config';
import { IngestionModule } from '../../services/ingestion/src/ingestion.module';
import { INGESTION_CONFIG } from '../../services/ingestion/src/ingestion.tokens';
import { SubjectUseCases } from '../../services/ingestion/src/subjects/subject.usecases';

/** Buckets of the ingestion tests (one set: every bucket is a SeaweedFS collection with volumes of its own). */
export const TEST_BUCKET_PREFIX = 'trellis-ingest-test-';
export const steward: Actor = { id: 'prn-steward-test', role: 'steward' };

export function testStorage(): S3ObjectStorage {
  const storage = createObjectStorageFromEnv({ ...process.env, S3_BUCKET_PREFIX: TEST_BUCKET_PREFIX });
  if (!(storage instanceof S3ObjectStorage)) throw new Error('the ingestion int tests need S3_ENDPOINT (set by the test set-up)');
  return storage;
}

/** What the host application gives IngestionModule: the database, the event store, object storage. */
@Module({})
class IngestionHostModule {
  static with(ds: DataSource, store: PostgresEventStore, storage: ObjectStorage): DynamicModule {
    return {
      module: IngestionHostModule,
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
 * IngestionModule as the service builds it, over the test's database, store and storage; the
 * configuration is the given one. Not initialised: no scheduler or consumer starts.
 */
export function ingestionTestingModule(deps: {
  ds: DataSource;
  store: PostgresEventStore;
  storage: ObjectStorage;
  config: IngestionConfig;
}): Promise<TestingModule> {
  return Test.createTestingModule({ imports: [IngestionHostModule.with(deps.ds, deps.store, deps.storage), IngestionModule] })
    .overrideProvider(INGESTION_CONFIG)
    .useValue(deps.config)
    .compile();
}

export interface IngestionHarness {
  ds: DataSource;
  store: PostgresEventStore;
  storage: ObjectStorage;
  config: IngestionConfig;
  subjects: SubjectUseCases;
  consents: ConsentUseCases;
  ingest: IngestAssetUseCase;
  datasets: DatasetUseCases;
  erasure: EraseSubjectUseCase;
  recovery: UploadRecovery;
  /** The same module over another storage (one that fails or pauses on purpose). */
  withStorage(storage: ObjectStorage): Promise<TestingModule>;
  /** A registered subject with an active permit for every purpose. */
  consentingSubject(identity?: { name?: string; mrn?: string; birthDate?: string; externalRef?: string }): Promise<string>;
  /** Every key in raw and curated under a prefix (default: everything). */
  keys(prefix?: string): Promise<{ area: StorageArea; key: string }[]>;
  close(): Promise<void>;
}

export async function startIngestionHarness(config: Partial<IngestionConfig> = {}, options: { poolSize?: number } = {}): Promise<IngestionHarness> {
  const { ds, store, close } = await openTestEventStore(new EventContractRegistry().include(ingestionContracts), options.poolSize);
  const storage = testStorage();
  await storage.init();
  // Processing on the calling thread: a worker would boot ts-node in every test module (seconds
  // each); the worker pool has its own tests.
  const cfg: IngestionConfig = { ...ingestionConfigFromEnv({}), workers: 0, ...config };
  const module = await ingestionTestingModule({ ds, store, storage, config: cfg });
  const subjects = module.get(SubjectUseCases);
  const consents = module.get(ConsentUseCases);
  const h: IngestionHarness = {
    ds,
    store,
    storage,
    config: cfg,
    subjects,
    consents,
    ingest: module.get(IngestAssetUseCase),
    datasets: module.get(DatasetUseCases),
    erasure: module.get(EraseSubjectUseCase),
    recovery: module.get(UploadRecovery),
    withStorage: (other) => ingestionTestingModule({ ds, store, storage: other, config: cfg }),
    async consentingSubject(identity = {}) {
      // A subject needs an identity or a reference (issue 11, item 1): tests that do not care get a fresh reference.
      const given = Object.values(identity).some((v) => v !== undefined) ? identity : { externalRef: `ext-${randomUUID()}` };
      const { subjectId } = await subjects.register(given, steward);
      await consents.record(subjectId, { decision: 'permit', purposes: ['model-training', 'research', 'human-annotation'] }, steward);
      return subjectId;
    },
    async keys(prefix = '') {
      const out: { area: StorageArea; key: string }[] = [];
      for (const area of ['raw', 'curated'] as StorageArea[]) for await (const o of storage.list(area, prefix)) out.push({ area, key: o.key });
      return out;
    },
    close,
  };
  return h;
}
