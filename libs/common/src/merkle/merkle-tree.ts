import { createHash } from 'node:crypto';
import { MerkleErrorCode, MerkleException } from './merkle.exception';

/*
 * Merkle tree hash of RFC 6962 section 2.1 (Certificate Transparency; unchanged in RFC 9162), so
 * that a snapshot's root and an item's audit path can be checked with any CT-compatible tool:
 *   MTH({})     = SHA-256()
 *   MTH({d0})   = SHA-256(0x00 || d0)
 *   MTH(D[0:n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])), k the largest power of two < n
 * The 0x00/0x01 prefixes keep a leaf from ever being passed off as an inner node.
 */

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);
const HASH_HEX = /^[0-9a-f]{64}$/i;

export function merkleLeafHash(data: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

export function merkleNodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** The root over the leaves, in the order given, as lowercase hex. */
export function merkleRoot(leaves: readonly Uint8Array[]): string {
  if (leaves.length === 0) return createHash('sha256').digest('hex');
  return rangeRoot(leaves, 0, leaves.length).toString('hex');
}

/**
 * The audit path of leaf `index` (RFC 6962 section 2.1.1 PATH): the roots of the sibling
 * subtrees from the leaf up, as hex. It shows that one item is in a snapshot without showing
 * the others. O(n): every other leaf is hashed once.
 */
export function merkleInclusionProof(leaves: readonly Uint8Array[], index: number): string[] {
  checkIndex(index, leaves.length);
  // Walks the RFC's recursion top-down as a loop; the siblings come out root-first.
  const siblings: Buffer[] = [];
  let start = 0;
  let end = leaves.length;
  while (end - start > 1) {
    const k = largestPowerOfTwoBelow(end - start);
    if (index < start + k) {
      siblings.push(rangeRoot(leaves, start + k, end));
      end = start + k;
    } else {
      siblings.push(rangeRoot(leaves, start, start + k));
      start += k;
    }
  }
  return siblings.reverse().map((h) => h.toString('hex'));
}

interface MerkleInclusionClaimBase {
  index: number;
  treeSize: number;
  /** Bottom-up audit path as hex, as merkleInclusionProof gives it. */
  proof: readonly string[];
  root: string;
}

/** An auditor may hold the item itself or only its leaf hash (as hex or 32 bytes), not both. */
export type MerkleInclusionClaim = MerkleInclusionClaimBase &
  ({ leafData: Uint8Array; leafHash?: never } | { leafHash: string | Uint8Array; leafData?: never });

/**
 * Whether the proof leads from the leaf to the root (RFC 9162 section 2.1.3.2). A well-formed
 * claim that does not hold is false; a claim that cannot describe a leaf of a tree (index out
 * of range, malformed hex) throws a MerkleException.
 */
export function verifyMerkleInclusion(claim: MerkleInclusionClaim): boolean {
  const { index, treeSize } = claim;
  if (!Number.isSafeInteger(treeSize) || treeSize < 1) {
    throw new MerkleException(MerkleErrorCode.InvalidTreeSize, `tree size must be a positive integer, got ${String(treeSize)}`, ['treeSize']);
  }
  checkIndex(index, treeSize);
  const root = decodeHash(claim.root, 'root');
  if (!Array.isArray(claim.proof)) throw new MerkleException(MerkleErrorCode.MalformedHash, 'proof must be an array of hex hashes', ['proof']);
  const proof = claim.proof.map((p, i) => decodeHash(p, `proof[${i}]`));

  let r = claimedLeafHash(claim);
  // fn is the node's index and sn the last index at the current level; an odd trailing node has
  // no sibling at its level and is promoted, hence the extra shifts.
  let fn = index;
  let sn = treeSize - 1;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = merkleNodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = merkleNodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && r.equals(root);
}

/**
 * MTH(D[start:end]) for end > start, in one pass with a stack of perfect subtrees instead of the
 * RFC's recursion, so a million-leaf snapshot costs n leaf hashes, n - 1 node hashes and
 * O(log n) memory. After c leaves the stack holds one perfect subtree per set bit of c, largest
 * first, which is exactly how the RFC splits; folding them from the right gives the root.
 */
function rangeRoot(leaves: readonly Uint8Array[], start: number, end: number): Buffer {
  const stack: Buffer[] = [];
  for (let i = start; i < end; i++) {
    let h = merkleLeafHash(leaves[i]);
    // Each trailing zero bit of the new count completes a pair of equal subtrees.
    for (let count = i - start + 1; count % 2 === 0; count /= 2) h = merkleNodeHash(stack.pop()!, h);
    stack.push(h);
  }
  let root = stack.pop()!;
  while (stack.length > 0) root = merkleNodeHash(stack.pop()!, root);
  return root;
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// Tree sizes may pass 2^31, where JavaScript's bit shifts would wrap.
function half(n: number): number {
  return Math.floor(n / 2);
}

function checkIndex(index: number, treeSize: number): void {
  if (Number.isSafeInteger(index) && index >= 0 && index < treeSize) return;
  const range = treeSize === 0 ? 'the tree is empty' : `it must be an integer from 0 to ${treeSize - 1}`;
  throw new MerkleException(MerkleErrorCode.InvalidIndex, `leaf index ${String(index)} is not in the tree: ${range}`, ['index']);
}

function decodeHash(value: unknown, field: string): Buffer {
  if (typeof value === 'string' && HASH_HEX.test(value)) return Buffer.from(value, 'hex');
  if (value instanceof Uint8Array && value.length === 32) return Buffer.from(value);
  throw new MerkleException(MerkleErrorCode.MalformedHash, `${field} must be a SHA-256 hash: 64 hex digits or 32 bytes`, [field]);
}

function claimedLeafHash(claim: MerkleInclusionClaim): Buffer {
  const hasData = claim.leafData !== undefined;
  const hasHash = claim.leafHash !== undefined;
  if (hasData === hasHash) {
    throw new MerkleException(MerkleErrorCode.InvalidLeaf, 'give exactly one of leafData and leafHash', ['leafData', 'leafHash']);
  }
  if (hasHash) return decodeHash(claim.leafHash, 'leafHash');
  if (!(claim.leafData instanceof Uint8Array)) throw new MerkleException(MerkleErrorCode.InvalidLeaf, 'leafData must be bytes', ['leafData']);
  return merkleLeafHash(claim.leafData);
}
