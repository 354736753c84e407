import jwt from 'jsonwebtoken';
import request from 'supertest';
import { PostgresEventStore } from '@trellis/event-store';
import { spawnTs, waitForExit, testContext, testContracts, testDatabaseUrl, ThingEventBuilder, uniqueName } from '@trellis/testing';
import { PlatformTestApp, startPlatformTestApp } from './platform-test-app';

const JWT_SECRET = 'e2e-only-secret-of-at-least-32-bytes-' + Math.random().toString(36).slice(2);

describe('Access control', () => {
  let t: PlatformTestApp;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    process.env.TRELLIS_JWT_SECRET = JWT_SECRET;
    t = await startPlatformTestApp();
    http = request(t.app.getHttpServer());
  });
  afterAll(async () => {
    delete process.env.TRELLIS_JWT_SECRET;
    await t.close();
  });

  async function writes(): Promise<{ events: number; tokens: number }> {
    const [{ events }] = await t.dataSource.query(`SELECT count(*)::int AS events FROM trellis_events WHERE log = 'auth'`);
    const [{ tokens }] = await t.dataSource.query('SELECT count(*)::int AS tokens FROM trellis_api_tokens');
    return { events, tokens };
  }

  const newToken = { label: 'annotation bot', roles: ['annotator'] };
  // The same token with its last character changed (to something it was not already).
  const altered = (token: string) => token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');

  describe('HTTP', () => {
    it('refuses a request without a token with 401 and writes nothing', async () => {
      const before = await writes();
      const res = await http.post('/auth/tokens').send(newToken);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'MISSING_CREDENTIALS', reason: 'MISSING_CREDENTIALS', message: expect.stringMatching(/Authorization/) });
      expect(await writes()).toEqual(before);
    });

    it('refuses unknown, malformed and revoked tokens with 401 and writes nothing', async () => {
      const admin = await t.token(['admin']);
      const victim = await t.token(['admin']);
      await http.delete(`/auth/tokens/${victim.tokenId}`).set('authorization', `Bearer ${admin.token}`).expect(204);
      const before = await writes();
      for (const header of [`Bearer trl_${'x'.repeat(43)}`, 'Bearer', `Basic ${admin.token}`, `Bearer ${victim.token}`, `Bearer ${altered(admin.token)}`]) {
        const res = await http.post('/auth/tokens').set('authorization', header).send(newToken);
        expect({ header, status: res.status }).toEqual({ header, status: 401 });
      }
      expect(await writes()).toEqual(before);
    });

    it('refuses a role that is not allowed with 403 and writes nothing', async () => {
      const auditor = await t.token(['auditor', 'steward']);
      const before = await writes();
      const res = await http.post('/auth/tokens').set('authorization', `Bearer ${auditor.token}`).send(newToken);
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('FORBIDDEN');
      expect(res.body.message).toMatch(/admin/);
      expect(await writes()).toEqual(before);
    });

    describe('issue 11 item 10: roles', () => {
      const issueAs = (adminToken: string, body: object) => http.post('/auth/tokens').set('authorization', `Bearer ${adminToken}`).send(body);

      it("mints a token under another principal's id only with onBehalfOf, recording both principals", async () => {
        const admin = await t.token(['admin']);
        const bot = await t.token(['steward']);
        const before = await writes();
        const silent = await issueAs(admin.token, { label: 'as the bot', roles: ['steward'], principalId: bot.principalId });
        expect(silent.status).toBe(400);
        expect(silent.body.fields).toEqual(['body.onBehalfOf']);
        expect(await writes()).toEqual(before);

        const res = await issueAs(admin.token, { label: 'as the bot', roles: ['steward'], principalId: bot.principalId, onBehalfOf: true }).expect(201);
        const [event] = await t.dataSource.query(`SELECT actor_id, schema_version, data FROM trellis_events WHERE log = 'auth' AND data->>'tokenId' = $1`, [
          res.body.tokenId,
        ]);
        expect(event).toMatchObject({
          actor_id: admin.principalId,
          schema_version: 2,
          data: { principalId: bot.principalId, issuedBy: admin.principalId, onBehalfOf: true },
        });
      });

      it('refuses a token acting as a person (a display name, or a person role) unless TRELLIS_ALLOW_TOKENS_FOR_PEOPLE=1', async () => {
        const admin = await t.token(['admin']);
        const annotator = await t.token(['annotator']);
        const named = await t.token(['steward']);
        await http.put(`/auth/principals/${named.principalId}`).set('authorization', `Bearer ${admin.token}`).send({ displayName: 'Pat Example' }).expect(200);
        const before = await writes();
        for (const person of [annotator.principalId, named.principalId]) {
          const res = await issueAs(admin.token, { label: 'as a person', roles: ['steward'], principalId: person, onBehalfOf: true });
          expect({ person, status: res.status }).toEqual({ person, status: 403 });
        }
        expect(await writes()).toEqual(before);
        process.env.TRELLIS_ALLOW_TOKENS_FOR_PEOPLE = '1';
        try {
          await issueAs(admin.token, { label: 'as a person', roles: ['steward'], principalId: annotator.principalId, onBehalfOf: true }).expect(201);
        } finally {
          delete process.env.TRELLIS_ALLOW_TOKENS_FOR_PEOPLE;
        }
      });
    });

    it('refuses a route that declares no roles, even to an admin', async () => {
      const admin = await t.token(['admin']);
      const res = await http.get('/undeclared').set('authorization', `Bearer ${admin.token}`);
      expect(res.status).toBe(403);
      expect(res.body.leaked).toBeUndefined();
    });

    it('records the authenticated principal as the actor, never one from the body', async () => {
      const admin = await t.token(['admin']);
      const spoof = await http
        .post('/auth/tokens')
        .set('authorization', `Bearer ${admin.token}`)
        .send({ ...newToken, actor: { id: 'someone-else', role: 'admin' } });
      expect(spoof.status).toBe(400);
      expect(spoof.body.message).toMatch(/actor/);

      const res = await http.post('/auth/tokens').set('authorization', `Bearer ${admin.token}`).send(newToken).expect(201);
      const [event] = await t.dataSource.query(`SELECT actor_id, actor_role, data FROM trellis_events WHERE log = 'auth' AND data->>'tokenId' = $1`, [
        res.body.tokenId,
      ]);
      expect(event).toEqual({
        actor_id: admin.principalId,
        actor_role: 'admin',
        data: {
          tokenId: res.body.tokenId,
          principalId: res.body.principalId,
          roles: ['annotator'],
          expiresAt: null,
          issuedBy: admin.principalId,
          onBehalfOf: false,
        },
      });
      // The issued token works, for its own role only.
      await http
        .get('/auth/whoami')
        .set('authorization', `Bearer ${res.body.token}`)
        .expect(200, { principalId: res.body.principalId, displayName: null, roles: ['annotator'], via: 'api-token' });
      // Neither the token nor its hash appears in any event.
      const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM trellis_events WHERE data::text LIKE '%' || $1 || '%'`, [
        res.body.token.slice(4, 20),
      ]);
      expect(n).toBe(0);
    });

    it('rejects invalid token requests with a message naming the field', async () => {
      const admin = await t.token(['admin']);
      const before = await writes();
      const bad = await http
        .post('/auth/tokens')
        .set('authorization', `Bearer ${admin.token}`)
        .send({ label: '', roles: ['wizard'] });
      expect(bad.status).toBe(400);
      expect(bad.body.message).toMatch(/label/);
      const role = await http
        .post('/auth/tokens')
        .set('authorization', `Bearer ${admin.token}`)
        .send({ label: 'x', roles: ['wizard'] });
      expect(role.status).toBe(400);
      expect(role.body.message).toMatch(/not: wizard/);
      const notJson = await http.post('/auth/tokens').set('authorization', `Bearer ${admin.token}`).set('content-type', 'application/json').send('{"label":');
      expect(notJson.status).toBe(400);
      const revokeTwice = await t.token(['annotator']);
      await http.delete(`/auth/tokens/${revokeTwice.tokenId}`).set('authorization', `Bearer ${admin.token}`).expect(204);
      const again = await http.delete(`/auth/tokens/${revokeTwice.tokenId}`).set('authorization', `Bearer ${admin.token}`);
      expect(again.status).toBe(409);
      const unknown = await http.delete('/auth/tokens/01a21ecc-0000-7000-8000-000000000000').set('authorization', `Bearer ${admin.token}`);
      expect(unknown.status).toBe(404);
      const after = await writes();
      expect(after.tokens).toBe(before.tokens + 1);
      expect(after.events).toBe(before.events + 2);
    });
  });

  describe('JWT', () => {
    const sign = (claims: object, secret = JWT_SECRET, opts: jwt.SignOptions = {}) => jwt.sign(claims, secret, { algorithm: 'HS256', expiresIn: 60, ...opts });

    it('accepts a valid HS256 token with its roles', async () => {
      const res = await http.get('/auth/whoami').set('authorization', `Bearer ${sign({ sub: 'prn-jwt-1', roles: ['engineer', 'bogus'] })}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ principalId: 'prn-jwt-1', displayName: null, roles: ['engineer'], via: 'jwt' });
    });

    it('refuses a wrong signature, an expired token and a token without subject', async () => {
      for (const token of [
        sign({ sub: 'x', roles: ['admin'] }, 'another-secret'),
        // Expired beyond the minute of clock skew the server tolerates.
        sign({ sub: 'x', roles: ['admin'] }, JWT_SECRET, { expiresIn: -120 }),
        sign({ roles: ['admin'] }),
        jwt.sign({ sub: 'x', roles: ['admin'] }, '', { algorithm: 'none' }),
      ]) {
        const res = await http.post('/auth/tokens').set('authorization', `Bearer ${token}`).send(newToken);
        expect(res.status).toBe(401);
      }
    });
  });

  describe('GraphQL', () => {
    const query = '{ eventLogs { log position } verifyEventLog(log: "auth") { ok checked } }';

    it('refuses a query without a token (UNAUTHENTICATED) or with a wrong role (FORBIDDEN)', async () => {
      const anon = await http.post('/graphql').send({ query });
      expect(anon.body.data).toBeNull();
      expect(anon.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
      const steward = await t.token(['steward']);
      const res = await http.post('/graphql').set('authorization', `Bearer ${steward.token}`).send({ query });
      expect(res.body.errors[0].extensions.code).toBe('FORBIDDEN');
    });

    it('serves the audit log to an auditor and reports an intact chain', async () => {
      const auditor = await t.token(['auditor']);
      const res = await http.post('/graphql').set('authorization', `Bearer ${auditor.token}`).send({ query });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.eventLogs).toContainEqual({ log: 'auth', position: expect.any(Number) });
      expect(res.body.data.verifyEventLog.ok).toBe(true);
    });

    it('rejects an out-of-range page with BAD_USER_INPUT', async () => {
      const auditor = await t.token(['auditor']);
      const res = await http
        .post('/graphql')
        .set('authorization', `Bearer ${auditor.token}`)
        .send({ query: '{ eventLog(log: "auth", first: 5000) { position } }' });
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'INVALID_QUERY' });
    });

    describe('issue 11 item 2: hash chain', () => {
      const verify = (log: string, token: string) =>
        http.post('/graphql').set('authorization', `Bearer ${token}`).send({
          query: 'query($log: String!) { verifyEventLog(log: $log) { ok brokenAt reason brokenCount broken { position reason } } }',
          variables: { log },
        });

      it('answers NOT_FOUND for an unknown log, not ok', async () => {
        const auditor = await t.token(['auditor']);
        const res = await verify(uniqueName('no-such-log'), auditor.token);
        expect(res.body.data).toBeNull();
        expect(res.body.errors[0].extensions).toMatchObject({ code: 'NOT_FOUND', reason: 'LOG_NOT_FOUND' });
      });

      it('lists every broken position, brokenAt being the first', async () => {
        const auditor = await t.token(['auditor']);
        const log = uniqueName('tampered');
        const store = new PostgresEventStore(t.dataSource, testContracts());
        const things = new ThingEventBuilder();
        for (let i = 1; i <= 6; i++) await store.append(log, 'thing-1', [things.counted(i)], testContext, { expectedVersion: 'any' });
        await t.dataSource.query(`UPDATE trellis_events SET actor_id = 'someone-else' WHERE log = $1 AND position IN (2, 5)`, [log]);
        const res = await verify(log, auditor.token);
        expect(res.body.errors).toBeUndefined();
        expect(res.body.data.verifyEventLog).toEqual({
          ok: false,
          brokenAt: 2,
          reason: 'content does not match its hash',
          brokenCount: 2,
          broken: [
            { position: 2, reason: 'content does not match its hash' },
            { position: 5, reason: 'content does not match its hash' },
          ],
        });
      });
    });
  });

  describe('token CLI', () => {
    it('creates a token that the API accepts, and revokes it', async () => {
      const cli = spawnTs('services/platform/src/cli/token.cli.ts', ['create', '--roles', 'auditor,reviewer', '--label', 'cli test'], {
        DATABASE_URL: testDatabaseUrl(),
      });
      let out = '';
      cli.stdout!.on('data', (d) => (out += d));
      expect(await waitForExit(cli)).toBe(0);
      const token = out.trim();
      const who = await http.get('/auth/whoami').set('authorization', `Bearer ${token}`).expect(200);
      expect(who.body.roles).toEqual(['auditor', 'reviewer']);

      const [{ token_id }] = await t.dataSource.query('SELECT token_id FROM trellis_api_tokens WHERE principal_id = $1', [who.body.principalId]);
      const revoke = spawnTs('services/platform/src/cli/token.cli.ts', ['revoke', token_id], { DATABASE_URL: testDatabaseUrl() });
      expect(await waitForExit(revoke)).toBe(0);
      await http.get('/auth/whoami').set('authorization', `Bearer ${token}`).expect(401);

      const bad = spawnTs('services/platform/src/cli/token.cli.ts', ['create', '--roles', 'root', '--label', 'x'], { DATABASE_URL: testDatabaseUrl() });
      let err = '';
      bad.stderr!.on('data', (d) => (err += d));
      // A rule of the platform said no: refused, exit code 3.
      expect(await waitForExit(bad)).toBe(3);
      expect(err).toMatch(/INVALID_REQUEST: roles must be/);
    });
  });
});
