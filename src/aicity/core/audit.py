"""The audit ledger (审计账本): every slice records what it did with `record()`.

Entries are the leaves of an RFC 6962 Merkle tree (`ledger.py`). Entry `seq` (1-based) is
leaf `seq - 1`; its leaf data is the UTF-8 canonical JSON (keys sorted, no spaces) of
`{seq, time (UTC ISO 8601, microseconds), actor, action, target, detail}`. A tree head
signed with the city's Ed25519 key is stored every `SIGN_EVERY` entries and on demand;
`verify()` recomputes every leaf and root from the stored fields and checks every signed
head, so an edited, removed, reordered or truncated entry is named.

A signature covers RFC 6962 §3.5's TreeHeadSignature bytes (`ledger.tree_head_message`);
`public_key_pem()` is what an outside verifier needs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import threading
import time as clock
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from aicity.core import handled
from aicity.core.audit_models import AuditEntry, AuditTreeHead
from aicity.core.bus import DeliveryKey, delivery
from aicity.core.config import settings
from aicity.core.db import PerDatabase, database
from aicity.core.errors import Problem, bad_request, not_found
from aicity.core.ids import utcnow
from aicity.core.ledger import (
    HASH_SIZE,
    MerkleTree,
    leaf_hash,
    tree_head_message,
)

T = TypeVar("T")
log = logging.getLogger(__name__)

#: a signed tree head is stored after every this many entries: every one, so that an entry
#: edited or removed after it was written no longer matches the newest signed head
SIGN_EVERY = 1
#: the signing key's file name (in the user's config dir unless `audit_key_file` names another)
KEY_FILE = "audit_signing_key.pem"
#: writers that lose a race to another process (same seq, SQLite's write lock) try again, after a
#: random wait that doubles up to a cap: several busy processes (parallel evaluations on one city) fell
#: out of lockstep too slowly with a fixed, shared schedule and ran out of tries
_WRITE_TRIES = 20
_WAIT_CAP_S = 0.25
#: at most this many suspect entries are matched against each other to recognise moves
_MOVE_SEARCH = 256
_LIMITS = {"actor": 200, "action": 100, "target": 500}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_lock = threading.Lock()  # serialises appends (and the cached tree) in this process
_key_lock = threading.Lock()
_keys: dict[Path, Ed25519PrivateKey] = {}


# --- canonical leaf data ------------------------------------------------------------------

def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _utc(t: datetime) -> datetime:
    """SQLite gives naive datetimes back; everything here is stored in UTC."""
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _millis(t: datetime) -> int:
    return (_utc(t) - _EPOCH) // timedelta(milliseconds=1)


def leaf_data(entry: AuditEntry, seq: int | None = None) -> bytes:
    """The bytes entry is hashed as; `seq` replaces the entry's own (to recognise moved content)."""
    return canonical_json({
        "seq": entry.seq if seq is None else seq,
        "time": _utc(entry.time).isoformat(timespec="microseconds"),
        "actor": entry.actor, "action": entry.action, "target": entry.target, "detail": entry.detail,
    }).encode("utf-8")


def _unhex(value: str) -> bytes:
    """A stored hex hash; garbage (a tampered row) becomes a hash that matches nothing."""
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raw = b""
    return raw if len(raw) == HASH_SIZE else bytes(HASH_SIZE)


# --- the signing key ----------------------------------------------------------------------

def key_path() -> Path:
    """Where the key lives: `audit_key_file`, else a key left in the data dir by an older
    version (kept, so its signed heads still verify, with a warning), else the user's config
    dir — never beside the database by default, so a copy of the data dir cannot re-sign."""
    configured = settings().audit_key_file
    legacy = settings().data_dir / KEY_FILE
    if configured is not None:
        path = configured.expanduser()
    elif legacy.exists():
        path = legacy
    else:
        path = Path.home() / ".config" / "aicity" / KEY_FILE
    if _inside(path, settings().data_dir):
        _warn_once(path)
    return path


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


