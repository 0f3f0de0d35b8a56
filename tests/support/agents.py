"""A registry and an assistant with one agent that acts on the city, for approval and guard tests."""

from __future__ import annotations

from dataclasses import replace

from aicity.agents.base import Agent, RiskLevel, Skill, SkillContext, SkillInput, SkillResult
from aicity.agents.registry import AgentRegistry, default_registry
from aicity.assistant.service import Assistant

#: an operator's plain request to close a valve
VALVE_REQUEST = "马上把幸福路的燃气阀门关掉"


def valve_registry(calls: list[str]) -> AgentRegistry:
    """The demo agents plus one that acts on the city (closing a gas valve); its handler
    only records that it ran, so tests can prove it never does. The city-safety agent's own valve
    skills that act on devices are left out, so that a valve order reaches this one."""
    def close_valve(inp: SkillInput, ctx: SkillContext) -> SkillResult:
        calls.append(inp.text)
        return SkillResult()

    registry = AgentRegistry()
    for agent in default_registry().agents():
        if agent.id == "city_safety":
            agent = replace(agent, skills=[s for s in agent.skills if "city_action" not in s.modes])
        registry.register(agent)
    registry.register(Agent(id="gas_ops", name="燃气处置", department="gas", description="燃气阀门",
                            skills=[Skill(id="close_valve", name="关闭燃气阀门", description="关闭阀门",
                                          examples=["关闭燃气阀门", "把阀门关掉"], modes=("city_action",),
                                          input_model=SkillInput,
                                          handler=close_valve, risk=RiskLevel.actuate)]))
    return registry


def valve_assistant(calls: list[str]) -> Assistant:
    """An assistant over `valve_registry`, its route vectors ready: routing a request to the
    valve must not depend on whether they finished computing."""
    bot = Assistant(valve_registry(calls))
    bot.router.wait_dense()
    return bot
