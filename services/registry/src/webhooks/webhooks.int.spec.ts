import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { DynamicModule, INestApplication, Logger, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { Test, TestingModule } from '@nestjs/testing';
import request from 'supertest';
import { DataSource, QueryRunner } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { AuthErrorCode, AuthException, AuthGuard, Authenticator, Principal } from '@trellis/auth';
import { withTransaction } from '@trellis/common';
import { Actor, EventEnvelope, NewEvent, registryContracts } from '@trellis/contracts';
import { LogNotifier, PostgresEventStore } from '@trellis/event-store';
import { HttpExceptionFilter } from '@trellis/runtime';
import { eventually, freePort, openTestEventStore, uniqueName } from '@trellis/testing';
import { WEBHOOK_CONFIG, WebhookConfig } from './webhook.config';
import { RegisteredWebhookView, WebhookUseCases } from './webhook.usecases';
import { WebhooksModule } from './webhooks.module';

const admin: Actor = { id: 'prn-admin', role: 'admin' };
const KEY = Buffer.alloc(32, 7);
const MAX_ATTEMPTS = 4;

/** What the receiver saw of one request, with the signature checked here, independently of webhook-signature.ts. */
interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  signatureValid: boolean;
  answered: number;
}

/** HMAC-SHA256 over "<t>.<body>" with node:crypto, as a receiver following Stripe's recipe would compute it. */
function receiverVerifies(secret: string, body: string, header: string | undefined): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return false;
  if (Math.abs(Date.now() / 1000 - Number(m[1])) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${m[1]}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(m[2], 'hex'));
}

