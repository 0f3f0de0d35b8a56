"""收文登记 of documents copied from a government website (the page's furniture around the document proper), of 纪要
whose mark names a meeting (……推进会 / ……协调会 is no organ), and of titled 命令. Synthetic documents of invented
places (枫川市, 松溪县, 白鹭区 — invented for these tests: neither the demo data nor the evaluation sets name them)."""

from __future__ import annotations

import io

import pytest
from docx import Document

from aicity.agents.office.registration import (
    FIELDS,
    RegistrationError,
    register_bytes,
    register_text,
    without_chrome,
)

PAGE_HEAD = ["首页 > 政务公开 > 通知公告", "当前位置：首页 » 信息公开 » 政策文件",
             "信息来源：枫川市人民政府网站  发布日期：2026-05-12  点击量：123", "【字体：大 中 小】  【打印本页】  【关闭窗口】"]
PAGE_FOOT = ["打印本页", "关闭窗口", "分享到：", "微信  微博  QQ空间", "责任编辑：王小五",
             "上一篇：关于开展春季义务植树活动的通知", "下一篇：关于调整部分公交线路的通告",
             "版权所有：枫川市人民政府办公室  主办单位：枫川市人民政府办公室", "备案号：枫ICP备12345678号  网站标识码：1234000001",
             "扫一扫在手机打开当前页"]
DOCUMENT = ["松溪县应急管理局", "松应急发〔2026〕14号", "松溪县应急管理局关于做好汛期山洪灾害防范工作的通知",
            "各乡镇人民政府，县直有关单位：",
            "为切实做好今年汛期山洪灾害防范工作，现将有关事项通知如下：",
            "一、请各乡镇于2026年5月30日前报送隐患排查情况。",
            "二、有关表格可在县人民政府网站“通知公告”栏目下载，来源于县防汛抗旱指挥部的预警信息须及时转发。",
            "附件：山洪灾害隐患排查表", "松溪县应急管理局", "2026年5月11日", "抄送：枫川市应急管理局。"]
WANT = {"kind": "通知", "issuer": ["松溪县应急管理局"], "doc_number": "松应急发〔2026〕14号",
        "title": "松溪县应急管理局关于做好汛期山洪灾害防范工作的通知", "recipients": ["各乡镇人民政府", "县直有关单位"],
        "date": "2026-05-11", "attachments": ["山洪灾害隐患排查表"], "cc": ["枫川市应急管理局"], "deadline": "2026-05-30"}


def _check(fields: dict, want: dict) -> None:
    for key, value in want.items():
        assert fields[key] == value, key
    text = repr({k: fields[k] for k in FIELDS})
    for chrome in ("网站", "浏览", "首页", "编辑", "上一篇", "ICP", "来源", "字体", "关闭"):
        assert chrome not in text, chrome


def test_a_page_copied_with_its_header_and_footer_registers_the_document_proper() -> None:
    reg = register_text("\n".join([*PAGE_HEAD, *DOCUMENT, *PAGE_FOOT]))
    _check(reg.fields(), WANT)
    # a body sentence that mentions a website is the document's own
    assert any("县人民政府网站" in line for line in reg.body)
    assert without_chrome([*PAGE_HEAD, *DOCUMENT, *PAGE_FOOT])[1] == [*PAGE_HEAD, *PAGE_FOOT]
    assert reg.notes["chrome"].startswith(f"略去网页内容 {len(PAGE_HEAD) + len(PAGE_FOOT)} 行")


def test_the_page_title_and_its_metadata_line_above_a_document_without_its_mark() -> None:
    # the page shows the title, then the metadata on one line, then the document from its number down
    text = ["松溪县应急管理局关于做好汛期山洪灾害防范工作的通知",
            "2026-05-12 09:30 | 来源：松溪县应急管理局 | 浏览次数：56", DOCUMENT[1], *DOCUMENT[3:], *PAGE_FOOT[:5]]
    reg = register_text("\n".join(text))
    _check(reg.fields(), WANT)


def test_a_disclosure_block_in_a_table_and_a_footer_are_no_fields_in_a_docx() -> None:
    document = Document()
    document.sections[0].header.paragraphs[0].text = "枫川市人民政府门户网站  首页 > 政府信息公开 > 部门文件"
    table = document.add_table(rows=3, cols=4)
    for row, cells in zip(table.rows, [("索引号", "11350100-2026-00123", "主题分类", "城乡建设"),
                                        ("发布机构", "枫川市住房和城乡建设局", "成文日期", "2026-05-08"),
                                        ("文号", "枫建〔2026〕7号", "发布日期", "2026-05-12")], strict=True):
        for cell, value in zip(row.cells, cells, strict=True):
            cell.text = value
    for line in ["枫川市白鹭区住房和城乡建设局文件", "白住建发〔2026〕3号", "关于开展城镇燃气用户安全检查的通知", "各街道办事处：",
                 "现将有关事项通知如下：请认真组织入户检查，于6月15日前反馈检查情况。", "枫川市白鹭区住房和城乡建设局",
                 "2026年5月8日"]:
        document.add_paragraph(line)
    document.sections[0].footer.paragraphs[0].text = "版权所有 © 枫川市人民政府  网站标识码：1234000001  枫公网安备 12345号"
    data = io.BytesIO()
    document.save(data)
    reg = register_bytes("page.docx", data.getvalue())
    _check(reg.fields(), {"kind": "通知", "issuer": ["枫川市白鹭区住房和城乡建设局"], "doc_number": "白住建发〔2026〕3号",
                          "title": "关于开展城镇燃气用户安全检查的通知", "recipients": ["各街道办事处"], "date": "2026-05-08",
                          "deadline": "2026-06-15"})
    assert "枫川市住房和城乡建设局" not in repr(reg.fields())


