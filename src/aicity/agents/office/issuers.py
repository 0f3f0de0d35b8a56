"""The demo city's issuing organs (`demo/data/office/issuers.yaml`, a demo-city assumption): full
names, 机关代字, superiors and signers, found by department id, full name or short name."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from aicity.agents.office.kinds import OfficeInputError


class UnknownIssuer(OfficeInputError):
    """An issuing organ the register does not know."""


@dataclass(frozen=True)
class Issuer:
    id: str
    name: str
    short: str
    code: str
    letter_code: str
    signer: str
    #: the organ its 上行文 go to
    superior: str

    def number_code(self, layout: str) -> str:
        """The 机关代字 for a layout: 信函式 documents are numbered in the 函 series, 纪要 in a 纪
        series of their own (江政办纪, a demo-city assumption like the codes)."""
        if layout == "letter":
            return self.letter_code
        if layout == "minutes":
            return (self.code[:-1] if self.code.endswith("发") else self.code) + "纪"
        return self.code


@dataclass(frozen=True)
class Register:
    city: str
    issuers: dict[str, Issuer]


@cache
def register() -> Register:
    path = resources.files("aicity") / "demo" / "data" / "office" / "issuers.yaml"
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    city = str(raw["city"])
    government = f"{city}人民政府"
    issuers: dict[str, Issuer] = {}
    for key, row in raw["issuers"].items():
        superior = str(raw["superior_of_city"]) if key in ("gov", "gov_office") else government
        issuers[key] = Issuer(id=key, name=row["name"], short=row["short"], code=row["code"],
                              letter_code=row["letter_code"], signer=row["signer"], superior=superior)
    return Register(city=city, issuers=issuers)


def get_issuer(value: str | None) -> Issuer:
    """The issuer named by department id, full name or short name; the city government's office
    (市政府办公室) when none is named."""
    issuers = register().issuers
    if value is None or not value.strip():
        return issuers["gov_office"]
    key = value.strip()
    if key in issuers:
        return issuers[key]
    for issuer in issuers.values():
        if key in (issuer.name, issuer.short) or issuer.name.endswith(key):
            return issuer
    raise UnknownIssuer(f"未知发文机关「{value}」；可用部门 id 或全称，如 gov_office、{issuers['market'].name}"
                        " unknown issuer")


def issuer_names() -> list[str]:
    return [i.name for i in register().issuers.values()]
