"""Splitting CSV text into records so that every physical line is accounted for.

Python's csv module, given a whole file, lets one unbalanced quote swallow every line after it into a single
field, stops at a lone carriage return, and raises on a field over its size limit: a row silently becomes
hundreds, or the file fails. Here the text is cut into physical lines first (at CR LF, LF or a lone CR, as
DuckDB's CSV reader does), and each record is parsed from the lines it spans:

- a line without a quote character is split at the delimiter;
- a line with one is parsed by the csv module; a quoted cell left open continues on the next lines, but only
  while the cell stays within `max_quoted_lines` and the record within `max_line_bytes`, no line it takes in
  holds a whole record's worth of delimiters, and the record comes out as wide as the header. Otherwise the
  opening line alone is a bad record (`unterminated_quote`) and parsing resumes on the line after it, so a
  stray quote costs one record;
- a record over `max_line_bytes` is a bad record (`line_too_long`) and keeps none of its cells.

The reason codes follow DuckDB's `store_rejects` error types (UNQUOTED VALUE, LINE SIZE OVER MAXIMUM, TOO MANY
COLUMNS, MISSING COLUMNS); column counts are judged later, against the header (`reading.py`).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field

from shegong.contracts import FileLimits

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE_WITH_BREAK = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


@dataclass
class SplitText:
    """Records of a CSV text: each record's cells and the physical (1-based) line it starts on, and the
    structural problem of each bad record by its line."""

    cells: list[list[str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    errors: dict[int, tuple[str, str]] = field(default_factory=dict)  # line → (reason code, detail)
    spans_lines: bool = False  # some record continues on the lines after its first

    def add(self, line: int, cells: list[str], error: tuple[str, str] | None = None) -> None:
        self.cells.append(cells)
        self.lines.append(line)
        if error is not None:
            self.errors[line] = error


def _utf8_length(text: str) -> int:
    # A character takes at most 4 bytes: only a long line needs encoding to be measured.
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _parse(text: str, delimiter: str) -> tuple[list[str] | None, bool]:
    """(cells, complete) of one record's text: complete is False when a quoted cell is still open at its end."""
    try:
        return next(csv.reader([text], delimiter=delimiter, strict=True), []), True
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            return None, False
    try:  # a stray quote inside a cell ("a"b): read as the csv module always has, leniently
        return next(csv.reader([text], delimiter=delimiter), []), True
    except csv.Error:
        return [text.replace("\0", "")], True


def split_records(text: str, delimiter: str, limits: FileLimits, width: int | None = None) -> SplitText:
    """The records of `text`. `width`, when known, is the header's: a record that spans lines must have it."""
    if csv.field_size_limit() <= limits.max_line_bytes:
        csv.field_size_limit(limits.max_line_bytes + 1)  # the record limit below is the one that counts
    return _split_whole(text, delimiter, limits) or _split_lines(text, delimiter, limits, width)


def _split_whole(text: str, delimiter: str, limits: FileLimits) -> SplitText | None:
    """The csv module over the whole text at C speed, when that is what _split_lines would give: every record
    on one line, no quoting error, none near the line limit. None as soon as it is not."""
    # Lines as a generator, not io.StringIO: a StringIO of the text would hold it again, four bytes a character.
    lines = (match.group() for match in _LINE_WITH_BREAK.finditer(text))
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    try:
        rows = list(reader)
    except csv.Error:
        return None
    if reader.line_num != len(rows):  # a record spans lines
        return None
    near_limit = limits.max_line_bytes // 4  # a character is at most 4 bytes: a shorter record is within it
    if len(text) > near_limit and max(sum(map(len, row)) + len(row) for row in rows) > near_limit:
        return None
    return SplitText([row or [""] for row in rows], list(range(1, len(rows) + 1)))


def _split_lines(text: str, delimiter: str, limits: FileLimits, width: int | None) -> SplitText:
    """Line by line, as the module's docstring says."""
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()  # the file's final line break
    out = SplitText()
    index = 0
    while index < len(lines):
        line = lines[index]
        number = index + 1
        index += 1
        size = _utf8_length(line) if len(line) * 4 > limits.max_line_bytes else len(line)
        if size > limits.max_line_bytes:
            out.add(
                number, [], ("line_too_long", f"a line of {size:,} bytes (limit {limits.max_line_bytes:,})")
            )
            continue
        if '"' not in line:
            out.add(number, line.split(delimiter) if line else [""])
            continue
        cells, complete = _parse(line, delimiter)
        end, record, total = index, line, size
        while not complete and end < len(lines) and end - index < limits.max_quoted_lines:
            if width is not None and width > 1 and lines[end].count(delimiter) >= width - 1:
                break  # the next line holds a whole record's cells: it is a record, the quote was stray
            total += 1 + _utf8_length(lines[end])
            if total > limits.max_line_bytes:
                break
            record = f"{record}\n{lines[end]}"
            end += 1
            cells, complete = _parse(record, delimiter)
        if complete and (end == index or width is None or len(cells) == width):
            out.add(number, cells)
            out.spans_lines |= end > index
            index = end
            continue
        # The quote never closes (or closing it makes no record of the header's width): this line alone.
        lenient = next(csv.reader([line.replace("\0", "")], delimiter=delimiter), [])
        out.add(number, lenient, ("unterminated_quote", "a quoted cell that is never closed on its line"))
    return out
