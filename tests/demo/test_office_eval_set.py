"""The held-out 收文登记 evaluation set is complete and self-consistent (it is data; nothing here tunes on it)."""

from __future__ import annotations

import datetime as dt
import json
import re
from importlib import resources
from pathlib import Path

import pytest
from docx import Document
from docx.opc.exceptions import PackageNotFoundError

SET = Path(str(resources.files("aicity.demo") / "data/eval/office_documents"))
KINDS = {"决议", "决定", "命令", "公报", "公告", "通告", "意见", "通知", "通报", "报告", "请示", "批复", "议案", "函", "纪要"}
KEYS = {"kind", "issuer", "doc_number", "title", "recipients", "date", "classification", "urgency", "signer",
        "attachments", "cc", "suggested_departments", "deadline"}


def rows() -> list[dict]:
    return [json.loads(line) for line in (SET / "index.jsonl").read_text(encoding="utf-8").splitlines()]


def department_ids() -> set[str]:
    text = (SET.parent.parent / "departments.yaml").read_text(encoding="utf-8")
    return set(re.findall(r"^- id: (\w+)", text, flags=re.M))


def test_index_covers_the_promised_variety() -> None:
    docs = [r for r in rows() if r["expect"] != "error"]
    assert len(docs) >= 48
    assert len({r["expect"]["kind"] for r in docs}) >= 8
    assert sum(len(r["expect"]["issuer"]) > 1 for r in docs) >= 5
    assert sum(r["expect"]["kind"] == "纪要" for r in docs) >= 3
    assert {r["format"] for r in docs} == {"docx", "pdf", "txt"}
    assert sum(1 for r in rows() if r["expect"] == "error") == 2


@pytest.mark.parametrize("row", rows(), ids=lambda r: r["id"])
def test_each_entry_is_well_formed(row: dict) -> None:
    path = SET / row["path"]
    assert path.is_file() and path.suffix == "." + row["format"]
    if row["expect"] == "error":
        return
    exp = row["expect"]
    assert set(exp) == KEYS and exp["kind"] in KINDS and exp["issuer"]
    for key in ("date", "deadline"):
        if exp[key] is not None:
            assert dt.date.fromisoformat(exp[key])
    assert set(exp["suggested_departments"]) <= department_ids()
    assert exp["urgency"] in (None, "特急", "加急")
    if row["format"] == "docx":
        Document(str(path))


def test_the_fake_docx_is_not_a_package() -> None:
    fake = next(r for r in rows() if r["expect"] == "error" and r["format"] == "docx")
    with pytest.raises(PackageNotFoundError):
        Document(str(SET / fake["path"]))
