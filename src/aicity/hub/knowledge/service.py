"""Knowledge service: ingest documents into knowledge bases, search what the caller may
read, and quote an article exactly."""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path, PurePath
from typing import Any, TypeVar

import numpy as np
import yaml
from pydantic import BaseModel
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from aicity.core.bus import bus
from aicity.core.config import settings
from aicity.core.db import PerDatabase, database
from aicity.core.embeddings import BackgroundVectors, query_cache
from aicity.core.errors import Problem, bad_request, forbidden, not_found
from aicity.core.ids import new_id, utcnow
from aicity.core.text import Bm25Index, Synonyms, tokenize
from aicity.core.tracing import Tracer
from aicity.hub.gateway.embedder import retrieval_embedder
from aicity.hub.knowledge import access, law_prior
from aicity.hub.knowledge.chunking import chunk_article, chunk_generic, paragraph_locator, parse_law
from aicity.hub.knowledge.models import KbChunk, KbDocument, KnowledgeBase
from aicity.hub.knowledge.parsers import parse
from aicity.hub.knowledge.relations import Relations, relations
from aicity.identity import service as identity
from aicity.identity.service import Principal
from aicity.security import guard

GLOBAL_KB = "global"
SEARCH_MODES = ("hybrid", "keyword", "dense")
#: hybrid = DENSE_WEIGHT × dense + (1 − DENSE_WEIGHT) × keyword, each scaled to [0, 1] over its
#: best FUSION_DEPTH chunks; chosen on `eval/kb_dev.jsonl`, never on the evaluation set
DENSE_WEIGHT = 0.55
FUSION_DEPTH = 200
#: the legal answerer's (`exhaustive`) searches scale over their best 150: recall@4 of the governing article
#: 472 → 475 of 525 and its first provision governing 438 → 439 on `legal_rules_dev`…`dev7` (@1 and @12 equal;
#: 170 alike, 120 and 100 lose @12; dense weight 0.5 / 0.6 lose both), never on the held-out legal sets
LEGAL_FUSION_DEPTH = 150
#: the legal answerer's searches add LAW_PRIOR_WEIGHT × the probability that the question is about a law
#: (`law_prior`) to that law's scoring chunks, and as much to its related texts' (`related_lift`: the lower text
#: it governs stays a candidate, so the answer still compares the two). Leave-one-set-out over the 642
#: `legal_rules_dev`…`dev8` questions
#: (the prior trained without the set it ranks): the governing article @1 424 → 458, @4 573 → 579; the first
#: provision governing dev6 73 → 76, dev7 87 → 91, dev8 82 → 86, no set lower; never on the held-out legal sets.
#: Those figures lift the law alone; the related texts' lift was measured only in-sample (the prior trained on all
#: dev sets): first governing dev6 79 → 77, dev7 99 → 99, dev8 88 → 87 against the law alone, kept because the
#: law alone lost the comparison of a higher and a lower text (tests/hub/knowledge/test_legal_answers.py). The shipped
#: prior trains on every dev set (dev9 included) and the article questions: figures on a dev set from the shipped
#: model are in-sample for it; the study script fits it without the set it measures
LAW_PRIOR_WEIGHT = 0.5
#: the legal answerer's searches add ARTICLE_PRIOR_WEIGHT × an article's share of the votes of the nearest article
#: questions (`law_prior.article_votes`) to its chunks, and as much to the provisions overriding it or overridden
#: by it (`article_lift`). On `legal_rules_dev9` (the law prior trained on the article questions and dev…dev8,
#: never dev9; scripts/legal_training/article_prior_study.py): first provision governing 76 → 81 of 150, rule
#: stated 98 → 109, superseded as the rule 1 → 1 (the same case); the governing article first in the search
#: 54 → 76 of 150 (the law prior alone on the article rows: 56), in the first four 99 → 125. Retrieval alone
#: favoured 1.0–1.5 over this weight. Ordering the answer's sentences by the votes too (× (1 + vote)) won dev9
#: (83 → 85, weight 1.0: 89) but lost dev2 (71 → 70 / 68) and dev3 (57 → 55 / 52), so it is not done. Never on the
#: held-out legal sets.
ARTICLE_PRIOR_WEIGHT = 0.5
#: the cascade: a hybrid search whose BM25 lead is clear (`keyword_sure`) ranks by BM25 alone, with no query
#: embedding. Chosen on `eval/kb_dev.jsonl` (80), never the evaluation set: recall@5 0.9375 and MRR@10 0.7482
#: as always-hybrid, 10 % of the searches not embedded (ratio 1.25: 15 %, MRR 0.7420; 1.5: 5 %, equal)
KEYWORD_SURE_SCORE = 8.0
KEYWORD_SURE_RATIO = 1.35
LEVELS = ("global", "department", "personal")
#: a document with at least this many 第X条 articles is chunked as legal text
MIN_ARTICLES = 3
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
    kb: str
    score: float