@cache
def _warn_once(path: Path) -> None:
    log.warning("审计签名密钥位于数据目录中 the audit signing key %s is inside the data dir: whoever copies the "
                "data dir can re-sign the ledger; move it and set audit_key_file (or AICITY_AUDIT_SIGNING_KEY)",
                path)


def _create_key(path: Path) -> None:
    """Write a new key readable by this user only; of processes racing, the first link wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        tmp.unlink()


def signing_key() -> Ed25519PrivateKey:
    """The ledger's Ed25519 key: the PEM in `audit_signing_key` (an environment secret), else
    the file at `key_path()`, generated there (mode 0600) on first use."""
    secret = settings().audit_signing_key
    if secret is not None:
        return _loaded_secret(secret.get_secret_value().encode())
    path = key_path().resolve()
    with _key_lock:
        if path not in _keys:
            if not path.exists():
                if settings().audit_key_file is not None:  # a typo or an unmounted volume must not re-key the ledger
                    raise FileNotFoundError(f"audit_key_file {path} 不存在 does not exist")
                _create_key(path)
            _keys[path] = _loaded(path.read_bytes(), str(path))
        return _keys[path]


@cache
def _loaded_secret(pem: bytes) -> Ed25519PrivateKey:
    return _loaded(pem, "AICITY_AUDIT_SIGNING_KEY")


def _loaded(pem: bytes, where: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{where} 不是 Ed25519 私钥 holds no Ed25519 private key")
    return key


def public_key() -> Ed25519PublicKey:
    return signing_key().public_key()


def public_key_pem() -> str:
    return public_key().public_bytes(serialization.Encoding.PEM,
                                     serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def log_id() -> str:
    """RFC 6962's log id: SHA-256 of the public key's DER SubjectPublicKeyInfo."""
    der = public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


# --- the stored tree, cached per database -------------------------------------------------

@dataclass
class _Log:
    """What this process knows of the stored tree: the stored leaf hashes in seq order."""

    tree: MerkleTree = field(default_factory=MerkleTree)
    last_seq: int = 0
    last_hash: str | None = None  # as stored for `last_seq`
    contiguous: bool = True  # every stored seq so far was the one before + 1

    def reset(self) -> None:
        self.tree, self.last_seq, self.last_hash, self.contiguous = MerkleTree(), 0, None, True


_logs: PerDatabase[_Log] = PerDatabase(_Log)


def _synced(s: Session) -> _Log:
    """Catch the cached tree up with the stored entries (other processes append too).
    Reads only the new rows; the caller holds `_lock`."""
    log = _logs.get()
    if log.last_seq and s.scalar(select(AuditEntry.leaf_hash).where(AuditEntry.seq == log.last_seq)) != log.last_hash:
        log.reset()  # the newest entry this process saw is gone or changed: start over from what is stored
    top = s.scalar(select(func.max(AuditEntry.seq))) or 0
    if top > log.last_seq:
        rows = s.execute(select(AuditEntry.seq, AuditEntry.leaf_hash)
                         .where(AuditEntry.seq > log.last_seq).order_by(AuditEntry.seq))
        for seq, stored in rows:
            log.contiguous = log.contiguous and seq == log.last_seq + 1
            log.tree.append(_unhex(stored))
            log.last_seq, log.last_hash = seq, stored
    return log


def _write(work: Callable[[Session, _Log], T]) -> T:
    """Run `work` in one transaction under the append lock with the tree synced; run again
    when another process won a race for the same key or held SQLite's write lock."""
    attempt = 1
    while True:
        try:
            with _lock, database().session() as s:
                return work(s, _synced(s))
        except (IntegrityError, OperationalError):
            if attempt == _WRITE_TRIES:
                raise
        clock.sleep(random.uniform(0, min(_WAIT_CAP_S, 0.005 * 2**attempt)))
        attempt += 1


