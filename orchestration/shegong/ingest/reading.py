"""Reading registry files as departments send them: CSV in any common Chinese encoding, or XLSX, with a title
row or two above the header. Whole-file problems raise FileRejected with one clear line."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import hashlib
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from shegong.contracts import Contract, FileLimits, contracts, normalize_header
from shegong.ingest.cells import clean, clean_column
from shegong.ingest.records import SplitText, split_records
from shegong.ingest.xlsx_guard import check_workbook

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
    # Records whose structure is broken (an unclosed quote, too many or too few cells, a line or cell over a
    # limit), by physical row number: quarantined with these reasons, their cells of unknown meaning masked.
    record_errors: dict[int, list[dict]] = field(default_factory=dict)

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


def check_period(path: Path, month: dt.date, today: dt.date, first_month: dt.date | None = None) -> None:
    """A reporting month that has not begun cannot have been reported; one before the first partition has no
    partition to land in."""
    if first_month is not None and month < first_month:
        raise FileRejected(
            path,
            f"named for {month:%Y-%m}, before the first monthly partition {first_month:%Y-%m}",
            "check the year and month in the file name, or set SHEGONG_FIRST_MONTH to an earlier month",
        )
    if month > today.replace(day=1):
        raise FileRejected(
            path,
            f"named for {month:%Y-%m}, a month that has not begun (today is {today:%Y-%m-%d})",
            "check the year and month in the file name and land it again",
        )


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
    """Rows as lists of cells, as a CSV text's records or a workbook's rows (text, numbers, dates) give them,
    with the physical row each starts on and the structural problems found while splitting them."""

    def __init__(self, records: list[list], lines: list[int] | None = None, errors: dict | None = None):
        self.records = records
        self.lines = lines if lines is not None else list(range(1, len(records) + 1))
        self.errors: dict[int, tuple[str, str]] = errors or {}
        self.top = [[clean(_cell_text(v)) for v in row] for row in records[:HEADER_SEARCH_ROWS]]

    @classmethod
    def from_split(
        cls, split: SplitText, text: str | None = None, delimiter: str = ",", limits: FileLimits | None = None
    ) -> _Records:
        records = cls(split.cells, split.lines, split.errors)
        if split.spans_lines and text is not None:
            records.unsplit = (text, delimiter, limits)
        return records

    unsplit: tuple[str, str, FileLimits | None] | None = None  # the text, when a record spans lines

    def resplit(self, width: int) -> _Records:
        """A record spanning lines is judged again once the header's width is known (split_records)."""
        if self.unsplit is None:
            return self
        text, delimiter, limits = self.unsplit
        return _Records.from_split(split_records(text, delimiter, limits, width))

    def columns_after(self, header_index, width=None):
        rows = self.records[header_index + 1 :]
        numbers = np.array(self.lines[header_index + 1 :], np.int64)
        widths = np.array([len(row) for row in rows], np.int64)
        if width is None:  # every row, as wide as the widest
            width = int(widths.max()) if len(rows) else 0
        if len(rows) and (widths.min() != width or widths.max() != width):
            rows = [row[:width] + [""] * (width - len(row)) for row in rows]
            widths = np.minimum(widths, width)
        else:
            widths = None
        if not rows:  # a header and no data: the header's columns, empty
            return [pa.array([], pa.string()) for _ in range(width)], numbers, None
        columns = [_column_text(values) for values in zip(*rows, strict=True)]
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
    """CSV text without quote characters, NULs or lone carriage returns, and no line over the record limit:
    every line is one row and every delimiter separates two cells, so Arrow's CSV reader splits the data rows
    exactly as split_records would, many times faster. A data row of another width than the header sends
    the file back to split_records."""

    def __init__(self, text: str, utf8: bytes, delimiter: str, limits: FileLimits):
        self.text = text
        self.utf8 = utf8
        self.delimiter = delimiter
        self.limits = limits
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
        self.top = [
            [clean(v) for v in row] for row in split_records(text[: end + 1], delimiter, limits).cells
        ]

    def rows_as_wide_as(self, header_index: int, width: int) -> bool:
        """Every non-empty line after the header holds exactly `width` cells (counted by its delimiters)."""
        first = header_index + 1
        if first >= len(self.starts):
            return True
        raw = np.frombuffer(self.utf8, np.uint8)
        delimiters = np.flatnonzero(raw == ord(self.delimiter))
        line_of = np.searchsorted(self.starts, delimiters, side="right") - 1
        counts = np.bincount(line_of, minlength=len(self.starts))[first:]
        filled = self.lengths[first:] > 0
        return bool((counts[filled] == width - 1).all())

    def within_line_limit(self) -> bool:
        return not len(self.lengths) or int(self.lengths.max()) <= self.limits.max_line_bytes

    def records(self, width: int | None = None) -> _Records:
        return _Records.from_split(split_records(self.text, self.delimiter, self.limits, width))

    def columns_after(self, header_index, width=None):
        if header_index < 0 or width is None:
            return self.records(width).columns_after(header_index, width)
        first = header_index + 1
        lines = np.flatnonzero(self.lengths[first:] > 0) + first  # Arrow skips empty lines, as blank rows
        if width != len(self.top[header_index]):
            return self.records(width).columns_after(header_index, width)
        if not len(lines):
            return [pa.array([], pa.string()) for _ in range(width)], lines + 1, None
        offset = int(self.starts[first])
        if self.utf8.startswith(codecs.BOM_UTF8, offset):
            return self.records(width).columns_after(header_index, width)  # Arrow would drop it
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
            return self.records(width).columns_after(header_index, width)
        if table.num_rows != len(lines):
            return self.records(width).columns_after(header_index, width)
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


