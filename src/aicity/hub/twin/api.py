"""NGSI-LD API (ETSI GS CIM 009) under /ngsi-ld/v1: entities, attributes, batch operations and
queries, subscriptions, types, attributes, temporal retrieval and queries, and the bundled core
@context. Every route but the @context needs a staff key to read and an operator's or admin's to
write; a device may write its own entity's attributes (`access.py`, `devices.py`).
docs/ngsi-ld.md lists what is supported and where it deviates from the spec."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from types import UnionType
from typing import Any, get_args, get_origin
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from aicity.core import bodies
from aicity.core.config import settings
from aicity.core.errors import Problem
from aicity.hub.iot.models import Device
from aicity.hub.twin import devices, linked, notify, order, service, temporal, versions
from aicity.hub.twin.access import READ, WRITE, AttrWriter
from aicity.hub.twin.attrs import RESERVED, check_name, check_uri, compact_entity, only_datasets, render
from aicity.hub.twin.context import (
    CONTEXT_FILE,
    CORE_IRI,
    CORE_URL,
    Context,
    core_context,
    link_context,
    link_header,
)
from aicity.hub.twin.errors import (
    KINDS,
    NgsiError,
    answered,
    bad_data,
    from_problem,
    invalid,
    not_found,
)
from aicity.hub.twin.filters import EntityQuery, GeoQuery, Selector, geo_query
from aicity.hub.twin.query import parse_q, validate_geometry
from aicity.hub.twin.schemas import (
    Attribute,
    AttributeList,
    BatchResult,
    CoreContext,
    Entity,
    EntityType,
    EntityTypeInfo,
    EntityTypeList,
    NgsiProblem,
    Subscription,
    TemporalEntity,
    UpdateResult,
)
from aicity.hub.twin.settings import TwinSettings

JSON = "application/json"
JSON_LD = "application/ld+json"
MERGE_PATCH = "application/merge-patch+json"
GEO_JSON = "application/geo+json"


def _problem(exc: NgsiError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse(answered(exc), status_code=exc.status, media_type=JSON, headers=headers)


class NgsiRoute(APIRoute):
    """Answers NgsiError as the spec's ProblemDetails (application/json), not the platform's problem+json."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except NgsiError as exc:
                return _problem(exc)
            except Problem as exc:  # identity and the IoT hub speak the platform's errors (an invalid key …)
                return _problem(from_problem(exc))

        return route


class JsonLdResponse(JSONResponse):
    media_type = JSON_LD


def _schema(model: Any) -> dict[str, Any]:
    """The OpenAPI schema of a response model (a model, a list of one, or a union of those) by reference."""
    if get_origin(model) is list:
        return {"type": "array", "items": _schema(get_args(model)[0])}
    if isinstance(model, UnionType):
        return {"anyOf": [_schema(m) for m in get_args(model)]}
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _answers(model: Any, description: str = "") -> dict[str, Any]:
    """A route that answers `model` as JSON (the @context in a `Link` header) or, with `Accept:
    application/ld+json`, as JSON-LD with `@context` in each object."""
    doc: dict[str, Any] = {"content": {JSON_LD: {"schema": _schema(model)}}}
    if description:
        doc["description"] = description
    return {"response_model": model, "responses": {200: doc}}


def _bodyless(status: int, description: str, partial: type | None = None) -> dict[str, Any]:
    """A write that answers without a body (`status`), or 207 with `partial` when only some of it succeeded."""
    responses: dict[int | str, dict[str, Any]] = {status: {"description": description}}
    if status == 201:
        responses[status]["headers"] = {"Location": {"description": "新资源的路径 the new resource's path",
                                                     "schema": {"type": "string"}}}
    if partial is not None:
        responses[207] = {"description": "部分成功 partly done", "model": partial}
    return {"status_code": status, "response_class": Response, "responses": responses}


_CREATED = "已创建；Location 头给出新资源 created; the Location header names it"
_DONE = "已完成，无响应体 done, no body"
#: every failure answers the spec's ProblemDetails (application/json), never the platform's problem+json
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"description": " / ".join(sorted({title for s, title in KINDS.values() if s == status})),
             "model": NgsiProblem}
    for status in sorted({s for s, _ in KINDS.values()})
}

router = APIRouter(prefix="/ngsi-ld/v1", tags=["ngsi-ld"], route_class=NgsiRoute, responses=_ERRORS)


def _unsafe_body(detail: str) -> tuple[int, dict[str, Any], str]:
    """A body the door check refuses (NaN, a lone surrogate, too deep), in the spec's shape."""
    exc = bad_data(f"the body is not acceptable JSON: {detail}")
    return exc.status, answered(exc), JSON


bodies.ANSWERS[router.prefix + "/"] = _unsafe_body


# --- content negotiation and @context ------------------------------------------------------

