"""Where agents come from: the slices' agents (`aicity.slices`), Python entry points
(`aicity.agents`), declarative YAML."""

from __future__ import annotations

import logging
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from aicity.agents.base import Agent, Skill, SkillContext
from aicity.agents.declarative import load_yaml_agent
from aicity.core import slices
from aicity.core.tracing import Tracer
from aicity.identity.service import Principal

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "aicity.agents"


class AgentRegistry:
    def __init__(self) -> None:
        self._agents: dict[str, Agent] = {}

    def register(self, agent: Agent) -> None:
        if agent.id in self._agents:
            raise ValueError(f"agent id '{agent.id}' registered twice")
        self._agents[agent.id] = agent

    def agents(self) -> list[Agent]:
        return list(self._agents.values())

    def get(self, agent_id: str) -> Agent:
        return self._agents[agent_id]

    def skill(self, agent_id: str, skill_id: str) -> Skill:
        return self._agents[agent_id].skill(skill_id)

    def run(self, agent_id: str, skill_id: str, params: dict[str, str], text: str, principal: Principal,
            tracer: Tracer) -> list[dict[str, Any]]:
        """Run one skill call outside a conversation (an approved request: `approvals.set_executor`);
        its sections. Raises `KeyError` (no such skill), `ValidationError` or `Problem`."""
        skill = self.skill(agent_id, skill_id)
        inp = skill.input_model.model_validate({**params, "text": text})
        result = skill.handler(inp, SkillContext(principal=principal, tracer=tracer, may_ask=False))
        return [s.model_dump() for s in result.sections]

    def load_entry_points(self) -> None:
        """Agents that other packages publish under the `aicity.agents` entry-point group.

        An entry point names a callable that returns an `Agent`; a broken plug-in is logged
        and skipped so that it cannot take the city down.
        """
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                self.register(ep.load()())
            except Exception:
                log.exception("agent entry point %s failed to load", ep.name)

    def load_yaml_dir(self, directory: Path) -> None:
        for path in sorted(directory.glob("*.yaml")):
            self.register(load_yaml_agent(path))


def builtin_agents() -> list[Agent]:
    """The agents the installed slices declare (`Slice.agents`), in the slices' order."""
    return [build() for build in slices.agent_builders()]


def default_registry(extra_yaml_dirs: list[Path] | None = None) -> AgentRegistry:
    registry = AgentRegistry()
    for agent in builtin_agents():
        registry.register(agent)
    registry.load_entry_points()
    registry.load_yaml_dir(Path(str(resources.files("aicity") / "demo" / "data" / "agents")))
    for directory in extra_yaml_dirs or []:
        if directory.is_dir():
            registry.load_yaml_dir(directory)
    return registry
