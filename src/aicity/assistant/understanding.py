"""Understanding a request before routing it: safety first, then the mode, then the target.

1. An emergency (the mode classifier with the events hub's urgency rules, `modes.decide`) goes
   to `city_safety.emergency` whatever else the request says.
2. Below `modes.ABSTAIN_BELOW` the assistant asks which of the likeliest readings is meant.
3. A mode no skill serves (office, industry, simulation, small talk, out of scope) is answered
   with the mode's scope statement; a mode whose skills are all for staff, asked by the public,
   says so.
4. Otherwise the planner routes among the skills that declare the mode (`Skill.modes`); a service
   question whose item the catalog does not have is an honest gap: the answer says so, names the
   department and law when found, and the request is kept for the operations team (`unserved`).
"""

from __future__ import annotations

from collections import defaultdict

from aicity.agents.base import Clarification, NextAction, Option, Section, SkillResult, SubTask
from aicity.agents.registry import AgentRegistry
from aicity.assistant import modes as mode_data
from aicity.assistant import unserved
from aicity.assistant.modes import ModeClassifier, ModeGuess
from aicity.assistant.planner import Plan, Planner
from aicity.assistant.router import Router
from aicity.hub.knowledge import service as knowledge
from aicity.identity import service as identity
from aicity.identity.service import Principal

EMERGENCY_SKILL = ("city_safety", "emergency")
#: modes whose answer is one catalog item: without one, the catalog lacks the service
ITEM_MODES = frozenset({"service_guide"})
#: a governing law is named for a gap when knowledge search finds one at least this relevant
GAP_LAW_MIN_SCORE = 0.5
CLARIFY_QUESTION = "我不太确定您想要哪一种帮助，请选择最接近的一项（也可以换个说法再问）："
STAFF_ONLY = ("这项功能面向城市管理和运行的工作人员（需要工作人员身份）。"
              "我可以帮您：查询办事指南、反映城市问题并跟踪进度、查询扶持政策和法规。")


class Understanding:
    def __init__(self, registry: AgentRegistry, router: Router, rows: list[dict[str, str]]) -> None:
        self.router = router
        self.classifier = ModeClassifier(rows, router.embedder, router.query_vector if router.dense else None)
        #: mode → the skills that declare it (the agents' data, not a table here)
        self.skills_of: dict[str, frozenset[tuple[str, str]]] = {}
        by_mode: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for agent in registry.agents():
            for skill in agent.skills:
                for mode in skill.modes:
                    by_mode[mode].add((agent.id, skill.id))
        self.skills_of = {m: frozenset(s) for m, s in by_mode.items()}

    def guess(self, text: str) -> ModeGuess:
        return self.classifier.guess(text)

    def plan(self, text: str, principal: Principal, planner: Planner, guess: ModeGuess,
             forced: str | None = None) -> Plan:
        mode = forced or guess.mode
        confidence = 1.0 if forced else guess.confidence
        base = {"planner": planner.name, "mode": mode, "mode_confidence": round(confidence, 4)}
        if mode == mode_data.EMERGENCY and EMERGENCY_SKILL in self.router.skills:
            task = SubTask(agent=EMERGENCY_SKILL[0], skill=EMERGENCY_SKILL[1], text=text, score=confidence,
                           confidence=round(confidence, 3))
            return Plan(subtasks=[task], **base)
        if not forced and confidence < mode_data.ABSTAIN_BELOW:
            return Plan(subtasks=[], reply="clarify", options=guess.options(), **base)
        serving = self.skills_of.get(mode, frozenset())
        usable = frozenset(k for k in serving if self.router.skills[k].allowed(principal))
        if not serving:
            return Plan(subtasks=[], reply="scope", **base)
        if not usable:
            return Plan(subtasks=[], reply="staff_only", **base)
        plan = planner.plan(text, principal, only=usable, mode=mode)
        plan = plan.model_copy(update=base)
        first = plan.subtasks[0] if plan.subtasks else None
        wanted = self.router.skills[(first.agent, first.skill)].targets_for(mode) if first else ()
        if mode in ITEM_MODES and (first is None or (wanted and not any(k in first.params for k in wanted))):
            return Plan(subtasks=[], reply="gap", **base)
        return plan

    def reply(self, plan: Plan, text: str, principal: Principal) -> SkillResult:
        """The assistant's own answer when no skill answers (see `Plan.reply`)."""
        known = mode_data.modes()
        if plan.reply == "clarify":
            options = [Option(value=f"mode={m}", label=known[m].option) for m in plan.options if m in known]
            listed = " ".join(f"{mark} {o.label}" for mark, o in zip("①②③", options, strict=False))
            return SkillResult(clarification=Clarification(slot="mode", question=f"{CLARIFY_QUESTION}{listed}",
                                                           options=options),
                               data={"mode_options": plan.options})
        if plan.reply == "gap":
            return self._gap(text, principal, plan)
        mode = known.get(plan.mode or "out_of_scope") or known["out_of_scope"]
        body = STAFF_ONLY if plan.reply == "staff_only" else (mode.scope or known["out_of_scope"].scope or "")
        title = "您好" if mode.id == "smalltalk" else "我能做什么"
        return SkillResult(sections=[Section(title=title, body=body, kind="scope")])

    def _gap(self, text: str, principal: Principal, plan: Plan) -> SkillResult:
        """No catalog item for the service asked: say so, name who is responsible and the law, file the gap."""
        scores = self.router._scores(text, principal)
        params, _ = self.router._best_target(scores, ("department",), principal, 0.0)
        department = params.get("department")
        hits = knowledge.search(text, principal, top_k=1)
        law = hits[0].doc if hits and hits[0].score >= GAP_LAW_MIN_SCORE else None
        lines = ["本市政务服务事项目录中暂时没有与您的问题对应的事项，我不能给出办理指南。"]
        if department:
            lines.append(f"可能负责的部门：**{identity.department_name(department)}**（可拨打 12345 转办核实）。")
        if law:
            lines.append(f"可能适用的法规：《{law}》。")
        lines.append("您的问题已记录，运营团队会据此补充服务目录。")
        record = unserved.record(text, principal.role.value, plan.mode or "", department, law)
        return SkillResult(
            sections=[Section(title="目录中暂无该事项", body="\n\n".join(lines), kind="gap")],
            departments=[department] if department else [],
            data={"unserved": record},
            next_actions=[NextAction(label="这件事归哪个部门管", value=f"{text}，归哪个部门管？")],
        )
