"""JSON-LD @context handling, offline: the bundled core context, `Link` headers, and the few
compactions the broker needs (attribute and type names are stored as short terms)."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from aicity.hub.twin.errors import bad_data

CONTEXT_FILE = "ngsi-ld-core-context.jsonld"
#: where this broker serves the core context (relative to the server's root)
CONTEXT_PATH = f"/ngsi-ld/v1/jsonldContexts/{CONTEXT_FILE}"
#: the URLs clients use for the core context; all resolve to the bundled copy
CORE_URL = re.compile(r"^https?://[^ ]*/ngsi-ld-core-context(-v\d+(\.\d+)*)?\.jsonld$")
DEFAULT_VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
LINK_REL = "http://www.w3.org/ns/json-ld#context"
_LINK = re.compile(r'<([^>]+)>\s*((?:;\s*[^;,]+)*)')


@lru_cache(maxsize=1)
def core_context() -> dict[str, Any]:
    """The bundled core @context document."""
    text = (resources.files("aicity.hub.twin") / "data" / CONTEXT_FILE).read_text(encoding="utf-8")
    return json.loads(text)


@lru_cache(maxsize=1)
def core_terms() -> frozenset[str]:
    return frozenset(k for k in core_context()["@context"] if not k.startswith("@"))


def link_context(header: str | None) -> str | None:
    """The context URL of a `Link: <url>; rel="http://www.w3.org/ns/json-ld#context"` header."""
    if not header:
        return None
    for url, params in _LINK.findall(header):
        if LINK_REL in params:
            return url.strip()
    raise bad_data("the Link header carries no JSON-LD context (rel=\"http://www.w3.org/ns/json-ld#context\")")


def link_header(url: str) -> str:
    return f'<{url}>; rel="{LINK_REL}"; type="application/ld+json"'


class Context:
    """The terms a request's @context defines beyond the core context (inline objects only:
    remote contexts other than the core one are not fetched, their terms stay short names)."""

    def __init__(self, raw: Any = None) -> None:
        self.raw = raw
        self.iri_to_term: dict[str, str] = {}
        for part in raw if isinstance(raw, list) else [raw]:
            if isinstance(part, dict):
                for term, iri in part.items():
                    target = iri.get("@id") if isinstance(iri, dict) else iri
                    if not term.startswith("@") and isinstance(target, str):
                        self.iri_to_term[target] = term
            elif part is not None and not isinstance(part, str):
                raise bad_data("@context must be a URL, an object or a list of them")

    def compact(self, name: str) -> str:
        """A short term for a name the client may have written as a full IRI."""
        if ":" not in name:
            return name
        if name in self.iri_to_term:
            return self.iri_to_term[name]
        if name.startswith(DEFAULT_VOCAB):
            return name[len(DEFAULT_VOCAB):]
        core = "https://uri.etsi.org/ngsi-ld/"
        if name.startswith(core) and name[len(core):] in core_terms():
            return name[len(core):]
        return name