@dataclass(frozen=True)
class _Row:
    document_id: str
    kb: str
    doc_key: str
    title: str
    status: str
    locator: str
    article: str
    text: str

    @property
    def passage(self) -> str:
        """What BM25 and the dense model see."""
        return f"{self.title} {self.locator} {self.text}"


class _Index:
    """The in-memory search view of every chunk of one database: BM25, dense vectors and each
    row's metadata. Ingest and delete update it per document, so its rows, in chunk insertion
    order, and its scores are always those of a fresh build from the database; removed rows
    are filtered out until they are a quarter of all rows, then dropped."""

    #: the metadata search filters and reranks by, one array per field of `_Row`
    COLUMNS = ("document_id", "kb", "doc_key", "article", "status")

    def __init__(self, rows: list[_Row]) -> None:
        self.lock = threading.RLock()
        self.rows: list[_Row] = []
        self.columns = {name: np.array([], dtype=object) for name in self.COLUMNS}
        self.bm25 = Bm25Index()
        self.documents: dict[str, tuple[str, str]] = {}
        self.titles: list[tuple[str, str]] = []
        self.embedder = retrieval_embedder("knowledge.search")
        self.dense = BackgroundVectors(self.embedder, [], "knowledge") if self.embedder else None
        self._codes: tuple[np.ndarray, dict[str, int], np.ndarray, dict[tuple[str, str], int]] | None = None
        self.add(rows)

    def add(self, rows: list[_Row]) -> None:
        """Append the chunks of documents the index does not hold yet."""
        tokens = [tokenize(r.passage) for r in rows]
        with self.lock:
            fresh = [i for i, r in enumerate(rows) if r.document_id not in self.documents]
            rows = [rows[i] for i in fresh]
            self.bm25.add([tokens[i] for i in fresh])
            self.rows += rows
            for name, column in self.columns.items():
                self.columns[name] = np.concatenate([column, np.array([getattr(r, name) for r in rows], dtype=object)])
            self.documents.update({r.document_id: (r.doc_key, r.title) for r in rows})
            self._codes = None
            self._named()
            if self.dense:
                self.dense.add([r.passage for r in rows])

    def codes(self) -> tuple[np.ndarray, dict[str, int], np.ndarray, dict[tuple[str, str], int]]:
        """Each chunk's law and (law, article) as integer codes, with the codes by key, so a lift by law or article
        is array indexing, not a Python loop over every chunk; rebuilt after chunks are added or compacted. Under
        `lock`."""
        if self._codes is None:
            laws: dict[str, int] = {}
            articles: dict[tuple[str, str], int] = {}
            keys, numbers = self.columns["doc_key"], self.columns["article"]
            law_of = np.fromiter((laws.setdefault(k, len(laws)) for k in keys), np.int64, len(keys))
            article_of = np.fromiter((articles.setdefault((k, a), len(articles)) for k, a in zip(keys, numbers, strict=True)),
                                     np.int64, len(keys))
            self._codes = (law_of, laws, article_of, articles)
        return self._codes

    def lift(self, by_law: dict[str, float], by_article: dict[tuple[str, str], float]) -> np.ndarray:
        """Each chunk's lift: the larger of its law's (`by_law`) and its article's (`by_article`). Under `lock`."""
        law_of, laws, article_of, articles = self.codes()
        by_law_code, by_article_code = np.zeros(len(laws)), np.zeros(len(articles))
        for law in by_law.keys() & laws.keys():  # a law or article the index lacks lifts nothing
            by_law_code[laws[law]] = by_law[law]
        for ref in by_article.keys() & articles.keys():
            by_article_code[articles[ref]] = by_article[ref]
        return np.maximum(by_law_code[law_of], by_article_code[article_of])

    def remove(self, document_id: str) -> None:
        with self.lock:
            if self.documents.pop(document_id, None) is None:
                return
            self.bm25.remove(np.flatnonzero(self.columns["document_id"] == document_id))
            self._named()
            if self.bm25.removed * 4 > self.bm25.size and (self.dense is None or self.dense.get() is not None):
                keep = self.bm25.compact()
                self.rows = [self.rows[i] for i in keep]
                self.columns = {name: column[keep] for name, column in self.columns.items()}
                self._codes = None
                if self.dense:
                    self.dense.keep(keep)

    def set_status(self, document_id: str, status: str) -> None:
        with self.lock:
            rows = np.flatnonzero((self.columns["document_id"] == document_id) & self.bm25.alive)
            for i in rows:
                self.rows[i] = replace(self.rows[i], status=status)
            self.columns["status"][rows] = status

    def _named(self) -> None:
        """Documents a query may name, longest name first (for the reranker)."""
        self.titles = sorted(set(self.documents.values()), key=lambda t: -len(t[0]))