def _damaged() -> Problem:
    return Problem(409, "审计日志已损坏 Ledger damaged",
                   "条目序号不连续，请运行 `aicity audit verify` 查明 entries are missing; run `aicity audit verify`",
                   "ledger-damaged")


# --- appending ----------------------------------------------------------------------------

def record(actor: str, action: str, target: str = "", detail: Mapping[str, Any] | None = None,
           once: DeliveryKey | None = None) -> AuditEntry:
    """Append one entry to the ledger: who (`actor`) did what (`action`) to what (`target`).

    `detail` must be JSON (it is stored as the canonical form that is hashed). Safe under
    concurrent writers: serialised in this process by a lock, across processes by the
    primary key. Call it after your own transaction has committed. `once` (a durable bus
    delivery, `bus.delivery()`) is recorded with the entry in its transaction: the same
    delivery again answers with that entry instead of appending another."""
    for name, value in (("actor", actor), ("action", action), ("target", target)):
        if len(value) > _LIMITS[name] or (name != "target" and not value.strip()):
            raise bad_request(f"审计字段 {name} 为空或超过 {_LIMITS[name]} 字 "
                              f"audit field '{name}' is empty or longer than {_LIMITS[name]}", "invalid-audit-entry")
    body = json.loads(canonical_json(dict(detail or {})))  # exactly what the JSON column gives back
    key = signing_key()

    def append(s: Session, log: _Log) -> AuditEntry:
        done = handled.seen(s, once)
        if done is not None:  # a redelivery of an event whose entry committed already
            earlier = s.get(AuditEntry, int(done.ref))
            if earlier is None:
                raise _damaged()
            return earlier
        entry = AuditEntry(seq=log.last_seq + 1, time=utcnow(), actor=actor, action=action, target=target,
                           detail=body)
        entry.leaf_hash = leaf_hash(leaf_data(entry)).hex()
        s.add(entry)
        handled.mark(s, once, str(entry.seq))
        if entry.seq % SIGN_EVERY == 0 and log.contiguous:
            # the head is signed in the entry's own transaction (one commit per write, not two);
            # the cached tree takes the leaf now: should the commit lose a race, the next sync
            # finds its newest entry changed and rebuilds the tree from what is stored
            log.tree.append(_unhex(entry.leaf_hash))
            log.last_seq, log.last_hash = entry.seq, entry.leaf_hash
            _add_head(s, key, log.tree, entry.seq)
        return entry

    return _write(append)


def recent_entries(limit: int = 50, before: int | None = None) -> list[AuditEntry]:
    """The newest entries first; `before` pages back from a seq."""
    with database().session() as s:
        q = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
        if before is not None:
            q = q.where(AuditEntry.seq < before)
        return list(s.scalars(q))


# --- tree heads and proofs ----------------------------------------------------------------

@dataclass(frozen=True)
class TreeHead:
    tree_size: int
    root_hash: str


def tree_head() -> TreeHead:
    """The current (unsigned) head of the stored tree."""
    with _lock, database().session() as s:
        log = _synced(s)
        return TreeHead(log.tree.size, log.tree.root().hex())


def sign_tree_head(tree_size: int | None = None) -> AuditTreeHead:
    """Sign and store the head of the tree of `tree_size` entries (default: the current
    tree); the stored head when that size is signed already."""
    key = signing_key()

    def sign(s: Session, log: _Log) -> AuditTreeHead:
        if not log.contiguous:
            raise _damaged()
        return _add_head(s, key, log.tree, log.tree.size if tree_size is None else tree_size)

    return _write(sign)


def _add_head(s: Session, key: Ed25519PrivateKey, tree: MerkleTree, size: int) -> AuditTreeHead:
    """The signed head of the first `size` entries of `tree`, added to `s` (the stored one when
    that size is signed already)."""
    head = s.get(AuditTreeHead, size)
    if head is None:
        now = utcnow()
        now = now.replace(microsecond=now.microsecond - now.microsecond % 1000)  # signed in ms
        root = tree.root(size)
        signature = key.sign(tree_head_message(size, _millis(now), root))
        head = AuditTreeHead(tree_size=size, time=now, root_hash=root.hex(), signature=signature.hex())
        s.add(head)
    return head


