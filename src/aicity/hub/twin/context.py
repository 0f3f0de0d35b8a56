"""JSON-LD @context handling with a JSON-LD processor (pyld): the core context and the platform's
own contexts resolve offline from the bundled copy, never fetched; user contexts come by value
(inline objects), by URL (fetched from the city's network through the egress policy, from the hosts
on `[aicity.twin] context_hosts` only, with a size and time limit, cached for `context_ttl_s`), in a
`Link` header or in the body.

Names are stored in one canonical form whatever context a client used: a term of the default vocabulary
(`https://uri.etsi.org/ngsi-ld/default-context/X`) or of the core context as its short name (`X`,
`location`), any other IRI in full. Answers are compacted with the requester's context (`Context.term`).
"""

from __future__ import annotations

import json
import re
import threading
import time
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import httpx
from pyld import jsonld
from pyld.context_resolver import ContextResolver

from aicity.core import egress
from aicity.core.config import settings
from aicity.hub.twin.errors import NgsiError, bad_data
from aicity.hub.twin.settings import TwinSettings

CONTEXT_FILE = "ngsi-ld-core-context.jsonld"
#: where this broker serves the core context (relative to the server's root)
CONTEXT_PATH = f"/ngsi-ld/v1/jsonldContexts/{CONTEXT_FILE}"
#: the URLs clients use for the core context; all resolve to the bundled copy
CORE_URL = re.compile(r"^https?://[^ ]*/ngsi-ld-core-context(-v\d+(\.\d+)*)?\.jsonld$")
DEFAULT_VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
#: the core context answers name (the version the bundled copy follows); a client resolves it offline too
CORE_IRI = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"
LINK_REL = "http://www.w3.org/ns/json-ld#context"
_LINK = re.compile(r'<([^>]+)>\s*((?:;\s*[^;,]+)*)')
#: active contexts kept (by the context's JSON), each for `context_ttl_s`
_ACTIVE_MAX = 128
_PROCESSOR = jsonld.JsonLdProcessor()


class ContextUnavailable(Exception):
    """A remote @context that could not be had (unreachable, refused, too large, too slow)."""


class ContextInvalid(Exception):
    """A remote document that is not a JSON-LD @context."""


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


# --- fetching ----------------------------------------------------------------------------------

_fetched: dict[str, tuple[float, dict[str, Any]]] = {}
_lock = threading.Lock()


def _allowed_host(url: str, hosts: list[str]) -> bool:
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return False
    return bool(host) and ("*" in hosts or host in {h.strip().lower() for h in hosts})


def _download(url: str, conf: TwinSettings) -> bytes:
    """The document at `url`, through the egress policy, within the size and time limits."""
    deadline = time.monotonic() + conf.context_timeout_s
    data = bytearray()
    try:
        with egress.client(timeout=conf.context_timeout_s) as client, client.stream(
                "GET", url, headers={"Accept": "application/ld+json, application/json"}) as answer:
            if answer.status_code != 200:
                raise ContextUnavailable(f"@context {url} answered HTTP {answer.status_code}")
            for chunk in answer.iter_bytes():
                data += chunk
                if len(data) > conf.context_max_bytes:
                    raise ContextUnavailable(f"@context {url} is larger than {conf.context_max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise ContextUnavailable(f"@context {url} took longer than {conf.context_timeout_s} s")
    except (httpx.HTTPError, egress.EgressDenied) as exc:
        raise ContextUnavailable(f"@context {url} could not be retrieved: {exc}") from None
    return bytes(data)


def fetch(url: str) -> dict[str, Any]:
    """A remote @context document (cached); the core context's URLs and the platform's own
    context resolve to the bundled copy and are never fetched."""
    if CORE_URL.match(url) or url == CORE_IRI:
        return core_context()
    conf = settings().section(TwinSettings)
    now = time.monotonic()
    with _lock:
        hit = _fetched.get(url)
    if hit is not None and hit[0] > now:
        return hit[1]
    if not _allowed_host(url, conf.context_hosts):
        raise ContextUnavailable(f"@context {url} is not on a host this broker may fetch contexts from")
    raw = _download(url, conf)
    try:
        doc = json.loads(raw)
    except ValueError:
        raise ContextInvalid(f"@context {url} is not JSON") from None
    if not isinstance(doc, dict) or "@context" not in doc:
        raise ContextInvalid(f"@context {url} is not a JSON-LD context (no @context member)")
    with _lock:
        if len(_fetched) > _ACTIVE_MAX:
            _fetched.clear()
        _fetched[url] = (now + conf.context_ttl_s, doc)
    return doc


def _loader(url: str, options: Any = None) -> dict[str, Any]:
    return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url, "document": fetch(url)}


