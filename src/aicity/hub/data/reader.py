"""Reading a file into rows of text: CSV (UTF-8, UTF-8 with BOM or GB18030), XLSX, JSON (an array
of objects or JSON Lines) and Parquet. What is wrong with a file is a 4xx problem naming the fault
(line, column, encoding); nothing is written anywhere before a file has been read whole.

CSV, XLSX and JSON are normalised to a UTF-8 CSV in a temporary folder that DuckDB reads;
Parquet is read by DuckDB directly.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl

from aicity.core.errors import Problem

FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".json": "json", ".jsonl": "json",
           ".ndjson": "json", ".parquet": "parquet"}


def unprocessable(detail: str, type_: str = "malformed-file") -> Problem:
    return Problem(422, "文件无法导入 Unprocessable file", detail, type_)


@dataclass
class ReadFile:
    """A file ready for DuckDB: `path` (a UTF-8 CSV or the Parquet file), its format and header."""

    path: Path
    format: str
    encoding: str | None
    header: list[str]
    rows: int | None


def file_format(name: str) -> str:
    fmt = FORMATS.get(Path(name).suffix.lower())
    if fmt is None:
        raise Problem(415, "格式不支持 Unsupported media type",
                      f"不支持的文件类型 unsupported file type '{Path(name).suffix}'; use CSV, XLSX, JSON, JSON Lines or Parquet",
                      "unsupported-format")
    return fmt


def decode(data: bytes) -> tuple[str, str]:
    """The text and its encoding: UTF-8 with BOM, UTF-8, else GB18030; anything else is refused."""
    if b"\x00" in data[:65536]:
        raise unprocessable("文件含有 NUL 字节，不是文本 the file holds NUL bytes: not a text file", "wrong-encoding")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            raise unprocessable(
                f"编码无法识别：既不是 UTF-8 也不是 GB18030（第 {utf8_error.start} 字节）"
                f" unknown encoding: neither UTF-8 nor GB18030 (byte {utf8_error.start})", "wrong-encoding") from None


def _header(raw: list[str]) -> list[str]:
    header = [h.strip() for h in raw]
    if not header or any(not h for h in header):
        raise unprocessable("表头有空列名 the header has an empty column name")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise unprocessable(f"表头列名重复 duplicate column names in the header: {', '.join(dupes)}")
    return header


def _write_csv(out: Path, header: list[str], rows: list[list[Any]]) -> None:
    with out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def _csv(text: str, name: str, out: Path) -> tuple[list[str], int]:
    delimiter = "\t" if name.lower().endswith(".tsv") else ","
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        first = next(reader, None)
        if first is None:
            raise unprocessable("文件是空的 the file is empty")
        header = _header(first)
        rows = 0
        for row in reader:
            if not row:
                continue
            rows += 1
            if len(row) != len(header):
                raise unprocessable(f"第 {reader.line_num} 行有 {len(row)} 个字段，表头有 {len(header)} 个 "
                                    f"line {reader.line_num} has {len(row)} fields, the header {len(header)}")
    except csv.Error as exc:
        raise unprocessable(f"CSV 格式错误 malformed CSV: {exc}") from exc
    if delimiter == ",":
        out.write_text(text, encoding="utf-8")
    else:
        _write_csv(out, header, [r for r in csv.reader(io.StringIO(text, newline=""), delimiter="\t") if r][1:])
    return header, rows


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _xlsx(data: bytes, out: Path) -> tuple[list[str], int]:
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, InvalidFileException …
        raise unprocessable(f"不是有效的 XLSX 文件 not a valid XLSX file: {exc}") from exc
    sheet = book.worksheets[0]
    rows_iter = sheet.iter_rows(values_only=True)
    first = next(rows_iter, None)
    if first is None:
        raise unprocessable("工作表是空的 the first sheet is empty")
    header = _header(["" if h is None else str(h) for h in first])
    rows = []
    for n, row in enumerate(rows_iter, start=2):
        cells = [_cell(v) for v in row]
        if all(v is None for v in cells):
            continue
        if len(cells) > len(header) and any(v is not None for v in cells[len(header):]):
            raise unprocessable(f"第 {n} 行在表头之外还有值 row {n} has values beyond the header's columns")
        rows.append((cells + [None] * len(header))[:len(header)])
    book.close()
    _write_csv(out, header, rows)
    return header, len(rows)


def _json(text: str, out: Path) -> tuple[list[str], int]:
    stripped = text.lstrip()
    try:
        if stripped.startswith("["):
            records = json.loads(stripped)
        else:
            records = [json.loads(line) for line in stripped.splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise unprocessable(f"JSON 格式错误 malformed JSON: line {exc.lineno}: {exc.msg}") from exc
    if not records:
        raise unprocessable("没有记录 no records")
    header: list[str] = []
    for n, rec in enumerate(records, start=1):
        if not isinstance(rec, dict):
            raise unprocessable(f"第 {n} 条记录不是对象 record {n} is not an object")
        for key, value in rec.items():
            if isinstance(value, (dict, list)):
                raise unprocessable(f"第 {n} 条记录的 {key} 不是标量 record {n}: '{key}' is nested, not a scalar")
            if key not in header:
                header.append(key)
    header = _header(header)
    _write_csv(out, header, [[_cell(rec.get(k)) for k in header] for rec in records])
    return header, len(records)


def read(data: bytes, name: str, folder: Path) -> ReadFile:
    """Check and normalise `data` (the file called `name`) into `folder`."""
    fmt = file_format(name)
    out = folder / "rows.csv"
    if fmt == "parquet":
        path = folder / "rows.parquet"
        path.write_bytes(data)
        return ReadFile(path, fmt, None, [], None)
    if fmt == "xlsx":
        header, rows = _xlsx(data, out)
        return ReadFile(out, fmt, None, header, rows)
    text, encoding = decode(data)
    header, rows = _json(text, out) if fmt == "json" else _csv(text, name, out)
    return ReadFile(out, fmt, encoding, header, rows)