def _proof_tree() -> MerkleTree:
    """The stored tree, synced; refused while entries are missing (a proof would be of another
    tree). Append-only, so it can be read outside the lock: what is there does not change."""
    with _lock, database().session() as s:
        log = _synced(s)
    if not log.contiguous:
        raise _damaged()
    return log.tree


def inclusion_proof(seq: int, tree_size: int | None = None) -> dict[str, Any]:
    """The audit path of entry `seq` in the tree of `tree_size` entries (default: current)."""
    tree = _proof_tree()
    current = tree.size
    size = current if tree_size is None else tree_size
    if not 1 <= seq <= current:
        raise not_found(f"没有第 {seq} 条审计记录 no audit entry {seq} (the ledger has {current})",
                        "unknown-audit-entry")
    if not seq <= size <= current:
        raise bad_request(f"树大小须在 {seq} 与 {current} 之间 tree_size must lie in {seq}..{current}",
                          "invalid-tree-size")
    return {"seq": seq, "leaf_index": seq - 1, "tree_size": size, "leaf_hash": tree.leaf(seq - 1).hex(),
            "root_hash": tree.root(size).hex(), "proof": [p.hex() for p in tree.inclusion_proof(seq - 1, size)]}


def consistency_proof(first: int, second: int | None = None) -> dict[str, Any]:
    """RFC 6962 proof that the tree of `first` entries is a prefix of the one of `second`."""
    tree = _proof_tree()
    current = tree.size
    second = current if second is None else second
    if not 0 <= first <= second <= current:
        raise bad_request(f"须满足 0 ≤ first ≤ second ≤ {current} "
                          f"sizes must satisfy 0 <= first <= second <= {current}", "invalid-tree-size")
    return {"first": first, "second": second, "first_root": tree.root(first).hex(),
            "second_root": tree.root(second).hex(),
            "proof": [p.hex() for p in tree.consistency_proof(first, second)]}


# --- verification -------------------------------------------------------------------------

@dataclass(frozen=True)
class Discrepancy:
    """One thing wrong with the ledger; `seq`..`seq_end` are the entries concerned."""

    kind: str  # removed | edited | reordered | truncated | bad_signature | head_mismatch
    message: str
    seq: int | None = None
    seq_end: int | None = None
    tree_size: int | None = None


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    tree_size: int
    root_hash: str
    signed_heads: int
    findings: list[Discrepancy]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _span(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}–{last}"


def _gaps(entries: list[AuditEntry]) -> list[Discrepancy]:
    found: list[Discrepancy] = []
    expected = 1
    for e in entries:
        if e.seq > expected:
            span = _span(expected, e.seq - 1)
            found.append(Discrepancy(
                "removed", f"第 {span} 条审计记录被删除 entries {span} removed (seq gap)", expected, e.seq - 1))
        expected = e.seq + 1
    return found


def _leaf_findings(entries: list[AuditEntry], hashes: list[bytes],
                   removed: list[Discrepancy]) -> list[Discrepancy]:
    """Entries whose fields no longer give their leaf hash: moved here from another seq
    (their content hashes right under that seq) or edited."""
    stored = {e.seq: e.leaf_hash for e in entries}
    bad = [e for e, h in zip(entries, hashes, strict=True) if h.hex() != e.leaf_hash]
    gone = [seq for f in removed for seq in range(f.seq or 0, (f.seq_end or 0) + 1)]
    candidates = [e.seq for e in bad] + gone
    if len(candidates) > _MOVE_SEARCH:
        candidates = []
    found = []
    for e in bad:
        origin = next((j for j in candidates if j != e.seq
                       and leaf_hash(leaf_data(e, j)).hex() in (e.leaf_hash, stored.get(j))), None)
        if origin is None:
            found.append(Discrepancy(
                "edited", f"第 {e.seq} 条审计记录被修改 entry {e.seq} was edited "
                          "(its fields no longer match its leaf hash)", e.seq, e.seq))
        else:
            found.append(Discrepancy(
                "reordered", f"第 {e.seq} 条的位置上是原第 {origin} 条的内容 "
                             f"entry {e.seq} holds the content of entry {origin} (reordered)", e.seq, e.seq))
    return found


