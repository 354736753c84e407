"""Reference roots and inclusion proofs for merkle-tree.unit.spec.ts, from pymerkle 7.0.0
(RFC 9162 / RFC 6962 Merkle tree hash, SHA-256, leaf prefix 0x00, node prefix 0x01).

    python3 -m venv /tmp/merkle-ref && /tmp/merkle-ref/bin/pip install pymerkle==7.0.0
    /tmp/merkle-ref/bin/python merkle-reference.py > merkle-reference.values.json   (in this folder)

Leaves: the eight Certificate Transparency test leaves, then generated ones (leaf i is the
bytes of f"leaf-{i}" repeated i % 5 + 1 times)."""
import json
from pymerkle import InmemoryTree

CT_LEAVES = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
             b"\x50\x51\x52\x53\x54\x55\x56\x57",
             b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"]


def generated(n):
    return [(f"leaf-{i}" * (i % 5 + 1)).encode() for i in range(n)]


def case(leaves):
    tree = InmemoryTree(algorithm="sha256")
    for leaf in leaves:
        tree.append_entry(leaf)
    n = len(leaves)
    proofs = {}
    for index in sorted({0, n // 2, n - 1}):
        proof = tree.prove_inclusion(index + 1, n)  # pymerkle counts leaves from 1
        proofs[str(index)] = [p.hex() for p in proof.path][1:]  # path[0] is the leaf's own hash
    return {"size": n, "root": tree.get_state(n).hex(), "proofs": proofs}


out = {"ct": [case(CT_LEAVES[:n]) for n in range(1, 9)],
       "generated": [case(generated(n)) for n in [1, 2, 3, 5, 7, 13, 16, 31, 64, 70, 1000]]}
print(json.dumps(out))
