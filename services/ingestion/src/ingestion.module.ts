import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PostgresEventStore } from '@trellis/event-store';
import { OBJECT_STORAGE, ObjectStorage } from '@trellis/storage';
import { AssetQueries } from './assets/asset.queries';
import { AssetsController } from './assets/assets.controller';
import { IngestAssetUseCase } from './assets/ingest-asset.usecase';
import { AssetProcessorPort, InlineProcessor, ProcessingPool } from './assets/processing-pool';
import { UploadGate } from './assets/upload-gate';
import { UploadIntentRepository } from './assets/upload-intent.repository';
import { UploadRecoveryScheduler } from './assets/upload-recovery.scheduler';
import { UploadRecovery } from './assets/upload-recovery.service';
import { ConsentUseCases } from './consents/consent.usecases';
import { ConsentsController } from './consents/consents.controller';
import { DatasetUseCases } from './datasets/dataset.usecases';
import { DatasetsController } from './datasets/datasets.controller';
import { EraseSubjectUseCase } from './erasure/erase-subject.usecase';
import { ErasureController } from './erasure/erasure.controller';
import { IngestionConfig, ingestionConfigFromEnv, uploadGateLimits } from './ingestion.config';
import { INGESTION_CONFIG } from './ingestion.tokens';
import { IngestionReadModels } from './read-models/ingestion-read-models';
import { SubjectIdentityRepository } from './subjects/subject-identity.repository';
import { SubjectUseCases } from './subjects/subject.usecases';
import { SubjectsController } from './subjects/subjects.controller';

/**
 * The ingestion service: subjects, consents, assets, datasets, erasure. Needs the database,
 * the event store (with `ingestionContracts`) and OBJECT_STORAGE (StorageModule) from the host.
 */
@Module({
  controllers: [SubjectsController, ConsentsController, AssetsController, DatasetsController, ErasureController],
  providers: [
    { provide: INGESTION_CONFIG, useFactory: () => ingestionConfigFromEnv() },
    { provide: IngestionReadModels, useFactory: () => new IngestionReadModels() },
    {
      provide: InlineProcessor,
      inject: [INGESTION_CONFIG],
      useFactory: (c: IngestionConfig): AssetProcessorPort => (c.workers > 0 ? new ProcessingPool(c.workers) : new InlineProcessor()),
    },
    { provide: SubjectIdentityRepository, inject: [DataSource], useFactory: (ds: DataSource) => new SubjectIdentityRepository(ds) },
    { provide: UploadIntentRepository, inject: [DataSource], useFactory: (ds: DataSource) => new UploadIntentRepository(ds) },
    { provide: AssetQueries, inject: [DataSource], useFactory: (ds: DataSource) => new AssetQueries(ds) },
    {
      provide: UploadGate,
      inject: [DataSource, INGESTION_CONFIG],
      // Sized to the pool this process really has (TRELLIS_DB_POOL_SIZE, or what a test opened).
      useFactory: (ds: DataSource, c: IngestionConfig) => new UploadGate(uploadGateLimits(c, Number((ds.options.extra as { max?: number })?.max ?? 10))),
    },
    SubjectUseCases,
    ConsentUseCases,
    IngestAssetUseCase,
    DatasetUseCases,
    EraseSubjectUseCase,
    {
      provide: UploadRecovery,
      inject: [DataSource, PostgresEventStore, OBJECT_STORAGE, UploadIntentRepository, IngestionReadModels],
      useFactory: (ds: DataSource, store: PostgresEventStore, storage: ObjectStorage, intents: UploadIntentRepository, rm: IngestionReadModels) =>
        new UploadRecovery(ds, store, storage, intents, rm),
    },
    {
      provide: UploadRecoveryScheduler,
      inject: [UploadRecovery, OBJECT_STORAGE, INGESTION_CONFIG],
      useFactory: (r: UploadRecovery, storage: ObjectStorage, config: IngestionConfig) => new UploadRecoveryScheduler(r, storage, config),
    },
  ],
  exports: [SubjectUseCases, ConsentUseCases, IngestAssetUseCase, DatasetUseCases, EraseSubjectUseCase, UploadRecovery, AssetQueries],
})
export class IngestionModule {}