def _read_rows(s: Session, document_id: str | None = None) -> list[_Row]:
    """Chunks in insertion order: all of them, or one document's."""
    query = (select(KbDocument.id, KbDocument.kb, KbDocument.key, KbDocument.title, KbDocument.status,
                    KbChunk.locator, KbChunk.article, KbChunk.text)
             .join(KbChunk, KbChunk.document_id == KbDocument.id).order_by(KbChunk.id))
    if document_id is not None:
        query = query.where(KbDocument.id == document_id)
    return [_Row(*r) for r in s.execute(query)]


def _build_index() -> _Index:
    with database().session() as s:
        return _Index(_read_rows(s))


log = logging.getLogger(__name__)
_index = PerDatabase(_build_index)


def on_embedding_changed(_topic: str, _payload: dict[str, Any]) -> None:
    """`gateway.embedding.changed`: the index rebuilds with the new model's vectors."""
    _index.invalidate()


def article_votes(query: str) -> dict[tuple[str, str], float]:
    """{(law key, article): share of the vote} of the article questions nearest `query` (`law_prior.article_votes`),
    as the legal answerer's search weighs them: from the query vector that search kept in the embedder's query cache,
    never a new embedding ({} where the search had none: keyword only, or the embedding failed)."""
    index = _index.get()
    if index.embedder is None:
        return {}
    return _votes(index, query_cache.peek(index.embedder.name, query))


def _votes(index: _Index, query_vector: np.ndarray | None) -> dict[tuple[str, str], float]:
    if query_vector is None or index.embedder is None:
        return {}
    return law_prior.article_votes(query_vector, index.embedder)


def _query_vector(index: _Index, query: str) -> np.ndarray | None:
    """The query's vector, or None (keyword search) when the embedding group fails."""
    try:
        return index.embedder.query(query) if index.embedder else None
    except Problem as exc:
        log.warning("query embedding failed, searching by keyword: %s", exc.detail)
        return None


def law_key_and_date(path: Path) -> tuple[str, str | None]:
    match = _FILE_RE.match(path.stem)
    return (match["key"], match["date"]) if match else (path.stem, None)


def ingest_law(markdown: str, key: str, **meta: Any) -> tuple[KbDocument, bool]:
    """Ingest one law given as corpus Markdown (see `ingest_document`)."""
    return ingest_document(f"{key}.md", markdown.encode("utf-8"), key=key, **meta)


