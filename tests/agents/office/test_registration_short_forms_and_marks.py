"""收文登记: an organ's short form (市政府, 县应急局, 市委办) is the organ already named, not a second issuer; a 公报 with no
letterhead names its organ in the bracketed line under the title; a website's name line (……门户网站 | 政务公开) is no
organ; a 通告's title printed under its organ line or over two lines is read whole, not as the bare kind word.
Synthetic documents of invented places (桐川市, 柘溪县 — no demo data names them)."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from docx import Document

from aicity.agents.office.registration import register_bytes, register_text


def _docx(lines: list[str]) -> bytes:
    document = Document()
    for line in lines:
        document.add_paragraph(line)
    data = io.BytesIO()
    document.save(data)
    return data.getvalue()


# ---------------------------------------------------------------- 1. a short form is the organ already named


@pytest.mark.parametrize("mark", ["市政府专题会议纪要", "市政府会议纪要"])
def test_a_minutes_mark_in_short_form_under_the_full_name_is_one_issuer(mark: str) -> None:
    reg = register_text("\n".join(["桐川市人民政府", mark, "第12期", "桐川市人民政府办公室  2026年6月3日",
                                   "6月2日，副市长主持召开会议，研究老旧小区改造工作。市住建局、市财政局负责同志参加。",
                                   "一、请市住建局于2026年6月30日前提出改造计划。", "分送：市住建局，市财政局。"]))
    assert reg.kind == "纪要"
    assert reg.issuer == ["桐川市人民政府"]
    assert reg.doc_number == "第12期"


def test_a_signature_in_short_form_beside_the_full_mark_is_the_same_organ() -> None:
    lines = ["柘溪县应急管理局", "柘应急〔2026〕21号", "关于开展森林防火隐患排查的通知", "各乡镇人民政府：",
             "县应急局决定在全县开展森林防火隐患排查，请于2026年3月20日前报送排查结果。", "县应急局", "2026年3月2日"]
    reg = register_bytes("notice.docx", _docx(lines))
    assert reg.issuer == ["柘溪县应急管理局"]
    assert reg.deadline == "2026-03-20"


def test_two_organs_of_one_place_stay_two_issuers() -> None:
    # a joint issuance: an organ and its own office, or two bureaus, are no short forms of each other
    reg = register_text("\n".join(["桐川市教育局", "桐川市财政局", "桐教〔2026〕9号", "关于下达学生资助资金的通知",
                                   "各区教育局：", "现将资金下达给你们，请按规定使用。", "桐川市教育局  桐川市财政局",
                                   "2026年4月8日"]))
    assert reg.issuer == ["桐川市教育局", "桐川市财政局"]


# ---------------------------------------------------------------- 2. a 公报 with no letterhead


@pytest.mark.parametrize("bracketed", ["（桐川市统计局发布）", "（桐川市统计局  二〇二六年三月十二日）"])
def test_a_bulletin_names_its_organ_in_the_bracketed_line_under_the_title(bracketed: str) -> None:
    reg = register_text("\n".join(["桐川市2025年国民经济和社会发展统计公报", bracketed,
                                   "2025年，全市地区生产总值比上年增长5.2%。", "一、综合", "全年粮食产量增长1.1%。"]))
    assert reg.kind == "公报"
    assert reg.issuer == ["桐川市统计局"]
    assert reg.title == "桐川市2025年国民经济和社会发展统计公报"
    assert reg.date == ("2026-03-12" if "三月" in bracketed else None)


def test_a_bulletin_signed_at_its_end_without_a_date_names_its_organ() -> None:
    reg = register_bytes("bulletin.docx", _docx(["2025年桐川市水资源公报", "（2026年4月20日）",
                                                 "2025年，全市水资源总量为12.6亿立方米。", "全市用水总量比上年下降2.3%。",
                                                 "桐川市水务局"]))
    assert (reg.kind, reg.issuer, reg.date) == ("公报", ["桐川市水务局"], "2026-04-20")
    assert reg.body == ["2025年，全市水资源总量为12.6亿立方米。", "全市用水总量比上年下降2.3%。"]


def test_a_resolution_session_line_names_no_organ() -> None:
    reg = register_text("\n".join(["桐川市第十届人民代表大会第三次会议关于政府工作报告的决议",
                                   "（2026年1月15日桐川市第十届人民代表大会第三次会议通过）",
                                   "桐川市第十届人民代表大会第三次会议听取和审议了市长所作的政府工作报告，决定批准这个报告。"]))
    assert reg.date == "2026-01-15"
    assert "（" not in "".join(reg.issuer)


# ---------------------------------------------------------------- 3. a website's name is no organ


@pytest.mark.parametrize("site", ["桐川市人民政府门户网站 | 政务公开", "桐川市人民政府网", "桐川市人民政府门户网站 版权所有",
                                  "桐川市交通运输局官网  首页", "桐川发布客户端"])
def test_a_website_name_line_is_no_issuer(site: str) -> None:
    lines = [site, "桐川市交通运输局", "桐交〔2026〕15号", "关于调整城区部分公交线路的通知", "各区交通运输局：",
             "现将有关事项通知如下。", "桐川市交通运输局", "2026年5月6日", site]
    for reg in (register_text("\n".join(lines)), register_bytes("page.docx", _docx(lines))):
        assert reg.issuer == ["桐川市交通运输局"]
        assert reg.doc_number == "桐交〔2026〕15号"
        assert reg.title == "关于调整城区部分公交线路的通知"


# ---------------------------------------------------------------- 4. a 通告's title


_NOTICE_BODY = ["为加强城区犬只管理，根据有关规定，现就有关事项通告如下：", "一、养犬人应当依法办理养犬登记。", "特此通告。",
                "柘溪县公安局", "2026年7月1日"]


@pytest.mark.parametrize(("head", "title"), [
    (["柘溪县公安局", "通告", "关于加强城区犬只管理的通告"], "关于加强城区犬只管理的通告"),
    (["通告", "柘溪县公安局关于加强城区犬只管理的通告"], "柘溪县公安局关于加强城区犬只管理的通告"),
    (["柘溪县公安局", "柘公通〔2026〕3号", "关于加强城区犬只管理的通告"], "关于加强城区犬只管理的通告"),
    (["柘溪县公安局", "关于加强城区犬只", "管理的通告"], "柘溪县公安局关于加强城区犬只管理的通告"),
    (["柘溪县公安局关于加强城区", "犬只管理的通告"], "柘溪县公安局关于加强城区犬只管理的通告"),
    (["关于加强城区犬只", "管理的通告"], "关于加强城区犬只管理的通告"),
])
def test_a_notice_title_is_the_printed_lines_joined(head: list[str], title: str) -> None:
    reg = register_bytes("notice.docx", _docx([*head, *_NOTICE_BODY]))
    assert reg.kind == "通告"
    assert reg.title == title
    assert reg.issuer == ["柘溪县公安局"]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) builds the PDF")
def test_a_notice_title_in_a_pdf_and_a_bulletin_in_a_pdf() -> None:
    docs = {"notice": ["柘溪县公安局", "通告", "关于加强城区犬只管理的通告", *_NOTICE_BODY],
            "bulletin": ["柘溪县2025年生态环境状况公报", "（柘溪县生态环境局发布）", "2025年，全县空气质量优良天数比例为95.1%。"]}
    with tempfile.TemporaryDirectory() as tmp:
        for name, lines in docs.items():
            (Path(tmp) / f"{name}.docx").write_bytes(_docx(lines))
        subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp}/lo", "--convert-to", "pdf",
                        "--outdir", tmp, *(str(Path(tmp) / f"{n}.docx") for n in docs)],
                       check=True, capture_output=True, timeout=120)
        notice = register_bytes("notice.pdf", (Path(tmp) / "notice.pdf").read_bytes())
        bulletin = register_bytes("bulletin.pdf", (Path(tmp) / "bulletin.pdf").read_bytes())
    assert (notice.title, notice.issuer) == ("关于加强城区犬只管理的通告", ["柘溪县公安局"])
    assert (bulletin.kind, bulletin.issuer) == ("公报", ["柘溪县生态环境局"])