def test_a_source_line_is_a_hint_never_an_issuer() -> None:
    # no mark, no 署名, no organ in the title: the page's 来源 / 发布机构 does not become the issuer
    text = ["来源：松溪县教育局", "发布机构：松溪县教育局", "关于做好2026年中考考务工作的通知", "各初级中学：",
            "现将有关事项通知如下：请按要求做好考务工作。", "2026年6月1日"]
    reg = register_text("\n".join(text))
    assert reg.issuer == [] and reg.title == "关于做好2026年中考考务工作的通知" and reg.recipients == ["各初级中学"]
    assert "松溪县教育局" in reg.notes["source_hint"]


def test_a_disclosure_block_of_labelled_lines_above_the_document_is_no_field() -> None:
    # the 信息公开 block repeats the document's elements in its own form (a zero-padded date, another number)
    text = ["发文机关：松溪县水利局", "文号：松水〔2026〕99号", "成文日期：2026年05月09日", "标题：关于做好农村饮水安全工作的通知",
            "松溪县人民政府关于做好农村饮水安全工作的通知", "各乡镇人民政府：", "现将有关事项通知如下：请认真贯彻执行。",
            "松溪县人民政府", "2026年5月8日"]
    reg = register_text("\n".join(text))
    _check(reg.fields(), {"issuer": ["松溪县人民政府"], "doc_number": None, "date": "2026-05-08",
                          "title": "松溪县人民政府关于做好农村饮水安全工作的通知", "recipients": ["各乡镇人民政府"]})
    assert "水利局" not in repr(reg.fields())


def test_only_a_pages_furniture_is_no_document() -> None:
    with pytest.raises(RegistrationError) as err:
        register_text("\n".join(PAGE_HEAD + PAGE_FOOT))
    assert err.value.code == "not-a-document"


@pytest.mark.parametrize("line", [
    "请登录枫川市人民政府网站下载申报表。", "资金来源：县级财政预算安排", "时间：2026年4月1日上午9时",
    "一、来源于各乡镇的数据须经核实。", "PM2.5浓度>75微克每立方米时启动预警", "松溪县应急管理局",
])
def test_document_lines_are_not_chrome(line: str) -> None:
    assert without_chrome([line]) == ([line], [])


@pytest.mark.parametrize(("mark", "want"), [
    # a meeting's name on the line above 会议纪要, the office and date under it
    (["松溪县城市更新工作推进会", "会议纪要"], ["松溪县人民政府办公室"]),
    (["松溪县防汛工作协调会纪要"], ["松溪县人民政府办公室"]),
    (["松溪县乡村振兴专题会", "纪要"], ["松溪县人民政府办公室"]),
    # a meeting's name that begins with its organ names that organ
    (["松溪县交通运输局城乡公交一体化调度会", "会议纪要"], ["松溪县交通运输局"]),
    # bodies whose names end in a real organ word stay organs
    (["松溪县工商业联合会", "会议纪要"], ["松溪县工商业联合会"]),
    (["松溪县个体劳动者协会会议纪要"], ["松溪县个体劳动者协会"]),
])
def test_a_meeting_is_no_organ_in_a_minutes_mark(mark: list[str], want: list[str]) -> None:
    text = [*mark, "第3期", "松溪县人民政府办公室          2026年4月2日", "4月1日，召开会议，研究城乡建设有关工作。纪要如下：",
            "一、请县住房和城乡建设局牵头推进。"]
    reg = register_text("\n".join(text))
    assert reg.kind == "纪要" and reg.issuer == want and reg.doc_number == "第3期" and reg.date == "2026-04-02"
    assert reg.title and reg.title.endswith("纪要") and reg.title not in ("纪要", "会议纪要")


@pytest.mark.parametrize(("head", "title"), [
    (["枫川市人民政府 枫川警备区"], "枫川市人民政府 枫川警备区关于2026年度征兵工作的征兵命令"),
    (["松溪县人民政府"], "松溪县人民政府征兵命令"),
])
def test_a_titled_order_keeps_its_title(head: list[str], title: str) -> None:
    text = [*head, title, "为做好2026年度征兵工作，根据《中华人民共和国兵役法》，现命令如下：", "一、全县征兵工作于8月15日开始。",
            "县长  赵立新", "2026年7月1日"]
    reg = register_text("\n".join(text))
    assert reg.kind == "命令（令）" and reg.title == title.replace(" ", "")


@pytest.mark.parametrize("mark", ["松溪县人民政府令", "枫川市白鹭区人民政府令"])
def test_an_order_mark_has_no_title(mark: str) -> None:
    reg = register_text("\n".join([mark, "第5号", "《松溪县城市绿化管理办法》已经县人民政府常务会议通过，现予公布，自2026年8月1日起施行。",
                                   "县长  赵立新", "2026年7月1日"]))
    assert reg.kind == "命令（令）" and reg.title is None and reg.doc_number == "第5号"
