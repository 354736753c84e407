import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildRunEvent, OpenLineageRunEvent, trainingJob } from './openlineage-event';
import { DEFAULT_LINEAGE_ENDPOINT, OpenLineageHttpTransport, OpenLineageHttpTransportOptions, resolveLineageUrl } from './openlineage-http.transport';
import { OpenLineageErrorCode, OpenLineageException } from './openlineage.exception';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Reply = number | 'hang' | { status: number; headers: Record<string, string> };

/** A real collector on an ephemeral port that answers each request with the next planned reply (the last one repeats). */
class Collector {
  readonly received: Received[] = [];
  private server!: Server;

  constructor(private readonly plan: Reply[]) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        this.received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        const reply = this.plan[Math.min(this.received.length - 1, this.plan.length - 1)];
        if (reply === 'hang') return;
        const { status, headers } = typeof reply === 'number' ? { status: reply, headers: {} } : reply;
        // A collector that quotes the request back in its error page, which must not reach our logs.
        res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(status >= 400 ? `rejected: ${body}` : '');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

class Harness {
  readonly delays: number[] = [];
  readonly logs: string[] = [];

  options(url: string, overrides: Partial<OpenLineageHttpTransportOptions> = {}): OpenLineageHttpTransportOptions {
    return {
      url,
      random: () => 0.5,
      sleep: async (ms) => void this.delays.push(ms),
      logger: { warn: (m: string) => void this.logs.push(m), debug: (m: string) => void this.logs.push(m) },
      ...overrides,
    };
  }
}

const SECRET_DATASET = 'annotation-sets/a-name-that-must-not-be-logged';

function event(): OpenLineageRunEvent {
  return buildRunEvent({
    eventType: 'START',
    eventTime: '2026-12-04T10:00:00.000Z',
    runId: '01930000-0000-7000-8000-000000000001',
    job: trainingJob('lora'),
    inputs: [{ namespace: 'trellis', name: SECRET_DATASET, version: 'f'.repeat(64) }],
    outputs: [],
  });
}

describe(OpenLineageHttpTransport.name, () => {
  let collector: Collector | undefined;
  afterEach(async () => {
    await collector?.stop();
    collector = undefined;
  });
  const serve = async (...plan: Reply[]) => {
    collector = new Collector(plan);
    return collector.start();
  };

  describe('send', () => {
    it('delivers on the first attempt, POSTing the JSON event to /api/v1/lineage with the bearer key', async () => {
      const url = await serve(201);
      const h = new Harness();
      const result = await new OpenLineageHttpTransport(h.options(url, { apiKey: 'k-123' })).send(event());

      expect(result).toEqual({ delivered: true, attempts: 1, status: 201 });
      expect(collector!.received).toHaveLength(1);
      const [req] = collector!.received;
      expect([req.method, req.url, req.headers['content-type'], req.headers.authorization]).toEqual([
        'POST',
        '/api/v1/lineage',
        'application/json',
        'Bearer k-123',
      ]);
      expect(JSON.parse(req.body)).toEqual(event());
      expect(h.delays).toEqual([]);
    });

    it('retries 503 with growing jittered delays and delivers on the third attempt', async () => {
      const url = await serve(503, 503, 200);
      const h = new Harness();
      const result = await new OpenLineageHttpTransport(h.options(url, { baseDelayMs: 100 })).send(event());

      expect(result).toEqual({ delivered: true, attempts: 3, status: 200 });
      expect(collector!.received).toHaveLength(3);
      // random() = 0.5 of a ceiling that doubles: 100, then 200.
      expect(h.delays).toEqual([50, 100]);
    });

    it('retries 429 and waits at least what Retry-After asks, within its own bound', async () => {
      const url = await serve({ status: 429, headers: { 'retry-after': '1' } }, { status: 429, headers: { 'retry-after': '60' } }, 200);
      const h = new Harness();
      const result = await new OpenLineageHttpTransport(h.options(url, { maxDelayMs: 5000 })).send(event());

      expect(result).toEqual({ delivered: true, attempts: 3, status: 200 });
      expect(h.delays).toEqual([1000, 5000]);
    });

    it('does not retry a 400, and keeps the event body out of the result and the log', async () => {
      const url = await serve(400);
      const h = new Harness();
      const result = await new OpenLineageHttpTransport(h.options(url)).send(event());

      expect(result).toEqual({ delivered: false, attempts: 1, status: 400, reason: 'HTTP 400; not retried' });
      expect(collector!.received).toHaveLength(1);
      expect(h.delays).toEqual([]);
      expect(h.logs).toHaveLength(1);
      expect(JSON.stringify([result, h.logs])).not.toContain(SECRET_DATASET);
    });

    it('reports a redirect instead of following it', async () => {
      const url = await serve({ status: 308, headers: { location: 'https://elsewhere.example/api/v1/lineage' } });
      const result = await new OpenLineageHttpTransport(new Harness().options(url)).send(event());

      expect(result).toEqual({ delivered: false, attempts: 1, status: 308, reason: 'HTTP 308; not retried' });
    });

    it('gives up after the attempt bound with the last status', async () => {
      const url = await serve(500);
      const h = new Harness();
      const result = await new OpenLineageHttpTransport(h.options(url, { maxAttempts: 3 })).send(event());

      expect(result).toEqual({ delivered: false, attempts: 3, status: 500, reason: 'HTTP 500; gave up after 3 attempts' });
      expect(collector!.received).toHaveLength(3);
      expect(h.delays).toHaveLength(2);
      expect(h.logs.join('\n')).not.toContain(SECRET_DATASET);
    });

    it('times out each attempt against a collector that never answers, then gives up', async () => {
      const url = await serve('hang');
      const h = new Harness();
      const result = await new OpenLineageHttpTransport(h.options(url, { timeoutMs: 100, maxAttempts: 2 })).send(event());

      expect(result).toEqual({ delivered: false, attempts: 2, status: null, reason: 'timed out after 100 ms; gave up after 2 attempts' });
      expect(collector!.received).toHaveLength(2);
    });

    it('retries a refused connection and resolves rather than throwing', async () => {
      const url = await serve(200);
      await collector!.stop();
      collector = undefined;
      const h = new Harness();
      const result = await new OpenLineageHttpTransport(h.options(url, { maxAttempts: 2 })).send(event());

      expect(result).toEqual({ delivered: false, attempts: 2, status: null, reason: 'network error (ECONNREFUSED); gave up after 2 attempts' });
    });
  });

  describe('fromEnv', () => {
    it('is null when OPENLINEAGE_URL is unset or empty', () => {
      expect(OpenLineageHttpTransport.fromEnv({})).toBeNull();
      expect(OpenLineageHttpTransport.fromEnv({ OPENLINEAGE_URL: '  ' })).toBeNull();
    });

    it('follows the OpenLineage clients: a bare host gets /api/v1/lineage or OPENLINEAGE_ENDPOINT, a path is kept', () => {
      expect(OpenLineageHttpTransport.fromEnv({ OPENLINEAGE_URL: 'http://marquez:5000' })!.endpointUrl).toBe('http://marquez:5000/api/v1/lineage');
      expect(OpenLineageHttpTransport.fromEnv({ OPENLINEAGE_URL: 'https://lineage.example/', OPENLINEAGE_ENDPOINT: 'api/v2/events' })!.endpointUrl).toBe(
        'https://lineage.example/api/v2/events',
      );
      expect(OpenLineageHttpTransport.fromEnv({ OPENLINEAGE_URL: 'https://lineage.example/collect?team=ml' })!.endpointUrl).toBe(
        'https://lineage.example/collect?team=ml',
      );
    });

    it.each([
      ['ftp://marquez:21', 'OPENLINEAGE_URL'],
      ['marquez:5000/api', 'OPENLINEAGE_URL'],
      ['not a url', 'OPENLINEAGE_URL'],
      ['https://user:pw@marquez', 'OPENLINEAGE_URL'],
    ])('refuses %s with a typed error', (url, field) => {
      let caught: unknown;
      try {
        OpenLineageHttpTransport.fromEnv({ OPENLINEAGE_URL: url });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(OpenLineageException);
      expect((caught as OpenLineageException).code).toBe(OpenLineageErrorCode.InvalidConfiguration);
      expect((caught as OpenLineageException).fields).toEqual([field]);
    });

    it('refuses a URL with a path together with OPENLINEAGE_ENDPOINT rather than guessing', () => {
      expect(() => OpenLineageHttpTransport.fromEnv({ OPENLINEAGE_URL: 'http://marquez:5000/api/v1/lineage', OPENLINEAGE_ENDPOINT: '/other' })).toThrow(
        OpenLineageException,
      );
    });

    it('refuses attempt bounds that would never send', () => {
      expect(() => OpenLineageHttpTransport.fromEnv({ OPENLINEAGE_URL: 'http://marquez:5000' }, { maxAttempts: 0 })).toThrow(OpenLineageException);
      expect(() => OpenLineageHttpTransport.fromEnv({ OPENLINEAGE_URL: 'http://marquez:5000' }, { timeoutMs: 0 })).toThrow(OpenLineageException);
    });
  });

  describe(resolveLineageUrl.name, () => {
    it('adds the default endpoint to a bare host', () => {
      expect(resolveLineageUrl('http://localhost:5000')).toBe(`http://localhost:5000${DEFAULT_LINEAGE_ENDPOINT}`);
    });
  });
});
