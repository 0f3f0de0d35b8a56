"""Helpers every agent uses to quote its legal basis: markers in text, exact quotes beside."""

from __future__ import annotations

from aicity.hub.catalog.schemas import LegalRef
from aicity.hub.knowledge import service as knowledge
from aicity.hub.knowledge.service import Citation


class CitationList:
    """Collects citations for one skill result; `marker` returns `[^n]` (n local, 1-based)."""

    def __init__(self) -> None:
        self.citations: list[Citation] = []

    def marker(self, citation: Citation) -> str:
        for i, c in enumerate(self.citations, start=1):
            if (c.doc_key, c.locator) == (citation.doc_key, citation.locator):
                return f"[^{i}]"
        self.citations.append(citation)
        return f"[^{len(self.citations)}]"

    def refs(self, refs: list[LegalRef]) -> str:
        """Markers for these references, e.g. `《食品安全法》第三十五条[^1]`, joined by 、."""
        parts = []
        for ref in refs:
            cit = knowledge.get_article(ref.doc, ref.article, ref.paragraph)
            if cit is not None:
                parts.append(f"《{ref.doc}》{cit.locator}{self.marker(cit)}")
        return "、".join(parts)