def ingest_document(
    filename: str,
    data: bytes,
    *,
    kb: str = GLOBAL_KB,
    key: str | None = None,
    title: str | None = None,
    authority: str | None = None,
    date: str | None = None,
    source: str | None = None,
    status: str = "in_force",
    superseded_by: str | None = None,
) -> tuple[KbDocument, bool]:
    """Parse, chunk and store one document in one transaction; returns (document, changed).

    Article-structured text (laws, regulations) is chunked by 章/节/条/款; anything else by
    headings and paragraphs. The same bytes again are a no-op; new bytes under the same key
    replace the old chunks everywhere. The search index is updated for this document only.
    """
    limit = settings().max_upload_bytes
    if len(data) > limit:
        raise Problem(413, "文件过大 File too large", f"'{filename}' 有 {len(data)} 字节，上限 {limit}", "file-too-large",
                      limit=limit)
    get_kb(kb)
    digest = hashlib.sha256(data).hexdigest()
    parsed = parse(filename, data)
    law = parse_law(parsed.to_markdown())
    if len(law.articles) >= MIN_ARTICLES:
        kind, doc_title, preamble = "law", law.title, law.preamble
        chunks = [c for article in law.articles for c in chunk_article(article)]
    else:
        kind, doc_title, preamble = "generic", parsed.title, parsed.preamble
        chunks = chunk_generic([(b.text, b.level) for b in parsed.blocks])
    if not chunks:
        raise Problem(422, "没有可用的文字 No text", f"'{filename}' 中没有可检索的内容", "no-text")
    title = title or doc_title or PurePath(filename).stem
    key = key or title
    replaced, rows = None, []
    with database().session() as s:
        existing = _find_document(s, kb, key)
        if existing is not None and existing.content_hash == digest:
            changed = existing.status != status or existing.superseded_by != superseded_by
            existing.status, existing.superseded_by = status, superseded_by
            existing.authority = authority or existing.authority
            doc, is_new = existing, False
        else:
            if existing is not None:
                replaced = existing.id
                s.execute(delete(KbChunk).where(KbChunk.document_id == existing.id))
                s.delete(existing)
                s.flush()
            doc = KbDocument(
                id=new_id("doc"), kb=kb, key=key, title=title, date=date, status=status, kind=kind,
                authority=authority, superseded_by=superseded_by, source=source or filename, preamble=preamble,
                content_hash=digest, created_at=utcnow(),
            )
            s.add(doc)
            s.flush()
            s.add_all(KbChunk(document_id=doc.id, ord=i, locator=c.locator, article=c.article, headings=c.headings,
                              text=c.text) for i, c in enumerate(chunks))
            rows = _read_rows(s, doc.id)  # autoflush: the chunks have their ids
            changed = is_new = True
    if changed:
        index = _index.get()
        if replaced:
            index.remove(replaced)
        if rows:
            index.add(rows)
        else:
            index.set_status(doc.id, status)
        _index.updated()  # the city's other processes rebuild theirs (the distributed mode)
        _articles.invalidate()
        bus.publish("kb.document.ingested", {"kb": kb, "key": key, "new": is_new})
    return doc, changed


def _find_document(s: Session, kb: str, key: str) -> KbDocument | None:
    return s.scalar(select(KbDocument).where(KbDocument.kb == kb, KbDocument.key == key))


def _document_or_404(s: Session, kb: str, key: str) -> KbDocument:
    doc = _find_document(s, kb, key)
    if doc is None:
        raise not_found(f"知识库 '{kb}' 中没有文件 '{key}'", "unknown-document")
    return doc


def delete_document(kb: str, key: str) -> None:
    with database().session() as s:
        doc = _document_or_404(s, kb, key)
        s.execute(delete(KbChunk).where(KbChunk.document_id == doc.id))
        s.delete(doc)
    _index.get().remove(doc.id)
    _index.updated()
    _articles.invalidate()
    bus.publish("kb.document.deleted", {"kb": kb, "key": key})


# --- knowledge bases and who may read them --------------------------------------------------


def ensure_kb(kb_id: str, name: str, level: str = "global", department: str | None = None,
              owner_key_id: str | None = None) -> KnowledgeBase:
    if level not in LEVELS:
        raise bad_request(f"未知的知识库级别 '{level}'；可选 {', '.join(LEVELS)}", "unknown-kb-level")
    if level == "department" and not department:
        raise bad_request("部门知识库需要指定部门 a department KB needs a department", "missing-department")
    if department and department not in {d.id for d in identity.list_departments()}:
        raise bad_request(f"未知部门 unknown department '{department}'", "unknown-department")
    if level == "personal" and not owner_key_id:
        raise bad_request("个人知识库需要所有者 a personal KB needs an owner key", "missing-owner")
    with database().session() as s:
        kb = s.get(KnowledgeBase, kb_id)
        if kb is None:  # an existing knowledge base keeps its settings
            kb = KnowledgeBase(id=kb_id, name=name, level=level, department_id=department, owner_key_id=owner_key_id,
                               created_at=utcnow())
            s.add(kb)
    _kbs.invalidate()
    return kb


def _read_kbs() -> dict[str, KnowledgeBase]:
    with database().session() as s:
        return {kb.id: kb for kb in s.scalars(select(KnowledgeBase).order_by(KnowledgeBase.id))}


#: knowledge bases change only through `ensure_kb`: every search reads them from memory
_kbs = PerDatabase(_read_kbs)


def get_kb(kb_id: str) -> KnowledgeBase:
    kb = _kbs.get().get(kb_id)
    if kb is None:
        raise not_found(f"知识库 '{kb_id}' 不存在 unknown knowledge base", "unknown-kb")
    return kb


def list_kbs() -> list[KnowledgeBase]:
    return list(_kbs.get().values())


def may(principal: Principal, kb: KnowledgeBase, action: str) -> bool:
    return access.allowed(principal, kb.level, kb.department_id, kb.owner_key_id, action)


