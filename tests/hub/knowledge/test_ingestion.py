"""Ingesting documents of every supported format, structure-aware chunking, updates and
deletes that keep every index consistent, and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from aicity.core.config import settings
from aicity.core.errors import Problem
from aicity.hub.knowledge import service as kb
from aicity.identity.models import Role
from aicity.identity.service import Principal
from tests.support.docs import LAW_LINES, make_docx, make_pdf, make_xlsx

ADMIN = Principal(Role.admin)
KB = "ingest_test"


@pytest.fixture(scope="module")
def test_kb(city: Path) -> str:
    kb.ensure_kb(KB, "测试部门库", "department", "urban")
    return KB


def texts_found(query: str) -> str:
    return " ".join(h.text for h in kb.search(query, ADMIN, top_k=10, kb=KB))


def test_law_in_docx_is_chunked_by_article(test_kb: str) -> None:
    doc, changed = kb.ingest_document("夜市管理办法.docx", make_docx("示范城市夜市摊点管理办法", LAW_LINES), kb=test_kb)
    assert changed and doc.kind == "law" and doc.title == "示范城市夜市摊点管理办法"
    _, chunks = kb.document_chunks(test_kb, doc.key)
    assert [c.locator for c in chunks] == ["第一条", "第二条", "第三条", "第四条"]
    assert chunks[3].headings == ["第二章 罚则"]
    hit = kb.search("夜市摊点不在划定区域经营谁来管", ADMIN, kb=test_kb)[0]
    assert hit.locator in ("第二条", "第四条")


@pytest.mark.parametrize(("filename", "data", "query", "locator_part"), [
    ("guide.md", "# 占道施工办事指南\n\n## 一、办理条件\n\n施工单位需先取得挖掘许可。\n".encode(), "挖掘许可", "一、办理条件"),
    ("notice.txt", "关于夜间施工的通知\n夜间施工须提前三日公示。\n".encode("gb18030"), "提前三日公示", "第1段"),
    ("page.html", "<html><head><title>停车收费</title></head><body><h2>收费标准</h2><p>路内停车每小时五元。</p>"
                  "<script>alert(1)</script></body></html>".encode(), "路内停车每小时", "收费标准"),
    ("fees.xlsx", make_xlsx([["项目", "收费"], ["摊位管理费", "每月两百元"]]), "摊位管理费", "收费标准"),
    ("rules.pdf", make_pdf(["Night market rules", "Stalls must close by eleven at night."]), "stalls close", "第1段"),
])
def test_every_format_is_searchable_with_a_locator(test_kb: str, filename: str, data: bytes, query: str,
                                                   locator_part: str) -> None:
    doc, _ = kb.ingest_document(filename, data, kb=test_kb)
    assert doc.kind == "generic"
    hits = [h for h in kb.search(query, ADMIN, top_k=5, kb=test_kb) if h.doc_key == doc.key]
    assert hits and locator_part in hits[0].locator
    assert "alert" not in " ".join(h.text for h in hits)


def test_same_content_is_a_no_op_and_new_content_replaces(test_kb: str) -> None:
    first = "# 便民通知\n\n自来水检修期间暂停供水。\n".encode()
    doc, changed = kb.ingest_document("notice.md", first, kb=test_kb, key="供水通知")
    assert changed
    _, again = kb.ingest_document("notice.md", first, kb=test_kb, key="供水通知")
    assert not again
    kb.ingest_document("notice.md", "# 便民通知\n\n燃气管道检修期间暂停供气。\n".encode(), kb=test_kb, key="供水通知")
    assert "自来水检修" not in texts_found("自来水检修暂停供水")  # the old chunks are gone
    assert "燃气管道检修" in texts_found("燃气管道检修")
    kb.delete_document(test_kb, "供水通知")
    assert "燃气管道检修" not in texts_found("燃气管道检修")
    with pytest.raises(Problem) as err:
        kb.delete_document(test_kb, "供水通知")
    assert err.value.status == 404


@pytest.mark.parametrize(("filename", "data", "status", "kind"), [
    ("virus.exe", b"MZ\x90\x00", 415, "unsupported-format"),
    ("empty.md", b"   \n", 422, "empty-file"),
    ("broken.docx", b"PK\x03\x04 not really a zip", 422, "unreadable-file"),
    ("broken.xlsx", b"\x00\x01\x02garbage", 422, "unreadable-file"),
    ("scan.pdf", make_pdf([]), 422, "pdf-no-text"),
    ("binary.txt", bytes(range(128, 256)) * 3, 422, None),
])
def test_bad_files_are_refused_and_nothing_is_left(test_kb: str, filename: str, data: bytes, status: int,
                                                   kind: str | None) -> None:
    before = kb.document_stats({test_kb})
    with pytest.raises(Problem) as err:
        kb.ingest_document(filename, data, kb=test_kb)
    assert err.value.status == status
    if kind:
        assert err.value.type_ == kind
    assert kb.document_stats({test_kb}) == before


def test_size_limit(test_kb: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings(), "max_upload_bytes", 64)
    with pytest.raises(Problem) as err:
        kb.ingest_document("big.md", b"# x\n\n" + "长".encode() * 100, kb=test_kb)
    assert err.value.status == 413


def test_unknown_kb(city: Path) -> None:
    with pytest.raises(Problem) as err:
        kb.ingest_document("a.md", "# 标题\n\n内容。".encode(), kb="no_such_kb")
    assert err.value.status == 404
