import { DynamicModule, Inject, Module, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PostgresEventStore } from '@trellis/event-store';
import { OBJECT_STORAGE, ObjectStorage, openObjectStorage } from '@trellis/storage';
import { AnnotationEventsHandler } from './annotation-events.handler';
import { ExcludeSubjectUseCase } from './consent/exclude-subject.usecase';
import { RecordDatasetVersionUseCase } from './dataset-versions/record-dataset-version.usecase';
import { ImportAnnotationsUseCase } from './exchange/import-annotations.usecase';
import { ImportsController } from './exchange/imports.controller';
import { ProjectUseCases } from './projects/project.usecases';
import { ProjectsController } from './projects/projects.controller';
import { AnnotationProjection } from './read-models/annotation.projection';
import { AnnotationSetUseCases } from './sets/annotation-set.usecases';
import { AnnotationSetsController } from './sets/annotation-sets.controller';
import { AnnotationStreams } from './tasks/task.streams';
import { TaskMediaUseCase } from './tasks/task-media.usecase';
import { TaskUseCases } from './tasks/task.usecases';
import { TasksController } from './tasks/tasks.controller';

const ANNOTATION_STORAGE = Symbol('ANNOTATION_STORAGE');

const ANNOTATION_HANDLER = Symbol('ANNOTATION_HANDLER');

/**
 * The annotation service. `forRoot()` returns the module and its ingestion-event handler: the
 * handler goes into MessagingModule.forRoot({ handlers }) (which is built before injection
 * happens) and gets its use cases when this module initializes, before delivery starts.
 */
@Module({})
export class AnnotationModule implements OnModuleInit {
  constructor(
    @Inject(ANNOTATION_HANDLER) private readonly handler: AnnotationEventsHandler,
    private readonly versions: RecordDatasetVersionUseCase,
    private readonly subjects: ExcludeSubjectUseCase,
  ) {}

  onModuleInit(): void {
    this.handler.bind(this.versions, this.subjects);
  }

  static forRoot(): { module: DynamicModule; handler: AnnotationEventsHandler } {
    const handler = new AnnotationEventsHandler();
    return {
      handler,
      module: {
        module: AnnotationModule,
        controllers: [ProjectsController, TasksController, AnnotationSetsController, ImportsController],
        providers: [
          { provide: ANNOTATION_HANDLER, useValue: handler },
          {
            // The platform's StorageModule when it is there; otherwise the same choice from the environment.
            provide: ANNOTATION_STORAGE,
            inject: [{ token: OBJECT_STORAGE, optional: true }],
            useFactory: async (shared?: ObjectStorage): Promise<ObjectStorage> => shared ?? openObjectStorage(),
          },
          { provide: AnnotationProjection, useFactory: () => new AnnotationProjection() },
          { provide: AnnotationStreams, inject: [PostgresEventStore, AnnotationProjection], useFactory: (s: PostgresEventStore, p: AnnotationProjection) => new AnnotationStreams(s, p) },
          { provide: ProjectUseCases, inject: [DataSource, AnnotationStreams], useFactory: (ds: DataSource, s: AnnotationStreams) => new ProjectUseCases(ds, s) },
          { provide: TaskUseCases, inject: [DataSource, AnnotationStreams], useFactory: (ds: DataSource, s: AnnotationStreams) => new TaskUseCases(ds, s) },
          {
            provide: AnnotationSetUseCases,
            inject: [DataSource, AnnotationStreams, ANNOTATION_STORAGE],
            useFactory: (ds: DataSource, s: AnnotationStreams, st: ObjectStorage) => new AnnotationSetUseCases(ds, s, st),
          },
          { provide: TaskMediaUseCase, inject: [AnnotationStreams, ANNOTATION_STORAGE], useFactory: (s: AnnotationStreams, st: ObjectStorage) => new TaskMediaUseCase(s, st) },
          { provide: ImportAnnotationsUseCase, inject: [DataSource, AnnotationStreams], useFactory: (ds: DataSource, s: AnnotationStreams) => new ImportAnnotationsUseCase(ds, s) },
          {
            provide: RecordDatasetVersionUseCase,
            inject: [ANNOTATION_STORAGE, AnnotationStreams, DataSource],
            useFactory: (st: ObjectStorage, s: AnnotationStreams, ds: DataSource) => new RecordDatasetVersionUseCase(st, s, ds),
          },
          { provide: ExcludeSubjectUseCase, inject: [AnnotationStreams], useFactory: (s: AnnotationStreams) => new ExcludeSubjectUseCase(s) },
        ],
        exports: [ProjectUseCases, TaskUseCases, AnnotationSetUseCases, ImportAnnotationsUseCase],
      },
    };
  }
}
