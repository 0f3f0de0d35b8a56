"""The data catalog: search over titles, descriptions, keywords, owners and columns (BM25 from
`core/text.py`, no search cluster), and exports as a Frictionless data package
(`datapackage.json`) and as DCAT metadata (JSON-LD)."""

from __future__ import annotations

from typing import Any

from aicity.core.text import Bm25Index, tokenize
from aicity.hub.data import store
from aicity.hub.data.store import DatasetInfo
from aicity.identity.service import department_name

_FRICTIONLESS = {"VARCHAR": "string", "BIGINT": "integer", "DOUBLE": "number", "DATE": "date",
                 "TIMESTAMP": "datetime", "BOOLEAN": "boolean"}
#: EU frequency vocabulary (used by DCAT-AP)
_FREQUENCY = {"hourly": "HOURLY", "daily": "DAILY", "weekly": "WEEKLY", "monthly": "MONTHLY", "quarterly": "QUARTERLY",
              "yearly": "ANNUAL", "once": "NEVER", "on demand": "IRREG"}
#: level → EU access-right vocabulary
_ACCESS = {1: "PUBLIC", 2: "RESTRICTED", 3: "RESTRICTED", 4: "NON_PUBLIC"}


def _owner(ds: DatasetInfo) -> str:
    return department_name(ds.owner_department) if ds.owner_department else ""


def _text(ds: DatasetInfo) -> str:
    cols = " ".join(f"{c.name.replace('_', ' ')} {c.title} {c.meaning} {' '.join(c.synonyms)}" for c in ds.columns)
    return f"{ds.title} {ds.title} {ds.description} {' '.join(ds.keywords)} {ds.category} {_owner(ds)} {ds.id} {cols}"


def search(query: str, limit: int = 10) -> list[dict[str, Any]]:
    """Datasets ranked by BM25 over their catalog text; each hit names the columns that match."""
    infos = store.list_datasets()
    q = tokenize(query)
    if not q or not infos:
        return []
    index = Bm25Index([tokenize(_text(d)) for d in infos])
    hits = []
    terms = set(q)
    for row, score in index.top(q, limit):
        ds = infos[row]
        cols = [c.name for c in ds.columns
                if terms & set(tokenize(f"{c.name.replace('_', ' ')} {c.title} {' '.join(c.synonyms)}"))]
        hits.append({"id": ds.id, "title": ds.title, "score": round(float(score), 4), "columns": cols})
    return hits


def entry(ds: DatasetInfo) -> dict[str, Any]:
    """A dataset's catalog entry (metadata only, no rows)."""
    return {"id": ds.id, "title": ds.title, "description": ds.description, "owner_department": ds.owner_department,
            "owner_name": _owner(ds), "category": ds.category, "cadence": ds.cadence, "keywords": ds.keywords,
            "grade": ds.grade, "grade_name": store.GRADE_NAMES[ds.grade], "sensitivity_level": ds.sensitivity_level,
            "confirmed": ds.confirmed, "version": ds.version, "rows": ds.rows, "quality_score": ds.quality_score,
            "source": ds.source, "updated_at": ds.updated_at.isoformat() if ds.updated_at else None,
            "personal_columns": [c.name for c in ds.columns if c.pii]}


def datapackage(datasets: list[DatasetInfo] | None = None) -> dict[str, Any]:
    """Frictionless Data Package (v1) descriptor: one CSV resource per dataset with its Table Schema."""
    resources = []
    for ds in datasets if datasets is not None else store.list_datasets():
        schema: dict[str, Any] = {"fields": [
            {"name": c.name, "type": _FRICTIONLESS.get(c.type, "string"), "title": c.title,
             "description": c.meaning, **({"unit": c.unit} if c.unit else {}),
             "aicity:sensitivityLevel": c.sensitivity_level, **({"aicity:pii": c.pii, "aicity:piiKind": c.pii_kind}
                                                                if c.pii else {})} for c in ds.columns],
            "missingValues": [""]}
        foreign = [{"fields": r["column"], "reference": {"resource": r["references"].split(".")[0],
                                                        "fields": r["references"].split(".")[1]}}
                   for r in ds.relations]
        if foreign:
            schema["foreignKeys"] = foreign
        resources.append({"name": ds.id, "path": f"{ds.id}.csv", "title": ds.title, "description": ds.description,
                          "format": "csv", "mediatype": "text/csv", "encoding": "utf-8", "schema": schema,
                          "aicity:grade": ds.grade, "aicity:sensitivityLevel": ds.sensitivity_level,
                          "aicity:owner": ds.owner_department, "aicity:version": ds.version, "aicity:rows": ds.rows})
    return {"profile": "data-package", "name": "aicity-datasets", "title": "城市数据目录 City data catalog",
            "licenses": [{"name": "other-closed", "title": "按分级授权使用 use as the grades allow"}],
            "resources": resources}


def dcat(base_url: str = "", datasets: list[DatasetInfo] | None = None) -> dict[str, Any]:
    """The catalog as DCAT (W3C DCAT 3) in JSON-LD."""
    base = base_url.rstrip("/")
    items = []
    for ds in datasets if datasets is not None else store.list_datasets():
        url = f"{base}/api/v1/data/datasets/{ds.id}"
        item: dict[str, Any] = {
            "@id": url, "@type": "dcat:Dataset", "dct:identifier": ds.id, "dct:title": ds.title,
            "dct:description": ds.description, "dcat:keyword": ds.keywords,
            "dct:publisher": {"@type": "foaf:Organization", "foaf:name": _owner(ds) or ds.owner_department or ""},
            "dct:accessRights": {"@id": f"http://publications.europa.eu/resource/authority/access-right/"
                                        f"{_ACCESS[ds.sensitivity_level] if ds.grade == 'general' else 'NON_PUBLIC'}"},
            "dcat:theme": ds.category, "dct:conformsTo": "GB/T 43697-2024",
            "aicity:grade": ds.grade, "aicity:sensitivityLevel": ds.sensitivity_level,
            "dcat:distribution": [{"@type": "dcat:Distribution", "dcat:accessURL": {"@id": url},
                                   "dcat:mediaType": "text/csv", "dct:title": f"{ds.title} v{ds.version}"}]}
        if ds.updated_at:
            item["dct:modified"] = {"@value": ds.updated_at.isoformat(), "@type": "xsd:dateTime"}
        if ds.cadence in _FREQUENCY:
            item["dct:accrualPeriodicity"] = {
                "@id": f"http://publications.europa.eu/resource/authority/frequency/{_FREQUENCY[ds.cadence]}"}
        items.append(item)
    return {"@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/",
                         "foaf": "http://xmlns.com/foaf/0.1/", "xsd": "http://www.w3.org/2001/XMLSchema#",
                         "aicity": "urn:aicity:data#"},
            "@id": f"{base}/api/v1/data/catalog", "@type": "dcat:Catalog", "dct:title": "城市数据目录 City data catalog",
            "dcat:dataset": items}
