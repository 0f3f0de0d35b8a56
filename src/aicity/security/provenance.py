"""Provenance (内容溯源) and the invisible watermark (隐式水印) of generated text.

Every answer leaves a `ProvenanceRecord` (id = its trace id): the planner or model that wrote
it, the passages it cites, the time and the SHA-256 of its text, signed with the audit
ledger's Ed25519 key. Documents that leave the platform (an exported answer, the security
report, any generated briefing) also carry a mark: a short signed payload written as Unicode
variation selectors (one byte per selector, U+FE00–FE0F and U+E0100–E01EF) after a word joiner
(U+2060) at the end of each prose paragraph. Browsers and editors show nothing; copying the
text keeps it.

The mark holds the record's id, its time and the first 12 bytes of the text's hash, signed
(64 bytes) by the ledger's key: anyone with the public key (`aicity audit head`) can tell a
genuine mark from a forged one without the database, and whether the text was edited since.

Chat answers get the record (cheap: one signature and one row) but not the mark: selectors in
the answer would travel into sessions, citations and copy-paste of every reply, and the guard
strips such characters from input anyway. A text is marked when it is exported
(`export_answer`, which marks only the platform's own text) or generated as a document
(`mark_document`).

    record(kind, id, producer, sources, text) -> ProvenanceRecord
    mark_document(text, rec) -> text with the mark at each paragraph end
    verify_text(text) -> TextVerdict(status intact | edited | unmarked | forged, marks)
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from sqlalchemy.exc import IntegrityError

from aicity.core import audit
from aicity.core.db import database
from aicity.core.errors import Problem, not_found
from aicity.core.ids import new_id, utcnow
from aicity.security.models import ProvenanceRecord

_RECORD_DOMAIN = b"aicity-provenance-record-v1\x00"
_MARK_DOMAIN = b"aicity-provenance-mark-v1\x00"
_MAGIC = b"\xac\x01"
_HASH_BYTES = 12
_SIG_BYTES = 64
_JOINER = "\u2060"
#: magic, id length, time (ms, 6 bytes), hash prefix, signature: the shortest possible payload
_MIN_PAYLOAD = len(_MAGIC) + 1 + 6 + _HASH_BYTES + _SIG_BYTES
_SELECTOR = "[\ufe00-\ufe0f\U000e0100-\U000e01ef]"
_MARK = re.compile(f"{_JOINER}({_SELECTOR}{{{_MIN_PAYLOAD},400}})")
_PARAGRAPH_GAP = re.compile(r"\n[ \t]*\n")

Status = Literal["intact", "edited", "unmarked", "forged"]


# --- the text's hash --------------------------------------------------------------------

def strip_marks(text: str) -> str:
    return _MARK.sub("", text)


def text_hash(text: str) -> str:
    """SHA-256 of the text as written: marks removed, line endings as LF, outer whitespace
    trimmed (saving a file adds a newline; that is not an edit)."""
    plain = strip_marks(text).replace("\r\n", "\n").strip()
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


# --- records ------------------------------------------------------------------------------

def _record_message(rec: ProvenanceRecord) -> bytes:
    return _RECORD_DOMAIN + audit.canonical_json({
        "id": rec.id, "kind": rec.kind, "time": _utc(rec.time).isoformat(timespec="milliseconds"),
        "producer": rec.producer, "sources": rec.sources, "sha256": rec.sha256,
    }).encode("utf-8")


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def record(kind: str, record_id: str, producer: str, sources: list[dict[str, str]], text: str) -> ProvenanceRecord:
    """Store the signed record of a generated text."""
    now = utcnow()
    rec = ProvenanceRecord(id=record_id, kind=kind, time=now.replace(microsecond=now.microsecond // 1000 * 1000),
                           producer=producer[:100], sources=sources, sha256=text_hash(text), signature="")
    rec.signature = audit.signing_key().sign(_record_message(rec)).hex()
    try:
        with database().session() as s:
            s.add(rec)
    except IntegrityError:
        raise Problem(409, "溯源记录已存在 Provenance exists", f"'{record_id}' 已有溯源记录",
                      "provenance-exists") from None
    return rec


def record_answer(trace_id: str, answer: str, planner: str, citations: list[dict[str, Any]]) -> str:
    """The record of an assistant's answer; its id (the trace id) goes on the answer."""
    sources = [{"doc": str(c.get("doc", "")), "locator": str(c.get("locator", ""))} for c in citations]
    return record("answer", trace_id, planner, sources, answer).id


def new_document_id() -> str:
    return new_id("doc")


def get_record(record_id: str) -> ProvenanceRecord | None:
    with database().session() as s:
        return s.get(ProvenanceRecord, record_id)


def _signature_ok(rec: ProvenanceRecord) -> bool:
    try:
        audit.public_key().verify(bytes.fromhex(rec.signature), _record_message(rec))
    except (InvalidSignature, ValueError):
        return False
    return True


def record_json(rec: ProvenanceRecord) -> dict[str, Any]:
    return {"id": rec.id, "kind": rec.kind, "time": _utc(rec.time).isoformat(), "producer": rec.producer,
            "sources": rec.sources, "sha256": rec.sha256, "signature": rec.signature,
            "signature_algorithm": "Ed25519", "signature_valid": _signature_ok(rec)}


