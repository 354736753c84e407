import { DataSource } from 'typeorm';
import { Actor, EventContractRegistry, ingestionContracts } from '@trellis/contracts';
import { PostgresEventStore } from '@trellis/event-store';
import { createObjectStorageFromEnv, ObjectStorage, S3ObjectStorage, StorageArea } from '@trellis/storage';
import { openTestEventStore } from '@trellis/testing';
import { IngestAssetUseCase } from '../../services/ingestion/src/assets/ingest-asset.usecase';
import { UploadIntentRepository } from '../../services/ingestion/src/assets/upload-intent.repository';
import { UploadRecovery } from '../../services/ingestion/src/assets/upload-recovery.service';
import { ConsentUseCases } from '../../services/ingestion/src/consents/consent.usecases';
import { DatasetUseCases } from '../../services/ingestion/src/datasets/dataset.usecases';
import { EraseSubjectUseCase } from '../../services/ingestion/src/erasure/erase-subject.usecase';
import { IngestionConfig, ingestionConfigFromEnv } from '../../services/ingestion/src/ingestion.config';
import { IngestionReadModels } from '../../services/ingestion/src/read-models/ingestion-read-models';
import { SubjectIdentityRepository } from '../../services/ingestion/src/subjects/subject-identity.repository';
import { SubjectUseCases } from '../../services/ingestion/src/subjects/subject.usecases';

/** Buckets of the ingestion tests (one set: every bucket is a SeaweedFS collection with volumes of its own). */
export const TEST_BUCKET_PREFIX = 'trellis-ingest-test-';
export const steward: Actor = { id: 'prn-steward-test', role: 'steward' };

export function testStorage(): S3ObjectStorage {
  const storage = createObjectStorageFromEnv({ ...process.env, S3_BUCKET_PREFIX: TEST_BUCKET_PREFIX });
  if (!(storage instanceof S3ObjectStorage)) throw new Error('the ingestion int tests need S3_ENDPOINT (set by the test set-up)');
  return storage;
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
  /** A registered subject with an active permit for every purpose. */
  consentingSubject(identity?: { name?: string; mrn?: string; birthDate?: string; externalRef?: string }): Promise<string>;
  /** Every key in raw and curated under a prefix (default: everything). */
  keys(prefix?: string): Promise<{ area: StorageArea; key: string }[]>;
  close(): Promise<void>;
}

export async function startIngestionHarness(config: Partial<IngestionConfig> = {}): Promise<IngestionHarness> {
  const { ds, store, close } = await openTestEventStore(new EventContractRegistry().include(ingestionContracts));
  const storage = testStorage();
  await storage.init();
  const readModels = new IngestionReadModels();
  const identities = new SubjectIdentityRepository(ds);
  const intents = new UploadIntentRepository(ds);
  const cfg: IngestionConfig = { ...ingestionConfigFromEnv({}), ...config };
  const subjects = new SubjectUseCases(ds, store, identities, readModels);
  const consents = new ConsentUseCases(ds, store, readModels);
  const h: IngestionHarness = {
    ds,
    store,
    storage,
    config: cfg,
    subjects,
    consents,
    ingest: new IngestAssetUseCase(ds, store, storage, identities, intents, readModels, cfg),
    datasets: new DatasetUseCases(ds, store, storage, readModels),
    erasure: new EraseSubjectUseCase(ds, store, storage, identities, readModels),
    recovery: new UploadRecovery(ds, store, storage, intents, readModels),
    async consentingSubject(identity = {}) {
      const { subjectId } = await subjects.register(identity, steward);
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
