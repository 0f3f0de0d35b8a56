"""Desensitization (数据脱敏) as reusable steps, and a run of steps over a dataset into a new,
derived dataset with lineage.

    mask(value, kind)                  张*, 420102********1234, 138****1234, 6222********1234
    age_band(id_number | date, as_of)  "60-69" (from the birth date inside a resident ID)
    district_of(address)               东湖区 instead of 幸福路12号 (the city's gazetteer)
    pseudonym(value, key)              keyed HMAC-SHA256: the same person → the same token;
                                       not reversible without the key (kept outside the data dir)
    suppress_small_groups(rows, cols, k)  drops rows whose combination of `cols` occurs < k times

Pseudonymised data is still personal information (PIPL art. 73: 去标识化 is not 匿名化): a
derived dataset is graded again and its grade waits for a data officer's confirmation.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import re
from collections import Counter
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from aicity.core.config import settings
from aicity.core.db import database
from aicity.core.errors import Problem
from aicity.hub.data import store
from aicity.hub.data.importer import Imported, import_bytes
from aicity.hub.data.models import LineageStep
from aicity.hub.data.schema import ColumnSpec, DatasetSpec
from aicity.hub.data.settings import DataSettings
from aicity.hub.geo.gazetteer import resolve

_RIC_BIRTH = re.compile(r"^[1-9][0-9]{5}((?:18|19|20)[0-9]{2})(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]$")


def mask(value: Any, kind: str | None = None) -> Any:
    """Partial masking that keeps a value recognisable to the people entitled to it."""
    if value is None:
        return None
    text = str(value)
    n = len(text)
    if kind == "name" or (kind is None and re.fullmatch(r"[\u4e00-\u9fff]{2,4}", text)):
        return text[0] + "*" * (n - 1)
    if kind == "resident_id" or (kind is None and _RIC_BIRTH.match(text)):
        return text[:6] + "*" * (n - 10) + text[-4:] if n > 10 else "*" * n
    if kind in ("mobile", "phone") or (kind is None and re.fullmatch(r"1[3-9][0-9]{9}", text)):
        return text[:3] + "*" * (n - 7) + text[-4:] if n > 7 else "*" * n
    if kind == "bank_card":
        return text[:4] + "*" * (n - 8) + text[-4:] if n > 8 else "*" * n
    if kind == "address":
        loc = resolve(text)
        return f"{loc.district_name}****" if loc else text[:2] + "****"
    return text[0] + "*" * (n - 2) + text[-1] if n > 2 else "*" * n


def birth_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    m = _RIC_BIRTH.match(str(value or ""))
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def age_band(value: Any, as_of: dt.date, width: int = 10) -> str | None:
    born = birth_date(value)
    if born is None:
        return None
    age = as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))
    low = age // width * width
    return f"{low}-{low + width - 1}"


def district_of(address: Any) -> str | None:
    loc = resolve(str(address)) if address else None
    return loc.district_name if loc else None


def pseudonym_key() -> bytes:
    cfg = settings().section(DataSettings)
    if cfg.pseudonym_key_file is not None:
        try:
            key = cfg.pseudonym_key_file.read_bytes().strip()
        except OSError as exc:
            raise Problem(503, "暂不可用 Not ready", f"假名化密钥文件无法读取 cannot read the pseudonymisation key file: "
                          f"{exc.strerror}", "pseudonym-key-missing") from exc
    elif cfg.pseudonym_key is not None:
        key = cfg.pseudonym_key.get_secret_value().encode()
    else:
        raise Problem(503, "暂不可用 Not ready", "未配置假名化密钥 no pseudonymisation key: set aicity.data.pseudonym_key_file "
                      "(outside the data dir) or AICITY_DATA_PSEUDONYM_KEY", "pseudonym-key-missing")
    if len(key) < 16:
        raise Problem(503, "暂不可用 Not ready", "假名化密钥太短（至少 16 字节）the pseudonymisation key is shorter than 16 bytes",
                      "pseudonym-key-weak")
    return key


def pseudonym(value: Any, key: bytes) -> str | None:
    if value is None:
        return None
    return "P" + hmac.new(key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()[:20]


def suppress_small_groups(rows: list[dict[str, Any]], columns: Sequence[str], k: int) -> tuple[list[dict[str, Any]], int]:
    """Rows whose combination of `columns` is shared by at least k rows, and how many were dropped."""
    counts = Counter(tuple(r.get(c) for c in columns) for r in rows)
    kept = [r for r in rows if counts[tuple(r.get(c) for c in columns)] >= k]
    return kept, len(rows) - len(kept)


# ---- steps over a dataset ----------------------------------------------------------------

class MaskStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    op: Literal["mask"]
    column: str
    kind: str | None = Field(default=None, description="name, resident_id, mobile, bank_card, address; default: the column's pii_kind")


class PseudonymStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    op: Literal["pseudonymise"]
    column: str


class AgeBandStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    op: Literal["age_band"]
    column: str = Field(description="a resident ID or birth-date column")
    into: str = "age_band"
    width: int = Field(default=10, ge=1, le=50)
    keep_source: bool = False


class DistrictStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    op: Literal["district"]
    column: str = Field(description="an address column, replaced by its district's name")


class DropStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    op: Literal["drop"]
    column: str


class SuppressStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    op: Literal["suppress"]
    columns: list[str] = Field(min_length=1)
    k: int | None = Field(default=None, ge=2, description="default: aicity.data.min_group_size")


Step = Annotated[MaskStep | PseudonymStep | AgeBandStep | DistrictStep | DropStep | SuppressStep,
                 Field(discriminator="op")]


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")
    steps: list[Step] = Field(min_length=1)


def _unknown_column(ds: str, col: str) -> Problem:
    return Problem(422, "请求内容不合法 Unprocessable", f"数据集 {ds} 没有列 no column '{col}'", "unknown-column")


def apply(dataset_id: str, steps: Sequence[Step], *, into: str | None = None, actor: str = "system") -> Imported:
    """Run the steps over the current version of `dataset_id` into the dataset `into`
    (default `<id>_desensitized`), a new version of it with lineage."""
    info = store.dataset(dataset_id)
    target = store.check_id(into or f"{dataset_id}_desensitized")
    if target == dataset_id:
        raise Problem(422, "请求内容不合法 Unprocessable", "脱敏结果不能覆盖源数据集 the result must be another dataset",
                      "same-dataset")
    _check_target(dataset_id, info, target)
    cols = {c.name: c for c in info.columns}
    for step in steps:
        for col in (step.columns if isinstance(step, SuppressStep) else [step.column]):
            if col not in cols:
                raise _unknown_column(dataset_id, col)
    cfg = settings().section(DataSettings)
    key = pseudonym_key() if any(isinstance(s, PseudonymStep) for s in steps) else b""
    cur = store.read_connection()
    try:
        result = cur.execute(f"SELECT * FROM {store.quote(store.table_name(dataset_id, info.version))}")
        names = [d[0] for d in result.description]
        rows = [dict(zip(names, r, strict=True)) for r in result.fetchall()]
    finally:
        cur.close()
    specs = {c.name: ColumnSpec(name=c.name, type=c.type, title=c.title, meaning=c.meaning, unit=c.unit,  # type: ignore[arg-type]
                                synonyms=c.synonyms) for c in info.columns}
    order = list(names)
    suppressed = 0
    for step in steps:
        if isinstance(step, MaskStep):
            kind = step.kind or cols[step.column].pii_kind
            for r in rows:
                r[step.column] = mask(r[step.column], kind)
            specs[step.column] = specs[step.column].model_copy(update={
                "type": "VARCHAR", "meaning": f"{specs[step.column].meaning}（已掩码 masked）"})
        elif isinstance(step, PseudonymStep):
            for r in rows:
                r[step.column] = pseudonym(r[step.column], key)
            specs[step.column] = specs[step.column].model_copy(update={
                "type": "VARCHAR", "meaning": f"{specs[step.column].meaning}（假名 keyed pseudonym, HMAC-SHA256）"})
        elif isinstance(step, AgeBandStep):
            for r in rows:
                r[step.into] = age_band(r[step.column], cfg.snapshot_date, step.width)
            specs[step.into] = ColumnSpec(name=step.into, type="VARCHAR", title="年龄段 age band",
                                          meaning=f"age band of {step.column} on {cfg.snapshot_date}")
            if step.into not in order:
                order.insert(order.index(step.column) + 1, step.into)
            if not step.keep_source:
                order.remove(step.column)
        elif isinstance(step, DistrictStep):
            for r in rows:
                r[step.column] = district_of(r[step.column])
            specs[step.column] = specs[step.column].model_copy(update={
                "type": "VARCHAR", "meaning": "district of the address (generalised 泛化到区)"})
        elif isinstance(step, DropStep):
            if step.column in order:
                order.remove(step.column)
        else:
            rows, dropped = suppress_small_groups(rows, step.columns, step.k or cfg.min_group_size)
            suppressed += dropped
    if not rows:
        raise Problem(422, "请求内容不合法 Unprocessable", "脱敏后没有剩余行 no rows left after the steps", "no-rows-left")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(order)
    for r in rows:
        w.writerow(["" if r.get(c) is None else _text(r.get(c)) for c in order])
    spec = DatasetSpec(id=target, title=f"{info.title}（脱敏 desensitized）",
                       description=f"{info.description}\n由 {dataset_id} v{info.version} 脱敏派生 derived by desensitization.",
                       owner_department=info.owner_department, category=info.category, cadence=info.cadence,
                       keywords=info.keywords, columns=[specs[c] for c in order])
    params = {"steps": [s.model_dump() for s in steps], "rows_in": len(rows) + suppressed, "rows_suppressed": suppressed}
    return import_bytes(buf.getvalue().encode("utf-8"), f"{target}.csv", spec=spec, actor=actor, source="derived",
                        lineage=("desensitize", [f"dataset:{dataset_id}@{info.version}"], params), floor=info)


def _check_target(dataset_id: str, info: store.DatasetInfo, target: str) -> None:
    """An existing `into` must be a dataset derived from this very source by its owner department:
    never another department's dataset, never an imported one (a new version there would take its
    ownership and its confirmed, possibly lower, grade)."""
    try:
        existing = store.dataset(target)
    except store.UnknownDataset:
        return
    with database().session() as s:
        inputs = [i for row in s.scalars(select(LineageStep.inputs).where(LineageStep.dataset_id == target,
                                                                          LineageStep.step == "desensitize"))
                  for i in row or []]
    if (existing.source != "derived" or existing.owner_department != info.owner_department
            or not any(str(i).startswith(f"dataset:{dataset_id}@") for i in inputs)):
        raise Problem(409, "状态冲突 Conflict", f"数据集 {target} 已存在且不是由 {dataset_id} 脱敏派生的，不能写入 "
                      f"'{target}' exists and is not a dataset derived from '{dataset_id}': choose another --into",
                      "into-not-derived")


def _text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    return str(value)
