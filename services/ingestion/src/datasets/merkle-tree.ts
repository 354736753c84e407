import { createHash } from 'node:crypto';

/**
 * Merkle tree hashing of RFC 6962 (Certificate Transparency) section 2.1, so a dataset
 * version's root can be checked with any CT-compatible tool:
 *   MTH({})      = SHA-256()
 *   MTH({d0})    = SHA-256(0x00 || d0)
 *   MTH(D[0:n])  = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])), k the largest power of two < n
 * The 0x00/0x01 prefixes keep a leaf from ever being passed off as an inner node.
 */
export function leafHash(data: Uint8Array): Buffer {
  return createHash('sha256')
    .update(Buffer.from([0x00]))
    .update(data)
    .digest();
}

function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256')
    .update(Buffer.from([0x01]))
    .update(left)
    .update(right)
    .digest();
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function rootOfLeaves(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0];
  const k = largestPowerOfTwoBelow(leaves.length);
  return nodeHash(rootOfLeaves(leaves.slice(0, k)), rootOfLeaves(leaves.slice(k)));
}

/** The root over the entries, in the order given, as lowercase hex. */
export function merkleRoot(entries: Uint8Array[]): string {
  if (entries.length === 0) return createHash('sha256').digest('hex');
  return rootOfLeaves(entries.map(leafHash)).toString('hex');
}
