import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The signature of a webhook delivery, in Stripe's scheme so that receivers can reuse what they
 * know (and Stripe's own verifier accepts it, see webhook-signature.reference.py):
 *
 *   Trellis-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 *
 * The key is the secret's UTF-8 bytes as handed out at registration. The timestamp is signed
 * with the body so that a captured request cannot be replayed once it is older than the
 * receiver's tolerance.
 */
export const SIGNATURE_HEADER = 'Trellis-Signature';
export const SIGNATURE_SCHEME = 'v1';
export const DEFAULT_TOLERANCE_SECONDS = 300;

export type SignatureRefusal = 'malformed-header' | 'no-v1-signature' | 'timestamp-too-old' | 'timestamp-in-future' | 'signature-mismatch';
export type SignatureVerdict = { ok: true; timestamp: number } | { ok: false; reason: SignatureRefusal };

function hexHmac(secret: string, body: string | Buffer, timestamp: number): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(`${timestamp}.`, 'utf8')
    .update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body)
    .digest('hex');
}

/** The header value for `body` sent at `timestamp` (unix seconds). */
export function signWebhook(secret: string, body: string | Buffer, timestamp: number): string {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new RangeError('timestamp must be a non-negative integer of unix seconds');
  return `t=${timestamp},${SIGNATURE_SCHEME}=${hexHmac(secret, body, timestamp)}`;
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;
const UNIX_SECONDS = /^\d{1,12}$/;
/** A header longer than this is not one we sent (several v1 entries during a rotation fit easily). */
const MAX_HEADER_LENGTH = 2048;

/**
 * Checks a received header against the raw body, at `now` (unix seconds). Several v1 entries are
 * accepted (any may match, as while a secret is rotated) and unknown schemes ignored, as Stripe
 * does; unlike Stripe, a timestamp ahead of `now` by more than the tolerance is refused too.
 */
export function verifyWebhookSignature(
  secret: string,
  body: string | Buffer,
  header: string | null | undefined,
  now: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): SignatureVerdict {
  if (typeof header !== 'string' || header.length === 0 || header.length > MAX_HEADER_LENGTH) return { ok: false, reason: 'malformed-header' };
  let timestamp: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return { ok: false, reason: 'malformed-header' };
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined || !UNIX_SECONDS.test(value)) return { ok: false, reason: 'malformed-header' };
      timestamp = Number(value);
    } else if (key === SIGNATURE_SCHEME) {
      if (!HEX_SHA256.test(value)) return { ok: false, reason: 'malformed-header' };
      candidates.push(value);
    }
  }
  if (timestamp === undefined) return { ok: false, reason: 'malformed-header' };
  if (candidates.length === 0) return { ok: false, reason: 'no-v1-signature' };
  if (timestamp < now - toleranceSeconds) return { ok: false, reason: 'timestamp-too-old' };
  if (timestamp > now + toleranceSeconds) return { ok: false, reason: 'timestamp-in-future' };
  const expected = Buffer.from(hexHmac(secret, body, timestamp), 'hex');
  // Every candidate is compared, matching or not, so the time taken says nothing about which one matched.
  let matched = false;
  for (const c of candidates) matched = timingSafeEqual(expected, Buffer.from(c, 'hex')) || matched;
  return matched ? { ok: true, timestamp } : { ok: false, reason: 'signature-mismatch' };
}
