"""What an XLSX workbook would ask of calamine, measured before calamine reads it.

calamine holds a sheet as a dense grid from A1 to its last cell: one stray value at XFD1048576 in a 7 KB file
asks for 17 billion cells (512 GiB), and the process aborts. Its zip reader decompresses whatever a part
holds. So the workbook's parts are streamed here first, within limits: the bytes they unpack to
(`max_xlsx_unpacked_bytes`, whatever the zip directory claims), and the first sheet's used range — the last
row and column that hold a cell with content, wherever its cells say they are (`max_rows`, `max_columns`,
`max_sheet_cells`). Streaming keeps this pass's own memory to about a megabyte.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path, PurePosixPath

from shegong.contracts import FileLimits

CHUNK = 1 << 20
MAX_PARTS = 10_000
MAX_TAG_BYTES = 1 << 20

_SHEET = re.compile(rb"<(?:\w+:)?sheet\b[^>]*?\b(?:\w+:)?id=\"([^\"]+)\"")
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")
_ATTRIBUTE = re.compile(rb"\b(Id|Target)=\"([^\"]*)\"")
# Cells as writers lay them out: the reference first. A cell written <c .../> holds nothing (calamine skips it).
# Tags may carry a namespace prefix (<x:c>).
_FILLED_CELL_REFERENCE = re.compile(rb"<c r=\"([A-Z]{1,3}\d{1,7})\"[^>]*(?<!/)>")
_ROW_NUMBER = re.compile(rb"<row r=\"(\d{1,7})\"")
_LETTERS = re.compile(rb"[A-Z]+")
_DIGITS = re.compile(rb"\d+")
_ROW_REFERENCE = re.compile(rb"<(?:\w+:)?row\b[^>]*?\br=\"(\d{1,7})\"")
# Any layout, for the slow path: row and cell tags in document order.
_TAG = re.compile(rb"<(?:\w+:)?(row|c)(\s[^>]*)?>")
_REFERENCE = re.compile(rb"\br=\"([A-Z]{0,3})(\d{1,7})\"")


class _Unreadable(Exception):
    pass


def column_number(letters: bytes | str) -> int:
    number = 0
    for letter in letters.encode() if isinstance(letters, str) else letters:
        number = number * 26 + letter - 64
    return number


def column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def check_workbook(path: Path, limits: FileLimits) -> tuple[str, str] | None:
    """(reason, what to do) when the workbook is over a limit or malformed; None when calamine may read it."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            if len(parts) > MAX_PARTS:
                return f"a workbook of {len(parts):,} parts (limit {MAX_PARTS:,})", "re-save it in Excel/WPS"
            sheet = _first_sheet(archive)
            unpacked = 0
            for part in parts:
                if part.is_dir() or not _read_by_calamine(part.filename, sheet):
                    continue
                extent = _Extent() if part.filename == sheet else None
                unpacked = _stream(archive, part, unpacked, limits, extent)
                if extent is not None:
                    problem = extent.problem(limits)
                    if problem:
                        return problem
            if sheet is None or sheet not in archive.NameToInfo:
                return (
                    "the workbook has no worksheet",
                    "re-save it in Excel/WPS with the roster on the first sheet",
                )
    except _Unreadable as exc:
        return str(exc), "re-save it in Excel/WPS, then land it again"
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        EOFError,
        OSError,
        ValueError,
    ) as exc:
        return (
            f"a corrupt workbook ({type(exc).__name__}: {exc})",
            "re-save it in Excel/WPS, then land it again",
        )
    return None


def _read_by_calamine(name: str, sheet: str | None) -> bool:
    """The parts calamine reads to open a workbook and its first sheet: the rest (other sheets, drawings,
    media, document properties) it never decompresses."""
    if name == sheet:
        return True
    if name.startswith(("xl/worksheets/", "xl/chartsheets/", "xl/media/", "xl/drawings/", "docProps/")):
        return False
    return name.endswith((".xml", ".rels"))


def _first_sheet(archive: zipfile.ZipFile) -> str | None:
    """The part of the workbook's first sheet, as calamine's get_sheet_by_index(0) reads it."""
    try:
        workbook = _small_part(archive, "xl/workbook.xml")
        relationships = _small_part(archive, "xl/_rels/workbook.xml.rels")
    except KeyError:
        return None
    first = _SHEET.search(workbook)
    if not first:
        return None
    for tag in _RELATIONSHIP.findall(relationships):
        attributes = dict(_ATTRIBUTE.findall(tag))
        if attributes.get(b"Id") == first[1]:
            target = attributes.get(b"Target", b"").decode("utf-8", "replace")
            if target.startswith("/"):
                return target.lstrip("/")
            parts: list[str] = []
            for piece in PurePosixPath("xl", target).parts:
                if piece == "..":
                    if parts:
                        parts.pop()
                elif piece != ".":
                    parts.append(piece)
            return "/".join(parts)
    return None