def lookup(record_id: str) -> dict[str, Any]:
    rec = get_record(record_id)
    if rec is None:
        raise not_found(f"没有 '{record_id}' 的溯源记录 no provenance record", "unknown-provenance")
    return record_json(rec)


# --- the mark -----------------------------------------------------------------------------

def _selectors(data: bytes) -> str:
    return "".join(chr(0xFE00 + b) if b < 16 else chr(0xE0100 + b - 16) for b in data)


def _bytes(selectors: str) -> bytes:
    return bytes(ord(c) - 0xFE00 if ord(c) < 0xE0100 else ord(c) - 0xE0100 + 16 for c in selectors)


def _mark(rec: ProvenanceRecord) -> str:
    rid = rec.id.encode("ascii")
    millis = int(_utc(rec.time).timestamp() * 1000)
    body = _MAGIC + bytes([len(rid)]) + rid + millis.to_bytes(6, "big") + bytes.fromhex(rec.sha256)[:_HASH_BYTES]
    return _JOINER + _selectors(body + audit.signing_key().sign(_MARK_DOMAIN + body))


def _prose(line: str) -> bool:
    """Whether a paragraph's last line may end in a mark: not code (fenced or indented), not a
    table row, not HTML."""
    return bool(line.strip()) and not line.startswith(("    ", "\t")) \
        and not line.lstrip().startswith(("```", "~~~", "|", "<"))


def mark_document(text: str, rec: ProvenanceRecord) -> str:
    """`text` with the record's mark at the end of each prose paragraph (at the very end when
    there is none); the text's hash is unchanged by it."""
    mark = _mark(rec)
    parts = _PARAGRAPH_GAP.split(text)
    gaps = _PARAGRAPH_GAP.findall(text)
    marked = 0
    for i, block in enumerate(parts):
        body = block.rstrip()
        last = body.rsplit("\n", 1)[-1]
        if _prose(last):
            parts[i] = body + mark + block[len(body):]
            marked += 1
    out = "".join(p + g for p, g in zip(parts, [*gaps, ""], strict=True))
    return out if marked else out.rstrip() + mark + out[len(out.rstrip()):]


def export_answer(record_id: str, text: str) -> str:
    """The platform's answer `text`, marked for export; refused for any other text (a mark
    vouches for what the platform wrote, not for what a caller brings)."""
    rec = get_record(record_id)
    if rec is None:
        raise not_found(f"没有 '{record_id}' 的溯源记录 no provenance record", "unknown-provenance")
    if text_hash(text) != rec.sha256:
        raise Problem(409, "文本与记录不符 Text does not match", "只能为平台生成的原文加水印；该文本已被修改 "
                      "only the platform's own text can be marked; this text differs", "provenance-mismatch")
    return mark_document(text, rec)


@dataclass(frozen=True)
class Mark:
    """One distinct mark found in a text."""

    valid: bool  # signed by this platform's key
    id: str | None = None
    time: str | None = None
    hash_prefix: str | None = None
    count: int = 1  # paragraphs carrying it
    record: dict[str, Any] | None = None  # the stored record, where this city's database has it


@dataclass(frozen=True)
class TextVerdict:
    status: Status
    message: str
    sha256: str
    marks: list[Mark] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "intact"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def _decode(selectors: str) -> Mark:
    data = _bytes(selectors)
    if not data.startswith(_MAGIC) or len(data) < _MIN_PAYLOAD:
        return Mark(False)
    size = data[len(_MAGIC)]
    body_end = len(_MAGIC) + 1 + size + 6 + _HASH_BYTES
    if len(data) != body_end + _SIG_BYTES:
        return Mark(False)
    body, signature = data[:body_end], data[body_end:]
    try:
        audit.public_key().verify(signature, _MARK_DOMAIN + body)
    except InvalidSignature:
        return Mark(False)
    at = len(_MAGIC) + 1
    rid = body[at:at + size].decode("ascii", "replace")
    millis = int.from_bytes(body[at + size:at + size + 6], "big")
    when = datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="milliseconds")
    rec = get_record(rid)
    return Mark(True, rid, when, body[at + size + 6:].hex(), record=record_json(rec) if rec else None)


def verify_text(text: str) -> TextVerdict:
    """Whether `text` came from this platform: `intact` (a genuine mark, the text as written),
    `edited` (a genuine mark, the text changed since), `unmarked`, or `forged` (a mark this
    platform's key did not sign)."""
    digest = text_hash(text)
    found: dict[str, Mark] = {}
    for m in _MARK.finditer(text):
        raw = m.group(1)
        found[raw] = replace(found[raw], count=found[raw].count + 1) if raw in found else _decode(raw)
    marks = list(found.values())
    if not marks:
        return TextVerdict("unmarked", "未发现平台水印：无法证明来自本平台 no platform mark found", digest)
    if not all(m.valid for m in marks):
        return TextVerdict("forged", "水印签名无效：伪造或非本平台签发 the mark's signature is invalid (forged, "
                           "or not this platform's key)", digest, marks)
    if any(digest.startswith(m.hash_prefix or "-") for m in marks):
        first = marks[0]
        return TextVerdict("intact", f"来自本平台，内容完好：{first.id}（{first.time}）"
                           f" from this platform, intact", digest, marks)
    ids = "、".join(m.id or "" for m in marks)
    return TextVerdict("edited", f"来自本平台（{ids}），但生成后被修改 from this platform, edited since "
                       "(hash mismatch)", digest, marks)
