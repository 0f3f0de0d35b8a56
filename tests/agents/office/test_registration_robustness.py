"""收文登记 on hostile or unusual input: pasted text that could make a pattern take exponential or quadratic time, body
lines that look like a web page's furniture, a city's organ beside its district's, 居委会-like organs, a vehicle's
登记, a mark with nothing under it and text over the size limit. Synthetic documents of the demo city 临川."""

from __future__ import annotations

import time

import pytest

from aicity.agents.office.registration import (
    MAX_CHARS,
    RegistrationError,
    _chrome,
    _organ_like,
    _organs_line,
    register_text,
    suggest_departments,
    without_chrome,
)


@pytest.mark.parametrize("line", ["大 " * 14 + "x", "大 " * 3000 + "x", "ab  >  " * 8 + "x" * 20,
                                  "ab  >  " * 3000 + "x" * 20, "首页 " * 3000 + "x"])
def test_lines_that_almost_look_like_buttons_or_breadcrumbs_are_read_in_linear_time(line: str) -> None:
    started = time.perf_counter()
    assert not _chrome(line)
    assert time.perf_counter() - started < 1  # was 150 s / 36 s for the shortest of them (exponential)


@pytest.mark.parametrize("line", ["【打印】【关闭】", "大 中 小", "微信  微博  QQ空间", "首页 > 政务公开 > 通知公告",
                                  "当前位置：首页 » 信息公开 » 政策文件", "首页>政务公开>通知公告"])
def test_buttons_and_breadcrumbs_are_still_chrome(line: str) -> None:
    assert _chrome(line)


def test_a_long_last_paragraph_is_no_line_of_organs() -> None:
    paragraph = "项目用地已取得市自然资源和规划局用地预审意见，周边绿化已征求园林部门意见。" * 1100
    assert not _organs_line(paragraph.replace("，", "").replace("。", ""))
    text = ["临川市住房和城乡建设局", "关于城东安置房项目用地的请示", "临川市人民政府：", paragraph + "妥否，请批示",
            "2026年3月2日"]
    started = time.perf_counter()
    reg = register_text("\n".join(text))
    assert time.perf_counter() - started < 3  # was 14 s (quadratic in the paragraph's length)
    assert reg.date == "2026-03-02"


KEPT = ["（二）线上申报。申请人可在手机“临川通”APP上提交材料；", "2.扫一扫下方二维码即可在线报名",
        "（一）依法查处侵犯著作权、版权所有者权益的行为；", "审核：各区民政部门负责初审，市民政局负责复审",
        "来源：市级财政专项资金", "发布时间：每周一上午9时", "联系人：张三  联系电话：0791-86000000  审核：李四",
        "互联网 + 政务服务", "物联网 感知设备"]
PAGE_HEAD = ["首页 > 政务公开 > 通知公告", "来源：临川市民政局  发布时间：2026-05-12 09:30  浏览次数：88"]
PAGE_FOOT = ["打印本页", "关闭窗口", "版权所有：临川市人民政府办公室", "扫一扫在手机打开当前页"]


def test_body_lines_that_look_like_a_pages_furniture_are_kept() -> None:
    document = ["临川市民政局", "临民发〔2026〕9号", "关于做好2026年度困难群众临时救助工作的通知", "各区民政局：",
                "现将有关事项通知如下：", *KEPT, "请于2026年6月30日前报送工作总结。", "临川市民政局", "2026年5月10日"]
    lines = [*PAGE_HEAD, *document, *PAGE_FOOT]
    kept, dropped = without_chrome(lines)
    assert dropped == [*PAGE_HEAD, *PAGE_FOOT]
    reg = register_text("\n".join(lines))
    for line in KEPT:
        assert line in reg.body, line
    assert reg.text == "\n".join(lines)  # the text as given, the page's furniture too
    assert reg.issuer == ["临川市民政局"] and reg.deadline == "2026-06-30"


@pytest.mark.parametrize("organs", [("临川市人民政府", "临川市东湖区人民政府"), ("临川市教育局", "临川市东湖区教育局")])
def test_a_citys_organ_and_its_districts_stay_two_issuers(organs: tuple[str, str]) -> None:
    text = ["  ".join(organs), "关于联合开展2026年度校园安全检查的通知", "各学校：", "现将有关事项通知如下：一、检查于5月进行。",
            *organs, "2026年4月20日"]
    reg = register_text("\n".join(text))
    assert reg.issuer == list(organs)


@pytest.mark.parametrize(("name", "organ"), [
    ("临川市东湖区沙湖街道东风社区居委会", True), ("临川市白石镇青山村村委会", True), ("临川市马拉松赛组委会", True),
    ("临川市人民政府办公室", True), ("临川市人民政府研究室", True), ("临川市工商联", True), ("临川市文联", True),
    ("临川市侨联", True), ("临川市残疾人联合会", True),
    ("市政府三楼第一会议室", False), ("互联", False), ("物联", False)])
def test_which_endings_make_an_organ(name: str, organ: bool) -> None:
    assert _organ_like(name) is organ


def test_a_vehicles_mortgage_registration_is_no_natural_resources_matter() -> None:
    departments = suggest_departments("关于推行机动车抵押登记网上办理的通知", "", [], [])
    assert "natural_resources" not in departments
    assert "natural_resources" in suggest_departments("关于优化不动产抵押登记办理流程的通知", "", [], [])


def test_an_order_mark_with_nothing_under_it_does_not_crash() -> None:
    reg = register_text("临川市人民政府令")
    assert reg.kind == "命令（令）" and reg.title is None


def test_text_over_the_size_limit_is_refused_not_cut() -> None:
    with pytest.raises(RegistrationError) as caught:
        register_text("临川市人民政府\n" + "正文。" * (MAX_CHARS // 3 + 1))
    assert caught.value.code == "too-large" and str(MAX_CHARS) in str(caught.value)
