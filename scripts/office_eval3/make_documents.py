"""Build the third held-out office-document set (收文登记) from documents_data.py.

DOCX via python-docx, PDF via LibreOffice (from DOCX), TXT as web-pasted text (GB18030/UTF-8, CRLF,
odd spacing, page furniture).  Every file is re-opened and every expected value is checked to be
printed in it.  Run: .venv/bin/python scripts/office_eval3/make_documents.py
Demo city 澜州市 / 沧江省 is a DEMO-CITY ASSUMPTION.
"""
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt, RGBColor

sys.path.insert(0, str(Path(__file__).resolve().parent))
from documents_data import DOCS  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "src/aicity/demo/data/eval/office_documents3"
CN = "〇一二三四五六七八九"


def cn_num(n):
    if n < 10:
        return CN[n]
    if n == 10:
        return "十"
    if n < 20:
        return "十" + CN[n % 10]
    return CN[n // 10] + "十" + (CN[n % 10] if n % 10 else "")


def date_text(iso, cn=False):
    y, m, d = (int(x) for x in iso.split("-"))
    if cn:
        return "".join(CN[int(c)] for c in str(y)) + "年" + cn_num(m) + "月" + cn_num(d) + "日"
    return f"{y}年{m}月{d}日"


def printed_number(d):
    return d.get("num_print", d["expect"]["doc_number"])


# ---------------------------------------------------------------- logical lines
def lines_of(d):
    """Return list of (style, text) where style in head/num/title/plain/right/center/mark."""
    e = d["expect"]
    L = []
    lay = d.get("layout", "file")
    mark = []
    if e["classification"]:
        mark.append(d.get("cls_print", e["classification"]))
    if e["urgency"]:
        mark.append(d.get("urg_print", e["urgency"]))
    if d.get("copy_no"):
        L.append(("plain", d["copy_no"]))
    for m in mark:
        L.append(("plain", m))
    if lay in ("file", "letter", "minutes", "order"):
        for h in d["head"]:
            L.append(("head", h))
        num = printed_number(d)
        if lay == "minutes":
            L.append(("center", num))
            L.append(("plain", d.get("minutes_line", "")))
        elif lay == "order":
            L.append(("center", num))
        elif num:
            if e["signer"] and not d.get("signer_in_body"):
                sep = d.get("sig_sep", "\t")
                L.append(("num", f"{num}{sep}签发人：{e['signer']}"))
            else:
                L.append(("num" if lay == "file" else "right", num))
    for t in d.get("title_print", [e["title"]] if e["title"] else []):
        L.append(("title", t))
    if d.get("subtitle"):
        L.append(("center", d["subtitle"]))
    if e["recipients"]:
        L.append(("plain", d.get("rcpt_print", "、".join(e["recipients"]) + "：")))
    for p in d["body"]:
        L.append(("para", p))
    if e["attachments"]:
        atts = e["attachments"]
        if len(atts) == 1:
            L.append(("para", "附件：" + atts[0]))
        else:
            L.append(("para", "附件：" + atts[0]))
            for a in atts[1:]:
                L.append(("para", "　　　" + a))
    if lay == "order" and d.get("order_sign"):
        L.append(("right", d["order_sign"]))
        L.append(("right", date_text(e["date"], d.get("cn_date"))))
    elif lay != "minutes" and d.get("kind_layout") != "gazette":
        for s in d.get("sign", e["issuer"]):
            L.append(("right", s))
        L.append(("right", date_text(e["date"], d.get("cn_date"))))
    if d.get("postscript"):
        L.append(("para", d["postscript"]))
    if d.get("attendees"):
        for a in d["attendees"]:
            L.append(("para", a))
    if e["cc"]:
        L.append(("plain", d.get("cc_print", "抄送：" + "，".join(e["cc"]) + "。")))
    if d.get("printer"):
        L.append(("plain", d["printer"]))
    return L


# ---------------------------------------------------------------- DOCX
def build_docx(d, path):
    doc = docx.Document()
    st = doc.styles["Normal"]
    st.font.name = "SimSun"
    st.font.size = Pt(14)
    lines = lines_of(d)
    vertical = d.get("head_table")  # joint header as a table: names left, 文件 right
    heads = [t for s, t in lines if s == "head"]
    banji = d.get("banji_table")
    ban_lines = []
    for s, t in lines:
        if s == "head":
            if vertical:
                if t is heads[0]:
                    tb = doc.add_table(rows=len(heads) - 1, cols=2)
                    for i, h in enumerate(heads[:-1]):
                        tb.cell(i, 0).text = h
                    tb.cell(0, 1).merge(tb.cell(len(heads) - 2, 1))
                    tb.cell(0, 1).text = heads[-1]
                continue
            p = doc.add_paragraph()
            r = p.add_run(t)
            r.font.size = Pt(26)
            r.font.color.rgb = RGBColor(0xCC, 0, 0)
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            continue
        if banji and (t.startswith("抄送") or t == d.get("printer")):
            ban_lines.append(t)
            continue
        p = doc.add_paragraph()
        r = p.add_run(t)
        if s == "title":
            r.bold = True
            r.font.size = Pt(20)
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif s in ("center", "num"):
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif s == "right":
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        elif s == "para":
            p.paragraph_format.first_line_indent = Pt(28)
    if ban_lines:
        tb = doc.add_table(rows=len(ban_lines), cols=1)
        for i, t in enumerate(ban_lines):
            tb.cell(i, 0).text = t
    doc.save(path)


# ---------------------------------------------------------------- TXT
def spaced(t):
    return " ".join(t)


def build_txt(d, path):
    w = d.get("web") or {}
    out = []
    if w.get("crumb"):
        out.append(w["crumb"])
        out.append("")
    if w.get("meta_top"):
        out += w["meta_top"]
        out.append("")
    for s, t in lines_of(d):
        if s == "head":
            if d.get("txt_no_head"):
                continue
            t = spaced(t) if d.get("txt_space_head") else t
        elif s == "title" and d.get("txt_space_title"):
            t = spaced(t)
        elif s == "num":
            t = t.replace("\t", "　　")
        elif s == "right":
            t = "　　　　　　　　" + t
        elif s == "para":
            t = "　　" + t
            wrap = d.get("wrap")
            if wrap:
                t = "\n".join(t[i:i + wrap] for i in range(0, len(t), wrap))
        out.append(t)
    if w.get("meta_bottom"):
        out.append("")
        out += w["meta_bottom"]
    text = "\n".join(out) + "\n"
    if d.get("crlf", True):
        text = text.replace("\n", "\r\n")
    enc = d.get("encoding", "gb18030")
    data = text.encode(enc)
    if d.get("bom"):
        data = b"\xef\xbb\xbf" + data
    path.write_bytes(data)


# ---------------------------------------------------------------- bad inputs
def bad_inputs(tmp):
    from PIL import Image, ImageDraw
    img = Image.new("RGB", (1240, 1754), "white")
    dr = ImageDraw.Draw(img)
    dr.rectangle([150, 120, 1090, 200], fill=(200, 0, 0))
    for y in range(300, 1500, 48):
        dr.rectangle([150, y, 150 + (y * 37) % 800 + 140, y + 18], fill=(40, 40, 40))
    png = tmp / "scan.png"
    img.save(png)
    doc = docx.Document()
    doc.add_picture(str(png))
    doc.save(tmp / "doc-46.docx")
    img.save(OUT / "doc-47.docx", format="PNG")  # an image renamed .docx


# ---------------------------------------------------------------- checks
def norm(t):
    t = re.sub(r"[\s\u3000\u00a0]+", "", t)
    return t.replace("[", "〔").replace("]", "〕").replace("［", "〔").replace("］", "〕")


def read_back(path, fmt):
    if fmt == "docx":
        doc = docx.Document(path)
        parts = [p.text for p in doc.paragraphs]
        for tb in doc.tables:
            for row in tb.rows:
                parts += [c.text for c in row.cells]
        return "\n".join(parts)
    if fmt == "pdf":
        return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                              text=True, check=True).stdout
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def check(d, text):
    e = d["expect"]
    n = norm(text)
    need = list(e["issuer"]) + list(e["recipients"]) + list(e["cc"])
    need += [a for a in e["attachments"]]
    for k in ("doc_number", "title", "classification", "urgency", "signer"):
        if e[k]:
            need.append(e[k])
    need.append(date_text(e["date"], d.get("cn_date")))
    if e["deadline"]:
        y, m, dd = (int(x) for x in e["deadline"].split("-"))
        need.append(f"{m}月{dd}日")
    bad = [x for x in need if norm(x) not in n]
    if bad:
        raise SystemExit(f"{d['id']}: not printed: {bad}")
    if "\r\n" not in text and d["format"] == "txt" and d.get("crlf", True):
        pass


