"""收文登记 evaluation: per-field accuracy of `registration` on a labelled set of documents
(JSON Lines `{"id", "path", <field>: expected, …}`, the paths relative to the index file).

A field is compared after the normalisation any reader would apply: Unicode NFKC, whitespace
removed, brackets of a 发文字号 written as 〔〕, a kind's aliases (命令 = 命令（令）), a missing value
(null, "", 无) as none; a 密级 compares with its 保密期限 (秘密★1年); lists (issuers, recipients,
attachments, cc, signers) compare as sets of items, each list split at "，、；". Suggested
departments are right when the first suggestion is one of the expected ones (or both are empty);
a row without that key is not counted for it.

The held-out set (`demo/data/eval/office_documents/index.jsonl`) was written apart from the
extractor and is never read to tune it; `tests/agents/office/registration_dev/` is the development set.
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
from importlib import resources
from pathlib import Path
from typing import Any

from aicity.agents.office.kinds import UnknownKind, get_kind
from aicity.agents.office.registration import FIELDS, RegistrationError, register_bytes

#: the fields scored, in order (suggested_departments on the rows that label it)
SCORED = FIELDS
_BRACKETS = str.maketrans({"[": "〔", "]": "〕", "［": "〔", "］": "〕", "(": "〔", ")": "〕", "（": "〔", "）": "〕",
                           "【": "〔", "】": "〕", "﹝": "〔", "﹞": "〕"})
_NONE = {"", "无", "none", "null", "公开", "非密", "一般", "普通"}
_SPLIT = re.compile(r"[，,、；;]")


def default_set() -> Path:
    return Path(str(resources.files("aicity") / "demo" / "data" / "eval" / "office_documents" / "index.jsonl"))


def dev_set() -> Path:
    """The development documents (in the source tree's tests; absent from an installed package)."""
    return Path(__file__).resolve().parents[4] / "tests" / "agents" / "office" / "registration_dev" / "index.jsonl"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        value = "、".join(str(v) for v in value)
    s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))
    s = s.replace("“", '"').replace("”", '"')
    return None if s.lower() in _NONE else s


def _items(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    values = value if isinstance(value, list) else [value]
    out = set()
    for v in values:
        for part in _SPLIT.split(unicodedata.normalize("NFKC", str(v))):
            part = re.sub(r"\s+", "", part).strip("。.")
            part = re.sub(r"^(?:\d{1,2}[.、]|〔\d{1,2}〕)", "", part)
            if part and part.lower() not in _NONE:
                out.add(part)
    return frozenset(out)


def _kind(value: Any) -> str | None:
    if not value:
        return None
    try:
        return get_kind(str(value)).name
    except UnknownKind:
        return str(value)


def same(name: str, expected: Any, got: Any) -> bool:
    """Whether an extracted field equals the label (after the normalisation in the module's docstring)."""
    if name in ("issuer", "recipients", "attachments", "cc", "signer"):
        return _items(expected) == _items(got)
    if name == "kind":
        return _kind(expected) == _kind(got)
    if name == "doc_number":
        e, g = _text(expected), _text(got)
        return (e.translate(_BRACKETS) if e else None) == (g.translate(_BRACKETS) if g else None)
    if name == "suggested_departments":
        want = list(expected or [])
        return (not want and not got) or bool(got) and got[0] in want
    return _text(expected) == _text(got)


def load(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise ValueError(f"评测集不存在 no evaluation set at {path}")
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path.name}:{n}: 不是 JSON not JSON ({exc})") from exc
        if not isinstance(row, dict) or not isinstance(row.get("path"), str):
            raise ValueError(f"{path.name}:{n}: 每行需要 path a row needs a path")
        rows.append(row)
    return rows


def evaluate(rows: list[dict[str, Any]], base: Path) -> dict[str, Any]:
    """Per-field accuracy over the rows (a file that cannot be registered counts wrong on every field)."""
    right = dict.fromkeys(SCORED, 0)
    counted = dict.fromkeys(SCORED, 0)
    failures: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    times: list[float] = []
    refused_right = refused_expected = 0
    for row in rows:
        expect = row.get("expect", row)  # the held-out set nests the fields under "expect"
        path = base / row["path"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ValueError(f"{row['path']}: 读不到文件 cannot read ({exc})") from exc
        started = time.perf_counter()
        try:
            got = register_bytes(path.name, data).fields()
        except RegistrationError as exc:
            got = None
            if expect != "error":
                errors.append({"id": str(row.get("id", row["path"])), "error": str(exc)})
        times.append((time.perf_counter() - started) * 1000)
        if expect == "error":  # bad input: right when refused
            refused_expected += 1
            refused_right += got is None
            if got is not None:
                failures.append({"id": row.get("id", row["path"]), "field": "error", "expected": "error", "got": got})
            continue
        for name in SCORED:
            if name not in expect:
                continue
            counted[name] += 1
            if got is not None and same(name, expect[name], got[name]):
                right[name] += 1
            else:
                failures.append({"id": row.get("id", row["path"]), "field": name, "expected": expect[name],
                                 "got": None if got is None else got[name]})
    times.sort()
    documents = len(rows) - refused_expected
    return {
        "documents": documents,
        "bad_inputs_refused": f"{refused_right}/{refused_expected}",
        "accuracy": {k: round(right[k] / counted[k], 3) for k in SCORED if counted[k]},
        "counted": {k: counted[k] for k in SCORED if counted[k]},
        "all_fields_right": sum(1 for r in rows if r.get("expect") != "error"
                                and not any(f["id"] == r.get("id", r["path"]) for f in failures)),
        "errors": errors,
        "failures": failures,
        "ms_per_document_p50": round(times[len(times) // 2], 1) if times else None,
        "ms_per_document_max": round(times[-1], 1) if times else None,
    }
