"""Summaries, polishing and revision of official text (embedded rules, no model configured)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aicity.agents.office import textwork
from aicity.agents.office.textwork import TextWorkError

DEV = Path(__file__).parent / "registration_dev"


def test_a_summary_keeps_the_point_of_the_kind_and_leaves_the_formulae_out() -> None:
    out = textwork.summarize_embedded((DEV / "d03.txt").read_text(encoding="utf-8"))
    assert out["kind"] == "报告" and "大气污染防治" in out["title"]
    assert "查处排污违法案件35件" in out["summary"] and "特此报告" not in out["summary"]
    assert "联系人" not in out["summary"] and len(out["summary"]) <= textwork.SUMMARY_CHARS + 60
    assert "大气污染" in out["keywords"] and "民政" not in out["keywords"]


def test_a_notice_summary_has_its_requirement_and_deadline() -> None:
    text = ("江城市人民政府办公室关于做好汛期城市内涝防范工作的通知\n各区人民政府，市政府各部门：\n"
            "为切实做好今年汛期城市内涝防范工作，现就有关事项通知如下。\n一、加强排水设施巡查。\n"
            "市水务局要组织对易涝点开展全面排查。\n二、请各单位于2026年4月10日前将防汛责任人名单报送市水务局。\n"
            "特此通知。\n江城市人民政府办公室\n2026年3月5日\n")
    out = textwork.summarize_embedded(text)
    assert "4月10日前" in out["summary"] and out["summary"].startswith("《")


def test_plain_text_without_a_title_is_summarised_too() -> None:
    out = textwork.summarize_embedded("今年全市共完成老旧小区改造120个。群众满意度明显提升。明年将继续推进加装电梯。")
    assert "120" in out["summary"] and out["title"] is None


def test_polish_rewrites_into_the_official_register_and_lists_each_change() -> None:
    out = textwork.polish_embedded("希望大家赶紧把材料报上来,一定要在2026.4.10前搞定!!嗯，这事儿挺重要的吧。"
                                   "百分之十五的单位还没有弄好。会议定于5月8号召开(暂定)。特此通知")
    text = out["text"]
    assert text.startswith("请各单位尽快") and "报送" in text and "务必" in text and "2026年4月10日" in text
    assert "15%" in text and "5月8日" in text and "（暂定）" in text and text.endswith("特此通知。")
    assert "!" not in text and "嗯" not in text and "吧" not in text and "," not in text
    rules = {c["rule"] for c in out["changes"]}
    assert {"request 请示/要求用语", "register 口语改书面语", "fixed-phrase 固定用语", "filler 删除口语词"} <= rules
    assert any(c["before"] == "2026.4.10" and c["after"] == "2026年4月10日" for c in out["changes"])


def test_polishing_formal_text_changes_nothing() -> None:
    formal = "请各单位于2026年4月10日前报送防汛责任人名单。妥否，请批示。"
    out = textwork.polish_embedded(formal)
    assert out["text"] == formal and out["changes"] == []


def test_revise_applies_each_instruction_and_gives_a_unified_diff() -> None:
    text = (DEV / "d03.txt").read_text(encoding="utf-8")
    out = textwork.revise(text, "把李明改为王芳；删除特此报告。")
    assert "王芳" in out["text"] and "李明" not in out["text"] and "特此报告" not in out["text"]
    assert out["diff"].startswith("--- 原文\n+++ 修改后\n") and "-特此报告。" in out["diff"] and "+（联系人：王芳" in out["diff"]
    titled = textwork.revise(text, "标题改为江城市生态环境局关于大气污染防治工作的报告")
    assert "江城市生态环境局关于大气污染防治工作的报告" in titled["text"].splitlines()
    added = textwork.revise("请各单位做好准备。", "在做好准备后加上，确保万无一失")
    assert added["text"] == "请各单位做好准备，确保万无一失。"
    formal = textwork.revise("希望大家赶紧报上来。", "改得正式一点")
    assert formal["text"] == "请各单位尽快报送。"


@pytest.mark.parametrize(("call", "message"), [
    (lambda: textwork.summarize_embedded(" "), "为空"),
    (lambda: textwork.polish_embedded(""), "为空"),
    (lambda: textwork.polish_embedded("字" * (textwork.MAX_CHARS + 1)), "过长"),
    (lambda: textwork.revise("请各单位做好准备。", "把张三改为李四"), "没有「张三」"),
    (lambda: textwork.revise("请各单位做好准备。", "写得感人一些"), "没能理解"),
    (lambda: textwork.revise("请各单位做好准备。", " "), "为空"),
])
def test_bad_input_is_a_clear_error(call, message: str) -> None:  # noqa: ANN001 - a lambda
    with pytest.raises(TextWorkError, match=message):
        call()
