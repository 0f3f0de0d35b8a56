"""Knowledge service: ingest laws, search them, and quote an article exactly."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from pydantic import BaseModel
from sqlalchemy import delete, func, select

from aicity.core.bus import bus
from aicity.core.db import PerDatabase, database
from aicity.core.errors import bad_request
from aicity.core.ids import new_id, utcnow
from aicity.core.config import settings
from aicity.core.text import Bm25Index, Synonyms, tokenize
from aicity.hub.knowledge.chunking import chunk_article, paragraph_locator, parse_law
from aicity.hub.knowledge.models import KbChunk, KbDocument

GLOBAL_KB = "global"
#: superseded text still answers, but below the text in force
SUPERSEDED_WEIGHT = 0.5
_FILE_RE = re.compile(r"^(?P<key>.+?)\((?P<date>\d{4}-\d{2}-\d{2})\)$")
_ARTICLE_MENTION = re.compile(r"第[零〇一二三四五六七八九十百千]+条")


class Citation(BaseModel):
    """A quoted passage: the document's title, where in it, and the exact text."""

    doc: str
    doc_key: str
    locator: str
    text: str
    status: str = "in_force"


class Hit(Citation):
    score: float


@dataclass(frozen=True)
class _Row:
    doc_key: str
    title: str
    status: str
    locator: str
    article: str
    text: str


class _Index:
    """The in-memory BM25 view of all chunks of one database, rebuilt when documents change."""

    def __init__(self, rows: list[_Row]) -> None:
        self.rows = rows
        self.bm25 = Bm25Index([tokenize(f"{r.title} {r.text}") for r in rows])
        self.titles = sorted({(r.doc_key, r.title) for r in rows}, key=lambda t: -len(t[0]))


def _build_index() -> _Index:
    with database().session() as s:
        result = s.execute(
            select(KbDocument.key, KbDocument.title, KbDocument.status, KbChunk.locator, KbChunk.article, KbChunk.text)
            .join(KbChunk, KbChunk.document_id == KbDocument.id)
            .order_by(KbDocument.key, KbChunk.ord)
        )
        return _Index([_Row(*r) for r in result])


_index = PerDatabase(_build_index)


def law_key_and_date(path: Path) -> tuple[str, str | None]:
    match = _FILE_RE.match(path.stem)
    return (match["key"], match["date"]) if match else (path.stem, None)


def ingest_law(
    markdown: str,
    key: str,
    *,
    kb: str = GLOBAL_KB,
    date: str | None = None,
    source: str = "",
    status: str = "in_force",
    superseded_by: str | None = None,
) -> tuple[KbDocument, bool]:
    """Ingest one law; returns (document, changed). Same content again is a no-op."""
    digest = hashlib.sha256(markdown.encode()).hexdigest()
    law = parse_law(markdown)
    if not law.articles:
        raise bad_request(f"'{key}' 中没有识别到任何条文 no articles found", "no-articles")
    with database().session() as s:
        existing = s.scalar(select(KbDocument).where(KbDocument.kb == kb, KbDocument.key == key))
        if existing is not None and existing.content_hash == digest:
            changed = existing.status != status or existing.superseded_by != superseded_by
            existing.status, existing.superseded_by = status, superseded_by
            doc, is_new = existing, False
        else:
            if existing is not None:
                s.execute(delete(KbChunk).where(KbChunk.document_id == existing.id))
                s.delete(existing)
                s.flush()
            doc = KbDocument(
                id=new_id("doc"), kb=kb, key=key, title=law.title or key, date=date, status=status,
                superseded_by=superseded_by, source=source, preamble=law.preamble, content_hash=digest,
                created_at=utcnow(),
            )
            s.add(doc)
            s.flush()
            ord_ = 0
            for article in law.articles:
                for chunk in chunk_article(article):
                    s.add(KbChunk(document_id=doc.id, ord=ord_, locator=chunk.locator, article=chunk.article,
                                  headings=chunk.headings, text=chunk.text))
                    ord_ += 1
            changed = is_new = True
    if changed:
        _index.invalidate()
        bus.publish("kb.document.ingested", {"kb": kb, "key": key, "new": is_new})
    return doc, changed


