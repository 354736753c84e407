import { leafHash, merkleInclusionProof, merkleRoot, verifyMerkleInclusion } from './merkle-tree';
import reference from './reference/merkle-reference.values.json';

/**
 * Test vectors of RFC 6962 Merkle tree hashing, published by the certificate-transparency
 * project (google/certificate-transparency, cpp/merkletree/merkle_tree_test.cc and
 * transparency-dev/merkle testonly): eight leaf inputs and the roots of the trees over the
 * first 1..8 of them.
 */
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => Buffer.from(h, 'hex'));
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

describe('merkleRoot', () => {
  it('hashes the empty tree to SHA-256 of nothing', () => {
    expect(merkleRoot([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it.each(ROOTS.map((root, i) => [i + 1, root]))('matches the published root of the first %i leaves', (n, root) => {
    expect(merkleRoot(LEAVES.slice(0, n as number))).toBe(root);
  });

  it('is sensitive to order and to every leaf', () => {
    const root = merkleRoot(LEAVES);
    expect(merkleRoot([...LEAVES].reverse())).not.toBe(root);
    expect(merkleRoot([...LEAVES.slice(0, 7), Buffer.from('61', 'hex')])).not.toBe(root);
  });
});

describe('leafHash', () => {
  it('prefixes the leaf with 0x00 (the leaf of the one-entry tree is its root)', () => {
    expect(leafHash(Buffer.alloc(0)).toString('hex')).toBe(ROOTS[0]);
  });
});

/** Leaf i of the generated trees of merkle-reference.py. */
const generated = (n: number) => Array.from({ length: n }, (_, i) => Buffer.from(`leaf-${i}`.repeat((i % 5) + 1)));

describe('against pymerkle 7.0.0 (merkle-reference.py)', () => {
  const cases = [
    ...reference.ct.map((c) => ({ ...c, leaves: LEAVES.slice(0, c.size) })),
    ...reference.generated.map((c) => ({ ...c, leaves: generated(c.size) })),
  ];

  it.each(cases.map((c) => [c.size, c]))('gives the root and the audit paths of a %i-leaf tree', (_, c) => {
    expect(merkleRoot(c.leaves)).toBe(c.root);
    for (const [index, proof] of Object.entries(c.proofs)) {
      expect(merkleInclusionProof(c.leaves, Number(index))).toEqual(proof);
      expect(verifyMerkleInclusion({ entry: c.leaves[Number(index)], index: Number(index), size: c.size, proof, root: c.root })).toBe(true);
    }
  });
});

describe('verifyMerkleInclusion', () => {
  const leaves = generated(70);
  const root = merkleRoot(leaves);

  it('accepts the path of every leaf', () => {
    for (let i = 0; i < leaves.length; i++) {
      expect(verifyMerkleInclusion({ entry: leaves[i], index: i, size: 70, proof: merkleInclusionProof(leaves, i), root })).toBe(true);
    }
  });

  it('refuses another entry or index, a tampered, shortened or lengthened path and a malformed one', () => {
    const proof = merkleInclusionProof(leaves, 33);
    const ok = { entry: leaves[33], index: 33, size: 70, proof, root };
    expect(verifyMerkleInclusion({ ...ok, entry: leaves[34] })).toBe(false);
    expect(verifyMerkleInclusion({ ...ok, index: 32 })).toBe(false);
    expect(verifyMerkleInclusion({ ...ok, proof: [proof[0].replace(/^./, (c) => (c === '0' ? '1' : '0')), ...proof.slice(1)] })).toBe(false);
    expect(verifyMerkleInclusion({ ...ok, proof: proof.slice(1) })).toBe(false);
    expect(verifyMerkleInclusion({ ...ok, proof: [...proof, proof[0]] })).toBe(false);
    expect(verifyMerkleInclusion({ ...ok, proof: ['xyz', ...proof.slice(1)] })).toBe(false);
  });

  it('refuses an index outside the tree with a clear error', () => {
    expect(() => merkleInclusionProof(leaves, 70)).toThrow('leaf index must be an integer from 0 to 69, got 70');
    expect(() => merkleInclusionProof([], 0)).toThrow('a Merkle tree size must be a positive integer');
    expect(() => verifyMerkleInclusion({ entry: leaves[0], index: -1, size: 70, proof: [], root })).toThrow(RangeError);
  });
});
