"""收文登记's 发文机关: found by the layout (版头's 发文机关标志, the 署名, a 纪要 / 令 mark, the title) and a public
body's general name structure, not by a list of known names. Synthetic documents of places no demo data names
(临川市, 湘南省, 青山县, 湘西土家族苗族自治州 — invented for these tests) and of unusual levels."""

from __future__ import annotations

import io

import pytest
from docx import Document

from aicity.agents.office.registration import register_bytes, register_text

BODY = "为切实做好有关工作，现将有关事项通知如下：\n一、请各单位认真组织实施。\n二、请于5月20日前报送工作情况。"


def notice(head: list[str], sign: list[str], *, number: str = "临发〔2026〕5号", title: str = "关于做好有关工作的通知",
           recipients: str = "各有关单位：", cc: str = "抄送：湘南省应急管理厅，临川市财政局。") -> str:
    return "\n".join([*head, number, title, recipients, BODY, *sign, "2026年4月28日", cc])


@pytest.mark.parametrize(("head", "sign", "want"), [
    # a mark wrapped inside a name (a wide mark in a narrow column, a PDF's lines), no 署名 to fall back on
    (["湘南省人民政府国有资产监督管理委", "员会办公室文件"], [], ["湘南省人民政府国有资产监督管理委员会办公室"]),
    (["临川市人力资源和社会保障", "局文件"], [], ["临川市人力资源和社会保障局"]),
    (["临川市人民政", "府文件"], [], ["临川市人民政府"]),
    # a joint mark on one line, wrapped inside the second name
    (["临川市人力资源和社会保障局 临川", "市财政局 文件"], [], ["临川市人力资源和社会保障局", "临川市财政局"]),
    # two organs a line, four in all; ministries one a line (a complete name on its own line is a new organ)
    (["临川市市场监督管理局 临川市公安局", "临川市卫生健康委员会 临川市农业农村局"], [],
     ["临川市市场监督管理局", "临川市公安局", "临川市卫生健康委员会", "临川市农业农村局"]),
    (["教育部", "财政部", "人力资源社会保障部"], [], ["教育部", "财政部", "人力资源社会保障部"]),
    # levels: 县, 镇, 自治州, 街道, 开发区, 党委 offices, 党组, 研究室, 国家… city branches
    (["青山县人民政府办公室文件"], [], ["青山县人民政府办公室"]),
    (["青山县白石镇人民政府"], ["青山县白石镇人民政府"], ["青山县白石镇人民政府"]),
    (["湘西土家族苗族自治州人民政府文件"], [], ["湘西土家族苗族自治州人民政府"]),
    (["临川市高新技术产业开发区管理委员会文件"], [], ["临川市高新技术产业开发区管理委员会"]),
    (["中共临川市委办公室 临川市人民政府办公室 文件"], [], ["中共临川市委办公室", "临川市人民政府办公室"]),
    (["中共临川市教育局党组文件"], [], ["中共临川市教育局党组"]),
    (["中共临川市委政策研究室"], ["中共临川市委政策研究室"], ["中共临川市委政策研究室"]),
    (["国家金融监督管理总局临川监管分局"], [], ["国家金融监督管理总局临川监管分局"]),
    # the 署名 and the mark reconciled: a name in its fuller form, a seal's note dropped, a short name matched
    (["碧湖区清水街道办事处文件"], ["临川市碧湖区清水街道办事处"], ["临川市碧湖区清水街道办事处"]),
    (["临川市教育局文件"], ["市教育局"], ["临川市教育局"]),
    (["临川市教育局", "临川市财政局"], ["临川市教育局（印）    临川市财政局（印）"], ["临川市教育局", "临川市财政局"]),
    (["临川市科学技术协会", "临川市教育局"], ["临川市科协    临川市教育局"], ["临川市科学技术协会", "临川市教育局"]),
    # a joint issuance's mark showing its 主办机关 only: the 署名 names all, three side by side on one line
    (["临川市人力资源和社会保障局文件"], ["临川市人力资源和社会保障局    临川市住房和城乡建设局    临川市交通运输局"],
     ["临川市人力资源和社会保障局", "临川市住房和城乡建设局", "临川市交通运输局"]),
    # a 信函's mark (no 文件) with its English name under it
    (["临川市应急管理局", "LINCHUAN EMERGENCY MANAGEMENT BUREAU"], ["临川市应急管理局"], ["临川市应急管理局"]),
])
def test_the_issuers_are_read_from_the_mark_and_the_signature(head: list[str], sign: list[str],
                                                              want: list[str]) -> None:
    reg = register_text(notice(head, sign))
    assert reg.issuer == want
    # bodies of the 抄送, the 主送 and the body are never issuers
    assert "湘南省应急管理厅" not in reg.issuer and reg.cc == ["湘南省应急管理厅", "临川市财政局"]


