"""Grading suggestions per GB/T 43697-2024 (数据安全技术 数据分类分级规则).

A dataset is core, important or general data; within general data the demo city uses four
sensitivity levels (1 may be opened, 2 internal government use, 3 restricted — business or
personal information, 4 strictly restricted — sensitive personal information). Each column is
also marked as personal information (个人信息) or sensitive personal information (敏感个人信息,
PIPL art. 28: identity documents, financial accounts, health, specific identities, biometrics,
religion, whereabouts, minors).

Suggestions come only from what an imported file carries — column names and value patterns
(the guard's PII detectors, `aicity.security.pii.detect`; `stdnum` for credit codes) — plus
the dataset's declared classification domain (公共数据 / 政务数据 …), never from a declared
grade. A data officer confirms or corrects them (`confirm`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from stdnum.cn import uscc

from aicity.security.pii import detect

#: standalone-value detectors: finding type → (pii, pii_kind)
_VALUE_KINDS = {"ric": ("sensitive", "resident_id"), "bank_card": ("sensitive", "bank_card"),
                "passport": ("sensitive", "passport"), "mobile": ("personal", "mobile"),
                "landline": ("personal", "phone"), "email": ("personal", "email"), "plate": ("personal", "plate")}
#: share of sampled values that must match for a value pattern to count
VALUE_SHARE = 0.8
SAMPLE = 200

# Name rules: (pattern over the snake_case column name, pii, kind). First match wins.
_NAME_RULES: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"(^|_)(id_?number|id_?card|resident_id|citizen_id|sfz|ric)($|_)|身份证"), "sensitive", "resident_id"),
    (re.compile(r"(^|_)(bank_?card|card_no|account_no|iban)($|_)|银行卡|账号"), "sensitive", "bank_card"),
    (re.compile(r"(^|_)(passport)($|_)|护照"), "sensitive", "passport"),
    (re.compile(r"(^|_)(disab\w*|disease|diagnos\w*|medical|health|illness|handicap)($|_)|残疾|疾病|病史|健康"),
     "sensitive", "health"),
    (re.compile(r"(^|_)(religio\w*|ethnic\w*|biometric|fingerprint|face_id)($|_)|宗教|民族|指纹|人脸"),
     "sensitive", "special"),
    (re.compile(r"(^|_)(mobile|phone|tel|cellphone)($|_)|手机|电话"), "personal", "mobile"),
    (re.compile(r"(^|_)(email|e_mail)($|_)|邮箱"), "personal", "email"),
    (re.compile(r"(^|_)(head|person|contact|applicant|owner|resident|patient|caller|driver|citizen)_name($|_)"
                r"|(^|_)legal_represent\w*|(^|_)representative($|_)|姓名|户主|联系人|法定代表人"), "personal", "name"),
    (re.compile(r"(^|_)(home_address|residence|domicile)($|_)|住址|户籍"), "personal", "address"),
]
#: places finer than a district: identifying when the table is about persons
_FINE_PLACE = re.compile(r"(^|_)(address|addr|community|village|building|room|street_address)($|_)|地址|社区|小区|门牌")
#: money and benefits: a person's property / specific identity, or a firm's business information
_MONEY = re.compile(r"(^|_)(allowance|salary|wage|income|subsidy|benefit|pension|deposit|debt|revenue|tax|profit|"
                    r"asset|loan)($|_)|收入|工资|补贴|保障金|营收|纳税|利润|资产")
#: the suggested levels of the columns that are neither personal nor business information, by domain
_DOMAIN_LEVEL = (("公共数据", 1), ("政务数据", 2), ("社会数据", 2), ("企业数据", 3))
#: demo-city assumption (GB/T 43697-2024 Annex G names volumes without fixing them for a city):
#: personal information on this many persons or more is suggested as important data
IMPORTANT_PERSONS = 1_000_000
IMPORTANT_SENSITIVE_PERSONS = 100_000


@dataclass
class ColumnSuggestion:
    name: str
    level: int = 1
    pii: str | None = None
    pii_kind: str | None = None
    reasons: list[str] = field(default_factory=list)


@dataclass
class Suggestion:
    grade: str
    level: int
    reasons: list[str]
    columns: dict[str, ColumnSuggestion]


def _strings(values: Sequence[Any]) -> list[str]:
    return [str(v).strip() for v in values if v is not None and str(v).strip()][:SAMPLE]


def _share(values: list[str], test: Any) -> float:
    return sum(1 for v in values if test(v)) / len(values) if values else 0.0


def _full(value: str, kinds: Sequence[str]) -> str | None:
    """The detector type that covers the whole value, if any."""
    for f in detect(value, types=kinds):
        if f.start == 0 and f.end == len(value):
            return f.type
    return None


def _is_person_name(value: str) -> bool:
    if not re.fullmatch(r"[\u4e00-\u9fff]{2,4}", value):
        return False
    text = "我叫" + value
    return any(f.start == 2 and f.end == len(text) for f in detect(text, types=["name"]))


def _value_kind(values: list[str]) -> tuple[str, str, str] | None:
    if not values:
        return None
    found: dict[str, int] = {}
    for v in values:
        kind = _full(v, list(_VALUE_KINDS))
        if kind:
            found[kind] = found.get(kind, 0) + 1
    if found:
        kind, hits = max(found.items(), key=lambda kv: kv[1])
        if hits / len(values) >= VALUE_SHARE:
            pii, pii_kind = _VALUE_KINDS[kind]
            return pii, pii_kind, f"{hits}/{len(values)} 个样本值为{kind} values match the {kind} detector"
    distinct = sorted(set(values))
    if len(distinct) >= 5 and _share(distinct, _is_person_name) >= VALUE_SHARE:
        return "personal", "name", "样本值像人名 sampled values look like personal names"
    return None


def _domain_level(category: str) -> int:
    return next((level for prefix, level in _DOMAIN_LEVEL if category.startswith(prefix)), 2)


def suggest(columns: dict[str, Sequence[Any]], *, category: str = "", rows: int = 0) -> Suggestion:
    """Grades for a table given its columns' sampled values (name → values)."""
    base = _domain_level(category)
    samples = {name: _strings(values) for name, values in columns.items()}
    out = {name: ColumnSuggestion(name, base, reasons=[f"分类 {category or '未声明'} → {base} 级 domain baseline"])
           for name in columns}
    for name, values in samples.items():
        s = out[name]
        lowered = name.lower()
        rule = next(((pii, kind) for pattern, pii, kind in _NAME_RULES if pattern.search(lowered)), None)
        if rule:
            s.pii, s.pii_kind = rule
            s.reasons.append(f"列名 {name} → {rule[1]} column name")
        by_value = _value_kind(values)
        if by_value and (s.pii is None or (by_value[0] == "sensitive" and s.pii != "sensitive")):
            s.pii, s.pii_kind = by_value[0], by_value[1]
            s.reasons.append(by_value[2])
        elif by_value:
            s.reasons.append(by_value[2])
    organisations = any(values and _share(values, uscc.is_valid) >= VALUE_SHARE for values in samples.values())
    persons = not organisations and any(s.pii in ("personal", "sensitive") and s.pii_kind in
                                        ("resident_id", "name", "mobile", "passport", "bank_card")
                                        for s in out.values())
    for name, s in out.items():
        if s.pii:
            continue
        if persons and _FINE_PLACE.search(name.lower()):
            s.pii, s.pii_kind = "personal", "address"
            s.reasons.append("个人表中细于区的位置 a place finer than a district in a table about persons")
        elif _MONEY.search(name.lower()):
            if persons:
                s.pii, s.pii_kind = "sensitive", "property"
                s.reasons.append("个人表中的收入/补贴 a person's money or benefit: 特定身份、个人财产")
            elif organisations:
                s.level = max(s.level, 3)
                s.reasons.append("市场主体的经营/涉税信息 an identified firm's business or tax information → 3 级")
    for s in out.values():
        if s.pii == "sensitive":
            s.level = 4
        elif s.pii == "personal":
            s.level = max(s.level, 3)
    if organisations:
        for s in out.values():
            if s.pii is None and s.level == base and not _MONEY.search(s.name.lower()):
                s.level = 1
                s.reasons.append("市场主体登记信息已公示 registration data of organisations is public → 1 级")
    level = max((s.level for s in out.values()), default=base)
    reasons = [f"最高列级别 {level} highest column level"]
    grade = "general"
    pi_cols = [s for s in out.values() if s.pii]
    if persons and rows >= IMPORTANT_PERSONS:
        grade = "important"
        reasons.append(f"{rows} 人的个人信息 ≥ {IMPORTANT_PERSONS} (演示城市假设 demo assumption) → 重要数据")
    elif any(s.pii == "sensitive" for s in pi_cols) and persons and rows >= IMPORTANT_SENSITIVE_PERSONS:
        grade = "important"
        reasons.append(f"{rows} 人的敏感个人信息 ≥ {IMPORTANT_SENSITIVE_PERSONS} (演示城市假设) → 重要数据")
    if organisations:
        reasons.append("含统一社会信用代码：主体为组织 rows are organisations (valid credit codes)")
    elif persons:
        reasons.append("含个人标识：主体为自然人 rows are persons")
    return Suggestion(grade, level, reasons, out)
