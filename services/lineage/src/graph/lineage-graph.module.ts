import { DynamicModule, Inject, Module, OnModuleInit } from '@nestjs/common';
import {
  annotationContracts,
  EventContractRegistry,
  ingestionContracts,
  openLineageContracts,
  openLineageImportContracts,
  registryContracts,
  trainerContracts,
} from '@trellis/contracts';
import { OBJECT_STORAGE, ObjectStorage, openObjectStorage } from '@trellis/storage';
import {
  LineageAnnotationHandler,
  LineageIngestionHandler,
  LineageOpenLineageHandler,
  LineageOpenLineageImportHandler,
  LineageRegistryHandler,
  LineageTrainerHandler,
} from './lineage-events.handler';
import { LineageQueries } from './lineage.queries';
import { LineageResolver } from './lineage.resolver';
import { ConsentImpactListsResolver, ModelProvenanceListsResolver } from './node-lists.resolver';
import { ProvenanceQueries } from './provenance.queries';
import { AliasHistoryQuery } from '../aliases/alias-history.query';
import { AliasHistoryResolver } from '../aliases/alias-history.resolver';
import { LINEAGE_STORAGE } from '../lineage.storage';
import { OpenLineageExportController } from '../openlineage/openlineage-export.controller';
import { OpenLineageImportController } from '../openlineage/openlineage-import.controller';
import { OpenLineageImport } from '../openlineage/openlineage-import';
import { OpenLineageExportQuery } from '../openlineage/openlineage-export.query';

const HANDLERS = Symbol('LINEAGE_HANDLERS');
type Handlers = [
  LineageIngestionHandler,
  LineageAnnotationHandler,
  LineageTrainerHandler,
  LineageRegistryHandler,
  LineageOpenLineageHandler,
  LineageOpenLineageImportHandler,
];

/** The contracts of the events the lineage consumes (its consumers and a rebuild validate and upcast with them). */
export const LINEAGE_CONTRACTS: EventContractRegistry[] = [
  ingestionContracts,
  annotationContracts,
  trainerContracts,
  registryContracts,
  openLineageContracts,
  openLineageImportContracts,
];

/** One consumer per log the lineage reads; the same handlers serve a rebuild by replay. */
export function lineageHandlers(): Handlers {
  return [
    new LineageIngestionHandler(),
    new LineageAnnotationHandler(),
    new LineageTrainerHandler(),
    new LineageRegistryHandler(),
    new LineageOpenLineageHandler(),
    new LineageOpenLineageImportHandler(),
  ];
}

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
    const handlers = lineageHandlers();
    return {
      handlers,
      module: {
        module: LineageGraphModule,
        controllers: [OpenLineageExportController, OpenLineageImportController],
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
          OpenLineageImport,
          LineageResolver,
          ModelProvenanceListsResolver,
          ConsentImpactListsResolver,
          AliasHistoryQuery,
          AliasHistoryResolver,
        ],
        exports: [LineageQueries],
      },
    };
  }
}
