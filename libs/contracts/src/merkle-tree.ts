import { createHash } from 'node:crypto';

/**
 * Merkle tree hashing of RFC 6962 (Certificate Transparency) section 2.1, so a dataset
 * version's root can be checked with any CT-compatible tool:
 *   MTH({})      = SHA-256()
 *   MTH({d0})    = SHA-256(0x00 || d0)
 *   MTH(D[0:n])  = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])), k the largest power of two < n
 * The 0x00/0x01 prefixes keep a leaf from ever being passed off as an inner node. It lives
 * beside the contracts because dataset versions (ingestion) and training snapshots (trainer) both
 * carry such a root, and an auditor's proof that one item is in one of them (lineage) checks it.
 */
export function leafHash(data: Uint8Array): Buffer {
  return createHash('sha256')
    .update(Buffer.from([0x00]))
    .update(data)
    .digest();
}

export function nodeHash(left: Buffer, right: Buffer): Buffer {
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

function checkIndex(index: number, size: number): void {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`a Merkle tree size must be a positive integer, got ${size}`);
  if (!Number.isInteger(index) || index < 0 || index >= size) throw new RangeError(`leaf index must be an integer from 0 to ${size - 1}, got ${index}`);
}

/**
 * The audit path of leaf `index` (RFC 6962 section 2.1.1 PATH), bottom-up, as hex: the sibling
 * subtree roots that, hashed with the leaf, give the root. It shows one item is in a snapshot
 * without showing the others.
 */
export function merkleInclusionProof(entries: Uint8Array[], index: number): string[] {
  checkIndex(index, entries.length);
  const path: Buffer[] = [];
  const walk = (leaves: Buffer[], m: number): void => {
    if (leaves.length === 1) return;
    const k = largestPowerOfTwoBelow(leaves.length);
    if (m < k) {
      walk(leaves.slice(0, k), m);
      path.push(rootOfLeaves(leaves.slice(k)));
    } else {
      walk(leaves.slice(k), m - k);
      path.push(rootOfLeaves(leaves.slice(0, k)));
    }
  };
  walk(entries.map(leafHash), index);
  return path.map((h) => h.toString('hex'));
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Checks an audit path against a root (RFC 9162 section 2.1.3.2); false for any mismatch or a malformed proof. */
export function verifyMerkleInclusion(input: { entry: Uint8Array; index: number; size: number; proof: readonly string[]; root: string }): boolean {
  checkIndex(input.index, input.size);
  if (!HEX64.test(input.root) || !input.proof.every((p) => HEX64.test(p))) return false;
  let fn = input.index;
  let sn = input.size - 1;
  let r = leafHash(input.entry);
  for (const hex of input.proof) {
    const p = Buffer.from(hex, 'hex');
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else r = nodeHash(r, p);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.toString('hex') === input.root;
}
