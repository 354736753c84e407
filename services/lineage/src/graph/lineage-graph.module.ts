import { DynamicModule, Inject, Module, OnModuleInit } from '@nestjs/common';
import { OBJECT_STORAGE, ObjectStorage, openObjectStorage } from '@trellis/storage';
import { LineageAnnotationHandler, LineageIngestionHandler, LineageRegistryHandler, LineageTrainerHandler } from './lineage-events.handler';
import { LineageQueries } from './lineage.queries';
import { LineageResolver } from './lineage.resolver';
import { ProvenanceQueries } from './provenance.queries';
import { OpenLineageExportController } from '../openlineage/openlineage-export.controller';
import { OpenLineageExportQuery } from '../openlineage/openlineage-export.query';

const HANDLERS = Symbol('LINEAGE_HANDLERS');
const LINEAGE_STORAGE = Symbol('LINEAGE_STORAGE');
type Handlers = [LineageIngestionHandler, LineageAnnotationHandler, LineageTrainerHandler, LineageRegistryHandler];

/**
 * The lineage graph: its consumers (one per context, consumer group `lineage`) and its GraphQL
 * reads. `forRoot()` returns the module and the handlers, which go into
 * MessagingModule.forRoot({ handlers }) and get the object storage when this module initializes.
 */
@Module({})
export class LineageGraphModule implements OnModuleInit {
  constructor(
    @Inject(HANDLERS) private readonly handlers: Handlers,
    @Inject(LINEAGE_STORAGE) private readonly storage: ObjectStorage,
  ) {}

  onModuleInit(): void {
    for (const h of this.handlers) h.bind(this.storage);
  }

  static forRoot(): { module: DynamicModule; handlers: Handlers } {
    const handlers: Handlers = [new LineageIngestionHandler(), new LineageAnnotationHandler(), new LineageTrainerHandler(), new LineageRegistryHandler()];
    return {
      handlers,
      module: {
        module: LineageGraphModule,
        controllers: [OpenLineageExportController],
        providers: [
          { provide: HANDLERS, useValue: handlers },
          {
            provide: LINEAGE_STORAGE,
            inject: [{ token: OBJECT_STORAGE, optional: true }],
            useFactory: async (shared?: ObjectStorage): Promise<ObjectStorage> => shared ?? openObjectStorage(),
          },
          LineageQueries,
          ProvenanceQueries,
          OpenLineageExportQuery,
          LineageResolver,
        ],
        exports: [LineageQueries],
      },
    };
  }
}
