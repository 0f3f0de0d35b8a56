# -*- coding: utf-8 -*-
"""Build the held-out 公文 set no. 2 (src/aicity/demo/data/eval/office_documents2/).

Run: .venv/bin/python scripts/office_eval2/make_documents.py
DOCX via python-docx, PDF via LibreOffice (soffice --headless --convert-to pdf), TXT as pasted web text.
Every file is re-opened and every expected value is checked to be printed in it.
"""
import datetime as dt
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt, RGBColor

sys.path.insert(0, str(Path(__file__).resolve().parent))
from documents_data import DOCS  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "src/aicity/demo/data/eval/office_documents2"
NO_REC = {"公告", "通告", "公报", "决议", "命令", "纪要"}
CN_DIG = "〇一二三四五六七八九"


def cn_num(n):
    if n < 10:
        return CN_DIG[n]
    if n < 20:
        return "十" + (CN_DIG[n % 10] if n % 10 else "")
    return CN_DIG[n // 10] + "十" + (CN_DIG[n % 10] if n % 10 else "")


def date_text(iso, cn):
    d = dt.date.fromisoformat(iso)
    if cn:
        return "".join(CN_DIG[int(c)] for c in str(d.year)) + "年" + cn_num(d.month) + "月" + cn_num(d.day) + "日"
    return f"{d.year}年{d.month}月{d.day}日"


def norm_num(s):
    s = re.sub(r"\s+", "", s)
    return re.sub(r"[\[［(（〔](\d{4})[\]］)）〕]", r"〔\1〕", s)


def squash(s):
    return re.sub(r"\s+", "", s)


def split_list(s):
    s = s.strip().rstrip("：:。")
    return [x for x in re.split(r"[，、]", s) if x]


def expect_of(d):
    no_banner = "nobanner" in d.get("txt", [])
    att = d.get("att", [])
    return {
        "kind": d["kind"],
        "issuer": list(d["issuers"]),
        "doc_number": None if (d["num"] is None or no_banner) else norm_num(d["num"]),
        "title": "".join(d["title"]) if d["title"] else None,
        "recipients": [] if (d["kind"] in NO_REC or not d["rec"]) else split_list(d["rec"]),
        "date": d["date"],
        "classification": squash(d["cls"]) if d.get("cls") else None,
        "urgency": squash(d["urg"]) if d.get("urg") else None,
        "signer": d.get("signer"),
        "attachments": att if len(att) <= 1 else [f"{i}. {a}" for i, a in enumerate(att, 1)],
        "cc": list(d.get("cc", [])),
        "suggested_departments": list(d["depts"]),
        "deadline": d["deadline"][0] if d.get("deadline") else None,
    }


# ---------------------------------------------------------------- layout to blocks
# block: ("p", text, {"align": "c"|"r"|None, "size": pt, "bold": bool, "red": bool, "role": str})
#        ("t", [[cell, ...], ...])

def P(text, align=None, size=16, bold=False, red=False, role="body"):
    return ("p", text, dict(align=align, size=size, bold=bold, red=red, role=role))


def num_line(d, txt):
    num = d["num"]
    signer, style = d.get("signer"), d.get("sstyle")
    if signer and d["kind"] in ("请示", "报告"):
        if style == "table" and not txt:
            return [("t", [[num, f"签发人：{signer}"]])]
        if style == "tab":
            return [P(f"{num}\t签发人：{signer}")]
        sep = "        " if txt else "\u3000" * 6
        return [P(f"{num}{sep}签 发 人：{signer}" if txt else f"{num}{sep}签发人：{signer}")]
    return [P(num, align="c")]


def marks(d):
    out = []
    if d.get("cls"):
        out.append(P(d["cls"], role="mark"))
    if d.get("urg"):
        out.append(P(d["urg"], role="mark"))
    return out


def signature(d):
    out = [P(i, align="r", role="sig") for i in d["issuers"]]
    if d["kind"] == "议案" and d.get("signer"):
        out.append(P(f"市长\u3000{d['signer']}", align="r", role="sig"))
    out.append(P(date_text(d["date"], d.get("cn")), align="r", role="sig"))
    return out


def attachments(d):
    att = d.get("att", [])
    if not att:
        return []
    if len(att) == 1:
        return [P(f"附件：{att[0]}")]
    out = [P(f"附件：1. {att[0]}")]
    out += [P(f"\u3000\u3000\u30002. {a}" if i == 2 else f"\u3000\u3000\u3000{i}. {a}") for i, a in enumerate(att[1:], 2)]
    return out


def version_block(d, txt):
    issuer = d["issuers"][0]
    office = issuer + "办公室" if issuer.endswith("人民政府") else issuer
    yinfa = d.get("yinfa") or date_text((dt.date.fromisoformat(d["date"]) + dt.timedelta(days=1)).isoformat(), False) + "印发"
    rows = []
    if d.get("cc"):
        rows.append("抄送：" + "，".join(d["cc"]) + "。")
    rows.append(f"{office}\u3000\u3000{yinfa}")
    if txt and not d.get("cc"):
        return []
    if d.get("vb") == "table" and not txt:
        return [("t", [[r] for r in rows])]
    return [P(r, role="vb") for r in rows]


def blocks(d, txt=False):
    lay = d.get("layout", "file")
    kind = d["kind"]
    nob = "nobanner" in d.get("txt", [])
    b = []
    title = [P(t, align="c", size=22, bold=True, role="title") for t in (d["title"] or [])]
    body = [P(x) for x in d["body"]]
    if kind == "公报":
        b += title
        b.append(P(f"（{d['issuers'][0]}\u3000{date_text(d['date'], d.get('cn'))}）", align="c"))
        return b + body
    if d.get("resolution"):
        b += title
        b.append(P(f"（{date_text(d['date'], d.get('cn'))}{d['session']}通过）", align="c"))
        return b + body
    if lay == "plain":
        b += title
        if d["num"]:
            b.append(P(f"（{d['num']}）", align="c"))
        return b + body + signature(d)
    if lay == "order":
        b.append(P(f"{d['issuers'][0]}令", align="c", size=26, red=True, role="banner"))
        b.append(P(d["num"], align="c"))
        b += body
        b.append(P(f"市长\u3000{d['signer']}", align="r", role="sig"))
        b.append(P(date_text(d["date"], d.get("cn")), align="r", role="sig"))
        return b
    if lay == "minutes":
        b += marks(d)
        b.append(P(d["head"], align="c", size=26, red=True, role="banner"))
        b.append(P(d["num"], align="c"))
        b.append(P(f"{d['minutes_office']}\u3000\u3000\u3000\u3000{date_text(d['date'], d.get('cn'))}"))
        b += title + body
        return b
    # file / letter
    if not nob:
        if lay == "letter":
            b.append(P(d["issuers"][0], align="c", size=26, red=True, role="banner"))
            b.append(P("—" * 20, red=True, role="rule"))
            b.append(P(d["num"], align="r"))
            b += marks(d)
        else:
            b += marks(d)
            if len(d["issuers"]) == 1:
                b.append(P(d["issuers"][0] + "文件", align="c", size=26, red=True, role="banner"))
            elif txt:
                b += [P(i, align="c", role="banner") for i in d["issuers"]] + [P("文件", align="c", role="banner")]
            else:
                rows = [[i, "文件" if k == 0 else ""] for k, i in enumerate(d["issuers"])]
                b.append(("t", rows))
            b += num_line(d, txt)
            b.append(P("—" * 20, red=True, role="rule"))
    b += title
    if d["rec"]:
        b.append(P(d["rec"], role="rec"))
    b += body + attachments(d) + signature(d)
    if lay == "file":
        b += version_block(d, txt)
    elif d.get("cc") and txt:
        b += version_block(d, txt)
    return b


# ---------------------------------------------------------------- writers
def write_docx(d, path):
    doc = Document()
    st = doc.styles["Normal"]
    st.font.name = "Noto Serif CJK SC"
    st.font.size = Pt(16)
    for blk in blocks(d):
        if blk[0] == "t":
            rows = blk[1]
            t = doc.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, val in enumerate(row):
                    t.cell(r, c).text = val
            continue
        _, text, o = blk
        p = doc.add_paragraph()
        run = p.add_run(text)
        run.font.size = Pt(o["size"])
        run.bold = o["bold"]
        if o["red"]:
            run.font.color.rgb = RGBColor(0xCC, 0, 0)
        if o["align"] == "c":
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif o["align"] == "r":
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    doc.save(path)


def wrap(s, n=28):
    return "\n".join(s[i:i + n] for i in range(0, len(s), n))


def write_txt(d, path):
    styles = d.get("txt", [])
    lines = []
    if d["id"] % 2 == 0:
        lines += [f"来源：{d['issuers'][0]}网站  发布时间：{(dt.date.fromisoformat(d['date']) + dt.timedelta(days=3)).isoformat()}  【字体：大 中 小】", ""]
    for blk in blocks(d, txt=True):
        _, text, o = blk
        role = o["role"]
        if role == "rule":
            continue
        if role == "title" and "sp" in styles:
            text = " ".join(text)
        if role in ("body",):
            if "fw" in styles:
                text = "\u3000\u3000" + text
            if "wrap" in styles:
                text = wrap(text)
        if role == "sig" and "fw" in styles:
            text = "\u3000" * 12 + text
        if "tab" in styles and role == "sig":
            text = "\t\t\t" + text
        lines.append(text)
        if role in ("title", "body") and "wrap" not in styles:
            pass
    lines += ["", "【打印本页】 【关闭窗口】"]
    nl = "\r\n" if "crlf" in styles else "\n"
    data = nl.join(lines).replace("\n", nl) if nl == "\r\n" else nl.join(lines)
    if nl == "\r\n":
        data = data.replace("\r\r\n", "\r\n")
    if "gb" in styles:
        path.write_bytes(data.encode("gb18030"))
    elif "bom" in styles:
        path.write_bytes(data.encode("utf-8-sig"))
    else:
        path.write_bytes(data.encode("utf-8"))


# ---------------------------------------------------------------- checks
def read_text(path, d=None):
    if path.suffix == ".docx":
        doc = Document(path)
        parts = [p.text for p in doc.paragraphs]
        for t in doc.tables:
            for row in t.rows:
                parts += [c.text for c in row.cells]
        return "\n".join(parts)
    if path.suffix == ".pdf":
        return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    raw = path.read_bytes()
    enc = "gb18030" if "gb" in d.get("txt", []) else "utf-8-sig"
    return raw.decode(enc)


def check(d, e, path):
    text = read_text(path, d)
    flat = norm_num(squash(text))
    need = [e["kind"] if e["kind"] != "命令" else "令"] + e["issuer"] + e["recipients"] + e["cc"] + e["attachments"]
    need += [x for x in (e["doc_number"], e["title"], e["classification"], e["urgency"], e["signer"]) if x]
    need.append(date_text(d["date"], d.get("cn")))
    if d.get("deadline"):
        need.append(d["deadline"][1])
    missing = [n for n in need if norm_num(squash(n)) not in flat]
    if d.get("nobanner") or "nobanner" in d.get("txt", []):
        pass
    if missing:
        raise SystemExit(f"doc-{d['id']:02d} ({path.name}): not printed: {missing}")
    if e["kind"] not in NO_REC and not e["recipients"]:
        raise SystemExit(f"doc-{d['id']:02d}: no recipients")


def main():
    if OUT.exists():
        for f in OUT.iterdir():
            if f.name != "README.md":
                f.unlink()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    tmp = Path(tempfile.mkdtemp())
    pdf_src = []
    for d in DOCS:
        name = f"doc-{d['id']:02d}.{d['fmt']}"
        if d["fmt"] == "docx":
            write_docx(d, OUT / name)
        elif d["fmt"] == "pdf":
            src = tmp / f"doc-{d['id']:02d}.docx"
            write_docx(d, src)
            pdf_src.append(src)
        else:
            write_txt(d, OUT / name)
        rows.append((d, name))
    # bad input 51: image-only PDF (a scanned page without text layer)
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(OUT)] + [str(p) for p in pdf_src],
                   check=True, capture_output=True)
    scan_src = OUT / "doc-03.pdf"
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", str(scan_src), str(tmp / "scan")], check=True)
    png = sorted(tmp.glob("scan*.png"))[0]
    sd = Document()
    sd.add_picture(str(png), width=Pt(420))
    sd.save(tmp / "doc-51.docx")
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(OUT), str(tmp / "doc-51.docx")],
                   check=True, capture_output=True)
    # bad input 52: a CSV export renamed to .docx
    (OUT / "doc-52.docx").write_text("工单编号,来电时间,诉求内容\nA20260301,2026-03-01 09:12,路灯不亮\n", encoding="utf-8")
    shutil.rmtree(tmp)

    with open(OUT / "index.jsonl", "w", encoding="utf-8") as fh:
        for d, name in rows:
            e = expect_of(d)
            check(d, e, OUT / name)
            fh.write(json.dumps({"id": f"doc-{d['id']:02d}", "path": name, "format": d["fmt"], "expect": e,
                                 "notes": d["notes"]}, ensure_ascii=False) + "\n")
        for i, fmt, note in ((51, "pdf", "坏输入：只有图像的扫描件 PDF，没有文字层"),
                             (52, "docx", "坏输入：CSV 文本改成 .docx 扩展名")):
            fh.write(json.dumps({"id": f"doc-{i}", "path": f"doc-{i}.{fmt}", "format": fmt, "expect": "error",
                                 "notes": note}, ensure_ascii=False) + "\n")
    # bad inputs really are bad
    assert read_text(OUT / "doc-51.pdf").strip() == "", "doc-51 has a text layer"
    try:
        Document(OUT / "doc-52.docx")
        raise SystemExit("doc-52 opened as docx")
    except SystemExit:
        raise
    except Exception:
        pass
    print(f"ok: {len(rows)} documents + 2 bad inputs in {OUT}")


if __name__ == "__main__":
    main()
