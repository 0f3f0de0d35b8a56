"""Typed shape of the catalog; the demo city's YAML is validated against it on load."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Audience = Literal["citizen", "enterprise"]
Channel = Literal["online", "window"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


class LegalRef(_Strict):
    doc: str
    article: str
    paragraph: int | None = Field(default=None, ge=1)
    #: words of the article that state what the entry claims from it; checked against the article on load
    quote: str | None = Field(default=None, min_length=2)


class Material(_Strict):
    name: str
    required: bool = True
    note: str | None = None


class TimeLimit(_Strict):
    statutory: str | None = None
    statutory_days: int | None = Field(default=None, ge=0)
    #: the rule outside the bundled corpus that sets `statutory_days` (else a cited article must state it)
    outside_corpus: str | None = None
    committed_days: int | None = Field(default=None, ge=0)
    note: str | None = None


class ServiceItem(_Strict):
    id: str
    name: str
    name_en: str
    department: str
    type: str
    audience: list[Audience]
    keywords: list[str]
    summary: str
    conditions: list[str] = []
    materials: list[Material] = []
    steps: list[str] = []
    channels: list[Channel]
    online_note: str | None = None
    window: str | None = None
    time_limit: TimeLimit
    fee: str
    commitment: bool = False
    commitment_note: str | None = None
    legal_basis: list[LegalRef] = []
    life_events: list[str] = []
    demo_assumptions: list[str] = []


class SlotOption(_Strict):
    value: str
    label: str
    words: list[str] = []


class Slot(_Strict):
    id: str
    question: str
    options: list[SlotOption]
    default: str | None = None


class BundleStep(_Strict):
    item: str
    note: str | None = None
    when: dict[str, str] = {}


class Bundle(_Strict):
    id: str
    name: str
    name_en: str
    audience: list[Audience]
    keywords: list[str]
    summary: str
    slots: list[Slot] = []
    items: list[BundleStep]
    time_limit: TimeLimit | None = None
    online_note: str | None = None
    tips: list[str] = []
    policies: list[str] = []
    legal_basis: list[LegalRef] = []
    demo_assumptions: list[str] = []


class Policy(_Strict):
    id: str
    name: str
    name_en: str | None = None
    audience: list[Audience]
    keywords: list[str] = []
    summary: str
    how_to_apply: str | None = None
    valid_until: str | None = None
    applies_to: list[str] = []
    department: str
    legal_basis: list[LegalRef] = []
    demo_assumptions: list[str] = []


class Suggestion(_Strict):
    item: str | None = None
    bundle: str | None = None
    why: str


class LifeEvent(_Strict):
    id: str
    name: str
    name_en: str | None = None
    #: the life-event tag that catalog items carry (ServiceItem.life_events)
    tag: str | None = None
    triggers: list[str]
    suggestions: list[Suggestion]


# --- HTTP answers (read models) ---


class ItemSummary(BaseModel):
    """One line of the item list."""

    id: str
    name: str
    department: str
    channels: list[Channel]


class BundleSummary(BaseModel):
    """One line of the bundle list: the items it joins, by id."""

    id: str
    name: str
    items: list[str]


class CatalogStats(BaseModel):
    """Figures an official reads about the catalog."""

    items: int
    bundles: int
    departments: int
    per_department: dict[str, int] = Field(description="事项数 per department, most first")
    online_items: int
    online_share: float
    commitment_items: int
    avg_time_cut: float = Field(description="承诺时限比法定时限平均缩短的比例 mean cut of the time limit")
