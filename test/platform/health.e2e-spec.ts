import request from 'supertest';
import { MIGRATIONS } from '../../migrations';
import { eventually } from '@trellis/testing';
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
        messaging: {
          status: 'up',
          mode: 'in-process',
          relays: [],
          // Annotation consumes the ingestion log; the trainer, the ingestion, annotation and
          // registry logs; the registry, the trainer, annotation and ingestion logs.
          consumers: [
            expect.objectContaining({ consumer: 'annotation', context: 'ingestion' }),
            expect.objectContaining({ consumer: 'trainer', context: 'ingestion' }),
            expect.objectContaining({ consumer: 'trainer', context: 'annotation' }),
            expect.objectContaining({ consumer: 'trainer', context: 'registry' }),
            expect.objectContaining({ consumer: 'registry', context: 'trainer' }),
            expect.objectContaining({ consumer: 'registry', context: 'annotation' }),
            expect.objectContaining({ consumer: 'registry', context: 'ingestion' }),
            // The lineage graph hears every context.
            expect.objectContaining({ consumer: 'lineage', context: 'ingestion' }),
            expect.objectContaining({ consumer: 'lineage', context: 'annotation' }),
            expect.objectContaining({ consumer: 'lineage', context: 'trainer' }),
            expect.objectContaining({ consumer: 'lineage', context: 'registry' }),
            expect.objectContaining({ consumer: 'lineage', context: 'openlineage' }),
            expect.objectContaining({ consumer: 'lineage', context: 'openlineage-import' }),
          ],
        },
        // No version holding an alias is flagged (the registry's suite demotes the one it flags).
        registry: { status: 'up', needsRetraining: [] },
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

describe('GET /health on the distributed profile', () => {
  let t: PlatformTestApp;
  beforeAll(async () => {
    t = await startPlatformTestApp('kafka');
  });
  afterAll(() => t.close());

  it('reports the broker reachable and the relay caught up with the log head', async () => {
    await t.token(['auditor']); // one more event in the auth log for the relay to publish
    const http = request(t.app.getHttpServer());
    const body = await eventually(async () => {
      const res = await http.get('/health').expect(200);
      const relay = res.body.components.messaging.relays.find((r: { log: string }) => r.log === 'auth');
      // The relay can catch up before every consumer group has joined (on a fresh broker the
      // topics are still being created); health reports 'connecting' until then.
      return relay && relay.position === relay.head && res.body.components.messaging.broker.reachable && res.body;
    });
    expect(body.components.messaging).toMatchObject({ status: 'up', mode: 'kafka', broker: { reachable: true } });
    expect(body.components.messaging.relays).toContainEqual(expect.objectContaining({ log: 'auth', topic: 'trellis.auth.v1' }));
  });
});

describe('GET /health with the broker unreachable', () => {
  it('starts anyway, keeps accepting writes and reports messaging degraded', async () => {
    // Nothing listens on port 1: the delivery keeps retrying in the background.
    const t = await startPlatformTestApp('kafka', { KAFKA_BROKERS: '127.0.0.1:1' });
    try {
      const issued = await t.token(['auditor']);
      expect(issued.token).toMatch(/^trl_/);
      const res = await request(t.app.getHttpServer()).get('/health').expect(200);
      expect(res.body.status).toBe('degraded');
      expect(res.body.components.messaging).toMatchObject({ status: 'degraded', mode: 'kafka', broker: { reachable: false } });
      // Once the first connection attempt has given up, health says why.
      const error = await eventually(
        async () => {
          const r = await request(t.app.getHttpServer()).get('/health').expect(200);
          const e: string = r.body.components.messaging.broker.error;
          return e !== 'connecting' && e;
        },
        90_000,
        500,
      );
      expect(error).toMatch(/cannot reach Kafka at 127\.0\.0\.1:1/);
    } finally {
      await t.close();
    }
  });
});
