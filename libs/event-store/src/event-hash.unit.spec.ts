import { createHash } from 'node:crypto';
import { canonicalJson, GENESIS_HASH } from '@trellis/contracts';
import { hashEvent, HashedFields } from './event-hash';

const event: HashedFields = {
  log: 'ingestion',
  position: 1,
  eventId: '0190f5e2-0000-7000-8000-000000000002',
  type: 'SubjectRegistered',
  schemaVersion: 1,
  streamId: 'subject-1',
  streamVersion: 1,
  occurredAt: '2026-11-27T10:00:00.000Z',
  actor: { id: 'p-1', role: 'steward' },
  correlationId: '0190f5e2-0000-7000-8000-000000000001',
  causationId: null,
  data: { b: 'x', a: [1, 2] },
};

describe('hashEvent', () => {
  it('matches SHA-256 of the previous hash and the canonical text, computed independently (Python hashlib)', () => {
    expect(hashEvent(GENESIS_HASH, event)).toBe('3dbab3e3a7fea6c5c2ecb32b3694fd3e95d4ee24da8f2128dd6e2a131fd3348c');
  });

  it('changes when any stored field or the previous hash changes', () => {
    const base = hashEvent(GENESIS_HASH, event);
    expect(hashEvent('1'.repeat(64), event)).not.toBe(base);
    expect(hashEvent(GENESIS_HASH, { ...event, data: { b: 'y', a: [1, 2] } })).not.toBe(base);
    expect(hashEvent(GENESIS_HASH, { ...event, actor: { id: 'p-2', role: 'steward' } })).not.toBe(base);
    expect(hashEvent(GENESIS_HASH, { ...event, position: 2 })).not.toBe(base);
  });
});

describe('eventHasher', () => {
  it('hashes exactly the canonicalJson text of the whole event, for varied events', () => {
    const samples: HashedFields[] = [
      event,
      { ...event, causationId: '0190f5e2-0000-7000-8000-000000000009', data: { z: { y: [null, true, 1.25] }, 'a"b': 'é\n' } },
      { ...event, position: 123456789, streamVersion: 42, type: 'T', data: [] as unknown as object },
    ];
    for (const e of samples) {
      const expected = createHash('sha256')
        .update(`${'7'.repeat(64)}\n${canonicalJson(e)}`)
        .digest('hex');
      expect(hashEvent('7'.repeat(64), e)).toBe(expected);
    }
  });
});
