"""Build the held-out office document set 4 (收文登记留出评测集 4).

Run: .venv/bin/python scripts/office_eval4/make_documents.py
Data: scripts/office_eval4/documents_data.py.  Output: src/aicity/demo/data/eval/office_documents4/.
禾川市 / 衡岭省 and all names, phone numbers and document numbers are a DEMO-CITY ASSUMPTION.
"""
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt, RGBColor

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / "src/aicity/demo/data/eval/office_documents4"
sys.path.insert(0, str(HERE))
from documents_data import DOCS  # noqa: E402

CN = "〇一二三四五六七八九"


def cn_num(n):
    if n < 10:
        return CN[n]
    if n == 10:
        return "十"
    if n < 20:
        return "十" + CN[n - 10]
    return CN[n // 10] + "十" + (CN[n % 10] if n % 10 else "")


def show_date(iso, chinese=False):
    y, m, d = (int(x) for x in iso.split("-"))
    if chinese:
        return "".join(CN[int(c)] for c in str(y)) + "年" + cn_num(m) + "月" + cn_num(d) + "日"
    return f"{y}年{m}月{d}日"


def norm_dn(s):
    if s is None:
        return None
    s = re.sub(r"\s+", "", s)
    return s.replace("[", "〔").replace("]", "〕").replace("［", "〔").replace("］", "〕").replace("【", "〔").replace("】", "〕")


def expect_of(d):
    if d["kind"] in ("公告", "通告", "公报", "决议", "命令", "纪要"):
        rec = []
    else:
        rec = list(d.get("rec", []))
    return {
        "kind": d["kind"],
        "issuer": d.get("exp_issuer", d["issuers"]),
        "doc_number": norm_dn(d.get("dn")),
        "title": "".join(d["title"]) if d.get("title") else None,
        "recipients": rec,
        "date": d["date"],
        "classification": re.sub(r"\s+", "", d["cls"]) if d.get("cls") else None,
        "urgency": re.sub(r"\s+", "", d["urg"]) if d.get("urg") else None,
        "signer": d.get("signer"),
        "attachments": list(d.get("att", [])),
        "cc": list(d.get("cc", [])),
        "suggested_departments": list(d["depts"]),
        "deadline": d.get("dl"),
    }


# ---------------------------------------------------------------- DOCX
def para(doc, text, align=None, size=16, bold=False, red=False, indent=False):
    p = doc.add_paragraph()
    if align == "c":
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    elif align == "r":
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if indent:
        p.paragraph_format.first_line_indent = Pt(32)
    r = p.add_run(text)
    r.font.size = Pt(size)
    r.bold = bold
    if red:
        r.font.color.rgb = RGBColor(0xCC, 0, 0)
    return p


def sig_lines(d):
    return d.get("sig", d["issuers"])


def att_lines(d):
    a = d.get("att", [])
    if not a:
        return []
    if len(a) == 1:
        return ["附件：" + a[0]]
    return ["附件：" + a[0]] + ["　　　" + x for x in a[1:]]


def head_lines(d):
    """(text, style) lines for the header part, shared by DOCX and TXT."""
    L = []
    lay = d["layout"]
    if d.get("fenhao"):
        L.append((d["fenhao"], "l"))
    if d.get("cls"):
        L.append((d["cls"], "l"))
    if d.get("urg"):
        L.append((d["urg"], "l"))
    iss = d["issuers"]
    if lay == "file":
        js = d.get("joint", "stack")
        if len(iss) == 1:
            L.append((iss[0] + "文件", "head"))
        elif js == "stack":
            for x in iss[:-1]:
                L.append((x, "head"))
            L.append((iss[-1] + "文件", "head"))
        elif js == "inline":
            L.append(("　".join(iss), "head"))
            L.append(("文件", "head"))
        elif js == "table":
            L.append(("\n".join(iss), "headtable"))
        elif js == "lead":
            L.append((iss[0] + "文件", "head"))
    elif lay == "letter":
        if len(iss) == 1:
            L.append((iss[0], "head"))
        else:
            for x in iss:
                L.append((x, "head"))
    elif lay == "minutes":
        L.append((d["mark"], "head"))
        L.append((d["dn"], "c"))
        L.append((d["mark_org"] + "　　　　" + show_date(d["date"], d.get("cn")), "c"))
        return L
    elif lay == "order":
        L.append((d["mark"], "head"))
        L.append((d["dn"], "c"))
        return L
    if lay in ("file", "letter"):
        if d.get("signer") and d["kind"] in ("请示", "报告"):
            L.append((d["dn"] + "\t\t签发人：" + d["signer"], "dnsig"))
        elif d.get("dn"):
            L.append((d["dn"], "r" if lay == "letter" else "c"))
        L.append(("━" * 24, "rule"))
    return L


def body_lines(d):
    L = []
    lay = d["layout"]
    if d.get("title"):
        for t in d["title"]:
            L.append((t, "title"))
    if lay == "plain" and d.get("dn"):
        L.append(("（" + d["dn"] + "）" if d.get("dn_paren") else d["dn"], "c"))
    if d.get("passed") is not None:
        L.append(("（" + show_date(d["date"], d.get("cn")) + d["passed"] + "）", "c"))
    if d.get("rec") and d["kind"] not in ("公告", "通告", "公报", "决议", "命令", "纪要"):
        L.append(("、".join(d["rec"]) if d.get("rec_sep") == "、" else "，".join(d["rec"]) + "：", "l"))
        if d.get("rec_sep") == "、":
            L[-1] = (L[-1][0] + "：", "l")
    for b in d["body"]:
        L.append((b, "p"))
    for a in att_lines(d):
        L.append((a, "att"))
    if lay == "order":
        L.append((d["order_sig"], "r"))
        L.append((show_date(d["date"], d.get("cn")), "r"))
    elif lay == "minutes":
        if d.get("attend"):
            L.append((d["attend"], "l"))
    elif d.get("passed") is None:
        for s in sig_lines(d):
            L.append((s, "r"))
        L.append((show_date(d["date"], d.get("cn")), "r"))
    if d.get("contact"):
        L.append((d["contact"], "p"))
    if d.get("public"):
        L.append(("（此件公开发布）", "p"))
    return L


def tail_lines(d):
    L = []
    if d.get("cc"):
        L.append(("抄送：" + "，".join(d["cc"]) + "。", "cc"))
    if d.get("printer"):
        L.append((d["printer"], "cc"))
    return L


def build_docx(d, path):
    doc = Document()
    st = doc.styles["Normal"]
    st.font.name = "仿宋"
    st.font.size = Pt(16)
    for text, sty in head_lines(d):
        if sty == "head":
            para(doc, text, "c", 26, True, True)
        elif sty == "headtable":
            names = text.split("\n")
            t = doc.add_table(rows=len(names), cols=2)
            for i, n in enumerate(names):
                t.cell(i, 0).text = n
            m = t.cell(0, 1).merge(t.cell(len(names) - 1, 1))
            m.text = "文件"
        elif sty == "dnsig":
            dn, sg = text.split("\t\t")
            if d.get("sig_style") == "table":
                t = doc.add_table(rows=1, cols=2)
                t.cell(0, 0).text = dn
                t.cell(0, 1).text = sg
            else:
                para(doc, dn + ("\t\t" if d.get("sig_style") == "tab" else "　　　　　　") + sg)
        elif sty == "rule":
            para(doc, text, "c", 10, red=True)
        else:
            para(doc, text, {"c": "c", "r": "r"}.get(sty))
    for text, sty in body_lines(d):
        if sty == "title":
            para(doc, text, "c", 22, True)
        elif sty == "p":
            para(doc, text, indent=True)
        else:
            para(doc, text, {"c": "c", "r": "r"}.get(sty))
    tl = tail_lines(d)
    if tl:
        if d.get("tail_table"):
            t = doc.add_table(rows=len(tl), cols=1)
            for i, (text, _) in enumerate(tl):
                t.cell(i, 0).text = text
        else:
            para(doc, "─" * 24, "c", 10)
            for text, _ in tl:
                para(doc, text, size=14)
    doc.save(path)


# ---------------------------------------------------------------- TXT
FURN = [
    ("首页 > 政务公开 > 政策文件 > {org}", "来源：{org}　　发布时间：{pub} 09:{mm}　　浏览次数：{hits}", "【字体：大 中 小】　　【打印本页】　　【关闭窗口】",
     "版权所有：禾川市人民政府办公室　　主办：禾川市政务服务和数据管理局（演示）　　衡ICP备20269999号"),
    ("您当前的位置：首页 >> 信息公开 >> 通知公告", "索引号：HC-{hits}/2026-{mm}　　发布机构：{org}\r\n生成日期：{pub}　　公开方式：主动公开", "[ 打印本页 ]  [ 关闭窗口 ]  [ 返回顶部 ]",
     "Copyright © 2026 禾川市人民政府　网站标识码 HC0000000　（演示网站）"),
    ("当前位置：首页›通知公告", "发布日期：{pub}　 来源：本网　 作者：{org}　 阅读：{hits}次", "分享到：　　　字号：［大］［中］［小］　　［打印］［关闭］",
     "禾川市人民政府门户网站　◎2026 版权所有　未经许可请勿转载"),
]


def wrap(s, n):
    return [s[i:i + n] for i in range(0, len(s), n)] or [""]


def build_txt(d, path):
    rnd = random.Random(d["id"])
    out = []
    fur = d.get("web")
    if fur is not None:
        f = FURN[fur]
        args = dict(org=d["issuers"][0], pub=d.get("pub", d["date"]), mm=rnd.randint(10, 59), hits=rnd.randint(100, 9999))
        out.append(f[0].format(**args))
        out.append("")
        out.append(f[1].format(**args))
        out.append(f[2])
        out.append("")
    n = d.get("wrap", 0)
    for text, sty in head_lines(d) + body_lines(d) + tail_lines(d):
        if sty == "rule":
            continue
        if sty == "headtable":
            out += text.split("\n") + ["文件"]
            continue
        if sty == "dnsig":
            text = text.replace("\t\t", "　　　　")
        if sty == "title" and d.get("spaced_title"):
            text = " ".join(text)
        if sty in ("p",):
            text = "　　" + text
            if n:
                out += wrap(text, n)
                continue
        if sty in ("r",):
            text = "　" * 12 + text
        if sty in ("c", "head", "title"):
            text = "　" * 4 + text
        out.append(text)
    if fur is not None:
        out += ["", FURN[fur][3]]
    txt = ("\r\n" if d.get("crlf") else "\n").join(x.replace("\r\n", "\r\n" if d.get("crlf") else "\n") for x in out) + "\n"
    enc = d.get("enc", "utf-8")
    Path(path).write_bytes(txt.encode(enc))


# ---------------------------------------------------------------- checks
def squash(s):
    s = re.sub(r"\s+", "", s)
    return norm_dn(s)


def file_text(path, fmt, enc):
    if fmt == "docx":
        doc = Document(path)
        parts = [p.text for p in doc.paragraphs]
        for t in doc.tables:
            for row in t.rows:
                for c in row.cells:
                    parts.append(c.text)
        return "\n".join(parts)
    if fmt == "pdf":
        return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return Path(path).read_bytes().decode(enc)


def check(d, path, exp):
    t = squash(file_text(path, d["fmt"], d.get("enc", "utf-8")))
    probs = []
    def need(v, what):
        if v and squash(v) not in t:
            probs.append(f"{what}={v!r}")
    for x in exp["issuer"]:
        need(x, "issuer")
    need(exp["doc_number"], "doc_number")
    need(exp["title"], "title")
    for x in exp["recipients"]:
        need(x, "recipient")
    need(show_date(exp["date"], d.get("cn")), "date")
    need(exp["classification"], "classification")
    need(exp["urgency"], "urgency")
    need(exp["signer"], "signer")
    for x in exp["attachments"]:
        need(x, "attachment")
    for x in exp["cc"]:
        need(x, "cc")
    if exp["deadline"]:
        m, dd = int(exp["deadline"][5:7]), int(exp["deadline"][8:])
        need(f"{m}月{dd}日", "deadline")
    if not set(exp["suggested_departments"]) <= DEPT_IDS:
        probs.append("bad department id")
    if exp["kind"] not in KINDS:
        probs.append("bad kind")
    if exp["kind"] != "命令" and exp["title"] and not exp["title"].endswith(exp["kind"]) and not d.get("kind_ok"):
        probs.append("title does not end with kind")
    return probs


KINDS = set("决议 决定 命令 公报 公告 通告 意见 通知 通报 报告 请示 批复 议案 函 纪要".split())
DEPT_IDS = set(re.findall(r"^- id: (\w+)", Path("/work/shared/city/departments.yaml").read_text(), re.M)) if Path("/work/shared/city/departments.yaml").exists() else set()


def bad_inputs():
    from PIL import Image, ImageDraw
    rows = []
    img = Image.new("L", (1240, 1754), 245)
    dr = ImageDraw.Draw(img)
    rnd = random.Random(7)
    dr.rectangle([200, 150, 1040, 230], fill=60)
    for y in range(330, 1500, 46):
        x = 150 + (64 if rnd.random() < 0.2 else 0)
        dr.rectangle([x, y, x + rnd.randint(600, 930), y + 22], fill=rnd.randint(40, 110))
    img.save(OUT / "doc-46.pdf", "PDF", resolution=150)
    rows.append({"id": "doc-46", "path": "doc-46.pdf", "format": "pdf", "expect": "error",
                 "notes": "只有图像的扫描件 PDF，没有文字层（模拟扫描的红头文件）"})
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.append(["序号", "来文单位", "文号", "标题"])
    ws.append([1, "禾川市水务局", "禾水〔2026〕3号", "关于汛前检查的通知"])
    wb.save(OUT / "doc-47.docx")
    rows.append({"id": "doc-47", "path": "doc-47.docx", "format": "docx", "expect": "error",
                 "notes": "其实是 xlsx 电子表格，扩展名改成了 .docx"})
    # confirm they are unreadable as documents
    txt = subprocess.run(["pdftotext", str(OUT / "doc-46.pdf"), "-"], capture_output=True, text=True).stdout
    assert not txt.strip(), "image PDF has text"
    try:
        Document(OUT / "doc-47.docx")
        raise AssertionError("xlsx opened as docx")
    except Exception as e:  # noqa: BLE001
        if isinstance(e, AssertionError):
            raise
    return rows


def main():
    if OUT.exists():
        for p in OUT.iterdir():
            if p.name != "README.md":
                p.unlink()
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp())
    rows, bad = [], 0
    ids = set()
    for d in DOCS:
        assert d["id"] not in ids
        ids.add(d["id"])
        exp = expect_of(d)
        name = f"{d['id']}.{d['fmt']}"
        if d["fmt"] == "docx":
            build_docx(d, OUT / name)
        elif d["fmt"] == "pdf":
            src = tmp / f"{d['id']}.docx"
            build_docx(d, src)
            subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(OUT), str(src)],
                           check=True, capture_output=True, timeout=180)
        else:
            build_txt(d, OUT / name)
        probs = check(d, OUT / name, exp)
        if probs:
            bad += 1
            print(d["id"], "PROBLEMS:", probs)
        rows.append({"id": d["id"], "path": name, "format": d["fmt"], "expect": exp, "notes": d.get("notes", "")})
    rows += bad_inputs()
    with open(OUT / "index.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    shutil.rmtree(tmp, ignore_errors=True)
    print(len(rows), "rows;", bad, "with problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
