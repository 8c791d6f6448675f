"""Writing one landing file the way a department's export looks: its own header spellings, date style,
encoding or XLSX, a title line above the header now and then, stray padding and full-width digits, trailing
blank lines.

Rows arrive as canonical values (str, date, int, Decimal-like float, enum code) in contract column order; a
`FileStyle` turns them into cells. `BadDate` and `Raw` carry planted defects through unchanged formatting.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

from .xlsx import write_xlsx

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@dataclass(frozen=True)
class BadDate:
    """An impossible calendar date (e.g. 2024-02-30), written in the file's date style as text."""

    year: int
    month: int
    day: int


@dataclass(frozen=True)
class Raw:
    """A cell written verbatim (unknown enum spellings, junk total rows)."""

    text: str


@dataclass(frozen=True)
class Column:
    name: str
    header: str  # the alias this department uses
    kind: str  # string | date | integer | decimal | enum
    enum_labels: dict[str, str] | None = None  # enum code -> the spelling this department uses


@dataclass(frozen=True)
class FileStyle:
    fmt: str  # csv | xlsx
    encoding: str  # utf-8 | utf-8-sig | gb18030 | xlsx
    columns: tuple[Column, ...]  # written columns, in order (a subset of the contract's)
    date_style: str  # iso | slash | zh | excel
    title: str | None  # a title line above the header
    serial: bool  # a leading 序号 column
    trailing_blank: int  # blank lines after the data (CSV)
    newline: str  # CSV line terminator

    @property
    def header_row(self) -> int:
        """Physical 1-based row of the header, as a spreadsheet shows the file."""
        return 2 if self.title else 1


def format_date(value: dt.date | BadDate, style: str) -> str:
    y, m, d = value.year, value.month, value.day
    if style == "slash":
        return f"{y}/{m}/{d}"
    if style == "zh":
        return f"{y}年{m}月{d}日"
    return f"{y:04d}-{m:02d}-{d:02d}"


def _number(value: float | int, column: str) -> str:
    """Money with two decimals (as finance exports have it); hours and counts as plain numbers."""
    if isinstance(value, int):
        return str(value)
    if column.endswith("_yuan"):
        return f"{value:.2f}"
    return f"{value:g}"


def render(row: list, style: FileStyle, index: dict[str, int], xlsx: bool) -> list:
    """Cells for one canonical row (`index` maps column name to position in the canonical row)."""
    out: list = []
    for col in style.columns:
        value = row[index[col.name]]
        if value is None or value == "":
            out.append(None if xlsx else "")
        elif isinstance(value, Raw):
            out.append(value.text)
        elif isinstance(value, BadDate):
            out.append(format_date(value, "iso" if style.date_style == "excel" else style.date_style))
        elif col.kind == "date":
            if xlsx and style.date_style == "excel":
                out.append(value)
            else:
                out.append(format_date(value, "iso" if style.date_style == "excel" else style.date_style))
        elif col.kind == "enum":
            out.append(col.enum_labels[value] if col.enum_labels else value)
        elif col.kind in ("integer", "decimal"):
            if isinstance(value, str) or xlsx:  # a cell already dressed (full-width digits)
                out.append(value)
            else:
                out.append(_number(value, col.name))
        else:
            out.append(value)
    return out


def write_file(path: Path, style: FileStyle, rows: list[list], index: dict[str, int]) -> None:
    """Write canonical rows under `style`; row i lands on physical row header_row + 1 + i."""
    headers = [c.header for c in style.columns]
    xlsx = style.fmt == "xlsx"
    if style.serial:
        headers = ["序号", *headers]
    path.parent.mkdir(parents=True, exist_ok=True)
    if xlsx:
        _write_xlsx(path, style, headers, rows, index)
        return
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=style.newline)
    if style.title:
        writer.writerow([style.title])
    writer.writerow(headers)
    for i, row in enumerate(rows, 1):
        cells = render(row, style, index, xlsx=False)
        writer.writerow([*_serial(cells, i), *cells] if style.serial else cells)
    buf.write(style.newline * style.trailing_blank)
    path.write_bytes(buf.getvalue().encode(style.encoding))


def _serial(cells: list, i: int) -> list:
    """The 序号 cell; a junk 合计 row carries its label there instead of in the first data column."""
    if "合计" in cells:
        cells[cells.index("合计")] = None
        return ["合计"]
    return [i]


def _write_xlsx(path: Path, style: FileStyle, headers: list[str], rows: list[list], index) -> None:
    sheet: list[list] = [[style.title]] if style.title else []
    sheet.append(headers)
    for i, row in enumerate(rows, 1):
        cells = render(row, style, index, xlsx=True)
        sheet.append([*_serial(cells, i), *cells] if style.serial else cells)
    write_xlsx(path, sheet)
