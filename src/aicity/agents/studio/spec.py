"""An agent definition as data (智能体定义): what the co-creation platform stores, versions, exports and
builds an `Agent` from. One file per agent (YAML or JSON), close to the declarative agents'
format (`agents/declarative.py`):

```yaml
id: garbage_sorting
name: 垃圾分类助手
icon: "♻️"
category: 生活服务
description: 解答生活垃圾怎么分、怎么投
serves: {roles: [citizen, enterprise], departments: []}
instructions: 你是示范城市的垃圾分类宣传员……        # the model's instructions (with a gateway model)
modes: [policy]                                      # the assistant modes its examples teach
knowledge: {kbs: [global], docs: [固体废物污染环境防治法], top_k: 3}
tools: [{id: governance.report_event, risk: write}]        # skills of other agents (agent.skill) it may call
opening: [厨余垃圾包括哪些？]                          # opening questions shown to the user
examples: [电池属于什么垃圾, 大件家具怎么扔]            # requests that should be routed to it
cues: [垃圾分类]                                     # phrases that mark a request for it
workflow: []                                         # optional steps (see `Step`)
```

An unknown field, an unknown mode, a workflow that names a missing step or loops is refused here
(pydantic `ValidationError`, turned into a 422 naming the field by the API); what the creator may
use (knowledge bases, tools) is checked against their permissions in `service.check`.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from aicity.agents.base import RiskLevel

ID_PATTERN = r"^[a-z][a-z0-9_]{2,39}$"
STEP_KINDS = ("retrieve", "tool", "ask", "branch", "compose")
MAX_STEPS = 20


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Serves(_Strict):
    #: roles the agent is for (empty: everyone); a role outside these may not call it
    roles: list[Literal["citizen", "enterprise", "official", "operator", "admin"]] = []
    #: departments it serves (for staff; empty: any)
    departments: list[str] = []


class KnowledgeRef(_Strict):
    #: knowledge bases it may search (the creator must be able to read each)
    kbs: list[str] = []
    #: only these documents (keys) when given
    docs: list[str] = []
    top_k: int = Field(default=3, ge=1, le=10)


class ToolRef(_Strict):
    #: a skill of another agent, `agent.skill`, or an MCP tool, `mcp:<server>.<tool>`
    id: str = Field(min_length=3, max_length=120,
                    pattern=r"^(mcp:[a-z][a-z0-9\-]*\.[A-Za-z0-9_\-.]+|[a-z][a-z0-9_]*\.[A-Za-z0-9_\-]+)$")
    #: the risk level the creator expects; must equal the tool's own (an MCP tool: `write` when it declares
    #: writing, which the MCP bridge sends to the approval queue; else `read`)
    risk: RiskLevel = RiskLevel.read


class Condition(_Strict):
    #: what is tested: a slot the user answered (`slot:<name>`), the request (`text`) or a step's hits
    #: (`hits:<step id>`: how many citations it found)
    subject: str = Field(pattern=r"^(text|slot:[a-z_][a-z0-9_]*|hits:[a-z_][a-z0-9_]*)$")
    op: Literal["contains", "equals", "in", "gt", "empty"] = "contains"
    value: str | list[str] | int = ""


class Step(_Strict):
    id: str = Field(pattern=r"^[a-z_][a-z0-9_]{0,39}$")
    kind: Literal["retrieve", "tool", "ask", "branch", "compose"]
    #: retrieve: override the definition's knowledge bases / documents for this step
    kbs: list[str] = []
    docs: list[str] = []
    #: tool: which of the definition's tools; params given to it (`{slot}` filled from the slots)
    tool: str | None = None
    params: dict[str, str] = {}
    #: ask: the slot filled by the user's answer, the question and its options
    slot: str | None = Field(default=None, pattern=r"^[a-z_][a-z0-9_]*$")
    question: str | None = None
    options: list[str] = []
    #: branch: the condition and where to go
    condition: Condition | None = None
    then: str | None = None
    otherwise: str | None = Field(default=None, alias="else")
    #: compose: a text template (`{slot}` filled); the steps' sections follow it
    template: str | None = None
    #: the next step (default: the following one in the list; a branch goes by its condition)
    next: str | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _shape(self) -> Step:
        need = {"tool": ("tool",), "ask": ("slot", "question"), "branch": ("condition", "then")}
        missing = [f for f in need.get(self.kind, ()) if getattr(self, f) in (None, "")]
        if missing:
            raise ValueError(f"步骤 {self.id}（{self.kind}）缺少 {', '.join(missing)}")
        return self


class AgentDefinition(_Strict):
    id: str = Field(pattern=ID_PATTERN, description="小写字母、数字和下划线，3–40 个字符")
    name: str = Field(min_length=2, max_length=40)
    icon: str = Field(default="🤖", max_length=8)
    category: str = Field(default="其他", max_length=20)
    description: str = Field(min_length=4, max_length=400)
    department: str = Field(default="gov_office", max_length=40)
    serves: Serves = Serves()
    instructions: str = Field(default="", max_length=4000)
    #: the assistant modes the agent's examples teach the classifier and route within
    modes: list[str] = Field(default=["policy"], min_length=1, max_length=3)
    knowledge: KnowledgeRef = KnowledgeRef()
    tools: list[ToolRef] = Field(default=[], max_length=12)
    opening: list[str] = Field(default=[], max_length=6)
    examples: list[str] = Field(min_length=3, max_length=60)
    cues: list[str] = Field(default=[], max_length=20)
    workflow: list[Step] = Field(default=[], max_length=MAX_STEPS)

    @field_validator("examples", "opening", "cues")
    @classmethod
    def _texts(cls, values: list[str]) -> list[str]:
        cleaned = [v.strip() for v in values]
        if any(not v or len(v) > 200 for v in cleaned):
            raise ValueError("每一项须为 1–200 个字符 each entry must be 1–200 characters")
        return cleaned

    @field_validator("cues")
    @classmethod
    def _cues(cls, values: list[str]) -> list[str]:
        if any(len(v) < 2 for v in values):
            raise ValueError("提示词至少 2 个字符 a cue must be at least 2 characters")
        return [v.lower() for v in values]

    @field_validator("workflow")
    @classmethod
    def _workflow(cls, steps: list[Step], info: ValidationInfo) -> list[Step]:
        check_workflow(steps, {t.id for t in info.data.get("tools", [])})
        return steps

    @model_validator(mode="after")
    def _something(self) -> AgentDefinition:
        if not self.knowledge.kbs and not self.tools:
            raise ValueError("至少需要一个知识库或一个工具 an agent needs a knowledge base or a tool")
        return self

    def to_data(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=False)


def check_workflow(steps: list[Step], tools: set[str]) -> None:
    """Every step's targets exist, its tool is one of the agent's, and the steps form no cycle."""
    ids = [s.id for s in steps]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise ValueError(f"工作流步骤 id 重复 duplicate step ids: {', '.join(sorted(dupes))}")
    known = set(ids)
    edges: dict[str, list[str]] = {}
    for n, s in enumerate(steps):
        if s.kind == "tool" and s.tool not in tools:
            raise ValueError(f"步骤 {s.id} 调用的工具 {s.tool} 不在 tools 中 the step's tool is not among the agent's")
        targets = [t for t in (s.then, s.otherwise, s.next) if t]
        for t in targets:
            if t not in known:
                raise ValueError(f"步骤 {s.id} 指向不存在的步骤 {t} unknown step")
        if s.kind == "branch":
            following = [s.then or "", s.otherwise or (ids[n + 1] if n + 1 < len(ids) else "")]
        else:
            following = [s.next or (ids[n + 1] if n + 1 < len(ids) else "")]
        edges[s.id] = [t for t in following if t]
    cycle = find_cycle(edges)
    if cycle:
        raise ValueError(f"工作流有环 the workflow has a cycle: {' → '.join(cycle)}")


def find_cycle(edges: dict[str, list[str]]) -> list[str] | None:
    """A cycle of the step graph (its steps, the first repeated at the end), or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in edges.get(node, []):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in edges:
        if node not in state and (found := visit(node)):
            return found
    return None


def parse(text: str, fmt: str = "yaml") -> dict[str, Any]:
    """A definition file's content as data (YAML or JSON); a malformed file is a `ValueError`."""
    try:
        data = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ValueError(f"无法解析 {fmt.upper()} cannot parse: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("定义须为一个对象 a definition must be a mapping")
    return data


def dump(definition: AgentDefinition, fmt: str = "yaml") -> str:
    """One agent as a file: keys in the model's order, defaults kept, so that versions diff line by line."""
    data = definition.to_data()
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)
