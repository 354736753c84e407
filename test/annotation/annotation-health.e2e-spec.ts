import { Test } from '@nestjs/testing';
import request from 'supertest';
import { messagingConfigFromEnv } from '@trellis/messaging';
import { openTestDataSource } from '@trellis/testing';
import { AnnotationAppModule } from '../../services/annotation/src/annotation-app.module';

describe(AnnotationAppModule.name, () => {
  describe('GET /health', () => {
    it('answers without a token on the standalone annotation service, reporting its consumer of the ingestion log', async () => {
      const dataSource = await openTestDataSource();
      const moduleRef = await Test.createTestingModule({
        imports: [
          AnnotationAppModule.forRoot({
            dataSource,
            databaseMode: 'external',
            messaging: messagingConfigFromEnv({ ...process.env, TRELLIS_MESSAGING: 'in-process' }),
          }),
        ],
      }).compile();
      const app = moduleRef.createNestApplication({ logger: ['error'] });
      await app.init();
      try {
        const res = await request(app.getHttpServer()).get('/health').expect(200);
        expect(res.body.status).toBe('up');
        expect(res.body.components.database.status).toBe('up');
        expect(res.body.components.messaging.consumers).toEqual([expect.objectContaining({ consumer: 'annotation', context: 'ingestion' })]);
      } finally {
        await app.close();
        await dataSource.destroy();
      }
    });
  });
});