def _why(exc: BaseException) -> NgsiError:
    """An NGSI-LD error for a context pyld could not process (the cause it wraps decides which)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ContextUnavailable):
            return NgsiError("LdContextNotAvailable", str(cause))
        if isinstance(cause, ContextInvalid):
            return bad_data(str(cause))
        cause = cause.__cause__
    return bad_data(f"the @context is not valid JSON-LD: {exc}")


# --- active contexts ---------------------------------------------------------------------------

_active: dict[str, tuple[float, Any]] = {}


def _check_shape(raw: Any) -> list[Any]:
    parts = raw if isinstance(raw, list) else [raw]
    for part in parts:
        if not isinstance(part, str | dict):
            raise bad_data("@context must be a URL, an object or a list of them")
    return parts


def _process(raw: Any) -> Any:
    """The pyld active context of `raw` followed by the core context (whose terms may not be
    redefined), cached per context for the fetch TTL."""
    parts = [] if raw is None else _check_shape(raw)
    parts = [p for p in parts if not (isinstance(p, str) and (CORE_URL.match(p) or p == CORE_IRI))]
    key = json.dumps(parts, sort_keys=True)
    now = time.monotonic()
    with _lock:
        hit = _active.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    options = {"documentLoader": _loader, "contextResolver": ContextResolver({}, _loader), "base": ""}
    try:
        active = _PROCESSOR.process_context(_PROCESSOR._get_initial_context(options),
                                            [*parts, core_context()["@context"]], options)
    except jsonld.JsonLdError as exc:
        raise _why(exc) from None
    except ValueError as exc:  # pyld's IRI checks (a relative IRI with no base …)
        raise bad_data(f"the @context is not valid JSON-LD: {exc}") from None
    ttl = settings().section(TwinSettings).context_ttl_s if parts else 10 ** 9
    with _lock:
        if len(_active) > _ACTIVE_MAX:
            _active.clear()
        _active[key] = (now + ttl, active)
    return active


@lru_cache(maxsize=1)
def _core_by_iri() -> dict[str, str]:
    """Core term IRI → its term (`https://uri.etsi.org/ngsi-ld/location` → `location`)."""
    active = _process(None)
    return {_PROCESSOR._expand_iri(active, term, vocab=True): term for term in core_terms()}


@lru_cache(maxsize=1)
def _core_iri() -> dict[str, str]:
    return {term: iri for iri, term in _core_by_iri().items()}


class Context:
    """A request's @context (None: the core context alone), processed by pyld; `compact` gives a
    name's stored form, `term` a stored name in the requester's terms."""

    def __init__(self, raw: Any = None) -> None:
        self.raw = raw
        self.active = _process(raw)
        self._terms: dict[str, str] = {}

    def expand(self, name: str) -> str:
        """The full IRI of a name as this context reads it."""
        iri = _PROCESSOR._expand_iri(self.active, name, vocab=True)
        return iri if isinstance(iri, str) else name

    def compact(self, name: str) -> str:
        """The stored form of a name a client gave (a term, a CURIE or a full IRI)."""
        iri = self.expand(name)
        if iri.startswith(DEFAULT_VOCAB):
            return iri[len(DEFAULT_VOCAB):]
        return _core_by_iri().get(iri, iri)

    def term(self, stored: str) -> str:
        """A stored name as the requester's context writes it."""
        found = self._terms.get(stored)
        if found is None:
            iri = stored if ":" in stored else _core_iri().get(stored, DEFAULT_VOCAB + stored)
            found = _PROCESSOR._compact_iri(self.active, iri, vocab=True)
            self._terms[stored] = found = found if isinstance(found, str) else stored
        return found

    @property
    def default(self) -> bool:
        """Whether this is the core context alone (answers need no compaction)."""
        return self.raw is None
