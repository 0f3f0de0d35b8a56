"""Held-out tables for the grading suggestions (`benchmarks/data_bench.py --heldout`).

Written after the suggestion rules, labelled from the definitions alone (PIPL art. 4 and 28,
GB/T 35273-2020 annex A/B) before the rules were run on them, and never used to change the rules.
Values are generated from a fixed seed: well-formed identifiers (resident IDs with their check
digit, Luhn-valid bank cards, mobiles), invented names. Ambiguous cases keep the stricter label
(a minor's name is sensitive; a birth date is personal).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
AREAS = ["420102", "420103", "420106", "420111", "420115"]


def ric(rng: random.Random, born: dt.date) -> str:
    body = f"{rng.choice(AREAS)}{born:%Y%m%d}{rng.randrange(1000):03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    return body + check


def luhn_card(rng: random.Random) -> str:
    digits = [6, 2, 2, 2, 0, 2] + [rng.randrange(10) for _ in range(12)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        d = d * 2 if i % 2 == 0 else d
        total += d - 9 if d > 9 else d
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def born(rng: random.Random, lo: int, hi: int) -> dt.date:
    return dt.date(rng.randrange(lo, hi), rng.randrange(1, 13), rng.randrange(1, 29))


def tables(n: int = 120, seed: int = 20251231) -> list[dict[str, Any]]:
    """[{id, category, columns: {name: values}, gold: {name: (pii | None, kind | None)}}]"""
    rng = random.Random(seed)
    out = []
    visits = [born(rng, 1940, 2000) for _ in range(n)]
    out.append({"id": "patient_visits", "category": "政务数据 · 医疗服务", "columns": {
        "visit_id": [f"V{i:06d}" for i in range(n)], "patient_name": [name(rng) for _ in range(n)],
        "id_card": [ric(rng, b) for b in visits], "phone": [mobile(rng) for _ in range(n)],
        "diagnosis": [rng.choice(["高血压", "糖尿病", "上呼吸道感染", "骨折"]) for _ in range(n)],
        "clinic": [rng.choice(["内科", "外科", "儿科"]) for _ in range(n)],
        "visit_date": [f"2025-0{rng.randrange(1, 10)}-1{rng.randrange(10)}" for _ in range(n)],
        "fee_yuan": [round(rng.uniform(20, 3000), 2) for _ in range(n)]},
        "gold": {"patient_name": ("personal", "name"), "id_card": ("sensitive", "resident_id"),
                 "phone": ("personal", "mobile"), "diagnosis": ("sensitive", "health"),
                 "fee_yuan": ("sensitive", "property")}})
    kids = [born(rng, 2012, 2019) for _ in range(n)]
    out.append({"id": "school_enrolment", "category": "政务数据 · 教育", "columns": {
        "student_name": [name(rng) for _ in range(n)], "birth_date": [k.isoformat() for k in kids],
        "guardian_mobile": [mobile(rng) for _ in range(n)], "school": [rng.choice(["东湖小学", "光谷一小"]) for _ in range(n)],
        "grade_year": [rng.randrange(1, 7) for _ in range(n)],
        "home_address": [f"{rng.choice(['幸福路', '光谷大道', '解放大道'])}{rng.randrange(1, 300)}号" for _ in range(n)]},
        "gold": {"student_name": ("sensitive", "name"), "birth_date": ("personal", "birth_date"),
                 "guardian_mobile": ("personal", "mobile"), "home_address": ("personal", "address")}})
    out.append({"id": "pension_recipients", "category": "政务数据 · 社会保障", "columns": {
        "recipient_name": [name(rng) for _ in range(n)], "id_number": [ric(rng, born(rng, 1935, 1965)) for _ in range(n)],
        "bank_account": [luhn_card(rng) for _ in range(n)], "monthly_pension_yuan": [rng.randrange(1500, 6000) for _ in range(n)],
        "community": [rng.choice(["幸福路社区", "关山社区", "南湖社区"]) for _ in range(n)],
        "district_id": [rng.choice(["donghu", "nanhu"]) for _ in range(n)]},
        "gold": {"recipient_name": ("personal", "name"), "id_number": ("sensitive", "resident_id"),
                 "bank_account": ("sensitive", "bank_card"), "monthly_pension_yuan": ("sensitive", "property"),
                 "community": ("personal", "address")}})
    out.append({"id": "road_works", "category": "公共数据 · 城市建设", "columns": {
        "work_id": [f"RW{i:04d}" for i in range(n)], "road_name": [rng.choice(["光谷大道", "雄楚大道"]) for _ in range(n)],
        "district_id": [rng.choice(["guanggu", "nanhu"]) for _ in range(n)],
        "start_date": ["2025-03-01"] * n, "contractor": [rng.choice(["江城路桥建设有限公司", "江城市政工程有限公司"]) for _ in range(n)],
        "budget_10k_yuan": [rng.randrange(50, 5000) for _ in range(n)]},
        "gold": {}})
    out.append({"id": "bus_stops", "category": "公共数据 · 交通设施", "columns": {
        "stop_id": [f"S{i:04d}" for i in range(n)], "stop_name": [rng.choice(["关山口", "东湖路", "南湖花园"]) for _ in range(n)],
        "lines": [rng.randrange(1, 12) for _ in range(n)], "lat": [30.4 + rng.random() / 10 for _ in range(n)],
        "lon": [114.3 + rng.random() / 10 for _ in range(n)]},
        "gold": {}})
    return out
