import { MerkleErrorCode, MerkleException } from './merkle.exception';
import { MERKLE_REFERENCE, MerkleReferenceCase } from './merkle-reference.values';
import { MerkleInclusionClaim, merkleInclusionProof, merkleLeafHash, merkleNodeHash, merkleRoot, verifyMerkleInclusion } from './merkle-tree';

const hex = (h: string) => Buffer.from(h, 'hex');

/** The eight Certificate Transparency test leaves (merkle-reference.py CT_LEAVES). */
const CT_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(hex);

/** Leaf i of the generated trees, as merkle-reference.py generated_leaf makes it. */
const generatedLeaf = (i: number) => Uint8Array.from({ length: i % 37 }, (_, j) => (i * 31 + j * 7) % 256);
const generatedLeaves = (n: number) => Array.from({ length: n }, (_, i) => generatedLeaf(i));

/**
 * Values published with transparency-dev/merkle (the Go library behind Trillian and the CT
 * logs), test data only: rfc6962/rfc6962_test.go at 78493b07ef9b552e3379abf9e23d4da26fbe797c
 * (hasher vectors) and proof/verify_test.go at 02194e9afb6c1d95b5381350007963aa70fff472 (roots
 * of the trees over the first 1..8 CT leaves, and audit paths; their leaf numbers count from 1,
 * ours from 0).
 */
