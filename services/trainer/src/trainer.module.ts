import { DynamicModule, Inject, Module, OnModuleInit } from '@nestjs/common';
import { OBJECT_STORAGE, ObjectStorage, openObjectStorage } from '@trellis/storage';
import { RecordAnnotationSetUseCase } from './annotation-sets/record-annotation-set.usecase';
import { BaseModelUseCases } from './base-models/base-model.usecases';
import { BaseModelsController } from './base-models/base-models.controller';
import { RunExecutor } from './execution/run-executor';
import { RunQueue } from './execution/run-queue';
import { TrainerProjection } from './read-models/trainer.projection';
import { RunStreams } from './runs/run.streams';
import { RunUseCases } from './runs/run.usecases';
import { RunsController } from './runs/runs.controller';
import { FreezeSnapshotUseCase } from './snapshot/freeze-snapshot.usecase';
import { OpenLineageForwarder } from './openlineage/openlineage.forwarder';
import { OpenLineageRecorder } from './openlineage/openlineage.recorder';
import { trainerConfigFromEnv } from './trainer.config';
import { TrainerAnnotationHandler, TrainerIngestionHandler, TrainerRegistryHandler } from './trainer-events.handler';
import { TRAINER_CONFIG, TRAINER_STORAGE } from './trainer.tokens';

const ANNOTATION_HANDLER = Symbol('TRAINER_ANNOTATION_HANDLER');
const REGISTRY_HANDLER = Symbol('TRAINER_REGISTRY_HANDLER');

/**
 * The trainer service. `forRoot()` returns the module and its event handlers: the handlers go
 * into MessagingModule.forRoot({ handlers }) (built before injection happens); the annotation
 * one gets its use case when this module initializes, before delivery starts.
 */
@Module({})
export class TrainerModule implements OnModuleInit {
  constructor(
    @Inject(ANNOTATION_HANDLER) private readonly handler: TrainerAnnotationHandler,
    @Inject(REGISTRY_HANDLER) private readonly registryHandler: TrainerRegistryHandler,
    private readonly sets: RecordAnnotationSetUseCase,
    private readonly runs: RunUseCases,
  ) {}

  onModuleInit(): void {
    this.handler.bind(this.sets);
    this.registryHandler.bind(this.runs);
  }

  static forRoot(options: { env?: NodeJS.ProcessEnv } = {}): {
    module: DynamicModule;
    handlers: [TrainerIngestionHandler, TrainerAnnotationHandler, TrainerRegistryHandler];
  } {
    const annotation = new TrainerAnnotationHandler();
    const registry = new TrainerRegistryHandler();
    return {
      handlers: [new TrainerIngestionHandler(), annotation, registry],
      module: {
        module: TrainerModule,
        controllers: [RunsController, BaseModelsController],
        providers: [
          { provide: ANNOTATION_HANDLER, useValue: annotation },
          { provide: REGISTRY_HANDLER, useValue: registry },
          { provide: TRAINER_CONFIG, useFactory: () => trainerConfigFromEnv(options.env ?? process.env) },
          {
            // The platform's StorageModule when it is there; otherwise the same choice from the environment.
            provide: TRAINER_STORAGE,
            inject: [{ token: OBJECT_STORAGE, optional: true }],
            useFactory: async (shared?: ObjectStorage): Promise<ObjectStorage> => shared ?? openObjectStorage(),
          },
          TrainerProjection,
          RunStreams,
          OpenLineageRecorder,
          OpenLineageForwarder,
          RunUseCases,
          BaseModelUseCases,
          RecordAnnotationSetUseCase,
          FreezeSnapshotUseCase,
          RunQueue,
          RunExecutor,
        ],
        exports: [RunUseCases, BaseModelUseCases, RunExecutor],
      },
    };
  }
}
