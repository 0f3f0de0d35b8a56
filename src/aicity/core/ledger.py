"""Merkle tree math of the audit ledger, as Certificate Transparency defines it.

RFC 6962 §2.1: a leaf hashes as SHA-256(0x00 ‖ leaf), an interior node as
SHA-256(0x01 ‖ left ‖ right), and a tree of n > 1 leaves splits at the largest power of
two k < n. Proofs are generated per RFC 6962 §2.1.1 (audit paths) and §2.1.2 (consistency)
and verified with the algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2. A signed tree head
signs the bytes of RFC 6962 §3.5's TreeHeadSignature. Pure functions: no storage here.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
#: the root of the empty tree: SHA-256 of nothing
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than n (n > 1): where RFC 6962 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def tree_head_message(tree_size: int, timestamp_ms: int, root: bytes) -> bytes:
    """RFC 6962 §3.5 TreeHeadSignature: version v1 (0), signature type tree_hash (1),
    uint64 timestamp in milliseconds, uint64 tree size, the 32-byte root; big-endian."""
    return struct.pack(">BBQQ", 0, 1, timestamp_ms, tree_size) + root


class MerkleTree:
    """An append-only tree over leaf hashes.

    It keeps the hash of every complete subtree (level k holds the roots of the aligned
    2^k-leaf subtrees, packed in one bytearray), so an append costs at most log2(n) hashes
    and the root or a proof for any size up to n needs O(log n) hashes beyond lookups.
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = []
        self.size = 0
        for h in leaf_hashes:
            self.append(h)

    def append(self, leaf: bytes) -> None:
        if len(leaf) != HASH_SIZE:
            raise ValueError(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf)}")
        h, index, level = leaf, self.size, 0
        while True:
            if level == len(self._levels):
                self._levels.append(bytearray())
            self._levels[level] += h
            if not index & 1:  # a left child: its parent is not complete yet
                break
            h = node_hash(self._node(level, index - 1), h)
            index, level = index >> 1, level + 1
        self.size += 1

    def leaf(self, index: int) -> bytes:
        return self._node(0, index)

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first `size` leaves (default: all)."""
        size = self.size if size is None else size
        self._check_size(size)
        return self._hash(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[size]) of RFC 6962 §2.1.1: the audit path of leaf `index`."""
        size = self.size if size is None else size
        self._check_size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf index {index} is outside a tree of {size}")
        return self._path(index, 0, size)

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """PROOF(first, D[second]) of RFC 6962 §2.1.2; empty when first is 0 or equals second."""
        second = self.size if second is None else second
        self._check_size(second)
        if not 0 <= first <= second:
            raise ValueError(f"first size {first} must lie between 0 and {second}")
        if first in (0, second):
            return []
        return self._subproof(first, 0, second, True)

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ValueError(f"tree size {size} is outside 0..{self.size}")

    def _node(self, level: int, index: int) -> bytes:
        return bytes(self._levels[level][index * HASH_SIZE:(index + 1) * HASH_SIZE])

    def _hash(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi]) for the ranges the RFC's recursion visits (lo aligned to the split)."""
        n = hi - lo
        if n & (n - 1) == 0 and lo % n == 0:  # a complete, aligned subtree: stored
            level = n.bit_length() - 1
            return self._node(level, lo >> level)
        k = split_point(n)
        return node_hash(self._hash(lo, lo + k), self._hash(lo + k, hi))

    def _path(self, m: int, lo: int, hi: int) -> list[bytes]:
        if hi - lo == 1:
            return []
        k = split_point(hi - lo)
        if m < k:
            return [*self._path(m, lo, lo + k), self._hash(lo + k, hi)]
        return [*self._path(m - k, lo + k, hi), self._hash(lo, lo + k)]

    def _subproof(self, m: int, lo: int, hi: int, whole: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if whole else [self._hash(lo, hi)]
        k = split_point(n)
        if m <= k:
            return [*self._subproof(m, lo, lo + k, whole), self._hash(lo + k, hi)]
        return [*self._subproof(m - k, lo + k, hi, False), self._hash(lo, lo + k)]


def _well_formed(proof: Sequence[bytes], *hashes: bytes) -> bool:
    return all(len(h) == HASH_SIZE for h in (*proof, *hashes))


def _shift_while_even(fn: int, sn: int) -> tuple[int, int]:
    """Right-shift both until fn's lowest bit is set or fn is 0."""
    while fn and not fn & 1:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does `proof` show leaf `index` of a `size`-leaf tree with `root`?"""
    if not 0 <= index < size or not _well_formed(proof, leaf, root):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            fn, sn = _shift_while_even(fn, sn)
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and hmac.compare_digest(r, root)


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: is the `first`-leaf tree with `first_root` a prefix of the
    `second`-leaf tree with `second_root`?"""
    if not 0 <= first <= second or not _well_formed(proof, first_root, second_root):
        return False
    if first == second:
        return not proof and hmac.compare_digest(first_root, second_root)
    if first == 0:  # the empty tree is a prefix of every tree
        return not proof
    if not proof:
        return False
    path = [first_root, *proof] if first & (first - 1) == 0 else list(proof)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            fn, sn = _shift_while_even(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and hmac.compare_digest(fr, first_root) and hmac.compare_digest(sr, second_root)