def main():
    if OUT.exists():
        for f in OUT.iterdir():
            if f.name not in ("README.md",):
                f.unlink()
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp())
    ids = set()
    for d in DOCS:
        assert d["id"] not in ids, d["id"]
        ids.add(d["id"])
        fmt = d["format"]
        if fmt == "docx":
            build_docx(d, OUT / f"{d['id']}.docx")
        elif fmt == "pdf":
            build_docx(d, tmp / f"{d['id']}.docx")
        else:
            build_txt(d, OUT / f"{d['id']}.txt")
    bad_inputs(tmp)
    srcs = sorted(str(p) for p in tmp.glob("*.docx"))
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(OUT)] + srcs,
                   check=True, capture_output=True)
    rows = []
    for d in DOCS:
        p = OUT / f"{d['id']}.{d['format']}"
        check(d, read_back(p, d["format"]))
        rows.append({"id": d["id"], "path": p.name, "format": d["format"], "expect": d["expect"],
                     "notes": d["notes"]})
    # bad inputs really are bad
    assert read_back(OUT / "doc-46.pdf", "pdf").strip() == "", "image PDF has text"
    try:
        docx.Document(OUT / "doc-47.docx")
        raise SystemExit("doc-47 opened as docx")
    except Exception as ex:  # noqa: BLE001
        if isinstance(ex, SystemExit):
            raise
    rows.append({"id": "doc-46", "path": "doc-46.pdf", "format": "pdf", "expect": "error",
                 "notes": "只有图像的扫描件 PDF（无文字层）"})
    rows.append({"id": "doc-47", "path": "doc-47.docx", "format": "docx", "expect": "error",
                 "notes": "PNG 图片改成 .docx 扩展名"})
    with open(OUT / "index.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    shutil.rmtree(tmp)
    print(f"ok: {len(rows)} files")


if __name__ == "__main__":
    main()
