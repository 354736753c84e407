import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { retryAfterMs, TrellisHttpClient } from './trellis-http.client';

describe('retryAfterMs', () => {
  it('reads delay-seconds and HTTP dates, and nothing else', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});

describe(TrellisHttpClient.name, () => {
  describe('send', () => {
    let server: Server;
    let answers: { status: number; retryAfter?: string }[];
    let seen: number;
    beforeEach(async () => {
      seen = 0;
      server = createServer((req, res) => {
        const a = answers[Math.min(seen++, answers.length - 1)];
        res.writeHead(a.status, { 'content-type': 'application/json', ...(a.retryAfter ? { 'retry-after': a.retryAfter } : {}) });
        res.end(JSON.stringify({ error: a.status === 503 ? 'UPLOADS_BUSY' : 'OK' }));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    });
    afterEach(() => new Promise<void>((r) => server.close(() => r())));
    const url = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    it('sends again after a 503 with Retry-After, the same multipart body, until it is answered', async () => {
      answers = [{ status: 503, retryAfter: '0' }, { status: 503, retryAfter: '0' }, { status: 201 }];
      const form = new FormData();
      form.set('file', new Blob([Buffer.from('abc')]), 'a.txt');
      expect((await new TrellisHttpClient(url(), 't').send('POST', '/ingestion/assets', form)).status).toBe(201);
      expect(seen).toBe(3);
    });

    it('gives up when the wait would exceed its budget, and never retries a 503 without Retry-After', async () => {
      answers = [{ status: 503, retryAfter: '5' }];
      expect((await new TrellisHttpClient(url(), 't', 1000).send('GET', '/x')).status).toBe(503);
      expect(seen).toBe(1);
      answers = [{ status: 503 }];
      seen = 0;
      expect((await new TrellisHttpClient(url(), 't').send('GET', '/x')).status).toBe(503);
      expect(seen).toBe(1);
    });
  });
});