def test_the_recipients_cc_and_bodies_named_in_the_text_are_no_issuers() -> None:
    text = notice(["临川市城市管理局"], ["临川市城市管理局"], title="关于商请支持环卫设施建设的函",
                  recipients="临川市财政局、临川市自然资源局：")
    text = text.replace("一、请各单位认真组织实施。", "一、临川市生态环境局已同意。\n临川市发展和改革委员会")
    reg = register_text(text)
    assert reg.issuer == ["临川市城市管理局"]
    assert reg.recipients == ["临川市财政局", "临川市自然资源局"]


@pytest.mark.parametrize(("text", "want"), [
    # 纪要: the body in its mark (its meeting's name dropped), not the office that signs or dates it
    ("临川市人民政府专题会议纪要\n第5期\n临川市人民政府办公室                2026年4月2日\n关于研究老旧小区改造有关问题的会议纪要\n"
     "4月1日，副市长张三主持召开专题会议。纪要如下：\n一、请市住房城乡建设局牵头推进。\n临川市人民政府办公室\n2026年4月3日",
     ["临川市人民政府"]),
    ("临川市人民政府办公室专题会议纪要\n第5期\n临川市人民政府办公室          2026年4月2日\n关于研究老旧小区改造有关问题的会议纪要\n"
     "4月1日，召开专题会议。纪要如下：\n一、研究了改造工作。", ["临川市人民政府办公室"]),
    ("临川市教育局局务会议纪要\n〔2026〕第3期\n临川市教育局办公室          2026年4月2日\n4月1日，局长主持召开局务会议，纪要如下：\n"
     "一、研究了招生工作。", ["临川市教育局"]),
    ("中共临川市委常委会会议纪要\n第12期\n中共临川市委办公室          2026年4月2日\n4月1日，市委书记主持召开市委常委会会议，纪要如下：\n"
     "一、研究了有关工作。", ["中共临川市委"]),
    # 令: the organ of the mark, a ministry's too
    ("国家市场监督管理总局令\n第95号\n《食品经营许可管理办法》已经2026年3月1日国家市场监督管理总局第3次局务会议通过，现予公布，"
     "自2026年6月1日起施行。\n局长  罗文\n2026年3月10日", ["国家市场监督管理总局"]),
    ("临川市人民政府令\n第15号\n《临川市城市绿化管理办法》已经2026年3月1日市人民政府第20次常务会议通过，现予公布，自2026年6月1日起施行。"
     "\n市长  李明\n2026年3月10日", ["临川市人民政府"]),
    # a plenary session's 决议: the committee
    ("中国共产党临川市第十三届委员会第五次全体会议决议\n（2026年3月28日中国共产党临川市第十三届委员会第五次全体会议通过）\n"
     "全会听取和讨论了市委常委会受市委委托作的工作报告。\n全会号召，全市各级党组织奋发进取。", ["中国共产党临川市第十三届委员会"]),
    # a mark split over two lines: the organ above a bare 纪要 mark, not the office line under it
    ("临川市人民政府\n专题会议纪要\n第5期\n临川市人民政府办公室          2026年4月2日\n关于研究老旧小区改造有关问题的会议纪要\n"
     "4月1日，副市长张三主持召开专题会议。纪要如下：\n一、研究了改造工作。", ["临川市人民政府"]),
    ("中共临川市委十三届五次全会决议\n（2026年3月28日中国共产党临川市第十三届委员会第五次全体会议通过）\n全会听取和讨论了工作报告。",
     ["中共临川市委"]),
    # a joint 命令 of a government and its military district
    ("临川市人民政府 临川军分区\n征兵命令\n根据《中华人民共和国兵役法》，现将2026年征兵工作有关事项命令如下：\n一、征集对象。\n"
     "市长 李明    司令员 王强\n2026年2月1日", ["临川市人民政府", "临川军分区"]),
    # a 公报's organs under its title, one a line or side by side
    ("2025年临川市国民经济和社会发展统计公报\n临川市统计局\n国家统计局临川调查队\n2026年3月20日\n2025年，全市上下坚持稳中求进。\n"
     "一、综合\n全年全市地区生产总值增长5.2%。", ["临川市统计局", "国家统计局临川调查队"]),
    ("2025年临川市国民经济和社会发展统计公报\n临川市统计局  国家统计局临川调查队\n（2026年3月20日）\n2025年，全市上下坚持稳中求进。\n"
     "一、综合\n全年全市地区生产总值增长5.2%。", ["临川市统计局", "国家统计局临川调查队"]),
    # a pasted text with no mark and no 署名: the title's organs, written with no separator between them
    ("临川市教育局临川市财政局关于做好学生资助工作的通知\n各区教育局、财政局：\n请于5月20日前报送。\n2026年4月28日",
     ["临川市教育局", "临川市财政局"]),
    # …… and a forwarding office's title names the forwarded body after 转发: that one is no issuer
    ("临川市人民政府办公室转发市教育局关于做好招生工作意见的通知\n各区人民政府，市政府各部门：\n"
     "市教育局《关于做好招生工作的意见》已经市人民政府同意，现转发给你们，请认真贯彻执行。\n2026年4月28日", ["临川市人民政府办公室"]),
])
def test_minutes_orders_resolutions_and_titles_name_their_organ(text: str, want: list[str]) -> None:
    assert register_text(text).issuer == want