def load_law_dir(
    directory: Path, superseded: dict[str, str], progress: Callable[[int, int], None] | None = None
) -> int:
    """Ingest every `*.md` law in `directory`; `superseded` maps an old key to its replacement."""
    files = sorted(directory.glob("*.md"))
    changed = 0
    for i, path in enumerate(files, start=1):
        key, date = law_key_and_date(path)
        old_by = superseded.get(key)
        _, did = ingest_law(
            path.read_text(encoding="utf-8"), key, date=date, source=path.name,
            status="superseded" if old_by else "in_force", superseded_by=old_by,
        )
        changed += did
        if progress:
            progress(i, len(files))
    return changed


_synonyms: dict[str, Synonyms] = {}


def synonyms() -> Synonyms:
    """The city's synonym list: `synonyms.yaml` in the data dir, else the demo city's."""
    path = settings().data_dir / "synonyms.yaml"
    if not path.is_file():
        path = Path(str(resources.files("aicity") / "demo" / "data" / "synonyms.yaml"))
    key = str(path.resolve())
    if key not in _synonyms:
        _synonyms[key] = Synonyms(yaml.safe_load(path.read_text(encoding="utf-8")) or [])
    return _synonyms[key]


def query_tokens(text: str) -> list[str]:
    """Tokens of a query, with the city's synonyms added."""
    return synonyms().expand(text, tokenize(text))


def search(query: str, top_k: int = 5, kb: str | None = None) -> list[Hit]:
    """Keyword search; a named law or article in the query is boosted, superseded text damped."""
    index = _index.get()
    scores = index.bm25.scores(query_tokens(query)).copy()
    if not len(scores):
        return []
    named = [key for key, title in index.titles if key in query or title in query]
    articles = set(_ARTICLE_MENTION.findall(query))
    for i, row in enumerate(index.rows):
        if row.doc_key in named:
            scores[i] = scores[i] * 1.5 + 2.0
            if row.article in articles:
                scores[i] += 20.0
        if row.status == "superseded":
            scores[i] *= SUPERSEDED_WEIGHT
    order = scores.argsort()[::-1][:top_k]
    return [
        Hit(doc=index.rows[i].title, doc_key=index.rows[i].doc_key, locator=index.rows[i].locator,
            text=index.rows[i].text, status=index.rows[i].status, score=round(float(scores[i]), 4))
        for i in order
        if scores[i] > 0
    ]


def get_article(doc_key: str, article: str, paragraph: int | None = None, kb: str = GLOBAL_KB) -> Citation | None:
    """The exact text of an article (or one 款 of it), or None when the corpus has no such article."""
    with database().session() as s:
        doc = s.scalar(select(KbDocument).where(KbDocument.kb == kb, KbDocument.key == doc_key))
        if doc is None:
            return None
        chunks = list(s.scalars(
            select(KbChunk).where(KbChunk.document_id == doc.id, KbChunk.article == article).order_by(KbChunk.ord)
        ))
    if not chunks:
        return None
    text = "\n".join(_dedupe_overlap([c.text for c in chunks]))
    locator = article
    if paragraph:
        paragraphs = text.split("\n")
        paras = [p for p in paragraphs if not re.match(r"^[（(]", p)]
        if paragraph > len(paras):
            return None
        wanted = paras[paragraph - 1]
        start = paragraphs.index(wanted)
        tail = []
        for p in paragraphs[start + 1 :]:
            if not re.match(r"^[（(]", p):
                break
            tail.append(p)
        text = "\n".join([wanted, *tail])
        locator = paragraph_locator(article, paragraph)
    return Citation(doc=doc.title, doc_key=doc.key, locator=locator, text=text, status=doc.status)


def _dedupe_overlap(pieces: list[str]) -> list[str]:
    """Chunks of one long article overlap by a sentence; join them back without the repeats."""
    out: list[str] = []
    for piece in pieces:
        if out:
            for cut in range(min(len(out[-1]), len(piece)), 0, -1):
                if out[-1].endswith(piece[:cut]):
                    piece = piece[cut:]
                    break
        if piece:
            out.append(piece)
    return out


def document_stats() -> dict[str, int]:
    with database().session() as s:
        docs = s.scalar(select(func.count()).select_from(KbDocument)) or 0
        chunks = s.scalar(select(func.count()).select_from(KbChunk)) or 0
    return {"documents": docs, "chunks": chunks}


def list_documents(kb: str | None = None) -> list[KbDocument]:
    with database().session() as s:
        q = select(KbDocument).order_by(KbDocument.key)
        if kb:
            q = q.where(KbDocument.kb == kb)
        return list(s.scalars(q))
