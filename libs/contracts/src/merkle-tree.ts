import { createHash, hash } from 'node:crypto';

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
const LEAF = Buffer.from([0x00]);
const NODE = Buffer.from([0x01]);

// crypto.hash (one shot, Node 20.12 and later) costs less per call than createHash, and a root
// over a training snapshot takes two hashes per item.
const sha256 = (data: Buffer): Buffer => (typeof hash === 'function' ? hash('sha256', data, 'buffer') : createHash('sha256').update(data).digest());

export function leafHash(data: Uint8Array): Buffer {
  return sha256(Buffer.concat([LEAF, data]));
}

export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return sha256(Buffer.concat([NODE, left, right]));
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * MTH over leaf hashes, level by level: pairing neighbours and carrying an odd last node up
 * unchanged gives exactly the RFC's split at the largest power of two, without recursion or
 * copying (a snapshot's root is taken over hundreds of thousands of leaves).
 */
function rootOfLeaves(leaves: Buffer[]): Buffer {
  let level = leaves;
  while (level.length > 1) {
    const next: Buffer[] = new Array(Math.ceil(level.length / 2));
    for (let i = 0; i + 1 < level.length; i += 2) next[i / 2] = nodeHash(level[i], level[i + 1]);
    if (level.length % 2 === 1) next[next.length - 1] = level[level.length - 1];
    level = next;
  }
  return level[0];
}

/** The root over leaf hashes already taken (leafHash), e.g. kept beside the rows they stand for. */
export function merkleRootOfLeafHashes(hashes: Buffer[]): string {
  if (hashes.length === 0) return createHash('sha256').digest('hex');
  return rootOfLeaves(hashes).toString('hex');
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