/** A local HTTP receiver: each path answers with its scripted statuses in turn (then 200), and knows its webhook's secret. */
class Receiver {
  readonly received: Received[] = [];
  private readonly scripts = new Map<string, number[]>();
  private readonly secrets = new Map<string, string>();
  private server?: Server;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '';
        const body = Buffer.concat(chunks).toString('utf8');
        const status = this.scripts.get(path)?.shift() ?? 200;
        const signature = req.headers['trellis-signature'];
        this.received.push({
          path,
          headers: req.headers,
          body,
          signatureValid: receiverVerifies(this.secrets.get(path) ?? '', body, Array.isArray(signature) ? signature[0] : signature),
          answered: status,
        });
        // A body the sender must neither keep nor log.
        res.writeHead(status, { 'Content-Type': 'text/plain' }).end(`receiver says: secret stuff for ${path}`);
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server!.address() as AddressInfo).port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  expect(path: string, secret: string, statuses: number[] = []): void {
    this.secrets.set(path, secret);
    this.scripts.set(path, statuses);
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

@Module({})
class HostModule {
  static with(ds: DataSource, notifier: LogNotifier): DynamicModule {
    return {
      module: HostModule,
      global: true,
      providers: [
        { provide: DataSource, useValue: ds },
        { provide: LogNotifier, useValue: notifier },
      ],
      exports: [DataSource, LogNotifier],
    };
  }
}

/** Tokens 'admin' and 'engineer' stand for principals holding that role; anything else is refused. */
const stubAuthenticator = {
  async authenticate(header: string | undefined): Promise<Principal> {
    const token = header?.replace(/^Bearer /, '');
    if (token === 'admin' || token === 'engineer') return { id: `prn-${token}`, roles: [token], via: 'api-token' };
    throw new AuthException(AuthErrorCode.InvalidCredentials, 'unknown token');
  },
};

describe('Registry webhooks (PostgreSQL, local HTTP receiver)', () => {
  let ds: DataSource;
  let store: PostgresEventStore;
  let closeStore: () => Promise<void>;
  let notifier: LogNotifier;
  let receiver: Receiver;
  const log = uniqueName('registry');

  const config = (overrides: Partial<WebhookConfig> = {}): WebhookConfig => ({
    pollMs: 100,
    timeoutMs: 2000,
    concurrency: 4,
    backoff: { baseMs: 0, capMs: 0, maxAttempts: MAX_ATTEMPTS },
    wakeOnLogs: [log],
    secretKey: KEY,
    ...overrides,
  });

  async function startWebhooks(cfg: WebhookConfig): Promise<{ module: TestingModule; webhooks: WebhookUseCases }> {
    const module = await Test.createTestingModule({ imports: [HostModule.with(ds, notifier), WebhooksModule] })
      .overrideProvider(WEBHOOK_CONFIG)
      .useValue(cfg)
      .compile();
    await module.init();
    return { module, webhooks: module.get(WebhookUseCases) };
  }

  const modelId = uuidv4();
  const aliasMoved = (): NewEvent => ({
    type: 'AliasMoved',
    data: {
      modelId,
      alias: 'champion',
      modelVersionId: uuidv4(),
      previousVersionId: null,
      kind: 'promotion',
      promotionId: uuidv4(),
      reason: 'all gates passed',
    },
  });
  const promotionApproved = (): NewEvent => ({
    type: 'PromotionApproved',
    data: { modelId, promotionId: uuidv4(), approvedBy: 'prn-approver', comment: 'second person approval' },
  });

  /** Appends `events` to a new stream of the test log and enqueues them in the same transaction, as the registry does. */
  async function appendAndEnqueue(
    webhooks: WebhookUseCases,
    events: NewEvent[],
    options: { rollBack?: boolean } = {},
  ): Promise<{ envelopes: EventEnvelope[]; deliveryIds: string[] }> {
    let seen: { envelopes: EventEnvelope[]; deliveryIds: string[] } = { envelopes: [], deliveryIds: [] };
    const work = withTransaction(ds, async (tx) => {
      const appended = await store.append(
        log,
        `model-${uuidv4()}`,
        events,
        { actor: { id: 'prn-registry', role: 'service' } },
        { expectedVersion: 'no_stream', queryRunner: tx },
      );
      const deliveryIds: string[] = [];
      for (const e of appended.events) deliveryIds.push(...(await ownDeliveries(tx, await webhooks.enqueue(tx, e))));
      seen = { envelopes: appended.events, deliveryIds };
      if (options.rollBack) throw new Error('the registry changed its mind');
      return seen;
    });
    if (options.rollBack) {
      await expect(work).rejects.toThrow('the registry changed its mind');
      return seen;
    }
    return work;
  }

  /**
   * Registers as an admin would, and remembers the webhook so that it is disabled after its test:
   * a later test's events then reach only that test's webhooks.
   */
  const registered: { webhooks: WebhookUseCases; id: string }[] = [];
  /**
   * Of the deliveries `enqueue` wrote, those to this test's webhooks, in the order given: the
   * database is shared, and a webhook another suite registered and left enabled is sent the
   * events of this log too (its deliveries are that suite's business, not these assertions').
   */
  async function ownDeliveries(tx: QueryRunner, deliveryIds: string[]): Promise<string[]> {
    const rows: { id: string }[] = await tx.query('SELECT id FROM registry_webhook_deliveries WHERE id = ANY($1) AND webhook_id = ANY($2)', [
      deliveryIds,
      registered.map((r) => r.id),
    ]);
    const own = new Set(rows.map((r) => r.id));
    return deliveryIds.filter((id) => own.has(id));
  }
  async function register(webhooks: WebhookUseCases, url: string, eventTypes: string[]): Promise<RegisteredWebhookView> {
    const hook = await webhooks.register({ url, eventTypes }, admin);
    registered.push({ webhooks, id: hook.id });
    return hook;
  }
  afterEach(async () => {
    for (const { webhooks, id } of registered.splice(0)) await webhooks.disable(id);
  });

  beforeAll(async () => {
    const opened = await openTestEventStore(registryContracts);
    ({ ds, store, notifier } = opened);
    closeStore = opened.close;
    receiver = new Receiver();
    await receiver.start();
  });
  afterAll(async () => {
    await receiver.stop();
    await closeStore();
  });

  describe('sending (fast polling, tiny backoff)', () => {
    let module: TestingModule;
    let webhooks: WebhookUseCases;

    beforeAll(async () => {
      ({ module, webhooks } = await startWebhooks(config()));
    });
    afterAll(() => module.close());

    const deliveryOf = async (webhookId: string, deliveryId: string) =>
      (await webhooks.deliveries(webhookId, undefined, undefined)).find((d) => d.id === deliveryId);
    const settled = (webhookId: string, deliveryId: string) =>
      eventually(async () => {
        const d = await deliveryOf(webhookId, deliveryId);
        return d && d.status !== 'pending' ? d : undefined;
      }, 20_000);

    it('delivers on 2xx: signed body of the event, the headers, one attempt in the log', async () => {
      const hook = await register(webhooks, receiver.url('/ok'), ['AliasMoved']);
      receiver.expect('/ok', hook.secret);
      expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);

      const { envelopes, deliveryIds } = await appendAndEnqueue(webhooks, [aliasMoved()]);
      expect(deliveryIds).toHaveLength(1);
      const delivery = await settled(hook.id, deliveryIds[0]);

      expect(delivery).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 200, lastError: null, nextAttemptAt: null, eventType: 'AliasMoved' });
      expect(delivery.deliveredAt).not.toBeNull();
      const [got] = receiver.at('/ok');
      expect(receiver.at('/ok')).toHaveLength(1);
      expect(got.signatureValid).toBe(true);
      expect(got.headers['content-type']).toBe('application/json');
      expect(got.headers['trellis-event-type']).toBe('AliasMoved');
      expect(got.headers['trellis-delivery-id']).toBe(deliveryIds[0]);
      const e = envelopes[0];
      expect(JSON.parse(got.body)).toEqual({ id: e.eventId, type: 'AliasMoved', occurredAt: e.occurredAt, position: e.position, data: e.data });
      expect(delivery).toMatchObject({ eventId: e.eventId, position: e.position });
    });

    it('retries a receiver answering 500 twice, then 200: three attempts, delivered, each signed', async () => {
      const hook = await register(webhooks, receiver.url('/flaky'), ['PromotionApproved']);
      receiver.expect('/flaky', hook.secret, [500, 500]);

      const { deliveryIds } = await appendAndEnqueue(webhooks, [promotionApproved()]);
      const delivery = await settled(hook.id, deliveryIds[0]);

      expect(delivery).toMatchObject({ status: 'delivered', attempts: 3, lastStatusCode: 200, lastError: null });
      const got = receiver.at('/flaky');
      expect(got.map((r) => r.answered)).toEqual([500, 500, 200]);
      expect(got.every((r) => r.signatureValid && r.headers['trellis-delivery-id'] === deliveryIds[0])).toBe(true);
      expect(new Set(got.map((r) => r.body)).size).toBe(1);
    });

    it('fails a delivery to a dead URL after the last attempt, recording why without the address', async () => {
      const deadPort = await freePort();
      const hook = await register(webhooks, `http://127.0.0.1:${deadPort}/gone?token=abc`, ['*']);
      expect(hook.url).toBe(`http://127.0.0.1:${deadPort}/gone?…`);

      const warnings = jest.spyOn(Logger.prototype, 'warn');
      try {
        const { deliveryIds } = await appendAndEnqueue(webhooks, [aliasMoved()]);
        const delivery = await settled(hook.id, deliveryIds[0]);

        expect(delivery).toMatchObject({
          status: 'failed',
          attempts: MAX_ATTEMPTS,
          lastStatusCode: null,
          lastError: 'network error (ECONNREFUSED)',
          nextAttemptAt: null,
        });
        // The log names the delivery and the webhook by id; the URL, its port and its token stay out.
        // The sender logs once its own commit returns, which may come after this test's read saw the row.
        const line = `delivery ${deliveryIds[0]} of webhook ${hook.id} failed after ${MAX_ATTEMPTS} attempts`;
        const logged = await eventually(async () => {
          const lines = warnings.mock.calls.map((c) => String(c[0]));
          return lines.some((l) => l.includes(line)) && lines;
        }, 5_000);
        for (const line of logged) {
          expect(line).not.toContain(String(deadPort));
          expect(line).not.toContain('token');
          expect(line).not.toContain('127.0.0.1');
        }
      } finally {
        warnings.mockRestore();
      }
    });

    it('records a receiver error status, never its body', async () => {
      const hook = await register(webhooks, receiver.url('/broken'), ['AliasMoved']);
      receiver.expect('/broken', hook.secret, Array(MAX_ATTEMPTS).fill(503));

      const { deliveryIds } = await appendAndEnqueue(webhooks, [aliasMoved()]);
      const delivery = await settled(hook.id, deliveryIds[0]);

      expect(delivery).toMatchObject({ status: 'failed', attempts: MAX_ATTEMPTS, lastStatusCode: 503, lastError: 'HTTP 503' });
      expect(receiver.at('/broken')).toHaveLength(MAX_ATTEMPTS);
    });

    it('enqueues nothing when the transaction of the append rolls back', async () => {
      const hook = await register(webhooks, receiver.url('/rolled-back'), ['*']);
      receiver.expect('/rolled-back', hook.secret);

      const { envelopes, deliveryIds } = await appendAndEnqueue(webhooks, [aliasMoved(), promotionApproved()], { rollBack: true });
      // Inside the transaction both deliveries were written ...
      expect(deliveryIds).toHaveLength(2);
      // ... and are gone with the events, so nothing is ever sent for them.
      const [{ n }] = await ds.query('SELECT count(*)::int AS n FROM registry_webhook_deliveries WHERE id = ANY($1) OR event_id = ANY($2)', [
        deliveryIds,
        envelopes.map((e) => e.eventId),
      ]);
      expect(n).toBe(0);
      await new Promise((r) => setTimeout(r, 500));
      expect(await webhooks.deliveries(hook.id, undefined, undefined)).toEqual([]);
      expect(receiver.at('/rolled-back')).toEqual([]);
    });

    it('delivers only the event types a webhook subscribed to, and nothing to a disabled one', async () => {
      const aliases = await register(webhooks, receiver.url('/aliases'), ['AliasMoved']);
      const approvals = await register(webhooks, receiver.url('/approvals'), ['PromotionApproved', 'ModelVersionFlagged']);
      const everything = await register(webhooks, receiver.url('/everything'), ['*']);
      const disabled = await register(webhooks, receiver.url('/disabled'), ['*']);
      for (const [path, h] of [
        ['/aliases', aliases],
        ['/approvals', approvals],
        ['/everything', everything],
        ['/disabled', disabled],
      ] as const) {
        receiver.expect(path, h.secret);
      }
      expect((await webhooks.disable(disabled.id)).disabledAt).not.toBeNull();

      const { deliveryIds } = await appendAndEnqueue(webhooks, [aliasMoved(), promotionApproved()]);
      const mine = new Set([aliases.id, approvals.id, everything.id, disabled.id]);
      const [{ n }] = await ds.query('SELECT count(*)::int AS n FROM registry_webhook_deliveries WHERE id = ANY($1) AND webhook_id = ANY($2)', [
        deliveryIds,
        [...mine],
      ]);
      expect(n).toBe(4); // aliases 1, approvals 1, everything 2, disabled 0

      for (const h of [aliases, approvals, everything]) {
        await eventually(async () => (await webhooks.deliveries(h.id, undefined, 'delivered')).length === (h === everything ? 2 : 1) || undefined, 20_000);
      }
      const typesAt = (path: string) => receiver.at(path).map((r) => r.headers['trellis-event-type']);
      expect(typesAt('/aliases')).toEqual(['AliasMoved']);
      expect(typesAt('/approvals')).toEqual(['PromotionApproved']);
      expect(typesAt('/everything')?.sort()).toEqual(['AliasMoved', 'PromotionApproved']);
      expect(receiver.at('/disabled')).toEqual([]);
      expect(await webhooks.deliveries(disabled.id, undefined, undefined)).toEqual([]);
      expect([...receiver.at('/aliases'), ...receiver.at('/approvals'), ...receiver.at('/everything')].every((r) => r.signatureValid)).toBe(true);
    });

    it('shows the delivery log of a webhook newest first, filtered by status', async () => {
      const hook = await register(webhooks, receiver.url('/log'), ['AliasMoved']);
      receiver.expect('/log', hook.secret, [500]);
      const first = await appendAndEnqueue(webhooks, [aliasMoved()]);
      await settled(hook.id, first.deliveryIds[0]);
      const second = await appendAndEnqueue(webhooks, [aliasMoved()]);
      await settled(hook.id, second.deliveryIds[0]);

      const log = await webhooks.deliveries(hook.id, undefined, undefined);
      expect(log.map((d) => [d.id, d.attempts, d.status])).toEqual([
        [second.deliveryIds[0], 1, 'delivered'],
        [first.deliveryIds[0], 2, 'delivered'],
      ]);
      expect((await webhooks.deliveries(hook.id, '1', 'delivered')).map((d) => d.id)).toEqual([second.deliveryIds[0]]);
      expect(await webhooks.deliveries(hook.id, undefined, 'failed')).toEqual([]);
    });

    it('fails what a webhook still had pending when it is disabled', async () => {
      const deadPort = await freePort();
      const hook = await register(webhooks, `http://127.0.0.1:${deadPort}/later`, ['AliasMoved']);
      const { deliveryIds } = await withTransaction(ds, async (tx) => {
        const appended = await store.append(log, `model-${uuidv4()}`, [aliasMoved()], { actor: admin }, { expectedVersion: 'no_stream', queryRunner: tx });
        const ids = await ownDeliveries(tx, await webhooks.enqueue(tx, appended.events[0]));
        // Not due for an hour: the sender leaves it alone.
        await tx.query(`UPDATE registry_webhook_deliveries SET next_attempt_at = now() + interval '1 hour' WHERE id = ANY($1)`, [ids]);
        return { deliveryIds: ids };
      });
      await webhooks.disable(hook.id);
      expect(await deliveryOf(hook.id, deliveryIds[0])).toMatchObject({ status: 'failed', attempts: 0, lastError: 'webhook disabled', nextAttemptAt: null });
    });

    it('refuses an event that is not the registry’s', async () => {
      const foreign = { eventId: uuidv4(), type: 'TrainingRequested', position: 1, occurredAt: new Date().toISOString(), data: {} } as EventEnvelope;
      await expect(withTransaction(ds, (tx) => webhooks.enqueue(tx, foreign))).rejects.toMatchObject({ code: 'NOT_A_REGISTRY_EVENT' });
    });
  });

  describe('waking up', () => {
    it('sends right after the commit of the append, without waiting for the next poll', async () => {
      const { module, webhooks } = await startWebhooks(config({ pollMs: 60_000 }));
      try {
        const hook = await register(webhooks, receiver.url('/prompt'), ['AliasMoved']);
        receiver.expect('/prompt', hook.secret);
        // Let the sender finish its first round and go idle for a minute.
        await new Promise((r) => setTimeout(r, 300));
        const started = Date.now();
        await appendAndEnqueue(webhooks, [aliasMoved()]);
        await eventually(async () => receiver.at('/prompt').length === 1 || undefined, 10_000, 20);
        expect(Date.now() - started).toBeLessThan(5_000);
      } finally {
        await module.close();
      }
    });

    it('shuts down promptly while a receiver hangs, giving the attempt back', async () => {
      const hanging = createServer(() => undefined); // never answers
      await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
      const port = (hanging.address() as AddressInfo).port;
      const { module, webhooks } = await startWebhooks(config({ timeoutMs: 60_000 }));
      let deliveryId = '';
      try {
        const hook = await register(webhooks, `http://127.0.0.1:${port}/hang`, ['AliasMoved']);
        ({
          deliveryIds: [deliveryId],
        } = await appendAndEnqueue(webhooks, [aliasMoved()]));
        await eventually(async () => ((await webhooks.deliveries(hook.id, undefined, undefined))[0]?.attempts === 1 ? true : undefined), 10_000);
      } finally {
        const started = Date.now();
        await module.close();
        expect(Date.now() - started).toBeLessThan(3_000);
        hanging.closeAllConnections();
        hanging.close();
      }
      const [row] = await ds.query('SELECT status, attempts, next_attempt_at <= now() AS due FROM registry_webhook_deliveries WHERE id = $1', [deliveryId]);
      expect(row).toEqual({ status: 'pending', attempts: 0, due: true });
    });
  });

  describe('HTTP API', () => {
    let app: INestApplication;

    beforeAll(async () => {
      const module = await Test.createTestingModule({
        imports: [HostModule.with(ds, notifier), WebhooksModule],
        providers: [
          { provide: Authenticator, useValue: stubAuthenticator },
          { provide: APP_GUARD, useClass: AuthGuard },
          { provide: APP_FILTER, useClass: HttpExceptionFilter },
        ],
      })
        .overrideProvider(WEBHOOK_CONFIG)
        .useValue(config({ concurrency: 0 }))
        .compile();
      app = module.createNestApplication({ logger: false });
      await app.init();
    });
    afterAll(() => app.close());

    const as = (token: string) => ({ Authorization: `Bearer ${token}` });

    it('lets an admin register (secret shown once), list, read deliveries and disable', async () => {
      const created = await request(app.getHttpServer())
        .post('/webhooks')
        .set(as('admin'))
        .send({ url: 'https://hooks.example.org/in?token=t0ps3cret', eventTypes: ['AliasMoved'] })
        .expect(201);
      expect(created.body).toMatchObject({ url: 'https://hooks.example.org/in?…', eventTypes: ['AliasMoved'], createdBy: 'prn-admin', disabledAt: null });
      expect(created.body.secret).toMatch(/^whsec_/);

      const listed = await request(app.getHttpServer()).get('/webhooks').set(as('admin')).expect(200);
      const mine = listed.body.find((w: { id: string }) => w.id === created.body.id);
      expect(mine).toBeDefined();
      expect(mine.secret).toBeUndefined();
      expect(JSON.stringify(listed.body)).not.toContain('t0ps3cret');
      expect(JSON.stringify(listed.body)).not.toContain(created.body.secret);

      await request(app.getHttpServer()).get(`/webhooks/${created.body.id}/deliveries`).set(as('admin')).expect(200, []);
      const disabled = await request(app.getHttpServer()).delete(`/webhooks/${created.body.id}`).set(as('admin')).expect(200);
      expect(disabled.body.disabledAt).not.toBeNull();
    });

    it('refuses every handler to a non-admin (403) and to no credentials (401)', async () => {
      const id = uuidv4();
      const calls = [
        () =>
          request(app.getHttpServer())
            .post('/webhooks')
            .send({ url: 'https://example.org', eventTypes: ['*'] }),
        () => request(app.getHttpServer()).get('/webhooks'),
        () => request(app.getHttpServer()).delete(`/webhooks/${id}`),
        () => request(app.getHttpServer()).get(`/webhooks/${id}/deliveries`),
      ];
      for (const call of calls) {
        await call().set(as('engineer')).expect(403);
        await call().expect(401);
      }
    });

    it.each([
      ['a URL of another scheme', { url: 'ftp://example.org/x', eventTypes: ['*'] }, ['body.url']],
      ['a URL with credentials', { url: 'https://me:pw@example.org/x', eventTypes: ['*'] }, ['body.url']],
      ['a URL too long', { url: `https://example.org/${'a'.repeat(3000)}`, eventTypes: ['*'] }, ['body.url']],
      ['an unknown event type', { url: 'https://example.org/x', eventTypes: ['AliasMoved', 'Nope'] }, ['body.eventTypes.1']],
      ['no event types', { url: 'https://example.org/x', eventTypes: [] }, ['body.eventTypes']],
      ['an array body', [1, 2], ['body']],
      ['unknown fields', { url: 'https://example.org/x', eventTypes: ['*'], secret: 'mine' }, ['body']],
    ])('answers 400 naming the field for %s', async (_, body, fields) => {
      const res = await request(app.getHttpServer()).post('/webhooks').set(as('admin')).send(body).expect(400);
      expect(res.body).toMatchObject({ error: 'INVALID_REQUEST', fields });
      expect(res.body.message).not.toContain('me:pw');
      expect(res.body.message).not.toContain('Nope');
    });

    it('answers 400 or 404, never 500, to odd ids, queries and bodies', async () => {
      const server = app.getHttpServer();
      const missing = uuidv4();
      await request(server).delete('/webhooks/not-a-uuid').set(as('admin')).expect(400);
      await request(server).get('/webhooks/%E0%A4%A/deliveries').set(as('admin')).expect(400);
      await request(server).delete(`/webhooks/${missing}`).set(as('admin')).expect(404);
      await request(server).get(`/webhooks/${missing}/deliveries`).set(as('admin')).expect(404);
      const bad = await request(server).get(`/webhooks/${missing}/deliveries?limit=0&status=lost`).set(as('admin')).expect(400);
      expect(bad.body.fields).toEqual(['query.limit', 'query.status']);
      await request(server).get(`/webhooks/${missing}/deliveries?limit=1&limit=2`).set(as('admin')).expect(400);
      await request(server).post('/webhooks').set(as('admin')).set('Content-Type', 'application/json').send('{"url": ').expect(400);
      await request(server)
        .post('/webhooks')
        .set(as('admin'))
        .send({ url: { toString: 1 }, eventTypes: 'AliasMoved' })
        .expect(400);
    });
  });
});