def test_a_joint_mark_in_a_table_with_its_merged_wen_jian_cell() -> None:
    document = Document()
    organs = ["临川市市场监督管理局", "临川市公安局", "临川市卫生健康委员会"]
    table = document.add_table(rows=3, cols=2)
    for i, organ in enumerate(organs):
        table.cell(i, 0).text = organ
    table.cell(0, 1).text = "文件"
    table.cell(0, 1).merge(table.cell(2, 1))
    for line in ("临市监发〔2026〕7号", "关于开展食品安全联合执法行动的通知", "各区人民政府：", "请于5月20日前报送。",
                 "2026年4月28日"):
        document.add_paragraph(line)
    data = io.BytesIO()
    document.save(data)
    assert register_bytes("joint.docx", data.getvalue()).issuer == organs


@pytest.mark.parametrize(("run", "want"), [
    ("临川市教育局临川市财政局", ["临川市教育局", "临川市财政局"]),
    ("中共临川市委办公室临川市人民政府办公室", ["中共临川市委办公室", "临川市人民政府办公室"]),
    ("临川市教育局国家税务总局临川市税务局", ["临川市教育局", "国家税务总局临川市税务局"]),
    ("国家税务总局临川市税务局国家统计局临川调查队", ["国家税务总局临川市税务局", "国家统计局临川调查队"]),
    # one name each: a national body's local branch, a party congress's committee, a provincial commission
    ("中国人民银行临川市分行", ["中国人民银行临川市分行"]),
    ("中国共产党临川市第十三届委员会", ["中国共产党临川市第十三届委员会"]),
    ("湘南省人民政府国有资产监督管理委员会", ["湘南省人民政府国有资产监督管理委员会"]),
])
def test_organs_run_together_are_told_apart_by_their_names_structure(run: str, want: list[str]) -> None:
    # a PDF's text layer drops the spaces of a wide mark: the organs run together on the line
    text = f"{run}文件\n临发〔2026〕5号\n关于做好有关工作的通知\n各有关单位：\n{BODY}\n2026年4月28日"
    assert register_text(text).issuer == want
