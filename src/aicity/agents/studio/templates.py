"""Starting points of the builder: a blank page, a knowledge Q&A agent, an agent that files reports
and a small workflow (ask, branch, retrieve, compose); and the demo city's ten co-created agents."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

_BLANK: dict[str, Any] = {
    "id": "my_agent", "name": "我的智能体", "icon": "🤖", "category": "其他", "description": "一句话说明它能帮谁做什么",
    "modes": ["legal"], "knowledge": {"kbs": ["global"], "docs": [], "top_k": 3},
    "examples": ["第一个示例问题", "第二个示例问题", "第三个示例问题"],
}

_REPORT: dict[str, Any] = {
    **_BLANK, "id": "street_reporter", "name": "街面问题随手拍", "icon": "📷", "category": "城市治理",
    "description": "把市民看到的街面问题登记为事件并派往责任部门", "department": "urban", "modes": ["report"],
    "knowledge": {"kbs": [], "docs": [], "top_k": 3}, "tools": [{"id": "governance.report_event", "risk": "write"}],
    "examples": ["路边垃圾堆了好几天没人清", "人行道上的井盖松了", "小区门口的路灯坏了", "共享单车把盲道堵了"],
}

_WORKFLOW: dict[str, Any] = {
    **_BLANK, "id": "benefit_guide", "name": "补贴申请向导", "icon": "🧭", "category": "民生保障",
    "description": "先问清申请人的身份，再检索对应的规定并给出办理提示", "department": "civil_affairs",
    "knowledge": {"kbs": ["global"], "docs": ["城市居民最低生活保障条例", "残疾人保障法"], "top_k": 3},
    "examples": ["低保怎么申请", "残疾人有什么补贴", "困难家庭能领什么补助"],
    "workflow": [
        {"id": "who", "kind": "ask", "slot": "who", "question": "请问申请人是哪类人员？", "options": ["低保家庭", "残疾人"]},
        {"id": "route", "kind": "branch", "condition": {"subject": "slot:who", "op": "contains", "value": "残疾"},
         "then": "disabled", "else": "basic"},
        {"id": "disabled", "kind": "retrieve", "docs": ["残疾人保障法"], "next": "tip"},
        {"id": "basic", "kind": "retrieve", "docs": ["城市居民最低生活保障条例"], "next": "tip"},
        {"id": "tip", "kind": "compose", "template": "以上是与「{who}」有关的规定；具体申请材料以街道（乡镇）受理窗口为准。"},
    ],
}


def _demo_dir() -> Path:
    return Path(str(resources.files("aicity") / "demo" / "data" / "studio" / "agents"))


def demo_definitions() -> list[dict[str, Any]]:
    """The demo city's co-created agents (one YAML file each)."""
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(_demo_dir().glob("*.yaml"))]


def templates() -> list[dict[str, Any]]:
    made = [("blank", "空白", _BLANK), ("knowledge", "知识问答", demo_definitions()[0] if demo_definitions() else _BLANK),
            ("report", "问题上报（调用工具）", _REPORT), ("workflow", "多步向导（工作流）", _WORKFLOW)]
    return [{"id": tid, "name": name, "icon": d.get("icon", "🤖"), "description": d.get("description", ""),
             "definition": d} for tid, name, d in made]
