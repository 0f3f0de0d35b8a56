"""The audit ledger: RFC 6962 math against the published vectors, proofs for every shape,
tampering on a real database (SQLite and PostgreSQL), concurrent writers, CLI and API."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import JSON, bindparam, select, text, update
from typer.testing import CliRunner

from aicity.core import audit, config, slices
from aicity.core import db as core_db
from aicity.core.audit_models import AuditEntry
from aicity.core.bus import bus
from aicity.core.db import Database
from aicity.core.errors import Problem, install_handlers
from aicity.core.ledger import (
    EMPTY_ROOT,
    MerkleTree,
    leaf_hash,
    node_hash,
    split_point,
    tree_head_message,
    verify_consistency,
    verify_inclusion,
)
from aicity.identity import service as identity
from aicity.security import api, cli

# --- RFC 6962 vectors (transparency-dev/merkle and certificate-transparency-go test data) --

VECTOR_LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
VECTOR_ROOTS = [bytes.fromhex(h) for h in (
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]
H = {
    "96a2": "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "5f08": "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "6b47": "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    "bc1a": "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "ca85": "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "d37e": "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "fac5": "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "6e34": "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "0ebc": "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "b086": "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
}
#: (leaf index, tree size, audit path)
INCLUSION_VECTORS = [(0, 8, ["96a2", "5f08", "6b47"]), (5, 8, ["bc1a", "ca85", "d37e"]), (2, 3, ["fac5"]),
                     (1, 5, ["6e34", "5f08", "bc1a"]), (0, 1, [])]
#: (first size, second size, consistency proof)
CONSISTENCY_VECTORS = [(1, 1, []), (1, 8, ["96a2", "5f08", "6b47"]), (6, 8, ["0ebc", "ca85", "d37e"]),
                       (2, 5, ["5f08", "bc1a"]), (6, 7, ["0ebc", "b086", "d37e"])]


def reference_root(leaves: list[bytes]) -> bytes:
    """MTH straight from RFC 6962 §2.1, recursively, for comparison."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = split_point(len(leaves))
    return node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


def test_split_point_is_the_largest_power_of_two_below_n() -> None:
    assert [split_point(n) for n in range(2, 11)] == [1, 2, 2, 4, 4, 4, 4, 8, 8]


def test_roots_match_the_published_vectors() -> None:
    tree = MerkleTree(leaf_hash(leaf) for leaf in VECTOR_LEAVES)
    assert [tree.root(n) for n in range(9)] == VECTOR_ROOTS


def test_proofs_match_the_published_vectors() -> None:
    tree = MerkleTree(leaf_hash(leaf) for leaf in VECTOR_LEAVES)
    for index, size, path in INCLUSION_VECTORS:
        proof = tree.inclusion_proof(index, size)
        assert [p.hex() for p in proof] == [H[p] for p in path]
        assert verify_inclusion(leaf_hash(VECTOR_LEAVES[index]), index, size, proof, VECTOR_ROOTS[size])
    for first, second, path in CONSISTENCY_VECTORS:
        proof = tree.consistency_proof(first, second)
        assert [p.hex() for p in proof] == [H[p] for p in path]
        assert verify_consistency(first, second, VECTOR_ROOTS[first], VECTOR_ROOTS[second], proof)


def flipped(proof: list[bytes], i: int) -> list[bytes]:
    return [bytes([p[0] ^ 8, *p[1:]]) if j == i else p for j, p in enumerate(proof)]


LEAVES_40 = [leaf_hash(struct.pack(">HH", i, i * 7)) for i in range(40)]
TREE_40 = MerkleTree(LEAVES_40)