def _small_part(archive: zipfile.ZipFile, name: str) -> bytes:
    with archive.open(name) as part:
        data = part.read(MAX_TAG_BYTES * 8 + 1)
    if len(data) > MAX_TAG_BYTES * 8:
        raise _Unreadable(f"the workbook's {name} is over {MAX_TAG_BYTES * 8:,} bytes")
    return data


def _stream(
    archive: zipfile.ZipFile, part: zipfile.ZipInfo, unpacked: int, limits: FileLimits, extent: _Extent | None
) -> int:
    """Decompress one part in chunks (the sheet's chunks go to `extent`); the running total of unpacked
    bytes, which must stay within the limit whatever the zip directory declares."""
    carry = b""
    with archive.open(part) as stream:
        while chunk := stream.read(CHUNK):
            unpacked += len(chunk)
            if unpacked > limits.max_xlsx_unpacked_bytes:
                raise _Unreadable(
                    f"the workbook unpacks to over {limits.max_xlsx_unpacked_bytes:,} bytes "
                    "(max_xlsx_unpacked_bytes): a zip bomb or an export far too large"
                )
            if extent is None:
                continue
            data = carry + chunk
            cut = data.rfind(b"<")
            if cut < 0:
                cut = len(data)
            extent.scan(data[:cut])
            carry = data[cut:]
            if len(carry) > MAX_TAG_BYTES:
                raise _Unreadable(f"the sheet {part.filename} has a tag over {MAX_TAG_BYTES:,} bytes")
            if extent.over(limits):
                return unpacked  # no need to read further: it is rejected
    if extent is not None:
        extent.scan(carry)
    return unpacked


class _Extent:
    """The last row and column of a sheet's cells with content."""

    def __init__(self) -> None:
        self.rows = 0
        self.columns = 0
        self._row = 0  # the slow path's current row and column
        self._column = 0

    def scan(self, xml: bytes) -> None:
        rows = _ROW_NUMBER.findall(xml)
        every_cell_placed = xml.count(b'<c r="') == xml.count(b"<c ") + xml.count(b"<c>")
        every_row_placed = len(rows) == xml.count(b"<row ") + xml.count(b"<row>")
        if not (every_cell_placed and every_row_placed) or b":c " in xml:
            self._scan_in_order(xml)  # cells that sit where the ones before them leave off, or prefixed tags
            return
        if rows:
            self._row = int(rows[-1])
        references = b" ".join(_FILLED_CELL_REFERENCE.findall(xml))
        if not references:
            return
        letters = max(set(_LETTERS.findall(references)), key=lambda s: (len(s), s))
        numbers = _DIGITS.findall(references)
        longest = max(map(len, numbers))
        self.columns = max(self.columns, column_number(letters))
        self.rows = max(self.rows, int(max(n for n in numbers if len(n) == longest)))

    def _scan_in_order(self, xml: bytes) -> None:
        """Cells without a reference sit after the cell before them; rows without one after the row before."""
        for tag, attributes in _TAG.findall(xml):
            reference = _REFERENCE.search(attributes or b"")
            if tag == b"row":
                self._row = int(reference[2]) if reference else self._row + 1
                self._column = 0
                continue
            if reference:
                self._column = column_number(reference[1]) if reference[1] else self._column + 1
                self._row = int(reference[2]) if reference[1] else self._row
            else:
                self._column += 1
            if not (attributes or b"").endswith(b"/"):
                self.rows = max(self.rows, self._row)
                self.columns = max(self.columns, self._column)

    def over(self, limits: FileLimits) -> bool:
        return self.problem(limits) is not None

    def problem(self, limits: FileLimits) -> tuple[str, str] | None:
        if self.columns > limits.max_columns:
            return (
                f"the first sheet has cells up to column {column_letters(self.columns)} ({self.columns:,} columns), "
                f"over the limit of {limits.max_columns:,} (max_columns)",
                "delete the stray cells right of the roster (or export only the registry's columns) and re-send it",
            )
        if self.rows > limits.max_rows:
            return (
                f"the first sheet has cells down to row {self.rows:,}, over the limit of {limits.max_rows:,} "
                "(max_rows)",
                "delete the stray cells below the roster (or split the export) and re-send it",
            )
        if self.rows * self.columns > limits.max_sheet_cells:
            return (
                f"the first sheet's used range is {self.rows:,} rows × {self.columns:,} columns, over the limit of "
                f"{limits.max_sheet_cells:,} cells (max_sheet_cells)",
                "delete stray cells outside the roster (or split the export) and re-send it",
            )
        return None
