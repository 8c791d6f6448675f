"""Pure parsers for single cells as departments type them: full-width digits, Chinese dates, padded codes."""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal, InvalidOperation

import pyarrow as pa
import pyarrow.compute as pc

# Full-width ASCII (U+FF01–FF5E) and the ideographic space map onto their half-width forms.
_HALFWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_DATE_PATTERNS = (
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
# A cell `clean` would change: a full-width character, whitespace other than the plain space (str.split()'s
# whitespace, listed in full: RE2's \s is narrower), or a space at either end or doubled.
_NEEDS_CLEANING = (
    r"[\x{ff01}-\x{ff5e}\x{9}-\x{d}\x{1c}-\x{1f}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}"
    r"\x{202f}\x{205f}\x{3000}]|^ | $|  "
)


class CellError(ValueError):
    """A cell that cannot be read as its contract type; `code` is the quarantine reason code."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code


def to_halfwidth(text: str) -> str:
    return text.translate(_HALFWIDTH)


def clean(value: object) -> str:
    """A cell as text: half-width, trimmed, inner runs of spaces folded; None and blanks become ''."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        # Spreadsheets store long codes as numbers; 1.23e17 must come back as its digits, not '1.23e+17'.
        value = int(value)
    return " ".join(to_halfwidth(str(value)).split())


def clean_column(texts: pa.StringArray) -> pa.StringArray:
    """`clean` over a column of text cells; only the few cells it would change go through Python."""
    dirty = pc.match_substring_regex(texts, _NEEDS_CLEANING)
    if not pc.any(dirty).as_py():
        return texts
    cleaned = [clean(text) for text in texts.filter(dirty).to_pylist()]
    return pc.replace_with_mask(texts, dirty, pa.array(cleaned, pa.string()))


@functools.lru_cache(maxsize=65536)
def parse_date(text: str) -> dt.date:
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            year, month, day = (int(g) for g in match.groups()[:3])
            try:
                return dt.date(year, month, day)
            except ValueError:
                raise CellError("unparseable_date", f"{text!r} is not a calendar date") from None
    raise CellError("unparseable_date", f"{text!r} is not a date (expected e.g. 2024-03-05 or 2024年3月5日)")


def parse_decimal(text: str) -> Decimal:
    compact = text.replace(",", "").replace("元", "").replace("¥", "").replace(" ", "")
    if not _NUMBER.fullmatch(compact):
        raise CellError("not_a_number", f"{text!r} is not a number")
    try:
        return Decimal(compact)
    except InvalidOperation:
        raise CellError("not_a_number", f"{text!r} is not a number") from None


def parse_integer(text: str) -> int:
    number = parse_decimal(text)
    if number != number.to_integral_value():
        raise CellError("not_a_number", f"{text!r} is not a whole number")
    return int(number)
