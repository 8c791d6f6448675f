"""Reading registry files as departments send them: CSV in any common Chinese encoding, or XLSX, with a title
row or two above the header. Whole-file problems raise FileRejected with one clear line."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from shegong.contracts import Contract, contracts, normalize_header
from shegong.ingest.cells import clean

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
    """A file read and mapped onto its contract: data rows as text cells, keyed by contract column."""

    path: Path
    sha256: str
    size_bytes: int
    encoding: str  # utf-8, utf-8-sig, gb18030, utf-16, xlsx
    reporting_region: str | None
    period_month: dt.date | None
    header_row: int  # physical 1-based row number of the header
    columns: list[str | None]  # contract column per file column, None when unknown
    unknown_columns: list[str] = field(default_factory=list)
    missing_optional: list[str] = field(default_factory=list)
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (physical row number, cells)


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


def _csv_rows(path: Path) -> tuple[list[list[str]], str]:
    text, encoding = decode(path, path.read_bytes())
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    return list(csv.reader(io.StringIO(text), delimiter=delimiter)), encoding


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
    sha256, size = file_digest(path)
    if size == 0:
        raise FileRejected(path, "the file is empty", "ask the sender for the export again")
    if contract.partitioned_by == "month":
        region, month = period_of(path)
    else:
        region, month = None, None
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        table = [[_cell_text(v) for v in row] for row in _xlsx_rows(path)]
        encoding = "xlsx"
    elif suffix in (".csv", ".txt"):
        raw, encoding = _csv_rows(path)
        table = [[clean(v) for v in row] for row in raw]
    else:
        raise FileRejected(path, f"unsupported file type {suffix or '(none)'}", "send CSV or XLSX")
    if not any(any(cells) for cells in table):
        raise FileRejected(
            path, "the file holds no data (only blank cells)", "ask the sender for the export again"
        )

    header_index = _find_header(path, table, contract)
    header = table[header_index]
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
    rows = []
    for offset, cells in enumerate(table[header_index + 1 :], start=header_index + 2):
        if any(cells):
            rows.append((offset, cells))
    return RegistryFile(
        path=path,
        sha256=sha256,
        size_bytes=size,
        encoding=encoding,
        reporting_region=region,
        period_month=month,
        header_row=header_index + 1,
        columns=columns,
        unknown_columns=unknown,
        missing_optional=[c.name for c in contract.columns if not c.required and c.name not in seen],
        rows=rows,
    )
