import { Controller, Get, INestApplication, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { ApiTokenUseCases } from '@trellis/auth';
import { Actor } from '@trellis/contracts';
import { messagingConfigFromEnv } from '@trellis/messaging';
import { openTestDataSource } from '@trellis/testing';
import { PlatformModule } from '../../services/platform/src/platform.module';
import { hardenHttp, setupOpenApi } from '@trellis/runtime';

/** A route that forgot to declare its roles: the guard must refuse it to everyone. */
@Controller('undeclared')
class UndeclaredController {
  @Get()
  get() {
    return { leaked: true };
  }
}

@Module({ controllers: [UndeclaredController] })
class UndeclaredModule {}

export interface PlatformTestApp {
  app: INestApplication;
  dataSource: DataSource;
  /** Issues a real API token through the same use case the CLI uses. */
  token(roles: string[]): Promise<{ token: string; tokenId: string; principalId: string }>;
  close(): Promise<void>;
}

const BOOTSTRAP: Actor = { id: 'test-bootstrap', role: 'admin' };

export async function startPlatformTestApp(
  messaging: 'in-process' | 'kafka' = 'in-process',
  env: NodeJS.ProcessEnv = {},
  options: { poolSize?: number } = {},
): Promise<PlatformTestApp> {
  const dataSource = await openTestDataSource(options.poolSize);
  const moduleRef = await Test.createTestingModule({
    imports: [
      PlatformModule.forRoot({
        dataSource,
        databaseMode: 'external',
        messaging: messagingConfigFromEnv({ ...process.env, ...env, TRELLIS_MESSAGING: messaging }),
      }),
      UndeclaredModule,
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: ['error'] });
  hardenHttp(app);
  setupOpenApi(app);
  await app.init();
  return {
    app,
    dataSource,
    token: (roles) => app.get(ApiTokenUseCases).issue({ label: `test ${roles.join('+')}`, roles }, BOOTSTRAP),
    close: async () => {
      await app.close();
      await dataSource.destroy();
    },
  };
}
