import request from 'supertest';
import { PlatformTestApp, startPlatformTestApp } from './platform-test-app';

describe('Principals (display names)', () => {
  let t: PlatformTestApp;
  let http: ReturnType<typeof request>;
  beforeAll(async () => {
    t = await startPlatformTestApp();
    http = request(t.app.getHttpServer());
  });
  afterAll(() => t.close());

  it('lets an admin set a display name, shows it in whoami, keeps it out of events, and erases it', async () => {
    const admin = await t.token(['admin']);
    const user = await t.token(['annotator']);
    const as = (token: string) => ({ authorization: `Bearer ${token}` });
    const name = 'Ada Lovelace-e2e';

    expect((await http.put(`/auth/principals/${user.principalId}`).set(as(user.token)).send({ displayName: name })).status).toBe(403);
    const empty = await http.put(`/auth/principals/${user.principalId}`).set(as(admin.token)).send({ displayName: ' ' });
    expect(empty.status).toBe(400);
    expect(empty.body.fields).toEqual(['body.displayName']);
    expect((await http.put(`/auth/principals/${user.principalId}`).set(as(admin.token)).send({ displayName: 'a\u0000b' })).status).toBe(400);
    expect(
      (
        await http
          .put(`/auth/principals/${user.principalId}`)
          .set(as(admin.token))
          .send({ displayName: 'x'.repeat(201) })
      ).status,
    ).toBe(400);
    expect((await http.put('/auth/principals/not%20an%20id').set(as(admin.token)).send({ displayName: name })).body.fields).toEqual(['params.principalId']);

    expect((await http.put(`/auth/principals/${user.principalId}`).set(as(admin.token)).send({ displayName: name })).body).toEqual({
      id: user.principalId,
      displayName: name,
    });
    expect((await http.get('/auth/whoami').set(as(user.token))).body).toMatchObject({ principalId: user.principalId, displayName: name });
    const [{ n }] = await t.dataSource.query('SELECT count(*)::int AS n FROM trellis_events WHERE data::text LIKE $1', [`%${name}%`]);
    expect(n).toBe(0);

    expect((await http.delete(`/auth/principals/${user.principalId}`).set(as(admin.token))).status).toBe(204);
    expect((await http.get('/auth/whoami').set(as(user.token))).body.displayName).toBeNull();
    expect((await http.delete(`/auth/principals/${user.principalId}`).set(as(admin.token))).status).toBe(404);
  });

  it('takes a display name when a token is issued, validated the same way', async () => {
    const admin = await t.token(['admin']);
    const as = { authorization: `Bearer ${admin.token}` };
    const issued = (
      await http
        .post('/auth/tokens')
        .set(as)
        .send({ label: 'named', roles: ['reviewer'], displayName: 'Grace Hopper' })
    ).body;
    expect((await http.get('/auth/whoami').set({ authorization: `Bearer ${issued.token}` })).body.displayName).toBe('Grace Hopper');
    const bad = await http
      .post('/auth/tokens')
      .set(as)
      .send({ label: 'named', roles: ['reviewer'], displayName: '' });
    expect(bad.status).toBe(400);
    expect(bad.body.fields).toEqual(['body.displayName']);
  });
});