def _csv_table(path: Path, limits: FileLimits) -> tuple[_Table, str]:
    data = path.read_bytes()
    text, encoding = decode(path, data)
    try:
        delimiter = _DelimiterSniffer().sniff(text[:4096], delimiters=DELIMITERS).delimiter
    except csv.Error:
        delimiter = ","
    if '"' not in text and "\x00" not in text and text.count("\r") == text.count("\r\n"):
        utf8 = data[len(codecs.BOM_UTF8) :] if encoding == "utf-8-sig" else data
        plain = _PlainText(
            text, utf8 if encoding.startswith("utf-8") else text.encode("utf-8"), delimiter, limits
        )
        if plain.within_line_limit():
            return plain, encoding
    return _Records.from_split(split_records(text, delimiter, limits), text, delimiter, limits), encoding


def _xlsx_rows(path: Path, limits: FileLimits) -> list[list[object]]:
    from python_calamine import CalamineWorkbook

    if not zipfile.is_zipfile(path):
        raise FileRejected(
            path, "not a valid XLSX workbook (truncated or not a zip archive)", "re-send the workbook"
        )
    problem = check_workbook(path, limits)  # before calamine sizes its grid by the sheet's extent
    if problem is not None:
        raise FileRejected(path, *problem)
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


SUFFIX_PROBLEMS = {
    ".xls": ("an Excel 97-2003 workbook (.xls)", "save it as .xlsx (or CSV) and land it again"),
    ".xlsm": (
        "a macro-enabled workbook (.xlsm)",
        "save it as a plain .xlsx without macros and land it again",
    ),
    ".xlsb": ("a binary workbook (.xlsb)", "save it as .xlsx (or CSV) and land it again"),
    ".et": ("a WPS spreadsheet (.et)", "save it as .xlsx (or CSV) and land it again"),
}