async def _body(request: Request, patch: bool = False) -> tuple[Any, Context]:
    """The JSON body and its @context: `Link` header for application/json, `@context` for ld+json."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    allowed = (JSON, JSON_LD, MERGE_PATCH) if patch else (JSON, JSON_LD)
    if media not in allowed:
        raise NgsiError("UnsupportedMediaType", f"content type must be {' or '.join(allowed)}, not {media or 'none'}")
    raw = await request.body()
    try:
        body = bodies.parsed_body(request.scope, raw)  # parsed once, by the check at the door
    except bodies.UnsafeJson as exc:
        raise bad_data(f"the body is not acceptable JSON: {exc}") from exc
    except ValueError as exc:
        raise invalid(f"the body is not valid JSON: {exc}") from exc
    docs = body if isinstance(body, list) else [body]
    link = link_context(request.headers.get("link"))
    if media == JSON_LD:
        if link:
            raise bad_data("with application/ld+json the @context goes in the body, not in a Link header")
        objects = [d for d in docs if isinstance(d, dict)]  # a batch delete is an array of ids
        if any("@context" not in d for d in objects) or not (objects or isinstance(body, list)):
            raise bad_data("application/ld+json bodies must carry @context")
        return body, Context(objects[0]["@context"] if objects else None)
    if any(isinstance(d, dict) and "@context" in d for d in docs):
        raise bad_data("application/json bodies must not carry @context: use application/ld+json or a Link header")
    return body, Context(link)


def _request_context(request: Request) -> Context:
    return Context(link_context(request.headers.get("link")))


def _feature(entity: Any, geometry_property: str) -> Any:
    """An entity as a GeoJSON Feature: its geometry from `geometry_property`, the rest as properties."""
    if not isinstance(entity, dict) or "id" not in entity:
        return entity
    geo = entity.get(geometry_property)
    geometry = geo.get("value") if isinstance(geo, dict) and geo.get("type") == "GeoProperty" else geo
    if not (isinstance(geometry, dict) and "coordinates" in geometry):
        geometry = None
    return {"id": entity["id"], "type": "Feature", "geometry": geometry,
            "properties": {k: v for k, v in entity.items() if k != "id"}}


def _reply(request: Request, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """JSON with a Link header to the @context, JSON-LD with @context in the body, or GeoJSON (Accept)."""
    link = link_context(request.headers.get("link"))
    context = link if link and not CORE_URL.match(link) else CORE_IRI
    headers = dict(headers or {})
    version = versions.preferred(request.headers.get("prefer"))
    if version is not None:  # the version preference: applied, and the payload in that version's form
        headers["Preference-Applied"] = f"ngsi-ld={version}"
        data, altered = versions.downgrade(data, version)
        status = 203 if altered and status == 200 else status
    if GEO_JSON in request.headers.get("accept", ""):
        prop = request.query_params.get("geometryProperty") or "location"
        if isinstance(data, list):
            data = {"type": "FeatureCollection", "features": [_feature(d, prop) for d in data], "@context": context}
        else:
            data = {**_feature(data, prop), "@context": context}
        return JSONResponse(data, status_code=status, media_type=GEO_JSON, headers=headers)
    if JSON_LD in request.headers.get("accept", ""):
        def with_context(doc: Any) -> Any:
            return {**doc, "@context": context} if isinstance(doc, dict) else doc
        data = [with_context(d) for d in data] if isinstance(data, list) else with_context(data)
        return JSONResponse(data, status_code=status, media_type=JSON_LD, headers=headers)
    headers["Link"] = ", ".join([link_header(context), *([headers["Link"]] if "Link" in headers else [])])
    return JSONResponse(data, status_code=status, media_type=JSON, headers=headers)


#: the options and formats this broker knows (another one is InvalidRequest)
_KNOWN_OPTIONS = {"keyValues", "simplified", "normalized", "concise", "sysAttrs", "noOverwrite", "update",
                  "replace", "temporalValues", "aggregatedValues"}
_FORMATS = {"keyValues", "simplified", "normalized", "concise", "temporalValues", "aggregatedValues"}
#: query parameters shared by the reads of entities
_READ_PARAMS = {"attrs", "options", "format", "lang", "pick", "omit", "geometryProperty", "local", "join",
                "joinLevel", "containedBy", "datasetId", "entityMap", "via"}
_QUERY_PARAMS = _READ_PARAMS | {"type", "id", "idPattern", "q", "georel", "geometry", "coordinates", "geoproperty",
                                "scopeQ", "limit", "offset", "count", "csf", "expandValues", "orderBy",
                                "collation", "orderFrom", "timerel", "timeAt", "endTimeAt", "lastN", "timeproperty",
                                "aggrMethods", "aggrPeriodDuration"}
_LIST_PARAMS = {"details", "limit", "offset", "count", "local", "type", "attrs", "via"}


def _check_params(request: Request, allowed: set[str]) -> None:
    """Unknown query parameters, options and formats are InvalidRequest (GS CIM 009 clause 6.3.7)."""
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise invalid(f"unknown query parameter(s): {', '.join(unknown)}")
    p = request.query_params
    options = {o.strip() for o in p.get("options", "").split(",") if o.strip()}
    if options - _KNOWN_OPTIONS:
        raise invalid(f"unknown option(s): {', '.join(sorted(options - _KNOWN_OPTIONS))}")
    if "format" in p and p["format"] not in _FORMATS:
        raise invalid(f"unknown format {p['format']!r}")


#: the options that choose a representation; `format` names one and overrides them
_REPRESENTATIONS = {"keyValues", "simplified", "normalized", "concise", "temporalValues", "aggregatedValues"}


def _options(request: Request) -> set[str]:
    params = request.query_params
    options = {o.strip() for o in params.get("options", "").split(",") if o.strip()}
    if params.get("format"):
        options = (options - _REPRESENTATIONS) | {params["format"]}
    return options


def _list(request: Request, name: str, ctx: Context | None = None) -> list[str] | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    return [(ctx.compact(v) if ctx else v).strip() for v in raw.split(",") if v.strip()]


def _int(request: Request, name: str, default: int | None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise bad_data(f"{name} must be a non-negative integer")
    return int(raw)




def _projection(request: Request, name: str, ctx: Context) -> linked.Projection | None:
    """`pick` or `omit`: entity members (id, type, scope, attribute names), separated by `,` or `|`, a
    member that links to an entity with a projection of it in braces (`locatedAt{id,name}`, with join)."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    return linked.parse_projection(raw, name, ctx.compact)


def _projections(request: Request, ctx: Context) -> tuple[linked.Projection | None, linked.Projection | None]:
    pick, omit = _projection(request, "pick", ctx), _projection(request, "omit", ctx)
    if (pick is not None or omit is not None) and "attrs" in request.query_params:
        raise bad_data("pick and omit cannot be used with attrs")
    if pick and omit and set(pick) & set(omit):
        raise bad_data("a member cannot be both picked and omitted")
    return pick, omit


def _join(request: Request, pick: linked.Projection | None, omit: linked.Projection | None) -> linked.Join | None:
    """join and joinLevel; a projection may reach linked entities ({…}) only as deep as the join goes."""
    join = linked.parse_join(request.query_params.get("join"), request.query_params.get("joinLevel"))
    if join is None and (linked.nested(pick) or linked.nested(omit)):
        raise bad_data("a projection of linked entities ({…} in pick or omit) needs join")
    deepest = max(linked.depth(pick), linked.depth(omit))
    if join is not None and deepest > join.level:
        raise bad_data(f"pick or omit reaches {deepest} levels of linked entities; joinLevel is {join.level}")
    return join


