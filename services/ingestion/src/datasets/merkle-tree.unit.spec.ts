import { leafHash, merkleRoot } from './merkle-tree';

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