def check_file_type(path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix in SUPPORTED_SUFFIXES:
        return
    if suffix in SUFFIX_PROBLEMS:
        raise FileRejected(path, *SUFFIX_PROBLEMS[suffix])
    if not suffix:
        raise FileRejected(path, "the file name has no extension", "name registry files .csv or .xlsx")
    raise FileRejected(path, f"unsupported file type {suffix}", "send CSV or XLSX")


def read_registry_file(
    path: Path, contract: Contract, today: dt.date | None = None, first_month: dt.date | None = None
) -> RegistryFile:
    """A file read and mapped onto its contract; whole-file problems raise FileRejected. Only regular files
    come here (landing.py turns away links, folders and hidden files). `first_month`: the first monthly
    partition; a file named for a month before it is rejected."""
    limits = contract.limits
    check_file_type(path)
    size = path.stat().st_size
    if size == 0:
        raise FileRejected(path, "the file is empty", "ask the sender for the export again")
    if size > limits.max_file_bytes:
        raise FileRejected(
            path,
            f"{size:,} bytes, over the limit of {limits.max_file_bytes:,} (max_file_bytes)",
            "split the export by month or region, or raise limits.max_file_bytes in the contract",
        )
    if contract.partitioned_by == "month":
        region, month = period_of(path)
        check_period(path, month, today or dt.date.today(), first_month)
    else:
        region, month = None, None
    if path.suffix.lower() == ".xlsx":
        table: _Table = _Records(_xlsx_rows(path, limits))
        encoding = "xlsx"
    else:
        table, encoding = _csv_table(path, limits)
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
    if len(header) > limits.max_columns:
        raise FileRejected(
            path,
            f"the header has {len(header):,} columns, over the limit of {limits.max_columns:,} (max_columns)",
            "export only the registry's columns",
        )
    if isinstance(table, _PlainText) and not table.rows_as_wide_as(header_index, len(header)):
        table = table.records(len(header))
    elif isinstance(table, _Records):
        table = table.resplit(len(header))
    errors = _structure_errors(table, header_index, header)
    cells, row_numbers, row_widths = _data_rows(table, header_index, len(header), set(errors))
    if len(row_numbers) > limits.max_rows:
        raise FileRejected(
            path,
            f"{len(row_numbers):,} rows, over the limit of {limits.max_rows:,} (max_rows)",
            "split the export by month or region, or raise limits.max_rows in the contract",
        )
    cells = _cap_cells(cells, row_numbers, columns, limits, errors)
    return RegistryFile(
        path=path,
        encoding=encoding,
        reporting_region=region,
        period_month=month,
        header_row=table.lines[header_index] if isinstance(table, _Records) else header_index + 1,
        columns=columns,
        unknown_columns=unknown,
        missing_optional=[c.name for c in contract.columns if not c.required and c.name not in seen],
        cells=cells,
        row_numbers=row_numbers,
        row_widths=row_widths,
        record_errors=errors,
    )


def _structure_errors(table: _Table, header_index: int, header: list[str]) -> dict[int, list[dict]]:
    """Physical row → structural reasons: the splitter's (unclosed quote, line over the limit) and the
    header's width (a record with filled cells beyond it, or without the cells its named columns need). Only
    rows of another width than the header's are looked at cell by cell: a workbook's rows never are."""
    errors: dict[int, list[dict]] = {}
    if not isinstance(table, _Records):
        return errors  # read_registry_file keeps the fast path only for rows of the header's width

    def add(number: int, code: str, detail: str) -> None:
        errors.setdefault(int(number), []).append({"code": code, "column": "", "detail": detail})

    for number, (code, detail) in table.errors.items():
        if number > table.lines[header_index]:
            add(number, code, detail)
    named = max((i + 1 for i, cell in enumerate(header) if cell), default=0)
    rows = table.records[header_index + 1 :]
    numbers = table.lines[header_index + 1 :]
    for position in [i for i, row in enumerate(rows) if len(row) != len(header)]:
        row, number = rows[position], numbers[position]
        if number in errors:
            continue
        if len(row) > len(header):
            extra = sum(1 for value in row[len(header) :] if clean(_cell_text(value)))
            if extra:
                add(
                    number,
                    "too_many_columns",
                    f"{extra} filled cells beyond the header's {len(header)} columns",
                )
        elif len(row) < named and any(clean(_cell_text(value)) for value in row):
            add(number, "too_few_columns", f"{len(row)} cells where the header names {named} columns")
    return errors


def _cap_cells(
    cells: list[pa.StringArray],
    row_numbers: np.ndarray,
    columns: list[str | None],
    limits: FileLimits,
    errors,
) -> list[pa.StringArray]:
    """A cell over max_cell_bytes makes its record bad (`cell_too_long`) and is emptied, so that no check and
    no quarantine row carries it."""
    out = []
    for position, column in enumerate(cells):
        long = pc.greater(pc.binary_length(column), limits.max_cell_bytes)
        if not pc.any(long).as_py():
            out.append(column)
            continue
        lengths = pc.binary_length(column).to_numpy(zero_copy_only=False)
        for index in np.flatnonzero(long.to_numpy(zero_copy_only=False)).tolist():
            name = (
                columns[position]
                if position < len(columns) and columns[position]
                else f"column_{position + 1}"
            )
            errors.setdefault(int(row_numbers[index]), []).append(
                {
                    "code": "cell_too_long",
                    "column": name,
                    "detail": f"{int(lengths[index]):,} bytes (limit {limits.max_cell_bytes:,})",
                }
            )
        out.append(pc.if_else(long, "", column))
    return out


def _data_rows(
    table: _Table, header_index: int, width: int | None = None, keep_rows: set[int] | None = None
) -> tuple[list[pa.StringArray], np.ndarray, np.ndarray | None]:
    """The rows after the header, `width` cells each, as cleaned columns, without the blank rows (a bad
    record stays, blank or not: it is quarantined)."""
    texts, numbers, widths = table.columns_after(header_index, width)
    columns = [clean_column(texts) for texts in texts]
    if not columns:
        return columns, numbers[:0], None
    filled = functools.reduce(pc.or_, (pc.not_equal(column, "") for column in columns))
    if keep_rows:
        filled = pc.or_(filled, pa.array(np.isin(numbers, list(keep_rows))))
    if pc.all(filled).as_py():
        return columns, numbers, widths
    keep = filled.to_numpy(zero_copy_only=False)
    return (
        [column.filter(filled) for column in columns],
        numbers[keep],
        widths[keep] if widths is not None else None,
    )
