"""Targets a request names outright (a district, a device) and what the answer claims: the device named picks the
skill of its type within the decided mode, a district becomes the target of the skills that work on one, a text
handed over after a colon is worked on as its instruction says (its targets read from the whole request), a briefing
plans each report it asks for, and a skill that only said it cannot is not claimed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from aicity.agents.base import Section, SkillResult
from aicity.agents.city_safety.agent import command_asked
from aicity.agents.city_safety.emergency import guidance
from aicity.assistant.planner import EmbeddedPlanner
from aicity.assistant.router import Candidate, instructed
from aicity.assistant.service import assistant, declined
from aicity.assistant.targets import Devices, fits, is_named, named_targets, type_named
from aicity.core.db import use_database
from aicity.identity.models import Role
from aicity.identity.service import Principal

OPERATOR = Principal(Role.operator)
CITY_ACTION = frozenset({("city_safety", "close_gas_valve"), ("city_safety", "operate_flood_gate"),
                         ("city_safety", "set_signal_plan"), ("city_safety", "device_command")})


@pytest.fixture(scope="module")
def devices(city: Path) -> Devices:
    return Devices()


def test_a_device_is_named_by_its_id_or_its_name(devices: Devices) -> None:
    by_name = devices.named("关闭东湖区燃气阀门2号，准备抢修")
    assert by_name is not None and by_name.id == "sim-donghu-valve-02" and by_name.type == "Valve"
    by_id = devices.named("Please open sluice gate SIM-NANHU-GATE-02.")
    assert by_id is not None and by_id.id == "sim-nanhu-gate-02"
    # 路灯1号 is not 路灯12号
    twelve = devices.named("南湖区路灯12号不亮")
    assert twelve is not None and twelve.id == "sim-nanhu-light-12"
    assert devices.named("关闭阀门") is None and devices.named("sim-nowhere-valve-99") is None


@pytest.mark.parametrize(("text", "device"), [
    ("Close gas valve No. 3 in Donghu District", "sim-donghu-valve-03"),
    ("open floodgate No. 2 in Nanhu District", "sim-nanhu-gate-02"),
    ("Switch Jiangbin District signal controller 2 to the all-red plan", "sim-jiangbin-signal-02"),
    ("光谷区路登2号打开", "sim-guanggu-light-02"),  # a kind misspelt by one character
    ("Turn off street light No. 2 in Donghu District", "sim-donghu-light-02"),  # No. 2 is not 路灯12号
    ("东湖区的路灯2号关掉", "sim-donghu-light-02"),
    ("把东湖区幸福路2号旁边的路灯关掉", None),  # 幸福路2号 is an address, not the light's number
    ("光谷区路登22号打开", None),  # no such light
])
def test_a_device_is_named_by_its_parts(devices: Devices, text: str, device: str | None) -> None:
    found = devices.named(text)
    assert (found.id if found else None) == device


def test_named_targets_read_districts_and_devices_of_the_params_type(devices: Devices) -> None:
    assert named_targets("模拟五十年一遇暴雨下江滨区的积水", ("district",), devices) == {"district": "jiangbin"}
    assert named_targets("Simulate a storm in Xicheng District", ("district",), devices) == {"district": "xicheng"}
    assert named_targets("模拟暴雨", ("district",), devices) == {}
    valve = devices.named("东湖区燃气阀门2号")
    assert valve is not None
    assert fits("valve", valve) == 2 and fits("device", valve) == 1 and fits("gate", valve) == 0
    assert named_targets("东湖区燃气阀门2号关掉", ("gate",), devices) == {}
    assert is_named("district") and is_named("valve") and not is_named("item")


@pytest.mark.parametrize(("text", "skill", "param", "device"), [
    ("申请关闭 sim-guanggu-valve-03", "close_gas_valve", "valve", "sim-guanggu-valve-03"),
    ("把北港区信号机2号切到全红", "set_signal_plan", "signal", "sim-beigang-signal-02"),
    ("关掉南湖区路灯5号", "device_command", "device", "sim-nanhu-light-05"),
    ("打开江滨区排水闸门1号", "operate_flood_gate", "gate", "sim-jiangbin-gate-01"),
])
def test_a_device_named_outright_picks_the_skill_of_its_type(city: Path, text: str, skill: str, param: str,
                                                             device: str) -> None:
    found = assistant().router.route(text, OPERATOR, CITY_ACTION, "city_action")
    assert found is not None and (found.agent, found.skill) == ("city_safety", skill)
    assert found.params.get(param) == device and found.by == "named"


@pytest.mark.parametrize(("text", "params"), [
    ("把解放大道的路灯关掉", {"command": "off"}),  # a kind of device, none of them named: the command still
    ("光谷区路灯3号关一下", {"device": "sim-guanggu-light-03", "district": "guanggu", "command": "off"}),
    ("东湖区路灯2号太暗了，开起来", {"device": "sim-donghu-light-02", "district": "donghu", "command": "on"}),
    ("启动南湖泵站两台水泵抽水", {"district": "nanhu", "command": "on"}),
    ("南湖区路灯5号", {"device": "sim-nanhu-light-05", "district": "nanhu"}),  # no command asked: none made up
])
def test_a_device_command_keeps_what_the_request_asks_done(city: Path, text: str, params: dict[str, str]) -> None:
    found = assistant().router.route(text, OPERATOR, CITY_ACTION, "city_action")
    assert found is not None and found.skill == "device_command" and found.params == params


def test_the_command_is_the_one_the_device_type_takes(city: Path) -> None:
    assert command_asked("关掉东湖区燃气阀门2号", {"device": "sim-donghu-valve-02"}) == {"command": "close"}
    assert command_asked("turn off the street light", {}) == {"command": "off"}
    assert command_asked("先关掉再打开", {}) == {}  # two commands: none chosen
    assert command_asked("路灯3号怎么样了", {"device": "sim-guanggu-light-03"}) == {}


@pytest.mark.parametrize(("text", "command"), [
    ("路灯2号不要关掉", None),  # a negated command is none
    ("东湖区路灯2号别关了", None),
    ("路灯3号白天还开着", None),  # a state, not a command
    ("the valve is closed", None),  # English words whole: closed, reopen, shutdown are no command
    ("reopen the valve later", None),
    ("pump shutdown report", None),
    ("shut valve 3", "off"),
    ("路灯2号不亮了，打开", "on"),
])
def test_a_negation_or_a_state_is_no_command(text: str, command: str | None) -> None:
    assert command_asked(text, {}) == ({"command": command} if command else {})


def test_a_weight_0_skill_takes_no_target_from_a_route_that_shares_nothing(
        city: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    router = assistant().router
    key = ("city_ops", "department_duty")  # a skill whose target (a department) routes carry, weighted 0 here
    monkeypatch.setitem(router.skills, key, replace(router.skills[key], route_weight=0.0))
    split = {("department", "water"): 0.4, ("department", "power"): 0.3, ("department", "gas"): 0.3}
    monkeypatch.setattr(router, "_votes", lambda *_: (split, 0.95))
    found = router._resolve(Candidate(*key, {}, 0.0, ""), np.zeros(len(router.entries)), OPERATOR, "duty", "值班")
    assert found.params == {}  # no department taken from a route scoring 0, nor from votes that disagree


@pytest.mark.parametrize(("votes", "nearest", "given"), [
    ({("department", "water"): 0.9, ("department", "power"): 0.1}, 0.95, {"department": "water"}),
    ({("department", "water"): 0.9, ("department", "power"): 0.1}, 0.8, {}),  # the nearest request is not alike
    ({("department", "water"): 0.4, ("department", "power"): 0.3, ("department", "gas"): 0.3}, 0.95, {}),  # disagree
])
def test_strong_votes_give_the_target_no_route_found(city: Path, monkeypatch: pytest.MonkeyPatch,
                                                      votes: dict, nearest: float, given: dict) -> None:
    router = assistant().router
    key = ("city_ops", "department_duty")
    monkeypatch.setattr(router, "_votes", lambda *_: (votes, nearest))
    found = router._resolve(Candidate(*key, {}, 0.0, ""), np.zeros(len(router.entries)), OPERATOR, "duty", "值班")
    assert found.params == given


def test_a_database_without_the_iot_tables_still_reads_the_command(blank_database: tuple[str, str]) -> None:
    use_database(blank_database[1])  # no tables at all: the demo fleet says the device's type
    assert command_asked("关掉东湖区燃气阀门2号", {"device": "sim-donghu-valve-02"}) == {"command": "close"}


def test_a_skill_chosen_only_by_its_cue_is_not_chosen_by_its_routes(city: Path) -> None:
    router = assistant().router
    status = frozenset({("governance", "event_status"), ("governance", "event_action")})
    official = Principal(Role.official)
    asked = router.route("帮我查下evt_0099", official, status, "event_status")
    assert asked is not None and asked.skill == "event_status"
    acted = router.route("evt_0099 受理", official, status, "event_status")
    assert acted is not None and acted.skill == "event_action" and acted.by == "cue"


@pytest.mark.parametrize(("text", "skill", "district"), [
    ("南湖区的排水闸门都关上", "city_safety.operate_flood_gate", "nanhu"),
    ("北港区报警的那处燃气阀门马上关闭", "city_safety.close_gas_valve", "beigang"),
    ("Set the traffic signals in Xicheng District to the all-red plan", "city_safety.set_signal_plan", "xicheng"),
    ("调三台移动泵车到东湖区易涝点待命", "simulation.deploy_pumps", "donghu"),
])
def test_a_command_names_the_district_it_is_for(city: Path, text: str, skill: str, district: str) -> None:
    only = CITY_ACTION | {("simulation", "deploy_pumps")}
    found = assistant().router.route(text, OPERATOR, only, "city_action")
    assert found is not None and f"{found.agent}.{found.skill}" == skill and found.params.get("district") == district


def test_without_a_device_the_mode_routes_as_before(city: Path) -> None:
    found = assistant().router.route("把江滨区的信号配时切换到内涝绕行", OPERATOR, CITY_ACTION, "city_action")
    assert found is not None and found.skill == "set_signal_plan" and found.by != "named"


def test_a_district_becomes_the_target_of_a_skill_that_works_on_one(city: Path) -> None:
    result = assistant().ask("模拟一下二十年一遇的暴雨，南湖区哪些路会积水", Principal(Role.official))
    plan = [t for t in result.skills]
    assert result.mode == "simulation" and [f"{s.agent}.{s.skill}" for s in plan] == ["simulation.flood_simulation"]


def test_an_instruction_before_a_colon_is_read_apart_from_the_text() -> None:
    assert instructed("把这段话改正式一点：我们想要点钱修路") == ("把这段话改正式一点", "我们想要点钱修路")
    assert instructed("营业执照怎么办") is None
    assert instructed("：只有冒号后的内容") is None and instructed("登记收文：") is None


def test_a_skill_that_only_says_it_cannot_is_not_claimed() -> None:
    refusal = Section(title="暂不支持的推演", body="目前可以推演暴雨内涝", kind="refusal")
    assert declined(SkillResult(sections=[refusal]))
    assert not declined(SkillResult(sections=[refusal], data={"job_id": "job_1"}))  # it ran and failed
    assert not declined(SkillResult(sections=[Section(title="结果", body="…")]))
    assert not declined(SkillResult())


def test_a_simulation_no_agent_can_run_claims_no_skill(city: Path) -> None:
    result = assistant().ask("推演一下化工园区燃气管道泄漏后的扩散范围", Principal(Role.official))
    assert result.mode == "simulation"
    assert result.skills == [] and "暂不支持" in result.answer


@pytest.mark.parametrize(("text", "hazard"), [
    ("车在下穿通道熄火了，积水快到车窗了", "dangerous_water"),  # 熄火 is an engine stalling, not a fire
    ("路面突然塌了个大坑，一辆电动车卡在里面出不来", "road_collapse"),  # stuck in a caved-in road: the road's
    ("楼下厨房着火了", "fire"),
])
def test_the_hazard_is_the_danger_not_a_word_in_passing(text: str, hazard: str) -> None:
    assert guidance().hazard(None, text).id == hazard


def test_a_safety_briefing_on_one_district(city: Path) -> None:
    briefing = frozenset({("city_safety", "safety_situation"), ("city_safety", "waterlogging_watch"),
                          ("governance", "hotspot_insight")})
    found = assistant().router.route("江滨区今天的安全态势怎么样", Principal(Role.official), briefing, "briefing")
    assert found is not None and found.skill == "safety_situation" and found.params == {"district": "jiangbin"}
    result = assistant().ask("江滨区今天的安全态势怎么样", Principal(Role.official))
    assert "城市安全态势（江滨区）" in result.answer


def test_a_target_named_after_the_colon_is_the_requests(city: Path) -> None:
    bot = assistant()
    simulation = bot.understanding.skills_of["simulation"]
    plan = EmbeddedPlanner(bot.router).plan("暴雨内涝模拟：南湖区，降雨强度按去年7月那场来", Principal(Role.official),
                                            simulation, "simulation")
    assert [(t.skill, t.params.get("district")) for t in plan.subtasks] == [("flood_simulation", "nanhu")]


@pytest.mark.parametrize(("text", "skills"), [
    ("早上好，给我看看今天的安全态势和热点问题", {"safety_situation", "hotspot_insight"}),  # both asked in one clause
    ("Give me today's city briefing — any critical alarms open right now?", {"safety_situation", "hotspot_insight"}),
    ("今天全市运行情况怎么样，出个日报", {"hotspot_insight"}),
    ("城市安全态势怎么样，还有几起燃气泄漏没处理完", {"safety_situation"}),
])
def test_a_briefing_plans_every_report_it_asks_for(city: Path, text: str, skills: set[str]) -> None:
    bot = assistant()
    plan = EmbeddedPlanner(bot.router).plan(text, Principal(Role.official), bot.understanding.skills_of["briefing"],
                                            "briefing")
    assert {t.skill for t in plan.subtasks} == skills


@pytest.mark.parametrize(("text", "cued"), [
    ("南湖泵站运行情况怎么样", False),  # a facility's running figures are data, not event hotspots
    ("What is the water level trend at Nanhu pump station", False),  # a cue word alone is not enough
    ("这周有什么大事", False),
    ("最近一周投诉最多的问题是什么", True),
    ("今天全市的城市运行日报", True),
])
def test_hotspots_are_cued_by_events_not_by_a_cue_word_alone(city: Path, text: str, cued: bool) -> None:
    found = assistant().router.cued_skills(text, Principal(Role.official))
    assert (("governance", "hotspot_insight") in found) is cued


@pytest.mark.parametrize(("text", "first"), [
    ("上半年政务服务大厅办件量同比增长多少", ("city_ops", "service_stats")),  # the services' own figures
    ("本季度各区火灾隐患数量排名", None),  # a ranking not about the services: no service figures by a cue
    ("南湖区噪声类事件在全部事件里的比例是多少", ("data_analyst", "data_ask")),  # a share is analysed
    ("本月各区井盖事件数量", ("governance", "event_query")),
    ("How many streetlight events are open in Donghu?", ("governance", "event_query")),
])
def test_the_data_skills_are_told_apart_by_their_cues(city: Path, text: str, first: tuple[str, str] | None) -> None:
    data = frozenset({("city_ops", "service_stats"), ("data_analyst", "data_ask"), ("governance", "event_query"),
                      ("governance", "hotspot_insight")})
    found = assistant().router.cued_skills(text, Principal(Role.official), data)
    if first is None:
        assert ("city_ops", "service_stats") not in found
    else:
        assert found and found[0] == first


@pytest.mark.parametrize(("text", "skill"), [
    ("登记一份收文：市水务局关于汛前检查的通知", "register"),
    ("这份来函帮我登记，再提个承办意见", "register"),
    ("Search the incoming documents about road repairs", "search"),
    ("Look up the register for documents about bridges", "search"),
    ("Please register this incoming letter", "register"),
])
def test_office_register_and_search_are_cued(city: Path, text: str, skill: str) -> None:
    office = frozenset((("office", s) for s in ("draft", "polish", "summarize", "register", "search")))
    found = assistant().router.cued_skills(text, Principal(Role.official), office)
    assert found and found[0] == ("office", skill)


@pytest.mark.parametrize(("text", "department"), [
    ("楼下烧烤店排油烟熏得我们没法开窗，该找哪个部门", "ecology"),  # 餐饮油烟: restaurant fumes (not the police's 扰民)
    ("邻居家的狗天天乱叫，归谁管", "public_security"),  # 犬只扰民
    ("十字路口的红绿灯不亮了，找谁", "traffic_police"),  # 交通信号灯故障
])
def test_a_duty_question_put_as_a_report_goes_to_the_department_its_event_category_names(
        city: Path, text: str, department: str) -> None:
    found = assistant().router.route(text, Principal(Role.citizen), frozenset({("city_ops", "department_duty")}), "duty")
    assert found is not None and found.params.get("department") == department


def test_lighting_words_name_the_kind_of_device() -> None:
    found = type_named("把江滨区的景观照明关掉")
    assert found is not None and found.type == "Streetlight"
