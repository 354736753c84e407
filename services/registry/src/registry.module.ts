import { DynamicModule, Inject, Module, OnModuleInit } from '@nestjs/common';
import { OBJECT_STORAGE, ObjectStorage, openObjectStorage } from '@trellis/storage';
import { FlagVersionsUseCase } from './consent/flag-versions.usecase';
import { EvaluationExecutor } from './evaluation/execution/evaluation-executor';
import { EvaluationQueue } from './evaluation/execution/evaluation-queue';
import { EvaluationsController } from './evaluation/evaluations.controller';
import { EvaluationUseCases } from './evaluation/evaluation.usecases';
import { ModelCardUseCase } from './model-cards/model-card.usecase';
import { ModelUseCases } from './models/model.usecases';
import { ModelsController } from './models/models.controller';
import { RegisterVersionUseCase } from './models/register-version.usecase';
import { PromotionsController } from './promotion/promotions.controller';
import { PromotionUseCases } from './promotion/promotion.usecases';
import { RegistryProjection } from './read-models/registry.projection';
import { registryConfigFromEnv } from './registry.config';
import { RegistryHealth } from './registry.health';
import { REGISTRY_CONFIG, REGISTRY_STORAGE } from './registry.tokens';
import { RegistryAnnotationHandler, RegistryIngestionHandler, RegistryTrainerHandler } from './registry-events.handler';
import { RegistryEventsOutbox } from './streams/registry-events.outbox';
import { RegistryStreams } from './streams/registry.streams';
import { UpstreamFactsRecorder } from './upstream/upstream-facts.recorder';
import { WebhookUseCases } from './webhooks/webhook.usecases';
import { WebhooksModule } from './webhooks/webhooks.module';

const HANDLERS = Symbol('REGISTRY_HANDLERS');
type Handlers = [RegistryTrainerHandler, RegistryAnnotationHandler, RegistryIngestionHandler];

/**
 * The registry service. `forRoot()` returns the module and its event handlers: the handlers go
 * into MessagingModule.forRoot({ handlers }) (built before injection happens) and get their use
 * cases when this module initializes, before delivery starts.
 */
@Module({})
export class RegistryModule implements OnModuleInit {
  constructor(
    @Inject(HANDLERS) private readonly handlers: Handlers,
    private readonly facts: UpstreamFactsRecorder,
    private readonly versions: RegisterVersionUseCase,
    private readonly flags: FlagVersionsUseCase,
  ) {}

  onModuleInit(): void {
    for (const h of this.handlers) h.bind({ facts: this.facts, versions: this.versions, flags: this.flags });
  }

  static forRoot(options: { env?: NodeJS.ProcessEnv } = {}): { module: DynamicModule; handlers: Handlers } {
    const handlers: Handlers = [new RegistryTrainerHandler(), new RegistryAnnotationHandler(), new RegistryIngestionHandler()];
    return {
      handlers,
      module: {
        module: RegistryModule,
        imports: [WebhooksModule],
        controllers: [ModelsController, PromotionsController, EvaluationsController],
        providers: [
          { provide: HANDLERS, useValue: handlers },
          { provide: REGISTRY_CONFIG, useFactory: () => registryConfigFromEnv(options.env ?? process.env) },
          {
            // The platform's StorageModule when it is there; otherwise the same choice from the environment.
            provide: REGISTRY_STORAGE,
            inject: [{ token: OBJECT_STORAGE, optional: true }],
            useFactory: async (shared?: ObjectStorage): Promise<ObjectStorage> => shared ?? openObjectStorage(),
          },
          { provide: RegistryEventsOutbox, useExisting: WebhookUseCases },
          RegistryProjection,
          RegistryStreams,
          UpstreamFactsRecorder,
          RegisterVersionUseCase,
          FlagVersionsUseCase,
          ModelUseCases,
          ModelCardUseCase,
          PromotionUseCases,
          EvaluationUseCases,
          EvaluationQueue,
          EvaluationExecutor,
          RegistryHealth,
        ],
        exports: [ModelUseCases, PromotionUseCases, EvaluationUseCases, RegistryHealth],
      },
    };
  }
}
