"""Where agents come from: built-ins, Python entry points (`aicity.agents`), declarative YAML."""

from __future__ import annotations

import logging
from importlib import metadata
from pathlib import Path

from aicity.agents.base import Agent, Skill

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
        from aicity.agents.declarative import load_yaml_agent

        for path in sorted(directory.glob("*.yaml")):
            self.register(load_yaml_agent(path))


def builtin_agents() -> list[Agent]:
    from aicity.agents.city_ops.agent import build as city_ops
    from aicity.agents.city_safety.agent import build as city_safety
    from aicity.agents.gov_service.agent import build as gov_service
    from aicity.agents.governance.agent import build as governance
    from aicity.agents.policy.agent import build as policy

    return [gov_service(), policy(), city_ops(), governance(), city_safety()]


def default_registry(extra_yaml_dirs: list[Path] | None = None) -> AgentRegistry:
    from importlib import resources

    registry = AgentRegistry()
    for agent in builtin_agents():
        registry.register(agent)
    registry.load_entry_points()
    registry.load_yaml_dir(Path(str(resources.files("aicity") / "demo" / "data" / "agents")))
    for directory in extra_yaml_dirs or []:
        if directory.is_dir():
            registry.load_yaml_dir(directory)
    return registry
