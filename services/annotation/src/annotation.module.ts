import { DynamicModule, Inject, Module, OnModuleInit } from '@nestjs/common';
import { OBJECT_STORAGE, ObjectStorage, openObjectStorage } from '@trellis/storage';
import { AnnotationEventsHandler } from './annotation-events.handler';
import { ANNOTATION_STORAGE } from './annotation.tokens';
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
          AnnotationProjection,
          AnnotationStreams,
          ProjectUseCases,
          TaskUseCases,
          AnnotationSetUseCases,
          TaskMediaUseCase,
          ImportAnnotationsUseCase,
          RecordDatasetVersionUseCase,
          ExcludeSubjectUseCase,
        ],
        exports: [ProjectUseCases, TaskUseCases, AnnotationSetUseCases, ImportAnnotationsUseCase],
      },
    };
  }
}