const PUBLISHED = {
  emptyRoot: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  emptyLeaf: '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  leafL123456: '395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56',
  nodeN123N456: 'aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb',
  roots: [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
    '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
    'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
    '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
  ],
  proofs: [
    {
      index: 0,
      size: 8,
      proof: [
        '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
      ],
    },
    {
      index: 5,
      size: 8,
      proof: [
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
        'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ],
    },
    { index: 2, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
    {
      index: 1,
      size: 5,
      proof: [
        '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      ],
    },
  ],
};

const CT_CASES = MERKLE_REFERENCE.ct.map((c) => ({ ...c, leaves: CT_LEAVES.slice(0, c.size) }));
const GENERATED_CASES = MERKLE_REFERENCE.generated.map((c) => ({ ...c, leaves: generatedLeaves(c.size) }));
const ALL_CASES: (MerkleReferenceCase & { leaves: Uint8Array[] })[] = [...CT_CASES, ...GENERATED_CASES];
const proofsOf = (c: MerkleReferenceCase) => Object.entries(c.proofs).map(([index, proof]) => ({ index: Number(index), proof }));

function flipBit(h: string, bit = 3): string {
  const bytes = hex(h);
  bytes[0] ^= 1 << bit;
  return bytes.toString('hex');
}

function expectMerkleError(run: () => unknown, code: MerkleErrorCode, field: string): void {
  let thrown: unknown;
  try {
    run();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(MerkleException);
  const err = thrown as MerkleException;
  expect(err.code).toBe(code);
  expect(err.errorClass).toBe('validation');
  expect(err.fields).toContain(field);
}

describe('the reference values', () => {
  it('agree with the roots and audit paths published with transparency-dev/merkle', () => {
    expect(MERKLE_REFERENCE.emptyRoot).toBe(PUBLISHED.emptyRoot);
    expect(MERKLE_REFERENCE.ct.map((c) => c.root)).toEqual(PUBLISHED.roots);
    for (const p of PUBLISHED.proofs) expect(MERKLE_REFERENCE.ct[p.size - 1].proofs[String(p.index)]).toEqual(p.proof);
  });
});

describe(merkleLeafHash.name, () => {
  it('matches the published RFC 6962 leaf hashes', () => {
    expect(merkleLeafHash(new Uint8Array()).toString('hex')).toBe(PUBLISHED.emptyLeaf);
    expect(merkleLeafHash(Buffer.from('L123456')).toString('hex')).toBe(PUBLISHED.leafL123456);
  });

  it('matches pymerkle for each CT test leaf', () => {
    const leafHashes = MERKLE_REFERENCE.ct[7].leafHashes!;
    CT_LEAVES.forEach((leaf, i) => expect(merkleLeafHash(leaf).toString('hex')).toBe(leafHashes[i]));
  });
});

describe(merkleNodeHash.name, () => {
  it('matches the published RFC 6962 node hash', () => {
    expect(merkleNodeHash(Buffer.from('N123'), Buffer.from('N456')).toString('hex')).toBe(PUBLISHED.nodeN123N456);
  });
});

describe(merkleRoot.name, () => {
  it('hashes the empty tree to SHA-256 of nothing', () => {
    expect(merkleRoot([])).toBe(MERKLE_REFERENCE.emptyRoot);
  });

  it.each(PUBLISHED.roots.map((root, i) => [i + 1, root]))('matches the published root of the first %i CT leaves', (n, root) => {
    expect(merkleRoot(CT_LEAVES.slice(0, Number(n)))).toBe(root);
  });

  it.each(ALL_CASES.map((c) => [c.size, c]))('matches pymerkle for a %i-leaf tree', (_, c) => {
    expect(merkleRoot(c.leaves)).toBe(c.root);
  });

  it('takes leaves of any Uint8Array view, not only Buffers', () => {
    const backing = new Uint8Array(100);
    const views = CT_LEAVES.map((leaf, i) => {
      const view = backing.subarray(i * 12, i * 12 + leaf.length);
      view.set(leaf);
      return view;
    });
    expect(merkleRoot(views)).toBe(PUBLISHED.roots[7]);
  });
});

describe(merkleInclusionProof.name, () => {
  it.each(PUBLISHED.proofs.map((p) => [p.index, p.size, p]))('matches the published path of leaf %i in the %i-leaf CT tree', (_, __, p) => {
    expect(merkleInclusionProof(CT_LEAVES.slice(0, p.size), p.index)).toEqual(p.proof);
  });

  it.each(ALL_CASES.map((c) => [c.size, c]))('matches pymerkle for the paths of a %i-leaf tree', (_, c) => {
    for (const { index, proof } of proofsOf(c)) expect(merkleInclusionProof(c.leaves, index)).toEqual(proof);
  });

  it.each([
    ['past the end', 8, 8],
    ['negative', 8, -1],
    ['fractional', 8, 1.5],
    ['not a number', 8, Number.NaN],
    ['in an empty tree', 0, 0],
  ])('refuses an index %s with MERKLE_INVALID_INDEX', (_, size, index) => {
    expectMerkleError(() => merkleInclusionProof(CT_LEAVES.slice(0, size), index), MerkleErrorCode.InvalidIndex, 'index');
  });

  it('names the valid range in its message', () => {
    expect(() => merkleInclusionProof(CT_LEAVES, 8)).toThrow('leaf index 8 is not in the tree: it must be an integer from 0 to 7');
  });
});

describe(verifyMerkleInclusion.name, () => {
  it.each(ALL_CASES.map((c) => [c.size, c]))('accepts every pymerkle path of a %i-leaf tree, given the leaf or its hash', (_, c) => {
    for (const { index, proof } of proofsOf(c)) {
      const claim = { index, treeSize: c.size, proof, root: c.root };
      const leafHash = merkleLeafHash(c.leaves[index]);
      expect(verifyMerkleInclusion({ ...claim, leafData: c.leaves[index] })).toBe(true);
      expect(verifyMerkleInclusion({ ...claim, leafHash: leafHash.toString('hex') })).toBe(true);
      expect(verifyMerkleInclusion({ ...claim, leafHash })).toBe(true);
    }
  });

  it('accepts the published CT paths against the published roots', () => {
    for (const p of PUBLISHED.proofs) {
      const claim = { leafData: CT_LEAVES[p.index], index: p.index, treeSize: p.size, proof: p.proof, root: PUBLISHED.roots[p.size - 1] };
      expect(verifyMerkleInclusion(claim)).toBe(true);
    }
  });

  it('accepts the path of every leaf of a 70-leaf tree against the reference root', () => {
    const c = GENERATED_CASES.find((g) => g.size === 70)!;
    for (let index = 0; index < c.size; index++) {
      const proof = merkleInclusionProof(c.leaves, index);
      expect(verifyMerkleInclusion({ leafData: c.leaves[index], index, treeSize: c.size, proof, root: c.root })).toBe(true);
    }
  });

  it('accepts an upper-case hex root and path', () => {
    const p = PUBLISHED.proofs[0];
    const claim = { leafData: CT_LEAVES[p.index], index: p.index, treeSize: p.size, proof: p.proof.map((h) => h.toUpperCase()) };
    expect(verifyMerkleInclusion({ ...claim, root: PUBLISHED.roots[7].toUpperCase() })).toBe(true);
  });

  // The corruptions transparency-dev/merkle's verifier is tested against, on the reference paths.
  function tampered(claim: MerkleInclusionClaim & { leafData: Uint8Array }): [string, MerkleInclusionClaim][] {
    const { index, treeSize, proof, root } = claim;
    const probes: [string, MerkleInclusionClaim][] = [
      ['index - 1', { ...claim, index: index - 1 }],
      ['index + 1', { ...claim, index: index + 1 }],
      ['index ^ 2', { ...claim, index: index ^ 2 }],
      ['tree size * 2', { ...claim, treeSize: treeSize * 2 }],
      ['tree size / 2', { ...claim, treeSize: Math.floor(treeSize / 2) }],
      ['another leaf', { ...claim, leafData: Buffer.from('WrongLeaf') }],
      ['the leaf with one more byte', { ...claim, leafData: Buffer.concat([claim.leafData, Buffer.from([0])]) }],
      ['the leaf hash given as the leaf', { ...claim, leafData: merkleLeafHash(claim.leafData) }],
      ['the empty root', { ...claim, root: PUBLISHED.emptyRoot }],
      ['a flipped root', { ...claim, root: flipBit(root) }],
      ['a trailing root', { ...claim, proof: [...proof, root] }],
      ['a preceding root', { ...claim, proof: [root, ...proof] }],
      ...proof.map((_, i): [string, MerkleInclusionClaim] => [`flipped proof[${i}]`, { ...claim, proof: proof.map((p, j) => (j === i ? flipBit(p) : p)) }]),
      ...(proof.length > 0 ? [['removed last component', { ...claim, proof: proof.slice(0, -1) }] as [string, MerkleInclusionClaim]] : []),
      ...(proof.length > 1 ? [['swapped components', { ...claim, proof: [proof[1], proof[0], ...proof.slice(2)] }] as [string, MerkleInclusionClaim]] : []),
    ];
    // An index outside the claimed tree is a malformed claim, tested below as an error.
    return probes.filter(([, p]) => Number.isInteger(p.index) && p.index >= 0 && p.index < p.treeSize);
  }

  it.each(ALL_CASES.filter((c) => c.size > 1).map((c) => [c.size, c]))('refuses every tampered claim about a %i-leaf tree', (_, c) => {
    for (const { index, proof } of proofsOf(c)) {
      for (const [what, claim] of tampered({ leafData: c.leaves[index], index, treeSize: c.size, proof, root: c.root })) {
        expect([`leaf ${index}: ${what}`, verifyMerkleInclusion(claim)]).toEqual([`leaf ${index}: ${what}`, false]);
      }
    }
  });

  it('refuses a one-leaf tree whose path is not empty', () => {
    const root = MERKLE_REFERENCE.ct[0].root;
    expect(verifyMerkleInclusion({ leafData: CT_LEAVES[0], index: 0, treeSize: 1, proof: [], root })).toBe(true);
    expect(verifyMerkleInclusion({ leafData: CT_LEAVES[0], index: 0, treeSize: 1, proof: [root], root })).toBe(false);
  });

  describe('with a claim that cannot describe a leaf', () => {
    const p = PUBLISHED.proofs[0];
    const ok = { leafData: CT_LEAVES[p.index], index: p.index, treeSize: p.size, proof: p.proof, root: PUBLISHED.roots[7] };
    const loose = (claim: object) => () => verifyMerkleInclusion(claim as MerkleInclusionClaim);

    it.each([
      ['past the end', 8],
      ['negative', -1],
      ['fractional', 0.5],
      ['not a number', Number.NaN],
    ])('throws MERKLE_INVALID_INDEX for an index %s', (_, index) => {
      expectMerkleError(() => verifyMerkleInclusion({ ...ok, index }), MerkleErrorCode.InvalidIndex, 'index');
    });

    it.each([
      ['zero', 0],
      ['negative', -8],
      ['fractional', 8.5],
      ['unsafe', 2 ** 53],
    ])('throws MERKLE_INVALID_TREE_SIZE for a tree size %s', (_, treeSize) => {
      expectMerkleError(() => verifyMerkleInclusion({ ...ok, treeSize }), MerkleErrorCode.InvalidTreeSize, 'treeSize');
    });

    it.each([
      ['not hex', 'xyz'],
      ['too short', PUBLISHED.emptyRoot.slice(2)],
      ['too long', `${PUBLISHED.emptyRoot}00`],
      ['hex with a stray character', `${PUBLISHED.emptyRoot.slice(1)}g`],
      ['empty', ''],
    ])('throws MERKLE_MALFORMED_HASH for a root, a path entry or a leaf hash that is %s', (_, bad) => {
      expectMerkleError(() => verifyMerkleInclusion({ ...ok, root: bad }), MerkleErrorCode.MalformedHash, 'root');
      expectMerkleError(() => verifyMerkleInclusion({ ...ok, proof: [p.proof[0], bad, p.proof[2]] }), MerkleErrorCode.MalformedHash, 'proof[1]');
      expectMerkleError(loose({ ...ok, leafData: undefined, leafHash: bad }), MerkleErrorCode.MalformedHash, 'leafHash');
    });

    it('throws MERKLE_MALFORMED_HASH for a leaf hash of the wrong length and a path that is not a list', () => {
      expectMerkleError(loose({ ...ok, leafData: undefined, leafHash: new Uint8Array(31) }), MerkleErrorCode.MalformedHash, 'leafHash');
      expectMerkleError(loose({ ...ok, proof: p.proof.join('') }), MerkleErrorCode.MalformedHash, 'proof');
    });

    it('throws MERKLE_INVALID_LEAF for both or neither of leafData and leafHash, or a leaf that is not bytes', () => {
      expectMerkleError(loose({ ...ok, leafHash: PUBLISHED.emptyLeaf }), MerkleErrorCode.InvalidLeaf, 'leafData');
      expectMerkleError(loose({ ...ok, leafData: undefined }), MerkleErrorCode.InvalidLeaf, 'leafHash');
      expectMerkleError(loose({ ...ok, leafData: 'not bytes' }), MerkleErrorCode.InvalidLeaf, 'leafData');
    });
  });
});
