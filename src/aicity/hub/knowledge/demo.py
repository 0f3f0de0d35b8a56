"""The demo city's laws (`laws/`, `laws.yaml`), ingested into the global knowledge base."""

from __future__ import annotations

from pathlib import Path

import yaml

from aicity.core.slices import Progress
from aicity.hub.knowledge import service as knowledge
from aicity.hub.knowledge.relations import Relations, RelationsError, relations


def load_demo(root: Path, progress: Progress) -> None:
    knowledge.ensure_kb(knowledge.GLOBAL_KB, "全局法律法规库 National laws and regulations", "global")
    meta = yaml.safe_load((root / "laws.yaml").read_text(encoding="utf-8")) or {}
    authorities = {key: doc["authority"] for key, doc in (meta.get("documents") or {}).items() if doc.get("authority")}
    knowledge.load_law_dir(root / "laws", meta.get("superseded", {}),
                           lambda i, n: progress("法律法规知识库 laws", i, n), authorities)
    check_overrides(relations())


def check_overrides(rel: Relations) -> None:
    """Every provision an override names must be in the knowledge base (a typo fails the load)."""
    missing = [ref.label() for o in rel.overrides for ref in (o.provision, o.governed_by)
               if knowledge.get_article(ref.doc, ref.article, ref.paragraph) is None]
    if missing:
        raise RelationsError("法规关系中的条文不在知识库中 provisions of law_relations.yaml not in the knowledge base: "
                             + "; ".join(missing))


def health() -> dict[str, int]:
    """The global knowledge base's documents and chunks."""
    return knowledge.document_stats({knowledge.GLOBAL_KB})
