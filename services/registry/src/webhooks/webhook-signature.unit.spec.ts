import { signWebhook, verifyWebhookSignature } from './webhook-signature';
import { SIGNATURE_REFERENCE } from './webhook-signature.reference.values';

const v1Of = (header: string) => header.split(',v1=')[1];

describe('webhook signature', () => {
  describe('signWebhook', () => {
    it.each(SIGNATURE_REFERENCE.map((c, i) => [i, c] as const))('matches the Python hmac reference (case %i)', (_, c) => {
      expect(signWebhook(c.secret, c.body, c.timestamp)).toBe(c.header);
      expect(signWebhook(c.secret, Buffer.from(c.body, 'utf8'), c.timestamp)).toBe(c.header);
    });

    it('refuses a timestamp that is not whole unix seconds', () => {
      for (const t of [-1, 1.5, Number.NaN]) expect(() => signWebhook('s', 'x', t)).toThrow(RangeError);
    });
  });

  describe('verifyWebhookSignature', () => {
    const ref = SIGNATURE_REFERENCE[0];

    it('accepts every reference header at its moment and within the tolerance', () => {
      for (const c of SIGNATURE_REFERENCE) {
        expect(verifyWebhookSignature(c.secret, c.body, c.header, c.timestamp)).toEqual({ ok: true, timestamp: c.timestamp });
        expect(verifyWebhookSignature(c.secret, c.body, c.header, c.timestamp + 300).ok).toBe(true);
        expect(verifyWebhookSignature(c.secret, c.body, c.header, c.timestamp - 300).ok).toBe(true);
      }
    });

    it('refuses a stale timestamp and one from the future', () => {
      expect(verifyWebhookSignature(ref.secret, ref.body, ref.header, ref.timestamp + 301)).toEqual({ ok: false, reason: 'timestamp-too-old' });
      expect(verifyWebhookSignature(ref.secret, ref.body, ref.header, ref.timestamp - 301)).toEqual({ ok: false, reason: 'timestamp-in-future' });
      expect(verifyWebhookSignature(ref.secret, ref.body, ref.header, ref.timestamp + 50, 10)).toEqual({ ok: false, reason: 'timestamp-too-old' });
    });

    it('refuses another secret, another body and a signature moved to another timestamp', () => {
      const mismatch = { ok: false, reason: 'signature-mismatch' };
      expect(verifyWebhookSignature(ref.secret + 'x', ref.body, ref.header, ref.timestamp)).toEqual(mismatch);
      expect(verifyWebhookSignature(ref.secret, ref.body + ' ', ref.header, ref.timestamp)).toEqual(mismatch);
      const moved = `t=${ref.timestamp + 1},v1=${v1Of(ref.header)}`;
      expect(verifyWebhookSignature(ref.secret, ref.body, moved, ref.timestamp)).toEqual(mismatch);
    });

    it('accepts any matching v1 among several and ignores unknown schemes, as Stripe does', () => {
      const other = '0'.repeat(64);
      const header = `t=${ref.timestamp},v0=abc,v1=${other},v1=${v1Of(ref.header)}`;
      expect(verifyWebhookSignature(ref.secret, ref.body, header, ref.timestamp).ok).toBe(true);
      expect(verifyWebhookSignature(ref.secret, ref.body, `t=${ref.timestamp},v0=${v1Of(ref.header)}`, ref.timestamp)).toEqual({
        ok: false,
        reason: 'no-v1-signature',
      });
    });

    it.each([
      ['absent', undefined],
      ['null', null],
      ['empty', ''],
      ['without a timestamp', `v1=${'a'.repeat(64)}`],
      ['with two timestamps', `t=1,t=2,v1=${'a'.repeat(64)}`],
      ['with a timestamp that is not a number', `t=soon,v1=${'a'.repeat(64)}`],
      ['with a negative timestamp', `t=-5,v1=${'a'.repeat(64)}`],
      ['with a short signature', 't=1700000000,v1=abcd'],
      ['with an upper-case signature', `t=1700000000,v1=${'A'.repeat(64)}`],
      ['with a part that is no key=value', `t=1700000000,v1=${'a'.repeat(64)},junk`],
      ['too long', `t=1700000000,${'v0=x,'.repeat(500)}v1=${'a'.repeat(64)}`],
    ])('refuses a header %s as malformed', (_, header) => {
      expect(verifyWebhookSignature(ref.secret, ref.body, header, ref.timestamp)).toEqual({ ok: false, reason: 'malformed-header' });
    });

    it('round-trips what signWebhook produces', () => {
      const header = signWebhook('whsec_round', '{"a":1}', 1764800000);
      expect(verifyWebhookSignature('whsec_round', '{"a":1}', header, 1764800100)).toEqual({ ok: true, timestamp: 1764800000 });
    });
  });
});