@pytest.mark.parametrize("size", range(1, 41))
def test_every_inclusion_proof_verifies_and_no_corruption_does(size: int) -> None:
    root = reference_root(LEAVES_40[:size])
    assert TREE_40.root(size) == root
    for index in range(size):
        leaf, proof = LEAVES_40[index], TREE_40.inclusion_proof(index, size)
        assert verify_inclusion(leaf, index, size, proof, root)
        wrong = [
            (leaf, index + 1, size, proof, root),
            (leaf, index, size * 2, proof, root), (leaf, index, size // 2, proof, root),
            (leaf, index, size, proof, EMPTY_ROOT),
            (LEAVES_40[(index + 1) % 40], index, size, proof, root), (leaf, index, size, [*proof, root], root),
            (leaf, index, size, [root, *proof], root),
            *((leaf, index, size, flipped(proof, i), root) for i in range(len(proof))),
        ]
        if proof:
            wrong.append((leaf, index, size, proof[:-1], root))
        if index:
            wrong.append((leaf, index - 1, size, proof, root))
        for args in wrong:
            assert not verify_inclusion(*args), (index, size)


@pytest.mark.parametrize("second", range(1, 41))
def test_every_consistency_proof_verifies_and_no_corruption_does(second: int) -> None:
    second_root = TREE_40.root(second)
    for first in range(second + 1):
        first_root = reference_root(LEAVES_40[:first])
        proof = TREE_40.consistency_proof(first, second)
        assert verify_consistency(first, second, first_root, second_root, proof), (first, second)
        if not proof:  # 0 or equal sizes: nothing to corrupt but the roots
            assert first in (0, second)
            continue
        wrong = [
            (first - 1, second, first_root, second_root, proof), (first + 1, second, first_root, second_root, proof),
            (first, second * 2, first_root, second_root, proof), (first, second, second_root, first_root, proof),
            (first, second, EMPTY_ROOT, second_root, proof), (first, second, first_root, EMPTY_ROOT, proof),
            (first, second, first_root, second_root, []), (first, second, first_root, second_root, proof[:-1]),
            (first, second, first_root, second_root, [*proof, first_root]),
            (first, second, first_root, second_root, [proof[0], *proof]),
            *((first, second, first_root, second_root, flipped(proof, i)) for i in range(len(proof))),
        ]
        for args in wrong:
            assert not verify_consistency(*args), (first, second)


def test_consistency_edge_cases() -> None:
    a, b = VECTOR_ROOTS[1], VECTOR_ROOTS[2]
    assert verify_consistency(0, 0, a, a, [])
    assert verify_consistency(0, 5, a, b, [])  # the empty tree is a prefix of any tree
    assert verify_consistency(3, 3, b, b, [])
    assert not verify_consistency(3, 3, a, b, [])
    assert not verify_consistency(3, 3, b, b, [b])
    assert not verify_consistency(0, 1, a, b, [a])
    assert not verify_consistency(2, 1, a, b, [a])  # time travel
    assert not verify_inclusion(a, 0, 0, [], a)


def test_tree_head_message_is_rfc6962_tree_head_signature() -> None:
    msg = tree_head_message(7, 1_700_000_000_123, VECTOR_ROOTS[7])
    assert msg[:2] == b"\x00\x01" and struct.unpack(">QQ", msg[2:18]) == (1_700_000_000_123, 7)
    assert msg[18:] == VECTOR_ROOTS[7] and len(msg) == 50


# --- the ledger on a real database --------------------------------------------------------

@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """A fresh, migrated database and data dir (for the key), switched back afterwards."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    db = Database(url)
    if request.param == "postgres":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    monkeypatch.setattr(config, "_current", config.load(data_dir=tmp_path, database_url=url))
    monkeypatch.setattr(core_db, "_current", db)
    # these scenarios place their signed heads themselves (the default signs one per entry:
    # tests/test_redteam.py checks that)
    monkeypatch.setattr(audit, "SIGN_EVERY", 100)
    db.migrate()
    yield db
    db.dispose()


def fill(n: int, actor: str = "admin") -> list[AuditEntry]:
    return [audit.record(actor, "test.action", f"target-{i}", {"i": i, "说明": "测试"}) for i in range(n)]


def kinds(report: audit.VerifyReport) -> list[tuple[str, int | None]]:
    return [(f.kind, f.seq) for f in report.findings]


def sql(db: Database, statement: str, **params: object) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(statement), params)


def test_record_verify_and_prove_like_an_outside_verifier(ledger: Database) -> None:
    entries = fill(12)
    assert [e.seq for e in entries] == list(range(1, 13))
    report = audit.verify()
    assert report.ok and report.tree_size == 12 and not report.findings
    head = audit.head_json(audit.sign_tree_head())
    assert head["tree_size"] == 12 and head["root_hash"] == report.root_hash == audit.tree_head().root_hash
    # a verifier holds the public key, the signed head, an entry and its proof: nothing else
    key = load_pem_public_key(head["public_key"].encode())
    assert isinstance(key, Ed25519PublicKey)
    root = bytes.fromhex(head["root_hash"])
    key.verify(bytes.fromhex(head["signature"]), tree_head_message(12, head["timestamp"], root))
    proof = audit.inclusion_proof(5)
    assert proof["leaf_hash"] == leaf_hash(audit.leaf_data(entries[4])).hex() == entries[4].leaf_hash
    assert verify_inclusion(bytes.fromhex(proof["leaf_hash"]), 4, 12, [bytes.fromhex(p) for p in proof["proof"]],
                            root)
    fill(9)
    older = audit.consistency_proof(12)
    assert verify_consistency(12, 21, root, bytes.fromhex(older["second_root"]),
                              [bytes.fromhex(p) for p in older["proof"]])


def test_leaf_data_is_canonical_json(ledger: Database) -> None:
    entry = audit.record("张三", "kb.ingest", "global/法", {"b": [1, 2.5], "a": "值"})
    data = json.loads(audit.leaf_data(entry))
    assert list(data) == sorted(data) and data["seq"] == entry.seq and data["time"].endswith("+00:00")
    assert b"\xe5\xbc\xa0\xe4\xb8\x89" in audit.leaf_data(entry)  # 张三 as UTF-8, not \u escapes
    with ledger.session() as s:
        stored = s.get(AuditEntry, entry.seq)
    assert stored is not None and audit.leaf_data(stored) == audit.leaf_data(entry)


def test_signing_key_is_private_and_kept(ledger: Database) -> None:
    fill(1)
    first = audit.head_json(audit.sign_tree_head())
    path = audit.key_path()
    assert path.stat().st_mode & 0o777 == 0o600
    audit._keys.clear()  # a new process reads the same key back
    assert audit.public_key_pem() == first["public_key"]


def test_heads_are_signed_periodically_and_once_per_size(ledger: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "SIGN_EVERY", 5)
    fill(12)
    assert audit.verify().signed_heads == 2
    assert audit.sign_tree_head().tree_size == 12
    assert audit.sign_tree_head().signature == audit.sign_tree_head().signature
    assert audit.verify().signed_heads == 3


def test_record_refuses_what_it_cannot_hash(ledger: Database) -> None:
    with pytest.raises(Problem) as exc:
        audit.record("", "x", "y")
    assert exc.value.status == 400
    with pytest.raises(Problem):
        audit.record("a", "x" * 101, "y")
    with pytest.raises(ValueError):
        audit.record("a", "x", "y", {"v": float("nan")})
    assert audit.tree_head().tree_size == 0


def test_an_edited_entry_is_named(ledger: Database) -> None:
    fill(8)
    audit.sign_tree_head()
    with ledger.engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET detail = :d WHERE seq = 3")
                     .bindparams(bindparam("d", type_=JSON)), {"d": {"i": 999}})
    report = audit.verify()
    assert not report.ok
    assert kinds(report) == [("edited", 3), ("head_mismatch", 1)]
    assert "第 3 条" in report.findings[0].message and "entry 3" in report.findings[0].message


def test_an_edit_with_a_recomputed_leaf_hash_is_caught_by_the_heads(ledger: Database,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "SIGN_EVERY", 5)
    fill(15)
    with ledger.session() as s:  # someone who knows the format rewrites entry 7 consistently
        entry = s.get(AuditEntry, 7)
        assert entry is not None
        entry.target = "forged"
        entry.leaf_hash = leaf_hash(audit.leaf_data(entry)).hex()
    report = audit.verify()
    assert [(f.kind, f.seq, f.seq_end) for f in report.findings] == [("head_mismatch", 6, 10),
                                                                     ("head_mismatch", 6, 15)]


def test_a_removed_entry_is_named(ledger: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "SIGN_EVERY", 4)
    fill(10)
    sql(ledger, "DELETE FROM audit_entries WHERE seq = 6")
    report = audit.verify()
    assert kinds(report)[0] == ("removed", 6)
    assert ("head_mismatch", 5) in kinds(report)  # head 8 still names the window 5-8
    audit._logs.invalidate()  # a process that loads the ledger now sees the gap
    for refused in (lambda: audit.inclusion_proof(2), audit.sign_tree_head):
        with pytest.raises(Problem) as exc:
            refused()
        assert exc.value.status == 409
    assert audit.record("admin", "after", "gap").seq == 11  # recording goes on


@pytest.mark.parametrize("with_hashes", [False, True])
def test_swapped_entries_are_named_as_reordered(ledger: Database, with_hashes: bool) -> None:
    fill(9)
    audit.sign_tree_head()
    table = AuditEntry.__table__
    columns = ["time", "actor", "action", "target", "detail"] + (["leaf_hash"] if with_hashes else [])
    with ledger.engine.begin() as conn:
        rows = {r.seq: r for r in conn.execute(select(table).where(table.c.seq.in_([3, 7])))}
        for seq, other in ((3, 7), (7, 3)):
            conn.execute(update(table).where(table.c.seq == seq)
                         .values({c: getattr(rows[other], c) for c in columns}))
    report = audit.verify()
    assert kinds(report) == [("reordered", 3), ("reordered", 7), ("head_mismatch", 1)]
    assert "原第 7 条" in report.findings[0].message and "content of entry 7" in report.findings[0].message


def test_truncation_below_a_signed_head_is_detected(ledger: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "SIGN_EVERY", 5)
    fill(10)
    sql(ledger, "DELETE FROM audit_entries WHERE seq > 7")
    report = audit.verify()
    assert [(f.kind, f.seq, f.seq_end) for f in report.findings] == [("truncated", 8, 10)]
    sql(ledger, "DELETE FROM audit_entries")
    assert kinds(audit.verify()) == [("truncated", 1), ("truncated", 1)]
    assert audit.record("admin", "restart", "ledger").seq == 1


def test_a_forged_or_altered_head_is_detected(ledger: Database) -> None:
    fill(6)
    audit.sign_tree_head()
    fill(2)
    head = audit.sign_tree_head()
    other = Ed25519PrivateKey.generate()  # a head signed by someone else's key
    forged = other.sign(tree_head_message(8, 0, bytes.fromhex(head.root_hash))).hex()
    sql(ledger, "UPDATE audit_tree_heads SET signature = :s WHERE tree_size = 8", s=forged)
    sql(ledger, "UPDATE audit_tree_heads SET root_hash = :r WHERE tree_size = 6", r=EMPTY_ROOT.hex())
    report = audit.verify()
    assert [(f.kind, f.tree_size) for f in report.findings] == [("bad_signature", 6), ("bad_signature", 8)]


def test_concurrent_threads_build_one_consistent_tree(ledger: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "SIGN_EVERY", 20)
    with ThreadPoolExecutor(8) as pool:
        for written in pool.map(lambda n: fill(25, actor=f"thread-{n}"), range(8)):  # re-raises a failure
            assert len(written) == 25
    report = audit.verify()
    assert report.ok and report.tree_size == 200 and report.signed_heads == 10
    with ledger.session() as s:
        stored = list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    assert [e.seq for e in stored] == list(range(1, 201))
    assert audit.tree_head().root_hash == reference_root([bytes.fromhex(e.leaf_hash) for e in stored]).hex()
    for n in range(8):  # each writer's entries keep its order
        mine = [e.detail["i"] for e in stored if e.actor == f"thread-{n}"]
        assert mine == list(range(25))


def test_concurrent_processes_build_one_consistent_tree(ledger: Database, tmp_path: Path) -> None:
    code = "from aicity.core import audit\nfor i in range(60): audit.record('proc', 'test.process', str(i))"
    env = {**os.environ, "AICITY_DATA_DIR": str(tmp_path), "AICITY_DATABASE_URL": ledger.url}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read() if p.stderr else ""
    fill(1)  # this process catches up with what the others appended
    report = audit.verify()
    # the child processes sign a head per entry (the default); this one is patched to every 100
    assert report.ok and report.tree_size == 181 and report.signed_heads == 180
    assert audit.tree_head().root_hash == report.root_hash


def test_bus_events_land_in_the_ledger(ledger: Database) -> None:
    deactivate = slices.activate([slices.get("audit")])  # the audit slice's subscriptions, as the app has them
    try:
        bus.publish("kb.document.deleted", {"kb": "global", "key": "某法"})
        bus.publish("catalog.loaded", {"items": 3, "bundles": 1})
    finally:
        deactivate()
    latest, previous = audit.recent_entries(2)
    assert (previous.actor, previous.action, previous.target) == ("system", "kb.document.deleted", "global/某法")
    assert (latest.action, latest.target, latest.detail) == ("catalog.loaded", "catalog", {"items": 3, "bundles": 1})


# --- CLI ----------------------------------------------------------------------------------

def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_cli_exit_codes_and_json(ledger: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "open_city", lambda data_dir=None: None)  # the fixture's database is the city
    fill(5)
    code, out = invoke("verify")
    assert code == 0 and "ledger intact" in out
    code, out = invoke("head", "--json")
    assert code == 0 and json.loads(out)["tree_size"] == 5
    code, out = invoke("list", "--limit", "2", "--json")
    assert code == 0 and [e["seq"] for e in json.loads(out)["entries"]] == [5, 4]
    code, out = invoke("proof", "2")
    assert code == 0 and json.loads(out)["leaf_index"] == 1
    code, out = invoke("proof", "99")
    assert code == 2 and "99" in out
    sql(ledger, "UPDATE audit_entries SET actor = 'mallory' WHERE seq = 4")
    code, out = invoke("verify")
    assert code == 1 and "TAMPERED" in out and "第 4 条" in out and "entry 4" in out
    code, out = invoke("verify", "--json")
    assert code == 1 and json.loads(out)["findings"][0]["seq"] == 4


def test_cli_on_a_fresh_data_dir_records_the_demo_load(tmp_path: Path) -> None:
    env = {**os.environ, "AICITY_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    env.pop("AICITY_DATABASE_URL", None)
    run = [sys.executable, "-m", "aicity.cli", "audit"]  # `aicity audit …`: the CLI activates the slices
    out = subprocess.run([*run, "verify", "--json"], check=False, capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["ok"] and report["tree_size"] > 0  # ingesting the laws and the catalog was audited
    db = Database(f"sqlite:///{tmp_path / 'aicity.db'}")
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE seq = 2"))
    db.dispose()
    out = subprocess.run([*run, "verify"], check=False, capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 1 and "第 2 条审计记录被删除" in out.stderr


# --- HTTP API -----------------------------------------------------------------------------

@pytest.fixture
def http(ledger: Database) -> TestClient:
    app = FastAPI()
    install_handlers(app)
    app.include_router(api.router)
    return TestClient(app)


def bearer(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {identity.create_api_key(f'audit-{role}', role)[1]}"}


def test_api_roles(http: TestClient) -> None:
    citizen, official, operator, admin = map(bearer, ("citizen", "official", "operator", "admin"))  # entries 1-4
    fill(3)
    for headers in ({}, citizen, official):
        resp = http.get("/api/v1/audit/entries", headers=headers)
        assert resp.status_code == 403 and resp.headers["content-type"].startswith("application/problem+json")
    assert http.get("/api/v1/audit/entries", headers={"X-API-Key": "aic_nope"}).status_code == 401
    entries = http.get("/api/v1/audit/entries?limit=2", headers=operator).json()["entries"]
    assert [e["seq"] for e in entries] == [8, 7]
    assert entries[0]["action"] == "auth.failure"  # the refused key above is audited
    assert http.get("/api/v1/audit/entries?before=2", headers=admin).json()["entries"][0]["seq"] == 1
    assert http.post("/api/v1/audit/verify").status_code == 403
    assert http.post("/api/v1/audit/verify", headers=operator).status_code == 403
    assert http.post("/api/v1/audit/verify", headers=admin).json()["ok"] is True


def test_api_heads_and_proofs_verify(http: TestClient, ledger: Database) -> None:
    fill(7)
    head = http.get("/api/v1/audit/head").json()
    root = bytes.fromhex(head["root_hash"])
    key = load_pem_public_key(head["public_key"].encode())
    assert isinstance(key, Ed25519PublicKey)
    key.verify(bytes.fromhex(head["signature"]), tree_head_message(head["tree_size"], head["timestamp"], root))
    proof = http.get("/api/v1/audit/proof/6").json()
    assert verify_inclusion(bytes.fromhex(proof["leaf_hash"]), 5, 7, [bytes.fromhex(p) for p in proof["proof"]],
                            root)
    old = http.get("/api/v1/audit/proof/2?tree_size=3").json()
    assert old["tree_size"] == 3
    fill(4)
    cons = http.get("/api/v1/audit/consistency", params={"first": 7}).json()
    assert cons["second"] == 11 and verify_consistency(7, 11, root, bytes.fromhex(cons["second_root"]),
                                                       [bytes.fromhex(p) for p in cons["proof"]])
    assert http.get("/api/v1/audit/proof/99").status_code == 404
    assert http.get("/api/v1/audit/proof/5?tree_size=4").status_code == 400
    assert http.get("/api/v1/audit/consistency?first=5&second=3").status_code == 400
    assert http.get("/api/v1/audit/consistency?first=-1").status_code == 422
    sql(ledger, "UPDATE audit_entries SET target = 'x' WHERE seq = 2")
    body = http.post("/api/v1/audit/verify", headers=bearer("admin")).json()
    assert body["ok"] is False and body["findings"][0]["seq"] == 2
