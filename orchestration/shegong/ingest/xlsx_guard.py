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

import numpy as np

from shegong.contracts import FileLimits

CHUNK = 1 << 20
MAX_PARTS = 10_000
MAX_TAG_BYTES = 1 << 20

_SHEET = re.compile(rb"<(?:\w+:)?sheet\b[^>]*?\b(?:\w+:)?id=\"([^\"]+)\"")
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")
_ATTRIBUTE = re.compile(rb"\b(Id|Target)=\"([^\"]*)\"")
# Cells as writers lay them out: the reference first (<c r="AB12" …>), rows too (<row r="12" …>). A cell written
# <c .../> holds nothing (calamine skips it). Tags may carry a namespace prefix (<x:c>): the slow path's.
_CELL_OPENING = b'<c r="'
_ROW_OPENING = b'<row r="'
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
        tags = _PlacedTags(xml)
        if not tags.every_cell_and_row_placed or b":c " in xml:
            self._scan_in_order(xml)  # cells that sit where the ones before them leave off, or prefixed tags
            return
        if tags.last_row is not None:
            self._row = tags.last_row
        rows, columns = tags.filled_extent()
        self.rows = max(self.rows, rows)
        self.columns = max(self.columns, columns)

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


class _PlacedTags:
    """The row and cell tags of a stretch of sheet XML as writers lay them out, found with NumPy over the bytes
    (a regular expression and a Python object per cell took 11 ms a megabyte, as long as calamine's own read of
    the sheet; this takes 5). Equivalent to the patterns `<c r="([A-Z]{1,3})(\\d{1,7})"[^>]*>` for a cell with
    content (its `>` not preceded by `/`) and `<row r="(\\d{1,7})"` for a row: a reference of another shape is
    not a placed one."""

    def __init__(self, xml: bytes):
        # Padded, so that the bytes after a tag near the end can be read without a bounds check.
        self.data = np.frombuffer(xml + bytes(len(_ROW_OPENING) + _REFERENCE_BYTES), np.uint8)
        self.size = len(xml)
        opens = np.flatnonzero(self.data[: self.size] == ord("<"))
        second = self.data[opens + 1]
        cells = _tags_named(self.data, opens[second == ord("c")], b"c")
        rows = _tags_named(self.data, opens[second == ord("r")], b"row")
        self.cells = _with_opening(self.data, cells, _CELL_OPENING)
        placed_rows = _with_opening(self.data, rows, _ROW_OPENING)
        valid, _, row_numbers = _references(self.data, placed_rows, letters=False)
        self.every_cell_and_row_placed = (
            len(self.cells) == len(cells) and len(placed_rows) == len(rows) and bool(valid.all())
        )
        self.last_row = int(row_numbers[-1]) if len(row_numbers) else None

    def filled_extent(self) -> tuple[int, int]:
        """The last row and the last column of the cells that hold something."""
        valid, columns, rows = _references(self.data, self.cells, letters=True)
        closings = np.flatnonzero(self.data[: self.size] == ord(">"))
        closing = np.searchsorted(closings, self.cells)
        # A tag without its `>` (the stretch ends inside it) is not a cell yet: the next stretch holds it whole.
        closed = closing < len(closings)
        filled = valid & closed
        filled[closed] &= self.data[closings[closing[closed]] - 1] != ord("/")
        if not filled.any():
            return 0, 0
        return int(rows[filled].max()), int(columns[filled].max())


_REFERENCE_BYTES = 11  # the most a reference holds: 3 letters, 7 digits and its closing quote


def _tags_named(data: np.ndarray, opens: np.ndarray, name: bytes) -> np.ndarray:
    """The tags among `opens` (positions of `<`) named `name`: the name, then a space or `>`."""
    for i, byte in enumerate(name[1:], start=2):
        opens = opens[data[opens + i] == byte]
    after = data[opens + len(name) + 1]
    return opens[(after == ord(" ")) | (after == ord(">"))]


def _with_opening(data: np.ndarray, opens: np.ndarray, opening: bytes) -> np.ndarray:
    """Where the references begin, of the tags among `opens` that begin with `opening`."""
    for i in range(1, len(opening)):
        opens = opens[data[opens + i] == opening[i]]
    return opens + len(opening)


def _references(data: np.ndarray, starts: np.ndarray, letters: bool) -> tuple[np.ndarray, ...]:
    """For the references beginning at `starts`: whether each is 1-3 capital letters (when `letters`), then 1-7
    digits, then a quote; its column number (the letters) and its row number (the digits)."""
    count = len(starts)
    window = data[starts[:, None] + np.arange(_REFERENCE_BYTES)]
    is_letter = (window - np.uint8(ord("A"))) < 26 if letters else np.zeros(window.shape, bool)
    letter_count = np.zeros(count, np.int64)
    column = np.zeros(count, np.int64)
    still = np.ones(count, bool)
    for i in range(4):  # a fourth letter makes the reference invalid
        still &= is_letter[:, i]
        letter_count += still
        if i < 3:
            column = np.where(still, column * 26 + window[:, i] - (ord("A") - 1), column)
    # The bytes after the letters, each reference's shifted to the left.
    rows_index = np.arange(count)
    after_letters = window[
        rows_index[:, None], np.minimum(letter_count[:, None] + np.arange(8), _REFERENCE_BYTES - 1)
    ]
    is_digit = (after_letters - np.uint8(ord("0"))) < 10
    row = np.zeros(count, np.int64)
    digit_count = np.zeros(count, np.int64)
    still = np.ones(count, bool)
    for i in range(8):  # an eighth digit makes it invalid
        still &= is_digit[:, i]
        digit_count += still
        if i < 7:
            row = np.where(still, row * 10 + after_letters[:, i] - ord("0"), row)
    end = np.minimum(letter_count + digit_count, _REFERENCE_BYTES - 1)
    valid = (digit_count >= 1) & (digit_count <= 7) & (window[rows_index, end] == ord('"'))
    if letters:
        valid &= (letter_count >= 1) & (letter_count <= 3)
    return valid, column, row
