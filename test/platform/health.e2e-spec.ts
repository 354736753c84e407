import request from 'supertest';
import { MIGRATIONS } from '../../migrations';
import { PlatformTestApp, startPlatformTestApp } from './platform-test-app';

describe('GET /health', () => {
  let t: PlatformTestApp;
  beforeAll(async () => {
    t = await startPlatformTestApp();
  });
  afterAll(() => t.close());

  it('answers without a token and reports each component', async () => {
    const res = await request(t.app.getHttpServer()).get('/health').expect(200);
    expect(res.body).toEqual({
      status: 'up',
      components: {
        database: { status: 'up', mode: 'external', migrations: MIGRATIONS.length },
        eventStore: { status: 'up', logs: expect.any(Array) },
        notifications: { status: 'up', mode: 'listen' },
      },
    });
  });

  it('reports the database down with 503 when it cannot be reached', async () => {
    // A second app whose pool is closed underneath it: the health check must say so, not throw.
    const broken = await startPlatformTestApp();
    await broken.dataSource.destroy();
    const res = await request(broken.app.getHttpServer()).get('/health');
    expect(res.status).toBe(503);
    expect(res.body.status).toBe('down');
    expect(res.body.components.database.status).toBe('down');
    await broken.app.close();
  });
});