def _signature_ok(head: AuditTreeHead, key: Ed25519PublicKey) -> bool:
    try:
        key.verify(bytes.fromhex(head.signature),
                   tree_head_message(head.tree_size, _millis(head.time), _unhex(head.root_hash)))
    except (InvalidSignature, ValueError):
        return False
    return True


def _head_findings(heads: list[AuditTreeHead], tree: MerkleTree) -> list[Discrepancy]:
    """Each signed head must carry this ledger's signature and be a prefix of today's tree."""
    key = public_key()
    found: list[Discrepancy] = []
    last_good = 0
    for head in heads:
        size = head.tree_size
        if not _signature_ok(head, key):
            found.append(Discrepancy(
                "bad_signature", f"树头 {size} 的签名无效（伪造或非本账本密钥签发）"
                                 f"tree head {size}: invalid signature (forged, or not this ledger's key)",
                tree_size=size))
        elif size > tree.size:
            span = _span(tree.size + 1, size)
            found.append(Discrepancy(
                "truncated", f"日志被截短：签名树头含 {size} 条，现只有 {tree.size} 条 log truncated: a signed head "
                             f"covers {size} entries, {tree.size} remain (entries {span} are gone)",
                tree.size + 1, size, size))
        elif tree.root(size).hex() == head.root_hash:  # the tree is rebuilt from every stored leaf: no proof needed
            last_good = size
        else:
            span = _span(last_good + 1, size)
            found.append(Discrepancy(
                "head_mismatch", f"树头 {size} 与现有日志不一致，第 {span} 条在签名后被改动 tree head {size} "
                                 f"no longer matches the log: entries {span} changed after it was signed",
                last_good + 1, size, size))
    return found


def verify() -> VerifyReport:
    """Recompute every leaf hash from the stored fields and the root from them; check every
    signed head's signature and that it is consistent with the tree as it is now."""
    with database().session() as s:
        entries = list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        heads = list(s.scalars(select(AuditTreeHead).order_by(AuditTreeHead.tree_size)))
    hashes = [leaf_hash(leaf_data(e)) for e in entries]
    tree = MerkleTree(hashes)
    removed = _gaps(entries)
    findings = [*removed, *_leaf_findings(entries, hashes, removed), *_head_findings(heads, tree)]
    return VerifyReport(not findings, tree.size, tree.root().hex(), len(heads), findings)


# --- JSON shapes (CLI and API) ------------------------------------------------------------

def entry_json(e: AuditEntry) -> dict[str, Any]:
    return {"seq": e.seq, "time": _utc(e.time).isoformat(), "actor": e.actor, "action": e.action,
            "target": e.target, "detail": e.detail, "leaf_hash": e.leaf_hash}


def head_json(head: AuditTreeHead) -> dict[str, Any]:
    return {"tree_size": head.tree_size, "timestamp": _millis(head.time), "time": _utc(head.time).isoformat(),
            "root_hash": head.root_hash, "signature": head.signature, "signature_algorithm": "Ed25519",
            "log_id": log_id(), "public_key": public_key_pem()}


# --- what the bus announces ---------------------------------------------------------------

def audit_event(topic: str, payload: dict[str, Any]) -> None:
    """A change the bus announces that changes what the city knows or serves, recorded; the
    audit slice (security/slice.py) subscribes it to those topics."""
    target = f"{payload['kb']}/{payload['key']}" if "key" in payload else topic.split(".", 1)[0]
    record(str(payload.get("actor", "system")), topic, target, payload, once=delivery())
