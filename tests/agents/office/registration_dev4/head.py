"""Build the registration (收文登记) development set dev4: incoming official documents plus index.jsonl.

Written by an independent evaluation writer without looking at the extractor, its rules or its tests (only the
dev3 builder and index were read, for the answer-file format and the rendering helpers, which are reused here).
The set stresses ``suggested_departments``: about two thirds of the documents concern a department that is neither
the issuer nor named in the title; the subject is described in the document's own words and must be matched
against the duties in /work/shared/city/departments.yaml.

江城市 (districts 东湖 光谷 江滨 西城 南湖 北港), 楚江省 (简称“楚”) and every person, phone number and document
number below are invented for the demo city (DEMO-CITY ASSUMPTION). National bodies are real names but the
documents attributed to them are invented.

Run: /work/main/.venv/bin/python tests/agents/office/registration_dev4/build.py
Document markup, one line each, ``TAG|text``: H red masthead, S top-left marks (份号/密级/紧急程度), N number line,
X red rule, T title line, C centred, L flush left, P body paragraph, R right aligned, B 版记 line, G table row
(cells split by ``||``), PG page-number line (— 1 —), E an empty line.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import yaml
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]
_DEPT_FILES = [Path("/work/shared/city/departments.yaml"), ROOT / "src/aicity/demo/data/departments.yaml"]
DEPARTMENTS = {d["id"] for f in _DEPT_FILES if f.exists() for d in yaml.safe_load(f.read_text("utf-8"))}
KINDS = {"决议", "决定", "命令", "公报", "公告", "通告", "意见", "通知", "通报", "报告", "请示", "批复", "议案", "函", "纪要"}


def E(kind, issuer, doc_number, title, recipients, date, depts, *, classification=None, urgency=None, signer=None,
      attachments=(), cc=(), deadline=None):
    return {"kind": kind, "issuer": list(issuer), "doc_number": doc_number, "title": title,
            "recipients": list(recipients), "date": date, "classification": classification, "urgency": urgency,
            "signer": signer, "attachments": list(attachments), "cc": list(cc),
            "suggested_departments": list(depts), "deadline": deadline}


DOCS: list[dict] = []


def doc(id_, fmt, expect, notes, body, **opts):
    DOCS.append({"id": id_, "format": fmt, "expect": expect, "notes": notes, "body": textwrap.dedent(body).strip(),
                 "opts": opts})


# ---------------------------------------------------------------- documents
