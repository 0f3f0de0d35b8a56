"""The judge of `aicity eval sections`: which sections of an answer do not answer the request."""

from __future__ import annotations

from aicity.ops.evaluation import off_request_sections

SERVICES = {"失业保险金申领": "hrss.unemployment_benefit", "最低生活保障申请": "civil_affairs.minimum_living_allowance"}
CASE = {"q": "我失业了怎么领失业金", "services": ["hrss.unemployment_benefit"], "policies": ["职业技能培训补贴"]}


def section(kind: str, title: str, body: str = "…") -> dict:
    return {"kind": kind, "title": title, "body": body}


def test_the_asked_service_with_a_fitting_policy_is_clean() -> None:
    answer = [section("overview", "失业保险金申领"), section("materials", "所需材料"),
              section("policies", "可享受的扶持政策", "- **职业技能培训补贴**：…")]
    assert off_request_sections(answer, CASE, SERVICES) == []


def test_a_second_service_and_everything_under_it_is_off_request() -> None:
    answer = [section("overview", "失业保险金申领"), section("overview", "最低生活保障申请"),
              section("conditions", "申请条件")]
    assert off_request_sections(answer, CASE, SERVICES) == [
        "service civil_affairs.minimum_living_allowance", "conditions of civil_affairs.minimum_living_allowance"]


def test_a_policy_that_does_not_fit_is_off_request() -> None:
    answer = [section("overview", "失业保险金申领"),
              section("policies", "可享受的扶持政策", "- **职业技能培训补贴**：…\n- **一次性创业补贴**：…")]
    assert off_request_sections(answer, CASE, SERVICES) == ["policy 一次性创业补贴"]


def test_a_gap_answered_with_the_nearest_item_is_off_request() -> None:
    gap = {"q": "怎么办理护照", "services": [], "policies": []}
    assert off_request_sections([section("overview", "最低生活保障申请")], gap, SERVICES) == [
        "service civil_affairs.minimum_living_allowance"]
    assert off_request_sections([section("gap", "本平台暂未收录该事项")], gap, SERVICES) == []
