"""How a published co-created agent competes for the super assistant's requests (agents/studio/runtime.py):
in its advice modes it takes a request whose nearest route by meaning is its own (an example, its name or
description; an English request measured against the other skills' Chinese routes), over the generic legal
answer's cues; an unsure request goes to it instead of a clarifying question when its mode is one of the two
likeliest; a request read confidently as a service, a duty or a bundle whose legal reading is not unlikely goes
to it when its route is nearest; a report or an emergency is never taken, nor a service application whose
legal reading is unlikely, even when it names the agent's cue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aicity.agents.studio import service, templates
from aicity.assistant.modes import ModeGuess
from aicity.assistant.service import Assistant, assistant
from aicity.core.errors import Problem
from aicity.identity.models import Role
from aicity.identity.service import Principal

ADMIN = Principal(role=Role.admin, department="gov_office", key_id="studio-routing-admin")
CITIZEN = Principal(role=Role.citizen)


@pytest.fixture(scope="module")
def published(city: Path) -> Iterator[Assistant]:
    """The demo city's ten co-created agents published for the whole city, the assistant's vectors ready."""
    definitions = templates.demo_definitions()
    for definition in definitions:
        try:
            service.create(definition, ADMIN)
        except Problem as exc:  # made by an earlier test of the session: this definition as its new version
            assert exc.status == 409
            service.save(definition["id"], definition, ADMIN)
        service.publish(definition["id"], ADMIN, visibility="city")
    bot = assistant()
    bot.router.wait_dense()
    if bot.understanding.classifier.vectors is not None:
        bot.understanding.classifier.vectors.wait()
    yield bot
    for definition in definitions:  # the other tests' routing is the built-in agents'
        service.withdraw(definition["id"], ADMIN)


def _plan(bot: Assistant, text: str) -> tuple[str | None, str | None, list[str]]:
    plan = bot._plan(text, CITIZEN)
    return plan.mode, plan.reply, [f"{t.agent}.{t.skill}" for t in plan.subtasks]


def test_a_published_agents_name_and_description_are_routing_data(published: Assistant) -> None:
    texts = {e.text for e in published.router.entries if e.agent == "noise_helper"}
    noise = next(d for d in templates.demo_definitions() if d["id"] == "noise_helper")
    assert texts == {*noise["examples"], noise["name"], noise["description"]}


def test_nearest_takes_a_slack_and_a_lead(published: Assistant) -> None:
    text = "酒吧让十六岁的孩子进去喝酒违法吗"
    assert published.router.nearest(text, CITIZEN, "legal", slack=1.0) is not None  # within any distance
    assert published.router.nearest(text, CITIZEN, "legal", slack=-1.0) is None  # no route leads by a whole cosine
    # 消费维权助手 serves citizens: for anyone else its own example is nearest to another specialist or to none
    own = published.router.nearest("商家欺诈消费者怎么赔偿", CITIZEN, "legal")
    assert own is not None and own.agent == "consumer_rights"
    other = published.router.nearest("商家欺诈消费者怎么赔偿", Principal(role=Role.operator), "legal", slack=1.0)
    assert other is None or other.agent != "consumer_rights"


def test_the_nearest_specialist_outranks_the_generic_legal_answer(published: Assistant) -> None:
    # 违法吗 is a cue of the generic legal answer; the request's nearest written neighbour is an example of
    # 未成年人保护助手 (向未成年人卖烟酒怎么处罚)
    text = "酒吧让十六岁的孩子进去喝酒违法吗"
    assert _plan(published, text) == ("legal", None, ["minor_protection.ask"])
    near = published.router.nearest(text, CITIZEN, "legal")
    assert near is not None and near.agent == "minor_protection" and near.by == "nearest"
    assert published.router.nearest(text, CITIZEN, "report") is None  # not one of its advice modes


def test_an_unsure_request_goes_to_the_specialist_instead_of_a_question(published: Assistant) -> None:
    text = "小孩玩网游一天能玩多久"
    guess = published.understanding.guess(text)
    assert guess.confidence < 0.46 and "legal" in guess.options()[:2]  # unsure: it would have asked
    assert _plan(published, text) == ("legal", None, ["minor_protection.ask"])


@pytest.mark.parametrize(("text", "agent"), [
    ("What does the law say about noise from night-time construction?", "noise_helper"),  # a decided legal request
    ("Is a shop allowed to sell cigarettes to a fifteen-year-old?", "minor_protection"),  # unsure: no question back
])
def test_an_english_request_reaches_an_agent_with_chinese_examples(published: Assistant, text: str,
                                                                    agent: str) -> None:
    # measured against the other skills' Chinese routes, not the English ones every English request is nearer
    mode, reply, skills = _plan(published, text)
    assert (mode, reply, skills) == ("legal", None, [f"{agent}.ask"])


@pytest.mark.parametrize(("text", "agent"), [
    ("楼下KTV每天半夜放歌，噪声方面有什么规定", "noise_helper"),
    ("包工头欠了我们三个月工资跑了，总包单位要不要负责", "wage_arrears"),
])
def test_a_rule_question_read_as_a_service_reaches_the_specialist_but_a_report_is_filed(
        published: Assistant, text: str, agent: str) -> None:
    def plan(read_as: str, legal: float) -> tuple[str | None, list[str]]:  # read confidently, legal `legal` likely
        guess = ModeGuess(read_as, 1 - legal, ((read_as, 1 - legal), ("legal", legal)))
        got = published.understanding.plan(text, CITIZEN, published.planner, guess)
        return got.mode, [f"{t.agent}.{t.skill}" for t in got.subtasks]

    assert plan("duty", 0.3) == ("legal", [f"{agent}.ask"])
    assert plan("duty", 0.1)[1] != [f"{agent}.ask"]  # the specialist's reading is unlikely
    # a citizen's report is filed as an event whatever its topic: never taken by a specialist
    assert plan("report", 0.3) == ("report", ["governance.report_event"])


@pytest.mark.parametrize(("text", "mode", "skill"), [
    ("人行道上的盲道被共享单车占了", "report", "governance.report_event"),  # 盲道 is the agent's cue, still a report
    ("家里燃气管道漏气了，味道很大", "emergency", "city_safety.emergency"),
    ("公积金提取要带哪些材料去办", "service_guide", "gov_service.guide"),
])
def test_reports_emergencies_and_services_are_not_taken(published: Assistant, text: str, mode: str,
                                                        skill: str) -> None:
    got_mode, _, skills = _plan(published, text)
    assert got_mode == mode and skills == [skill], (got_mode, skills)
