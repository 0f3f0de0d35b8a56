"""DOCX → PDF (LibreOffice, headless) → PNG pages (poppler's pdftoppm), for the console's preview
and for checking what a document looks like.

The fonts GB/T 9704 names are not free; LibreOffice is given a fontconfig file that maps them to
free ones (Debian packages fonts-noto-cjk and fonts-arphic-ukai / fonts-arphic-uming):

| named in the document | rendered with | package |
|---|---|---|
| 方正小标宋简体 (titles, the red mark) | Noto Serif CJK SC, bold | fonts-noto-cjk |
| 仿宋_GB2312 (text) | AR PL UMing CN (a Ming/Song face: there is no free FangSong in Debian) | fonts-arphic-uming |
| 楷体_GB2312 (second-level headings, signers) | AR PL UKai CN | fonts-arphic-ukai |
| 黑体 (first-level headings, marks) | Noto Sans CJK SC | fonts-noto-cjk |
| 宋体 (page numbers) | Noto Serif CJK SC | fonts-noto-cjk |

Each conversion runs in its own temporary directory with its own LibreOffice profile (so
conversions may run side by side), under a time limit. Nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pypdfium2

#: seconds LibreOffice may take for one document (its first start builds a profile: several seconds)
SOFFICE_TIMEOUT_S = 90
PDFTOPPM_TIMEOUT_S = 30
DEFAULT_DPI = 96
MAX_DPI = 200

SUBSTITUTES = {
    "方正小标宋简体": "Noto Serif CJK SC",
    "小标宋": "Noto Serif CJK SC",
    "仿宋_GB2312": "AR PL UMing CN",
    "仿宋": "AR PL UMing CN",
    "楷体_GB2312": "AR PL UKai CN",
    "楷体": "AR PL UKai CN",
    "黑体": "Noto Sans CJK SC",
    "宋体": "Noto Serif CJK SC",
}


class RenderError(RuntimeError):
    """The document could not be rendered (LibreOffice or poppler missing, failed or too slow)."""


def available() -> bool:
    return shutil.which("soffice") is not None and shutil.which("pdftoppm") is not None


def _fontconfig(folder: Path) -> Path:
    aliases = "\n".join(
        f'  <alias binding="same"><family>{name}</family><prefer><family>{free}</family></prefer></alias>'
        for name, free in SUBSTITUTES.items())
    path = folder / "fonts.conf"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"{aliases}\n</fontconfig>\n", encoding="utf-8")
    return path


def docx_to_pdf(data: bytes) -> bytes:
    """The document as PDF, by LibreOffice (`soffice --headless --convert-to pdf`)."""
    soffice = shutil.which("soffice")
    if soffice is None:
        raise RenderError("未安装 LibreOffice，无法生成预览 LibreOffice (soffice) is not installed: "
                          "apt-get install libreoffice-writer-nogui")
    with tempfile.TemporaryDirectory(prefix="aicity-render-") as tmp:
        folder = Path(tmp)
        source = folder / "document.docx"
        source.write_bytes(data)
        env = {**os.environ, "FONTCONFIG_FILE": str(_fontconfig(folder)), "HOME": str(folder)}
        command = [soffice, f"-env:UserInstallation=file://{folder / 'profile'}", "--headless", "--norestore",
                   "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(folder), str(source)]
        try:
            done = subprocess.run(command, capture_output=True, timeout=SOFFICE_TIMEOUT_S, env=env, check=False)
        except subprocess.TimeoutExpired:
            raise RenderError(f"LibreOffice 转换超时（{SOFFICE_TIMEOUT_S} 秒）conversion timed out") from None
        pdf = folder / "document.pdf"
        if done.returncode != 0 or not pdf.is_file():
            tail = (done.stderr or done.stdout).decode("utf-8", "replace").strip()[-300:]
            raise RenderError(f"LibreOffice 未能转换该文档 conversion failed: {tail or done.returncode}")
        return pdf.read_bytes()


def pdf_pages(pdf: bytes) -> int:
    """How many pages a PDF has (pypdfium2, already a dependency of the knowledge center)."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        return len(document)
    finally:
        document.close()


def pdf_page_png(pdf: bytes, page: int, dpi: int = DEFAULT_DPI) -> bytes:
    """Page `page` (1-based) of a PDF as PNG (`pdftoppm`)."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise RenderError("未安装 poppler-utils (pdftoppm)，无法生成预览 apt-get install poppler-utils")
    if page < 1:
        raise RenderError(f"页码从 1 开始 pages count from 1, not {page}")
    dpi = max(36, min(dpi, MAX_DPI))
    with tempfile.TemporaryDirectory(prefix="aicity-pages-") as tmp:
        folder = Path(tmp)
        (folder / "in.pdf").write_bytes(pdf)
        try:
            subprocess.run([pdftoppm, "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile",
                            str(folder / "in.pdf"), str(folder / "page")],
                           capture_output=True, timeout=PDFTOPPM_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise RenderError("pdftoppm 超时 timed out") from None
        out = folder / "page.png"
        if not out.is_file():
            raise RenderError(f"该文档没有第 {page} 页 the document has no page {page}")
        return out.read_bytes()


def docx_pages_png(data: bytes, dpi: int = DEFAULT_DPI) -> list[bytes]:
    """Every page of a DOCX as PNG."""
    pdf = docx_to_pdf(data)
    return [pdf_page_png(pdf, n, dpi) for n in range(1, pdf_pages(pdf) + 1)]
