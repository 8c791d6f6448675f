"""Reading registry files as departments send them: CSV in any common Chinese encoding, or XLSX, with a title
row or two above the header. Whole-file problems raise FileRejected with one clear line."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from shegong.contracts import Contract, contracts, normalize_header
from shegong.ingest.cells import clean, clean_column

HEADER_SEARCH_ROWS = 10
_FILE_NAME = re.compile(r"(?P<region>\d{6})[_\-\s]*(?P<year>20\d{2})[-_年.]?(?P<month>1[0-2]|0?[1-9])(?!\d)")
SUPPORTED_SUFFIXES = (".csv", ".txt", ".xlsx")


class FileRejected(ValueError):
    """The whole file cannot be ingested; nothing of it enters the warehouse."""

    def __init__(self, path: Path, reason: str, hint: str):
        super().__init__(f"{path.name}: {reason} — {hint}")
        self.path = path
        self.reason = reason
        self.hint = hint


@dataclass
class RegistryFile:
    """A file read and mapped onto its contract: its data rows as columns of cleaned text cells."""

    path: Path
    encoding: str  # utf-8, utf-8-sig, gb18030, utf-16, xlsx
    reporting_region: str | None
    period_month: dt.date | None
    header_row: int  # physical 1-based row number of the header
    columns: list[str | None]  # contract column per file column, None when unknown
    unknown_columns: list[str] = field(default_factory=list)
    missing_optional: list[str] = field(default_factory=list)
    # One text array per file column, as wide as the widest row; a row shorter than that reads '' beyond its end.
    cells: list[pa.StringArray] = field(default_factory=list)
    row_numbers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # physical, 1-based
    row_widths: np.ndarray | None = None  # cells each row has, when rows differ in width

    @property
    def num_rows(self) -> int:
        return len(self.row_numbers)

    def text(self, column: str) -> pa.StringArray:
        """The cells of a contract column, '' throughout when the file lacks it."""
        if column in self.columns:
            return self.cells[self.columns.index(column)]
        return pa.repeat(pa.scalar("", pa.string()), self.num_rows)

    def row_cells(self, index: int) -> list[str]:
        """The cells of one data row (by position among the data rows), as the file has them."""
        width = len(self.cells) if self.row_widths is None else int(self.row_widths[index])
        return [self.cells[position][index].as_py() for position in range(width)]


def file_digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def period_of(path: Path) -> tuple[str, dt.date]:
    """Reporting region and month from a name like 320585_2024-03_持证社工名册.csv."""
    match = _FILE_NAME.search(path.stem)
    if not match:
        raise FileRejected(
            path,
            "cannot tell the reporting region and month from the file name",
            "name registry files like 320585_2024-03_持证社工名册.csv (6-digit region code, then year-month)",
        )
    return match["region"], dt.date(int(match["year"]), int(match["month"]), 1)


def decode(path: Path, data: bytes) -> tuple[str, str]:
    """Text and encoding of a CSV, detected from its bytes: BOMs first, then strict UTF-8, then GB18030."""
    if not data.strip():
        raise FileRejected(path, "the file is empty", "ask the sender for the export again")
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding), encoding
    if b"\x00" in data[:4096] or data[:4] in (b"PK\x03\x04", b"%PDF", b"\xd0\xcf\x11\xe0"):
        raise FileRejected(
            path,
            "binary content in a .csv file",
            "export the sheet as CSV (or send it as .xlsx) and land it again",
        )
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise FileRejected(
            path,
            f"undecodable bytes at offset {exc.start} (neither UTF-8 nor GB18030)",
            "re-export the file as UTF-8 or GB18030 CSV",
        ) from None


class _Table:
    """A file's rows before its header is known: the top rows as cleaned cells (for finding the header), and
    the rows after any row as columns of raw text."""

    top: list[list[str]]

    def columns_after(self, header_index: int) -> tuple[list[pa.StringArray], np.ndarray, np.ndarray | None]:
        """The rows after `header_index` as uncleaned text columns, their physical row numbers, and each row's
        width when widths differ. -1 gives every row."""
        raise NotImplementedError


class _Records(_Table):
    """Rows as lists of cells, as the csv module (text) or a workbook (text, numbers, dates) gives them."""

    def __init__(self, records: list[list]):
        self.records = records
        self.top = [[clean(_cell_text(v)) for v in row] for row in records[:HEADER_SEARCH_ROWS]]

    def columns_after(self, header_index):
        rows = self.records[header_index + 1 :]
        widths = np.array([len(row) for row in rows], np.int64)
        width = int(widths.max()) if len(rows) else 0
        if width and widths.min() != width:
            rows = [row + [""] * (width - len(row)) for row in rows]
        else:
            widths = None
        columns = [_column_text(values) for values in zip(*rows, strict=True)] if rows else []
        numbers = np.arange(header_index + 2, header_index + 2 + len(rows), dtype=np.int64)
        return columns, numbers, widths


def _column_text(values: tuple) -> pa.StringArray:
    """_cell_text of a column of cells (before `clean`), column-wise for the columns workbooks hold: all text,
    all whole numbers (calamine gives every number as a float), or all dates."""
    kinds = set(map(type, values))
    if kinds <= {str}:
        return pa.array(values, pa.string())
    if kinds == {float}:
        numbers = np.array(values, np.float64)
        if (np.isfinite(numbers) & (numbers == np.floor(numbers)) & (np.abs(numbers) < 2**62)).all():
            return pa.array(numbers.astype(np.int64)).cast(pa.string())
    if kinds == {dt.date}:
        return pa.array(values, pa.date32()).cast(pa.string())  # ISO dates, as date.isoformat()
    return pa.array(
        [v if type(v) is str else v.isoformat() if type(v) is dt.date else _cell_text(v) for v in values],
        pa.string(),
    )


class _PlainText(_Table):
    """CSV text without quote characters, NULs or lone carriage returns: every line is one row and every
    delimiter separates two cells, so Arrow's CSV reader splits the data rows exactly as the csv module would,
    many times faster. The top rows are the csv module's; a data row of another width than the header sends
    the file back to the csv module."""

    def __init__(self, text: str, utf8: bytes, delimiter: str):
        self.text = text
        self.utf8 = utf8
        self.delimiter = delimiter
        raw = np.frombuffer(utf8, np.uint8)
        newlines = np.flatnonzero(raw == ord("\n"))
        ends = newlines
        if len(raw) and (not len(newlines) or newlines[-1] != len(raw) - 1):
            ends = np.append(newlines, len(raw))  # a last line without its newline
        self.starts = np.concatenate(([0], newlines + 1))[: len(ends)]
        self.lengths = ends - self.starts  # in bytes, without the line's \n
        self.lengths -= (self.lengths > 0) & (raw[np.maximum(ends - 1, 0)] == ord("\r"))
        end = -1
        for _ in range(HEADER_SEARCH_ROWS):
            end = text.find("\n", end + 1)
            if end < 0:
                end = len(text)
                break
        top = csv.reader(io.StringIO(text[: end + 1]), delimiter=delimiter)
        self.top = [[clean(v) for v in row] for row in top]

    def within_field_limit(self) -> bool:
        """The csv module refuses a field longer than its limit; a line no longer than it holds none."""
        return not len(self.lengths) or int(self.lengths.max()) <= csv.field_size_limit()

    def records(self) -> _Records:
        return _Records(list(csv.reader(io.StringIO(self.text), delimiter=self.delimiter)))

    def columns_after(self, header_index):
        if header_index < 0:
            return self.records().columns_after(header_index)
        first = header_index + 1
        lines = np.flatnonzero(self.lengths[first:] > 0) + first  # Arrow skips empty lines, as blank rows
        width = len(self.top[header_index])
        if not len(lines):
            return [pa.array([], pa.string()) for _ in range(width)], lines + 1, None
        offset = int(self.starts[first])
        if self.utf8.startswith(codecs.BOM_UTF8, offset):
            return self.records().columns_after(header_index)  # Arrow would drop it, the csv module keeps it
        names = [f"c{i}" for i in range(width)]
        try:
            table = pacsv.read_csv(
                pa.py_buffer(self.utf8).slice(offset),
                read_options=pacsv.ReadOptions(column_names=names, use_threads=False, block_size=1 << 26),
                parse_options=pacsv.ParseOptions(
                    delimiter=self.delimiter, quote_char=False, escape_char=False, ignore_empty_lines=True
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
                ),
            )
        except pa.ArrowInvalid:  # a row of another width
            return self.records().columns_after(header_index)
        if table.num_rows != len(lines):
            return self.records().columns_after(header_index)
        return [column.combine_chunks() for column in table.columns], lines + 1, None


DELIMITERS = ",\t;|"


class _DelimiterSniffer(csv.Sniffer):
    """csv.Sniffer's answers without its wasted work, which was most of a small file's reading time.

    Python 3.11's `_guess_delimiter` counts all 127 ASCII characters on every line, but only candidates can
    become the delimiter: each character's tally is its own, so the other characters' tallies never change
    the answer. This is that method with the counting narrowed."""

    def _guess_quote_and_delimiter(self, data, delimiters):
        # Each of its patterns needs a quote character: without one, it finds nothing.
        if '"' not in data and "'" not in data:
            return "", False, None, 0
        return super()._guess_quote_and_delimiter(data, delimiters)

    def _guess_delimiter(self, data, delimiters):
        data = list(filter(None, data.split("\n")))
        candidates = [chr(c) for c in range(127) if delimiters is None or chr(c) in delimiters]
        chunk_length = min(10, len(data))
        iteration = 0
        char_frequency: dict[str, dict[int, int]] = {}
        modes: dict[str, tuple[int, int]] = {}
        delims: dict[str, tuple[int, int]] = {}
        start, end = 0, chunk_length
        while start < len(data):
            iteration += 1
            for line in data[start:end]:
                for char in candidates:
                    meta_frequency = char_frequency.get(char, {})
                    freq = line.count(char)
                    meta_frequency[freq] = meta_frequency.get(freq, 0) + 1
                    char_frequency[char] = meta_frequency
            for char in char_frequency:
                items = list(char_frequency[char].items())
                if len(items) == 1 and items[0][0] == 0:
                    continue
                if len(items) > 1:
                    modes[char] = max(items, key=lambda x: x[1])
                    items.remove(modes[char])
                    modes[char] = (modes[char][0], modes[char][1] - sum(item[1] for item in items))
                else:
                    modes[char] = items[0]
            total = float(min(chunk_length * iteration, len(data)))
            consistency = 1.0
            threshold = 0.9
            while len(delims) == 0 and consistency >= threshold:
                for k, v in modes.items():
                    if v[0] > 0 and v[1] > 0 and v[1] / total >= consistency:
                        delims[k] = v
                consistency -= 0.01
            if len(delims) == 1:
                delim = next(iter(delims))
                return delim, data[0].count(delim) == data[0].count(f"{delim} ")
            start = end
            end += chunk_length
        if not delims:
            return "", 0
        if len(delims) > 1:
            for d in self.preferred:
                if d in delims:
                    return d, data[0].count(d) == data[0].count(f"{d} ")
        delim = sorted((v, k) for k, v in delims.items())[-1][1]
        return delim, data[0].count(delim) == data[0].count(f"{delim} ")


def _csv_table(path: Path) -> tuple[_Table, str]:
    data = path.read_bytes()
    text, encoding = decode(path, data)
    try:
        delimiter = _DelimiterSniffer().sniff(text[:4096], delimiters=DELIMITERS).delimiter
    except csv.Error:
        delimiter = ","
    if '"' not in text and "\x00" not in text and text.count("\r") == text.count("\r\n"):
        utf8 = data[len(codecs.BOM_UTF8) :] if encoding == "utf-8-sig" else data
        plain = _PlainText(text, utf8 if encoding.startswith("utf-8") else text.encode("utf-8"), delimiter)
        if plain.within_field_limit():
            return plain, encoding
    return _Records(list(csv.reader(io.StringIO(text), delimiter=delimiter))), encoding


def _xlsx_rows(path: Path) -> list[list[object]]:
    from python_calamine import CalamineWorkbook

    if not zipfile.is_zipfile(path):
        raise FileRejected(
            path, "not a valid XLSX workbook (truncated or not a zip archive)", "re-send the workbook"
        )
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
        return sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for corrupt parts
        raise FileRejected(
            path, f"unreadable XLSX workbook ({exc})", "open and re-save it in Excel/WPS, then land it again"
        ) from None


def _cell_text(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return clean(value)


def _score(cells: list[str], contract: Contract) -> int:
    return sum(1 for c in cells if normalize_header(c) in contract.alias_index)


def _find_header(path: Path, table: list[list[str]], contract: Contract) -> int:
    """Index of the header row: the first of the top rows that names most of the contract's columns."""
    best_index, best_score = -1, 0
    for index, cells in enumerate(table[:HEADER_SEARCH_ROWS]):
        score = _score(cells, contract)
        if score > best_score:
            best_index, best_score = index, score
    required = contract.required_columns
    if best_score >= max(2, len(required) // 2):
        return best_index
    # Perhaps the file belongs to another registry's folder.
    for other in contracts().values():
        if other.registry == contract.registry:
            continue
        if any(
            _score(cells, other) >= max(2, len(other.required_columns) * 2 // 3)
            for cells in table[:HEADER_SEARCH_ROWS]
        ):
            raise FileRejected(
                path,
                f"this is a {other.registry} file ({other.title_zh}), not {contract.registry}",
                f"move it to the {other.registry}/ landing folder",
            )
    expected = "、".join(contract.by_name[c].aliases[0] for c in required[:5])
    raise FileRejected(
        path,
        f"no header row matching the {contract.registry} contract in the first {HEADER_SEARCH_ROWS} rows",
        f"the header must name columns such as {expected}",
    )


def read_registry_file(path: Path, contract: Contract) -> RegistryFile:
    if path.stat().st_size == 0:
        raise FileRejected(path, "the file is empty", "ask the sender for the export again")
    if contract.partitioned_by == "month":
        region, month = period_of(path)
    else:
        region, month = None, None
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        table: _Table = _Records(_xlsx_rows(path))
        encoding = "xlsx"
    elif suffix in (".csv", ".txt"):
        table, encoding = _csv_table(path)
    else:
        raise FileRejected(path, f"unsupported file type {suffix or '(none)'}", "send CSV or XLSX")
    if not any(any(cells) for cells in table.top) and not len(_data_rows(table, -1)[1]):
        raise FileRejected(
            path, "the file holds no data (only blank cells)", "ask the sender for the export again"
        )

    header_index = _find_header(path, table.top, contract)
    header = table.top[header_index]
    columns: list[str | None] = []
    unknown: list[str] = []
    seen: set[str] = set()
    for cell in header:
        name = contract.alias_index.get(normalize_header(cell)) if cell else None
        if name in seen:
            name = None  # a second column mapping to the same field: keep the first, report the rest
        if name is None and cell:
            unknown.append(cell)
        if name:
            seen.add(name)
        columns.append(name)
    missing_required = [c for c in contract.required_columns if c not in seen]
    if missing_required:
        names = ", ".join(f"{c} ({contract.by_name[c].aliases[0]})" for c in missing_required)
        raise FileRejected(
            path, f"required columns missing: {names}", "add the columns to the export and re-send it"
        )
    cells, row_numbers, row_widths = _data_rows(table, header_index)
    if len(cells) < len(header):  # every data row is narrower than the header
        if row_widths is None:
            row_widths = np.full(len(row_numbers), len(cells), np.int64)
        cells += [pa.repeat(pa.scalar("", pa.string()), len(row_numbers))] * (len(header) - len(cells))
    return RegistryFile(
        path=path,
        encoding=encoding,
        reporting_region=region,
        period_month=month,
        header_row=header_index + 1,
        columns=columns,
        unknown_columns=unknown,
        missing_optional=[c.name for c in contract.columns if not c.required and c.name not in seen],
        cells=cells,
        row_numbers=row_numbers,
        row_widths=row_widths,
    )


def _data_rows(
    table: _Table, header_index: int
) -> tuple[list[pa.StringArray], np.ndarray, np.ndarray | None]:
    """The rows after the header as cleaned columns, without the blank rows."""
    texts, numbers, widths = table.columns_after(header_index)
    columns = [clean_column(texts) for texts in texts]
    if not columns:
        return columns, numbers[:0], None
    filled = functools.reduce(pc.or_, (pc.not_equal(column, "") for column in columns))
    if pc.all(filled).as_py():
        return columns, numbers, widths
    keep = filled.to_numpy(zero_copy_only=False)
    return (
        [column.filter(filled) for column in columns],
        numbers[keep],
        widths[keep] if widths is not None else None,
    )
