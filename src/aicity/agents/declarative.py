"""Declarative agents (low-code): a YAML file names the agent, its skills, their examples and
the knowledge-base documents each skill answers from. No Python needed.

```yaml
id: fire_safety
name: 消防安全咨询
department: fire
description: …
prompt: 你是消防安全咨询员……   # used when an LLM is configured
skills:
  - id: consult
    name: 消防安全咨询
    description: …
    examples: [开店需要消防检查吗, …]
    modes: [legal]        # the kinds of help it serves (assistant modes)
    knowledge: {docs: [消防法], top_k: 3}
```
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from aicity.agents.base import Agent, Skill, SkillContext, SkillResult
from aicity.agents.policy.agent import LegalQuestion, answer_from_kb


class _Knowledge(BaseModel):
    docs: list[str]
    top_k: int = Field(default=3, ge=1, le=10)


class _SkillSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    description: str
    examples: list[str] = Field(min_length=1)
    cues: list[str] = []
    cue_priority: int = 0
    #: the assistant modes the skill serves (a knowledge skill answers legal questions unless told)
    modes: list[str] = ["legal"]
    knowledge: _Knowledge


class _AgentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    department: str
    description: str
    prompt: str = ""
    skills: list[_SkillSpec] = Field(min_length=1)


def load_yaml_agent(path: Path) -> Agent:
    spec = _AgentSpec.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    skills = []
    for s in spec.skills:
        docs, top_k, title = set(s.knowledge.docs), s.knowledge.top_k, s.name

        def handler(inp: LegalQuestion, ctx: SkillContext, docs=docs, top_k=top_k, title=title) -> SkillResult:
            result = answer_from_kb(inp.model_copy(update={"top_k": top_k}), ctx, docs, title)
            result.departments = [spec.department]
            return result

        skills.append(Skill(id=s.id, name=s.name, description=s.description, examples=s.examples,
                            cues=tuple(s.cues), cue_priority=s.cue_priority, modes=tuple(s.modes),
                            input_model=LegalQuestion, handler=handler))
    return Agent(id=spec.id, name=spec.name, department=spec.department, description=spec.description,
                 skills=skills, source=f"yaml:{path.name}")