def readable_kbs(principal: Principal) -> set[str]:
    return {kb.id for kb in list_kbs() if may(principal, kb, "read")}


def require(principal: Principal, kb_id: str, action: str) -> KnowledgeBase:
    """The knowledge base if `principal` may do `action` on it; 404 when it may not even read
    it (its existence is not disclosed), 403 when it may read but not manage."""
    kb = get_kb(kb_id)
    if not may(principal, kb, "read"):
        raise not_found(f"知识库 '{kb_id}' 不存在 unknown knowledge base", "unknown-kb")
    if action != "read" and not may(principal, kb, action):
        raise forbidden(f"无权管理知识库 '{kb_id}'")
    return kb


def load_law_dir(
    directory: Path, superseded: dict[str, str], progress: Callable[[int, int], None] | None = None,
    authorities: dict[str, str] | None = None,
) -> int:
    """Ingest every `*.md` law in `directory`; `superseded` maps an old key to its replacement,
    `authorities` a key to the body that issued it."""
    files = sorted(directory.glob("*.md"))
    changed = 0
    for i, path in enumerate(files, start=1):
        key, date = law_key_and_date(path)
        old_by = superseded.get(key)
        _, did = ingest_law(
            path.read_text(encoding="utf-8"), key, date=date, source=path.name,
            status="superseded" if old_by else "in_force", superseded_by=old_by,
            authority=(authorities or {}).get(key),
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


def search(query: str, principal: Principal, top_k: int = 5, kb: str | None = None,
           mode: str = "hybrid", *, exhaustive: bool = False) -> list[Hit]:
    """Search what `principal` may read (only `kb` when given).

    `keyword`: BM25 over rjieba tokens with the city's synonyms. `dense`: multilingual-e5
    similarity. `hybrid` (default): a weighted sum of both, each scaled to [0, 1] over its
    best candidates (keyword alone while the vectors are still being computed, and, on the same
    scale, when BM25's lead is clear: `keyword_sure`, no query vector is computed). Then a cheap
    reranker: a law or article named in the query is lifted, superseded text damped; `exhaustive` (the legal
    answerer) also lifts the laws the query is likely about (`law_prior`, LAW_PRIOR_WEIGHT) and the articles its
    query vector's nearest article questions vote for (`law_prior.article_votes`, ARTICLE_PRIOR_WEIGHT).
    Unreadable chunks are removed before ranking, so they are never returned, cited or counted.
    """
    if mode not in SEARCH_MODES:
        raise bad_request(f"未知检索方式 '{mode}'；可选 {', '.join(SEARCH_MODES)}", "unknown-mode")
    if kb is not None:
        require(principal, kb, "read")
    readable = {kb} if kb is not None else readable_kbs(principal)
    tokens = query_tokens(query)
    index = _index.get()
    with index.lock:
        if not index.bm25.alive.any():
            return []
        visible = np.isin(index.columns["kb"], list(readable)) & index.bm25.alive
        keyword = np.where(visible, index.bm25.scores(tokens), 0.0)
        scored = index.bm25.size, index.bm25.removed
    dense_ready = mode != "keyword" and index.dense is not None and index.dense.get() is not None
    # `exhaustive`: no shortcut (the legal answerer ranks sentences across its whole pool, whose order BM25 alone
    # gets wrong where the asker's words differ from the statute's)
    sure = dense_ready and mode == "hybrid" and not exhaustive and keyword_sure(keyword)
    depth = LEGAL_FUSION_DEPTH if exhaustive else FUSION_DEPTH
    query_vector = _query_vector(index, query) if dense_ready and not sure else None  # slow: outside the lock
    prior = law_prior.probabilities(query) if exhaustive else {}
    votes = _votes(index, query_vector) if exhaustive else {}
    with index.lock:
        if not index.bm25.alive.any():
            return []
        vectors = index.dense.get() if query_vector is not None else None
        if mode == "dense" and vectors is None:
            raise Problem(503, "语义检索尚未就绪 Dense search not ready", "向量仍在计算中，请稍后或改用 keyword",
                          "dense-not-ready")
        if (index.bm25.size, index.bm25.removed) != scored:  # a document came or went meanwhile
            visible = np.isin(index.columns["kb"], list(readable)) & index.bm25.alive
            keyword = np.where(visible, index.bm25.scores(tokens), 0.0)
        if vectors is None:  # keyword mode, vectors not ready yet, or a clear BM25 lead (on the hybrid's scale)
            scores = _scaled(keyword, visible) if sure else keyword
        else:
            cos = np.where(visible, vectors @ query_vector, -1.0)
            scores = cos if mode == "dense" else (
                DENSE_WEIGHT * _scaled(cos, visible, depth) + (1 - DENSE_WEIGHT) * _scaled(keyword, visible, depth))
        scores = _rerank(index, query, scores, visible)
        rel = relations() if prior or votes else None
        if prior and rel is not None:
            scores = scores + LAW_PRIOR_WEIGHT * index.lift(*related_lift(prior, rel)) * (scores > 0)
        if votes and rel is not None:
            by_vote = article_lift(votes, rel)
            # the best-scoring article of each text related to a voted one rises with it (as `related_lift` lifts
            # related laws): the lower text it governs stays a candidate, so the answer still compares the two
            law_of, laws, _, _ = index.codes()
            for (doc, _), vote in list(votes.items()):
                for other in related_laws(doc, rel) & laws.keys():
                    mine = np.flatnonzero((law_of == laws[other]) & visible & (scores > 0))
                    if len(mine):
                        best = (other, index.columns["article"][mine[np.argmax(scores[mine])]])
                        by_vote[best] = max(by_vote.get(best, 0.0), vote)
            # every readable chunk of a voted article, scoring or not: the vote finds what the asker's words missed
            scores = scores + ARTICLE_PRIOR_WEIGHT * index.lift({}, by_vote) * visible
        order = np.argsort(-scores, kind="stable")[:top_k]
        return [
            Hit(kb=index.rows[i].kb, doc=index.rows[i].title, doc_key=index.rows[i].doc_key,
                locator=index.rows[i].locator, text=index.rows[i].text, status=index.rows[i].status,
                score=round(float(scores[i]), 4))
            for i in order
            if scores[i] > 0 and visible[i]
        ]


Key = TypeVar("Key")


def related_lift(prior: dict[str, float], rel: Relations) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
    """The prior's lift by law and by article: a law lifts the texts related to it as much as itself (one it
    implements, is under, covers or replaces, either way round), and a provision another overrides lifts
    that one article (either way round), not the rest of its text. Lifting the higher text alone would push
    the lower one it governs out of the candidates, and with it the comparison that says which governs."""
    by_law = _lift_both([*_related_pairs(rel), *rel.superseded.items()], lambda law: prior.get(law, 0.0), dict(prior))
    by_article = _lift_both(_override_pairs(rel), lambda ref: prior.get(ref[0], 0.0), {})
    return by_law, by_article


def _lift_both(pairs: list[tuple[Key, Key]], value: Callable[[Key], float], lifted: dict[Key, float]) -> dict[Key, float]:
    """`lifted` with both of each pair raised to the larger `value` of the two (a related or overriding text keeps
    its partner a candidate beside it)."""
    for one, other in pairs:
        both = max(value(one), value(other))
        for key in (one, other):
            lifted[key] = max(lifted.get(key, 0.0), both)
    return lifted


def _related_pairs(rel: Relations) -> list[tuple[str, str]]:
    """Texts related either way round: one replaces, is under, covers or implements the other."""
    return [(key, other) for key, meta in rel.documents.items()
            for other in (*meta.replaces, *meta.under, *meta.covers, *filter(None, [meta.implements]))]


def _override_pairs(rel: Relations) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """Each overridden provision and the one overriding it, as (law key, article)."""
    return [((o.provision.doc, o.provision.article), (o.governed_by.doc, o.governed_by.article)) for o in rel.overrides]


_neighbours: tuple[Relations, dict[str, frozenset[str]]] | None = None  # (the relations, each text's related ones)


def related_laws(doc: str, rel: Relations) -> frozenset[str]:
    """The texts related to `doc` either way round (`_related_pairs`). Worked out once per `Relations` (a new one
    is read when its files change), not for each article vote of each search."""
    global _neighbours
    held = _neighbours
    if held is None or held[0] is not rel:
        related: dict[str, set[str]] = {}
        for one, other in _related_pairs(rel):
            related.setdefault(one, set()).add(other)
            related.setdefault(other, set()).add(one)
        held = _neighbours = (rel, {key: frozenset(keys) for key, keys in related.items()})
    return held[1].get(doc, frozenset())


def article_lift(votes: dict[tuple[str, str], float], rel: Relations) -> dict[tuple[str, str], float]:
    """The article votes' lift by article: a provision another overrides, and the one overriding it, each as much
    as the more voted of the two, so the answer still compares them and says which governs."""
    return _lift_both(_override_pairs(rel), lambda ref: votes.get(ref, 0.0), dict(votes))


def keyword_sure(keyword: np.ndarray) -> bool:
    """Whether BM25 alone ranks as well as the hybrid would (a hybrid search then computes no query
    vector): its best chunk scores at least KEYWORD_SURE_SCORE and KEYWORD_SURE_RATIO × the second."""
    if len(keyword) < 2:
        return False
    second, best = np.partition(keyword, -2)[-2:]
    return bool(best >= KEYWORD_SURE_SCORE and best >= KEYWORD_SURE_RATIO * second)


def _scaled(scores: np.ndarray, visible: np.ndarray, depth: int = FUSION_DEPTH) -> np.ndarray:
    """Visible scores mapped to [0, 1]: the best to 1, the `depth`-th best (and below) to 0."""
    candidates = scores[visible]
    if not len(candidates):
        return np.zeros(len(scores))
    top = np.partition(candidates, -min(depth, len(candidates)))[-depth:]
    low, high = float(top.min()), float(top.max())
    if high <= low:  # one candidate, or all alike: each that scores at all is the best
        return np.where(visible & (scores > 0), 1.0, 0.0)
    return np.where(visible, np.clip((scores - low) / (high - low), 0.0, None), 0.0)


def _rerank(index: _Index, query: str, scores: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """A law named in the query lifts its chunks, a named article above all; superseded
    text counts half."""
    scores = scores.astype(np.float64, copy=True)
    top = float(scores.max()) if len(scores) else 0.0
    named = [key for key, title in index.titles if key in query or title in query]
    if named and top > 0:
        in_named = np.isin(index.columns["doc_key"], named) & visible
        scores[in_named] = scores[in_named] * 1.5 + 0.1 * top
        articles = list(set(_ARTICLE_MENTION.findall(query)))
        if articles:
            scores[in_named & np.isin(index.columns["article"], articles)] += 2.0 * top
    scores[index.columns["status"] == "superseded"] *= SUPERSEDED_WEIGHT
    return scores


def dense_job() -> BackgroundVectors | None:
    """The job computing the knowledge base's vectors (for progress and for waiting)."""
    return _index.get().dense


def _article_cache() -> dict[tuple[str, str, str, int | None], Citation | None]:
    return {}


#: articles quoted lately (a guide cites the same few on every answer), dropped whenever a document
#: changes (`ingest_document`, `delete_document`, in any of the city's processes)
_articles = PerDatabase(_article_cache)
#: articles kept at most: a lookup of articles that do not exist cannot grow it without bound
ARTICLE_CACHE_SIZE = 4096


def get_article(doc_key: str, article: str, paragraph: int | None = None, kb: str = GLOBAL_KB) -> Citation | None:
    """The exact text of an article (or one 款 of it), or None when the corpus has no such article."""
    cache = _articles.get()  # before reading: a document changed meanwhile drops this dict, never the new one
    key = (kb, doc_key, article, paragraph)
    if key not in cache:
        if len(cache) >= ARTICLE_CACHE_SIZE:
            cache.clear()
        cache[key] = _read_article(doc_key, article, paragraph, kb)
    found = cache[key]
    return found.model_copy() if found is not None else None


def _read_article(doc_key: str, article: str, paragraph: int | None, kb: str) -> Citation | None:
    with database().session() as s:
        doc = _find_document(s, kb, doc_key)
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


def citing_articles(doc_key: str, article: str, kb: str = GLOBAL_KB, limit: int = 4) -> list[Citation]:
    """The other articles of a document whose text names `article` by its number (违反本法第五十八条
    规定的，…处…罚款: a penalty that refers to the duty it enforces), in document order."""
    with database().session() as s:
        doc = _find_document(s, kb, doc_key)
        if doc is None:
            return []
        named = list(dict.fromkeys(s.scalars(
            select(KbChunk.article).where(KbChunk.document_id == doc.id, KbChunk.article != article,
                                          KbChunk.text.contains(article)).order_by(KbChunk.ord))))
    found = [get_article(doc_key, other, kb=kb) for other in named[:limit]]
    return [c for c in found if c is not None]


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


def document_stats(kbs: set[str] | None = None) -> dict[str, int]:
    """Documents and chunks, in `kbs` only when given (callers pass what the caller may read)."""
    with database().session() as s:
        docs = select(func.count()).select_from(KbDocument)
        chunks = select(func.count()).select_from(KbChunk).join(KbDocument, KbChunk.document_id == KbDocument.id)
        if kbs is not None:
            docs, chunks = docs.where(KbDocument.kb.in_(kbs)), chunks.where(KbDocument.kb.in_(kbs))
        return {"documents": s.scalar(docs) or 0, "chunks": s.scalar(chunks) or 0}


def list_documents(kbs: set[str] | None = None) -> list[KbDocument]:
    with database().session() as s:
        q = select(KbDocument).order_by(KbDocument.kb, KbDocument.key)
        if kbs is not None:
            q = q.where(KbDocument.kb.in_(kbs))
        return list(s.scalars(q))


def document_chunks(kb: str, key: str) -> tuple[KbDocument, list[KbChunk]]:
    """A document and its chunks in order: its structure, for browsing."""
    with database().session() as s:
        doc = _document_or_404(s, kb, key)
        return doc, list(s.scalars(select(KbChunk).where(KbChunk.document_id == doc.id).order_by(KbChunk.ord)))


class Answer(BaseModel):
    """An answer composed from retrieved text: quotes with markers, and the citations."""

    answer: str
    citations: list[Hit]
    #: who wrote the text: "embedded" (exact quotes) or "llm:<model group>"
    writer: str = "embedded"
    #: why a configured model did not write it (the quotes were used instead)
    fallback: str | None = None
    #: the operative rule in one sentence, from the governing provision (the first citation)
    rule: str | None = None
    #: which provision governs and why, when another one conflicts; newer versions not in the corpus
    notes: list[str] = []


#: said when the guard's `retrieved` stage found instructions in passages
MASKED_NOTE = "注意：有 {n} 段检索到的资料含有疑似注入的指令，其中的指令已隐去，仅作为资料引用。"
WITHHELD_NOTE = "注意：有 {n} 段检索到的资料主要由疑似注入的指令构成，已不予引用，也未据此作答。"
NOTHING_FOUND = "知识库中没有找到与问题相关的内容。"
_GUARD_MARKER = re.compile(r"〔[^〔〕]{0,200}〕")


def screened(hits: list[Hit], tracer: Tracer | None = None) -> tuple[list[Hit], list[str]]:
    """`hits` through the guard's `retrieved` stage, so no planted instruction is ever quoted word
    for word: in a passage holding an instruction aimed at the assistant (acted on by the
    policy), the instruction's sentence is replaced by a marker; a passage that is mostly such
    instructions (less than a third of it left, or blocked) is withheld — never quoted, never
    answered from. The notes say what was done; the findings go to the trace (else the log)."""
    kept: list[Hit] = []
    masked = withheld = 0
    for hit in hits:
        text = screened_text(hit.text, tracer)
        if text is None:
            withheld += 1
        elif text == hit.text:
            kept.append(hit)
        else:
            kept.append(hit.model_copy(update={"text": text}))
            masked += 1
    notes = [note.format(n=n) for note, n in ((MASKED_NOTE, masked), (WITHHELD_NOTE, withheld)) if n]
    return kept, notes


def screened_text(text: str, tracer: Tracer | None = None) -> str | None:
    """One retrieved text through the guard's `retrieved` stage (`screened`): as it is, with its planted
    instructions masked, or None where it is withheld."""
    result = guard.attack_acted_on(text, "retrieved")
    if result is None:
        return text
    guard.note(result, tracer)
    left = _GUARD_MARKER.sub("", result.text).strip()
    return None if result.verdict == "block" or len(left) < len(text.strip()) / 3 else result.text


def answer(question: str, principal: Principal, top_k: int = 3, kb: str | None = None,
           docs: set[str] | None = None) -> Answer:
    """The embedded (no-LLM) answer: the best passages the caller may read, quoted exactly
    with their document and locator, in force before superseded."""
    pool = search(question, principal, top_k=top_k * 4 if docs else top_k, kb=kb)
    hits, notes = screened([h for h in pool if docs is None or h.doc_key in docs][:top_k])
    if not hits:
        return Answer(answer="\n".join([NOTHING_FOUND, *notes]), citations=[], notes=notes)
    lines = []
    for n, hit in enumerate(hits, start=1):
        superseded = "（已被替代，仅供参考）" if hit.status == "superseded" else ""
        lines.append(f"- 《{hit.doc_key}》{hit.locator}{superseded}[^{n}]：{excerpt(hit.text)}")
    return Answer(answer="\n".join(lines + notes), citations=hits, notes=notes)


def excerpt(text: str, limit: int = 160) -> str:
    first = text.split("\n")[0]
    return first if len(first) <= limit else first[:limit] + "……"