def _shape(request: Request, entity: dict[str, Any], attrs: list[str] | None,
           ctx: Context | None = None, flat: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An entity as the request asks for it (format, sysAttrs, lang, pick/omit, linked entities: inline
    in it, or with join=flat appended to `flat`), compacted with the request's @context."""
    options = _options(request)
    ctx = ctx or _request_context(request)
    key_values = bool(options & {"keyValues", "simplified"})
    pick, omit = _projections(request, ctx)
    join = _join(request, pick, omit)

    def shape(found: dict[str, Any], sub_pick: linked.Projection | None,
              sub_omit: linked.Projection | None, only: list[str] | None = None) -> dict[str, Any]:
        rendered = render(found, only, key_values=key_values, sys_attrs="sysAttrs" in options,
                          lang=request.query_params.get("lang"))
        return linked.project(rendered, sub_pick, sub_omit)

    datasets = _list(request, "datasetId")
    if datasets is not None:  # only the attribute instances of those datasetIds (@none: the default one)
        entity = only_datasets(entity, datasets)
    shaped = shape(entity, pick, omit, attrs)
    if join is not None:
        linked_flat: list[dict[str, Any]] = []
        shaped = linked.link(entity, shaped, join, 1, pick, omit, service.get_entity, shape, key_values,
                             linked_flat, {entity["id"]})
        if flat is not None:
            flat += [linked.compact_tree(f, lambda e: compact_entity(e, ctx, key_values)) for f in linked_flat]
    return linked.compact_tree(shaped, lambda e: compact_entity(e, ctx, key_values))


def _with_linked(request: Request, entities: list[dict[str, Any]], attrs: list[str] | None,
                 ctx: Context) -> list[dict[str, Any]]:
    """Entities shaped for a query's answer; with join=flat the entities they link to follow (each once)."""
    flat: list[dict[str, Any]] = []
    shaped = [_shape(request, e, attrs, ctx, flat) for e in entities]
    ids = {e.get("id") for e in shaped}
    for found in flat:
        if found.get("id") not in ids:
            ids.add(found.get("id"))
            shaped.append(found)
    return shaped


def _page(request: Request) -> tuple[int, int, bool]:
    """limit, offset and whether the total is asked for (count=true)."""
    return (_int(request, "limit", 20) or 0, _int(request, "offset", 0) or 0,
            request.query_params.get("count") == "true")


@dataclass(frozen=True)
class _Ordering:
    keys: list[order.OrderKey]
    origin: dict[str, Any] | None = None
    collation: str | None = None


def _ordering(raw: Any, coordinates: Any, geometry: Any, collation: Any, ctx: Context) -> _Ordering | None:
    """orderBy with the point distances are measured from (orderFrom, or a Query's ordering.coordinates
    and geometry) and the collation; None when no order is asked for."""
    if raw is None:
        if coordinates is not None or collation is not None:
            raise bad_data("orderFrom, coordinates and collation go with orderBy")
        return None
    if geometry is not None and not isinstance(geometry, str):
        raise bad_data("ordering.geometry must be a string (Point)")
    if isinstance(coordinates, str):
        try:
            coordinates = json.loads(coordinates)
        except ValueError:
            raise bad_data("orderFrom must be a JSON array of coordinates") from None
    if coordinates is not None and not isinstance(coordinates, list):
        raise bad_data("the coordinates to order from must be an array")
    origin = validate_geometry({"type": geometry or "Point", "coordinates": coordinates}) \
        if coordinates is not None else None
    return _Ordering(order.parse_order(raw, ctx.compact), origin, order.check_collation(collation))


def _find_page(found: EntityQuery, limit: int, offset: int, count: bool,
               ordering: _Ordering | None = None) -> tuple[list[dict[str, Any]], int | None, bool]:
    """One page of a query, its total (with count) and whether more follow it (one more is fetched).
    With an ordering, every match is fetched (at most MAX_LIMIT), sorted and then paged."""
    if ordering is not None:
        every, total = service.find(found, service.MAX_LIMIT, 0, True)
        if (total or 0) > service.MAX_LIMIT:
            raise bad_data(f"orderBy orders at most {service.MAX_LIMIT} matching entities; narrow the query")
        if any(k.distance for k in ordering.keys) and ordering.origin is None:
            raise bad_data("ordering by distance (dist-asc, dist-desc) needs the point to measure from (orderFrom)")
        ranked = order.sort_entities(every, ordering.keys, ordering.origin, ordering.collation)
        return ranked[offset:offset + limit], total if count else None, offset + limit < len(ranked)
    probe = limit + 1 if 0 < limit < service.MAX_LIMIT else limit
    entities, total = service.find(found, probe, offset, count)
    more = len(entities) > limit if probe > limit else total is not None and offset + limit < total
    return entities[:limit], total, more


def _page_links(request: Request, limit: int, offset: int, more: bool) -> dict[str, str]:
    """`Link` to the previous and next pages (rel="prev", rel="next"): the request's parameters, sorted,
    with the offset moved by the limit."""
    if limit <= 0:
        return {}
    media = JSON_LD if JSON_LD in request.headers.get("accept", "") else JSON
    links = []
    for rel, at in (("prev", max(0, offset - limit) if offset > 0 else None), ("next", offset + limit if more else None)):
        if at is None:
            continue
        params = sorted({**dict(request.query_params), "limit": str(limit), "offset": str(at)}.items())
        query = urlencode(params, safe=":*", quote_via=quote)
        links.append(f'<{request.url.path.rstrip("/")}?{query}>; rel="{rel}"; type="{media}"')
    return {"Link": ", ".join(links)} if links else {}


def _counted(total: int | None) -> dict[str, str]:
    return {"NGSILD-Results-Count": str(total)} if total is not None else {}


def _entity_query(request: Request, ctx: Context) -> EntityQuery:
    """Query Entities' parameters (type, id, idPattern, attrs, q, geo-query, scopeQ)."""
    p = request.query_params
    ids = _list(request, "id")
    for entity_id in ids or []:
        check_uri(entity_id)
    if p.get("type") == "*" and p.get("local") == "false":
        raise bad_data("type=* asks for every type this broker and its sources hold: it cannot go with local=false")
    types = [] if p.get("type") == "*" else _list(request, "type", ctx)  # *: any type
    attrs = _attr_names(_list(request, "attrs", ctx))
    _check_csf(p.get("csf"))
    if "geometryProperty" in p and GEO_JSON not in request.headers.get("accept", ""):
        raise bad_data("geometryProperty goes with Accept: application/geo+json")
    selectors = (Selector(tuple(types or ()), tuple(ids or ()), p.get("idPattern") if not ids else None),) \
        if types is not None or ids or p.get("idPattern") is not None else ()
    geoproperty = p.get("geoproperty")
    return EntityQuery(selectors, tuple(attrs) if attrs is not None else None, p.get("q"),
                       geo_query(p.get("georel"), p.get("geometry"), p.get("coordinates"),
                                 ctx.compact(geoproperty) if geoproperty else None), p.get("scopeQ"),
                       None if ctx.default else ctx.compact)


def _attr_names(attrs: list[str] | None) -> list[str] | None:
    """`attrs` names attributes: at least one, and no entity member (id, type, scope, createdAt …)."""
    if attrs is not None and (not attrs or set(attrs) & set(RESERVED)):
        raise bad_data("attrs must name attributes (not id, type, scope or the system times)")
    return attrs


def _check_csf(csf: Any) -> None:
    """csf (a context source filter) has q's syntax; this broker has no context sources to apply it to."""
    if csf is not None:
        if not isinstance(csf, str):
            raise bad_data("csf must be a string")
        parse_q(csf)


def _needs_filter(query: EntityQuery) -> EntityQuery:
    """Query Entities needs type, idPattern, attrs, q, a geo-query or scopeQ: ids alone are not enough."""
    if not (any(sel.types or not sel.ids for sel in query.selectors) or query.attrs
            or query.q or query.geo or query.scope_q):
        raise bad_data("a query needs type, idPattern, attrs, q, a geo-query or scopeQ (ids alone are not enough)")
    return query


def _string(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise bad_data(f"{key} must be a string")
    return value


def _selector(raw: Any, ctx: Context) -> Selector:
    """An EntitySelector: a type (or type list), and an id (or an array of them), else an idPattern."""
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise bad_data("every entities[] selector is an object with a type (and id or idPattern)")
    ids = raw.get("id", [])
    ids = [ids] if isinstance(ids, str) else ids
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise bad_data("entities[].id must be a URI or an array of them")
    pattern, kind = _string(raw, "idPattern"), raw["type"]
    types = () if kind == "*" else tuple(ctx.compact(k.strip()) for k in kind.split(",") if k.strip())
    return Selector(types, tuple(check_uri(i) for i in ids), None if ids else pattern)


def _geo_body(raw: Any, ctx: Context) -> GeoQuery | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("georel"), str):
        raise bad_data("geoQ must be an object with georel, geometry and coordinates")
    prop = _string(raw, "geoproperty")
    return geo_query(raw["georel"], _string(raw, "geometry"), raw.get("coordinates"),
                     ctx.compact(prop) if prop else None)


_BODY_PARAMS = ("pick", "omit", "join", "joinLevel", "lang", "datasetId")


def _with_body_params(request: Request, body: Any) -> Request:
    """A Query body's pick, omit, join, joinLevel, lang and datasetId, read as the URL's parameters
    (those in the URL give way); arrays become comma-separated lists."""
    given = {k: body[k] for k in _BODY_PARAMS if isinstance(body, dict) and k in body}
    if not given:
        return request
    for key, value in given.items():
        if isinstance(value, list) and not all(isinstance(v, str) for v in value) or isinstance(value, dict):
            raise bad_data(f"{key} must be a string or an array of strings")
    params = {k: v for k, v in request.query_params.items() if k not in given}
    params.update({k: ",".join(v) if isinstance(v, list) else str(v) for k, v in given.items()})
    return Request({**request.scope, "query_string": urlencode(params).encode()}, request.receive)


def _body_ordering(body: Any, ctx: Context) -> _Ordering | None:
    """A Query's `ordering` member: {orderBy, coordinates, geometry, collation}."""
    found = body.get("ordering") if isinstance(body, dict) else None
    if found is None:
        return None
    if not isinstance(found, dict):
        raise bad_data("ordering must be an object with orderBy (and coordinates, geometry, collation)")
    return _ordering(found.get("orderBy"), found.get("coordinates"), found.get("geometry"), found.get("collation"),
                     ctx)


def _query_body(body: Any, ctx: Context) -> EntityQuery:
    """A Query data type (`type: Query`) as an entity query."""
    if not isinstance(body, dict) or body.get("type") != "Query":
        raise bad_data("the body must be a Query: a JSON object with \"type\": \"Query\"")
    selectors, attrs = body.get("entities", []), body.get("attrs")
    if not isinstance(selectors, list):
        raise bad_data("entities must be an array of selectors")
    if attrs is not None and not (isinstance(attrs, list) and all(isinstance(a, str) for a in attrs)):
        raise bad_data("attrs must be an array of attribute names")
    _attr_names(attrs)
    _check_csf(body.get("csf"))
    return _needs_filter(EntityQuery(tuple(_selector(sel, ctx) for sel in selectors),
                                     tuple(ctx.compact(a) for a in attrs) if attrs is not None else None,
                                     _string(body, "q"), _geo_body(body.get("geoQ"), ctx), _string(body, "scopeQ"),
                                     None if ctx.default else ctx.compact))


# --- @context -------------------------------------------------------------------------------

@router.get(f"/jsonldContexts/{CONTEXT_FILE}", response_model=CoreContext, response_class=JsonLdResponse)
def get_core_context() -> Response:
    """The NGSI-LD core @context, bundled, so that clients and tools resolve it offline."""
    return JSONResponse(core_context(), media_type=JSON_LD)


# --- entities -------------------------------------------------------------------------------

@router.post("/entities", dependencies=[WRITE], **_bodyless(201, _CREATED))
async def create_entity(request: Request) -> Response:
    body, ctx = await _body(request)
    if isinstance(body, list):
        raise invalid("an entity is a JSON object, not an array (batches go to /entityOperations/create)")
    entity_id = service.create_entity(body, ctx)
    return Response(status_code=201, headers={"Location": f"/ngsi-ld/v1/entities/{entity_id}"})


@router.get("/entities", dependencies=[READ], **_answers(list[Entity], "NGSILD-Results-Count with count=true"))
def query_entities(request: Request) -> Response:
    _check_params(request, _QUERY_PARAMS)
    ctx = _request_context(request)
    _join(request, *_projections(request, ctx))
    found = _entity_query(request, ctx)
    if request.query_params.get("local") != "true":  # local=true: every entity this broker holds
        _needs_filter(found)
    limit, offset, count = _page(request)
    p = request.query_params
    ordering = _ordering(p.get("orderBy"), p.get("orderFrom"), None, p.get("collation"), ctx)
    entities, total, more = _find_page(found, limit, offset, count, ordering)
    attrs = list(found.attrs) if found.attrs is not None else None
    return _reply(request, _with_linked(request, entities, attrs, ctx),
                  headers={**_counted(total), **_page_links(request, limit, offset, more)})


def _entity_or_404(entity_id: str) -> dict[str, Any]:
    check_uri(entity_id)
    entity = service.get_entity(entity_id)
    if entity is None:
        raise not_found(f"entity {entity_id} not found")
    return entity


@router.get("/entities/{entity_id}", dependencies=[READ], **_answers(Entity))
def retrieve_entity(entity_id: str, request: Request) -> Response:
    _check_params(request, _READ_PARAMS | {"type"})
    ctx = _request_context(request)
    _join(request, *_projections(request, ctx))
    if "geometryProperty" in request.query_params and GEO_JSON not in request.headers.get("accept", ""):
        raise bad_data("geometryProperty goes with Accept: application/geo+json")
    entity = _entity_or_404(entity_id)
    _type_gate(request, entity)
    flat: list[dict[str, Any]] = []
    shaped = _shape(request, entity, _list(request, "attrs", ctx), ctx, flat)
    if not set(shaped) - {"createdAt", "modifiedAt"}:  # pick or omit left nothing of it
        raise not_found(f"entity {entity_id} has none of the members pick and omit leave")
    if flat:  # join=flat: the entity and the entities it links to  # the entity and the entities it links to
        return _reply(request, [shaped, *flat])
    return _reply(request, shaped)


def _gated(request: Request, entity_id: str) -> None:
    """`type` on an attribute operation: the entity must exist and be of one of those types (else 404)."""
    if "type" in request.query_params:
        _type_gate(request, _entity_or_404(entity_id))


def _not_scope(attr: str) -> str:
    if attr == "scope":
        raise bad_data("scope is not an attribute: it is replaced with the entity's attributes, or deleted")
    return attr


def _type_gate(request: Request, entity: dict[str, Any]) -> None:
    """`type` on an operation on one entity: the entity must be of one of those types (else 404)."""
    types = _list(request, "type", _request_context(request))
    if types is not None and entity["type"] not in types:
        raise not_found(f"entity {entity['id']} is not of type {', '.join(types)}")


@router.delete("/entities/{entity_id}", status_code=204, dependencies=[WRITE])
def delete_entity(entity_id: str, request: Request) -> Response:
    _type_gate(request, _entity_or_404(entity_id))
    service.delete_entity(check_uri(entity_id))
    return Response(status_code=204)


@router.put("/entities/{entity_id}", status_code=204, dependencies=[WRITE])
async def replace_entity(entity_id: str, request: Request) -> Response:
    body, ctx = await _body(request)
    service.replace_entity(check_uri(entity_id), body, ctx)
    return Response(status_code=204)


def _partial(written: list[str], skipped: list[dict[str, str]]) -> Response:
    if not skipped:
        return Response(status_code=204)
    return JSONResponse({"updated": written, "notUpdated": skipped}, status_code=207)


async def _readings(device: Device, fragment: Any, ctx: Context) -> Response:
    """A device's own attributes: readings for the IoT hub; the mirror updates the twin."""
    await run_in_threadpool(devices.write, device, fragment, ctx)
    return Response(status_code=204)


@router.patch("/entities/{entity_id}/attrs", **_bodyless(204, _DONE, UpdateResult))
async def update_attrs(entity_id: str, request: Request, device: AttrWriter) -> Response:
    body, ctx = await _body(request)
    if device is not None:
        return await _readings(device, body, ctx)
    _gated(request, entity_id)
    return _partial(*service.write_attrs(check_uri(entity_id), body, "update", ctx))


@router.post("/entities/{entity_id}/attrs", **_bodyless(204, _DONE, UpdateResult))
async def append_attrs(entity_id: str, request: Request, device: AttrWriter) -> Response:
    body, ctx = await _body(request)
    keep = "noOverwrite" in _options(request)
    if device is not None:
        if keep:  # a reading is always stored: keeping the old value would drop it silently
            raise bad_data("a device's readings cannot use noOverwrite")
        return await _readings(device, body, ctx)
    _gated(request, entity_id)
    return _partial(*service.write_attrs(check_uri(entity_id), body, "append-keep" if keep else "append", ctx))


@router.patch("/entities/{entity_id}", dependencies=[WRITE], **_bodyless(204, _DONE))
async def merge_entity(entity_id: str, request: Request) -> Response:
    body, ctx = await _body(request, patch=True)
    service.write_attrs(check_uri(entity_id), body, "merge", ctx)
    return Response(status_code=204)


@router.patch("/entities/{entity_id}/attrs/{attr}", status_code=204)
async def update_attr(entity_id: str, attr: str, request: Request, device: AttrWriter) -> Response:
    body, ctx = await _body(request)
    if device is not None:
        return await _readings(device, {attr: body}, ctx)
    _gated(request, entity_id)
    service.write_attr(check_uri(entity_id), _not_scope(attr), body, "merge", ctx)
    return Response(status_code=204)


@router.put("/entities/{entity_id}/attrs/{attr}", status_code=204, dependencies=[WRITE])
async def replace_attr(entity_id: str, attr: str, request: Request) -> Response:
    body, ctx = await _body(request)
    service.write_attr(check_uri(entity_id), _not_scope(attr), body, "update", ctx)
    return Response(status_code=204)


def _instances(request: Request) -> tuple[str | None, bool]:
    """Which instances an attribute deletion takes: `datasetId` (one instance), `deleteAll=true` (every one)."""
    p = request.query_params
    if p.get("deleteAll", "false") not in ("true", "false"):
        raise bad_data("deleteAll must be true or false")
    dataset = p.get("datasetId")
    return (check_uri(dataset, "datasetId") if dataset is not None else None), p.get("deleteAll") == "true"


@router.delete("/entities/{entity_id}/attrs/{attr}", status_code=204, dependencies=[WRITE])
def delete_attr(entity_id: str, attr: str, request: Request) -> Response:
    dataset, delete_all = _instances(request)
    _gated(request, entity_id)
    if attr == "scope":  # the entity's scopes go
        service.delete_scope(check_uri(entity_id))
        return Response(status_code=204)
    service.delete_attr(check_uri(entity_id), attr, _request_context(request), dataset=dataset, delete_all=delete_all)
    return Response(status_code=204)


# --- batch operations -----------------------------------------------------------------------

def _error(entity_id: Any, exc: NgsiError) -> dict[str, Any]:
    return {"entityId": entity_id if isinstance(entity_id, str) else None, "error": answered(exc)}


def _batch_reply(success: list[str], errors: list[dict[str, Any]], created: bool) -> Response:
    if errors:
        return JSONResponse({"success": success, "errors": errors}, status_code=207)
    return JSONResponse(success, status_code=201) if created else Response(status_code=204)


async def _batch_body(request: Request) -> tuple[list[Any], Context]:
    body, ctx = await _body(request)
    if not isinstance(body, list):
        raise bad_data("a batch operation takes a JSON array")
    return body, ctx


@router.post("/entityOperations/create", dependencies=[WRITE], status_code=201, response_model=list[str],
             responses={201: {"description": "创建的实体 id the ids created"},
                        207: {"description": "部分成功 partly done", "model": BatchResult}})
async def batch_create(request: Request) -> Response:
    body, ctx = await _batch_body(request)
    success, errors = [], []
    for item in body:
        try:
            success.append(service.create_entity(item, ctx))
        except NgsiError as exc:
            errors.append(_error(item.get("id") if isinstance(item, dict) else None, exc))
    return _batch_reply(success, errors, created=True)


@router.post("/entityOperations/upsert", dependencies=[WRITE], status_code=201, response_model=list[str],
             responses={201: {"description": "新建的实体 id the ids created"},
                        204: {"description": "全部为更新 all were updates"},
                        207: {"description": "部分成功 partly done", "model": BatchResult}})
async def batch_upsert(request: Request) -> Response:
    body, ctx = await _batch_body(request)
    replace = "update" not in _options(request)
    created, updated, errors = [], [], []
    for item in body:
        try:
            entity_id = item["id"] if isinstance(item, dict) else None
            (created if service.upsert_entity(item, replace=replace, ctx=ctx) else updated).append(entity_id)
        except NgsiError as exc:
            errors.append(_error(item.get("id") if isinstance(item, dict) else None, exc))
    if errors:
        return JSONResponse({"success": created + updated, "errors": errors}, status_code=207)
    return JSONResponse(created, status_code=201) if created else Response(status_code=204)


def _batch_write(body: list[Any], mode: service.Mode, ctx: Context) -> Response:
    """Write each entity's attributes (`mode`), answering 204, or 207 with the entities that failed."""
    success, errors = [], []
    for item in body:
        entity_id = item.get("id") if isinstance(item, dict) else None
        try:
            if not isinstance(item, dict):
                raise bad_data("every entity must be a JSON object")
            service.write_attrs(check_uri(entity_id), item, mode, ctx)
            success.append(entity_id)
        except NgsiError as exc:
            errors.append(_error(entity_id, exc))
    return _batch_reply(success, errors, created=False)


@router.post("/entityOperations/update", dependencies=[WRITE], **_bodyless(204, _DONE, BatchResult))
async def batch_update(request: Request) -> Response:
    body, ctx = await _batch_body(request)
    return _batch_write(body, "append-keep" if "noOverwrite" in _options(request) else "append", ctx)


@router.post("/entityOperations/merge", dependencies=[WRITE], **_bodyless(204, _DONE, BatchResult))
async def batch_merge(request: Request) -> Response:
    """Batch merge: each entity's fragment merged into the stored entity (as PATCH /entities/{id})."""
    body, ctx = await _batch_body(request)
    if not body:
        raise bad_data("a batch operation needs at least one entity")
    return _batch_write(body, "merge", ctx)


@router.post("/entityOperations/delete", dependencies=[WRITE], **_bodyless(204, _DONE, BatchResult))
async def batch_delete(request: Request) -> Response:
    body, _ = await _batch_body(request)
    success, errors = [], []
    for entity_id in body:
        try:
            service.delete_entity(check_uri(entity_id))
            success.append(entity_id)
        except NgsiError as exc:
            errors.append(_error(entity_id, exc))
    return _batch_reply(success, errors, created=False)


@router.post("/entityOperations/query", dependencies=[READ], **_answers(list[Entity]))
async def batch_query(request: Request) -> Response:
    body, ctx = await _body(request)
    if isinstance(body, dict) and "temporalQ" in body:
        raise bad_data("temporalQ belongs to the temporal query (/temporal/entityOperations/query)")
    request = _with_body_params(request, body)
    _join(request, *_projections(request, ctx))
    found = _query_body(body, ctx)
    limit, offset, count = _page(request)
    ordering = _body_ordering(body, ctx)
    entities, total, more = _find_page(found, limit, offset, count, ordering)
    attrs = list(found.attrs) if found.attrs is not None else None
    return _reply(request, _with_linked(request, entities, attrs, ctx),
                  headers={**_counted(total), **_page_links(request, limit, offset, more)})


# --- subscriptions --------------------------------------------------------------------------

@router.post("/subscriptions", dependencies=[WRITE], **_bodyless(201, _CREATED))
async def create_subscription(request: Request) -> Response:
    body, ctx = await _body(request)
    sub_id = notify.create_subscription(body, ctx)
    return Response(status_code=201, headers={"Location": f"/ngsi-ld/v1/subscriptions/{sub_id}"})


@router.get("/subscriptions", dependencies=[READ], **_answers(list[Subscription]))
def list_subscriptions(request: Request) -> Response:
    ctx = _request_context(request)
    subs = notify.list_subscriptions()
    limit, offset, count = _page(request)
    return _reply(request, [notify.compact_subscription(sub, ctx) for sub in subs[offset:offset + limit]],
                  headers={**_counted(len(subs) if count else None),
                           **_page_links(request, limit, offset, offset + limit < len(subs))})


@router.get("/subscriptions/{sub_id}", dependencies=[READ], **_answers(Subscription))
def get_subscription(sub_id: str, request: Request) -> Response:
    return _reply(request, notify.compact_subscription(notify.get_subscription(check_uri(sub_id)),
                                                       _request_context(request)))


@router.patch("/subscriptions/{sub_id}", status_code=204, dependencies=[WRITE])
async def update_subscription(sub_id: str, request: Request) -> Response:
    body, ctx = await _body(request, patch=True)
    notify.update_subscription(check_uri(sub_id), body, ctx)
    return Response(status_code=204)


@router.delete("/subscriptions/{sub_id}", status_code=204, dependencies=[WRITE])
def delete_subscription(sub_id: str) -> Response:
    notify.delete_subscription(check_uri(sub_id))
    return Response(status_code=204)


# --- types, attributes, temporal ------------------------------------------------------------

@router.get("/types", dependencies=[READ], **_answers(list[EntityType] | EntityTypeList, "details=true: a list"))
def list_types(request: Request) -> Response:
    _check_params(request, _LIST_PARAMS)
    types = service.entity_types()
    if "details=true" in str(request.query_params):
        return _reply(request, [{"id": t, "type": "EntityType", "typeName": t, "attributeNames": names}
                                for t, names in types.items()])
    return _reply(request, {"id": "urn:ngsi-ld:EntityTypeList:all", "type": "EntityTypeList", "typeList": list(types)})


@router.get("/types/{type_name}", dependencies=[READ], **_answers(EntityTypeInfo))
def get_type(type_name: str, request: Request) -> Response:
    _check_params(request, _LIST_PARAMS)
    name = _request_context(request).compact(type_name)
    types = service.entity_types()
    if name not in types:
        raise not_found(f"no entity of type {name}")
    _, count = service.query(type=name, limit=0)
    return _reply(request, {"id": name, "type": "EntityTypeInfo", "typeName": name, "entityCount": count,
                            "attributeDetails": [{"id": a, "type": "Attribute", "attributeName": a}
                                                 for a in types[name]]})


@router.get("/attributes", dependencies=[READ], **_answers(list[Attribute] | AttributeList, "details=true: a list"))
def list_attributes(request: Request) -> Response:
    _check_params(request, _LIST_PARAMS)
    attrs = service.attribute_names()
    if "details=true" in str(request.query_params):
        return _reply(request, [{"id": n, "type": "Attribute", "attributeName": n, **info} for n, info in attrs.items()])
    return _reply(request, {"id": "urn:ngsi-ld:AttributeList:all", "type": "AttributeList",
                            "attributeList": list(attrs)})


@router.get("/attributes/{attr}", dependencies=[READ], **_answers(Attribute))
def get_attribute(attr: str, request: Request) -> Response:
    _check_params(request, _LIST_PARAMS)
    name = _request_context(request).compact(attr)
    attrs = service.attribute_names()
    if name not in attrs:
        raise not_found(f"no entity has attribute {name}")
    return _reply(request, {"id": name, "type": "Attribute", "attributeName": name, **attrs[name]})


def _paged(found: list[dict[str, Any]], span: temporal.Window, last_n: int | None,
           headers: dict[str, str]) -> int:
    """Cut a temporal answer at the instance limit: 206 with Content-Range when it was cut, else 200."""
    page = temporal.paginate(found, span, last_n, settings().section(TwinSettings).temporal_max_instances)
    if page is None:
        return 200
    headers["Content-Range"] = page.header()
    return 206


_TIME_PROPERTIES = ("observedAt", "createdAt", "modifiedAt", "deletedAt")


def _temporal_order(raw: Any, ctx: Context) -> bool | None:
    """A temporal query orders by id only (`id`, `id;asc`, `id;desc`): True ascending, False descending."""
    if raw is None:
        return None
    keys = order.parse_order(raw, ctx.compact)
    if len(keys) != 1 or keys[0].path != "id" or keys[0].distance:
        raise bad_data("temporal queries order by id only (orderBy=id, id;asc or id;desc)")
    return not keys[0].descending


def _temporal_params(timeproperty: Any, methods: Any, duration: Any, asked: bool) -> temporal.Aggregation | None:
    """timeproperty's value space, and the aggregation asked for (aggregatedValues, or aggrMethods in a
    temporalQ): its methods and period."""
    if timeproperty is not None and timeproperty not in _TIME_PROPERTIES:
        raise bad_data(f"timeproperty must be one of {', '.join(_TIME_PROPERTIES)}")
    how = temporal.aggregation(methods if methods is not None else "totalCount", duration) \
        if methods is not None or duration is not None else None  # checked whenever given
    if not asked:
        return None
    if methods is None:
        raise bad_data("the aggregated representation needs aggrMethods")
    return how


def _temporal_answer(request: Request, entities: list[dict[str, Any]], span: temporal.Window, last_n: int | None,
                     how: temporal.Aggregation | None, ctx: Context,
                     headers: dict[str, str]) -> tuple[list[dict[str, Any]], int]:
    """Temporal representations as asked (aggregated, or paged at the instance limit) and the status."""
    if how is not None:
        return [_temporal_shape(request, temporal.aggregated(e, how, span), ctx, True) for e in entities], 200
    status = _paged(entities, span, last_n, headers)
    return [_temporal_shape(request, e, ctx) for e in entities], status


def _temporal_shape(request: Request, found: dict[str, Any], ctx: Context | None = None,
                    aggregated: bool = False) -> dict[str, Any]:
    ctx = ctx or _request_context(request)
    datasets = _list(request, "datasetId")
    if datasets is not None:  # only the attribute instances of those datasetIds (@none: the default one)
        found = only_datasets(found, datasets)
    values = "temporalValues" in _options(request) and not aggregated
    shaped = temporal.temporal_values(found) if values else found
    values = values or aggregated
    pick, omit = _temporal_projections(request, ctx)
    return compact_entity(linked.project(shaped, pick, omit), ctx, values)


def _temporal_projections(request: Request,
                          ctx: Context) -> tuple[linked.Projection | None, linked.Projection | None]:
    pick, omit = _projections(request, ctx)
    if linked.nested(pick) or linked.nested(omit):
        raise bad_data("temporal answers have no linked entities: pick and omit name entity members only")
    return pick, omit


@router.post("/temporal/entities", dependencies=[WRITE],
             **_bodyless(201, _CREATED + "；已存在时追加 204 when the entity exists, its history is added to"))
async def create_temporal(request: Request) -> Response:
    body, ctx = await _body(request)
    if not isinstance(body, dict):
        raise bad_data("a temporal entity must be a JSON object")
    if service.create_temporal(body, ctx):
        return Response(status_code=201, headers={"Location": f"/ngsi-ld/v1/temporal/entities/{body.get('id')}"})
    return Response(status_code=204)


@router.delete("/temporal/entities/{entity_id}", status_code=204, dependencies=[WRITE])
def delete_temporal(entity_id: str) -> Response:
    service.delete_temporal(check_uri(entity_id))
    return Response(status_code=204)


@router.post("/temporal/entities/{entity_id}/attrs", dependencies=[WRITE], **_bodyless(204, _DONE))
async def append_temporal_attrs(entity_id: str, request: Request) -> Response:
    """Add attribute instances to an entity's temporal representation."""
    body, ctx = await _body(request)
    service.append_temporal(check_uri(entity_id), body, ctx)
    return Response(status_code=204)


@router.delete("/temporal/entities/{entity_id}/attrs/{attr}", status_code=204, dependencies=[WRITE])
def delete_temporal_attr(entity_id: str, attr: str, request: Request) -> Response:
    """Delete an attribute's history (`datasetId`: that instance's, `deleteAll=true`: every instance's)."""
    dataset, delete_all = _instances(request)
    service.delete_temporal_attr(check_uri(entity_id), attr, _request_context(request), dataset=dataset,
                                 delete_all=delete_all)
    return Response(status_code=204)


@router.patch("/temporal/entities/{entity_id}/attrs/{attr}/{instance_id}", status_code=204, dependencies=[WRITE])
async def update_temporal_instance(entity_id: str, attr: str, instance_id: str, request: Request) -> Response:
    """Modify one attribute instance of the history (it keeps its instanceId)."""
    body, ctx = await _body(request)
    service.update_instance(check_uri(entity_id), check_name(attr), instance_id, body, ctx)
    return Response(status_code=204)


@router.delete("/temporal/entities/{entity_id}/attrs/{attr}/{instance_id}", status_code=204,
               dependencies=[WRITE])
def delete_temporal_instance(entity_id: str, attr: str, instance_id: str, request: Request) -> Response:
    """Delete one attribute instance from the history."""
    service.delete_instance(check_uri(entity_id), check_name(attr), instance_id, _request_context(request))
    return Response(status_code=204)


@router.get("/temporal/entities", dependencies=[READ], **_answers(list[TemporalEntity]))
def query_temporal(request: Request) -> Response:
    _check_params(request, _QUERY_PARAMS)
    ctx = _request_context(request)
    p = request.query_params
    found = _entity_query(request, ctx)
    if p.get("local") != "true":  # local=true: every entity this broker holds
        if not (found.attrs or any(sel.types for sel in found.selectors) or found.q or found.geo or found.scope_q):
            raise bad_data("a temporal query needs type, attrs, q, a geo-query or scopeQ (ids alone are not enough)")
    span = temporal.window(p.get("timerel"), p.get("timeAt"), p.get("endTimeAt"))
    _temporal_projections(request, _request_context(request))
    how = _temporal_params(p.get("timeproperty"), p.get("aggrMethods"), p.get("aggrPeriodDuration"),
                           "aggregatedValues" in _options(request))
    limit, offset, count = _page(request)
    last_n = _int(request, "lastN", None)
    entities, total = temporal.query(found, span, last_n, limit, offset, count,
                                     by_id=_temporal_order(p.get("orderBy"), ctx))
    headers = _counted(total)
    answer, status = _temporal_answer(request, entities, span, last_n, how, ctx, headers)
    return _reply(request, answer, status, headers)


@router.post("/temporal/entityOperations/query", dependencies=[READ], **_answers(list[TemporalEntity]))
async def batch_query_temporal(request: Request) -> Response:
    body, ctx = await _body(request)
    found = _query_body(body, ctx)
    when = body.get("temporalQ", {})
    if not isinstance(when, dict):
        raise bad_data("temporalQ must be an object with timerel, timeAt and endTimeAt")
    span = temporal.window(_string(when, "timerel"), _string(when, "timeAt"), _string(when, "endTimeAt"))
    last_n = when.get("lastN")
    if last_n is not None and (not isinstance(last_n, int) or isinstance(last_n, bool)):
        raise bad_data("temporalQ.lastN must be a positive integer")
    aggr = body.get("aggrParams") if isinstance(body.get("aggrParams"), dict) else when
    how = _temporal_params(when.get("timeproperty"), aggr.get("aggrMethods"), aggr.get("aggrPeriodDuration"),
                           "aggregatedValues" in _options(request)
                           or ("aggrMethods" in aggr and "format" not in request.query_params))
    limit, offset, count = _page(request)
    ordering = body.get("ordering")
    ordering = when.get("orderBy") or (ordering.get("orderBy") if isinstance(ordering, dict) else None)
    entities, total = temporal.query(found, span, last_n, limit, offset, count, by_id=_temporal_order(ordering, ctx))
    headers = _counted(total)
    answer, status = _temporal_answer(request, entities, span, last_n, how, ctx, headers)
    return _reply(request, answer, status, headers)


@router.get("/temporal/entities/{entity_id}", dependencies=[READ], **_answers(TemporalEntity))
def temporal_entity(entity_id: str, request: Request) -> Response:
    _check_params(request, _READ_PARAMS | {"type", "timerel", "timeAt", "endTimeAt", "lastN", "timeproperty",
                                           "aggrMethods", "aggrPeriodDuration"})
    p = request.query_params
    span = temporal.window(p.get("timerel"), p.get("timeAt"), p.get("endTimeAt"))
    _temporal_projections(request, _request_context(request))
    how = _temporal_params(p.get("timeproperty"), p.get("aggrMethods"), p.get("aggrPeriodDuration"),
                           "aggregatedValues" in _options(request))
    last_n = _int(request, "lastN", None)
    ctx = _request_context(request)
    found = temporal.history(check_uri(entity_id), attrs=_list(request, "attrs", ctx), span=span, last_n=last_n)
    headers: dict[str, str] = {}
    answer, status = _temporal_answer(request, [found], span, last_n, how, ctx, headers)
    shaped = answer[0]
    if not shaped:  # pick or omit left nothing of it
        raise not_found(f"entity {entity_id} has none of the members pick and omit leave")
    return _reply(request, shaped, status, headers)


# --- a missing id ---------------------------------------------------------------------------

def _missing_id(rest: str, request: Request) -> Response:
    """`/entities//attrs…` and a write to `/entities/`: the entity id is missing (BadRequestData); a
    path with a trailing slash is redirected to the one without; any other path here is a method the
    resource does not have."""
    if rest == "" or rest.startswith("/"):
        raise bad_data("the entity id is missing from the path")
    if rest.endswith("/"):
        return RedirectResponse(str(request.url.replace(path=request.url.path.rstrip("/"))), status_code=307)
    return JSONResponse({"type": "about:blank", "title": "Method Not Allowed", "status": 405}, status_code=405)


@router.get("/entities/{rest:path}", dependencies=[READ], include_in_schema=False)
def read_without_id(rest: str, request: Request) -> Response:
    return query_entities(request) if rest == "" else _missing_id(rest, request)


@router.api_route("/entities/{rest:path}", methods=["POST", "PUT", "PATCH", "DELETE"], dependencies=[WRITE],
                  include_in_schema=False)
async def write_without_id(rest: str, request: Request) -> Response:
    if rest == "" and request.method == "POST":  # `/entities/` with its slash: a creation
        return await create_entity(request)
    if rest == "" and request.method == "DELETE" and request.query_params:
        return purge_entities(request)
    return _missing_id(rest, request)


@router.api_route("/temporal/entities/{rest:path}", methods=["POST", "PATCH", "DELETE"], dependencies=[WRITE],
                  include_in_schema=False)
async def temporal_without_segment(rest: str, request: Request) -> Response:
    """A temporal path with an empty segment: a missing entity id is BadRequestData, as is a missing
    attribute or instance on a deletion; a modification without them names no resource that has PATCH."""
    if rest == "" and request.method == "POST":  # `/temporal/entities/` with its slash: a creation
        return await create_temporal(request)
    if rest.startswith("/") or (rest != "" and request.method == "DELETE"):
        raise bad_data("the path misses the entity id, the attribute name or the instance id")
    return JSONResponse({"type": "about:blank", "title": "Method Not Allowed", "status": 405}, status_code=405)


@router.delete("/entities", status_code=204, dependencies=[WRITE])
def purge_entities(request: Request) -> Response:
    """Purge Entities: delete the entities a query selects, or only the attributes `drop` names, or
    every attribute but those `keep` names."""
    ctx = _request_context(request)
    found = _entity_query(request, ctx)
    if request.query_params.get("local") != "true":
        _needs_filter(found)
    drop, keep = _list(request, "drop", ctx), _list(request, "keep", ctx)
    if drop is not None and keep is not None:
        raise bad_data("drop and keep cannot be used together")
    entities, total = service.find(found, service.MAX_LIMIT, 0, True)
    if (total or 0) > service.MAX_LIMIT:  # all or nothing: never a 204 over a partial purge
        raise bad_data(f"the query selects {total} entities; a purge deletes at most {service.MAX_LIMIT}: narrow it")
    for entity in entities:
        names = [n for n in entity if n not in RESERVED]
        doomed = [n for n in names if n in drop] if drop is not None else \
            [n for n in names if n not in keep] if keep is not None else None
        if doomed is None:
            service.delete_entity(entity["id"])
        for name in doomed or []:
            service.delete_attr(entity["id"], name, delete_all=True)
    return Response(status_code=204)
