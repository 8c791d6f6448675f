"""Personal data never lands in clear: keyed hashes for identifiers, masks for names, derived attributes."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shegong.ingest.cells import to_halfwidth

_NON_DIGIT = re.compile(r"\D")

# ID numbers and mobile numbers as people write them inside any text: full-width digits (folded before
# matching), groups split by spaces or dashes, a +86 / 0086 country code. Matched on the half-width form, whose
# positions are the original's (folding maps one character onto one).
_SEPARATOR = r"[ \-\u2010-\u2015]?"
# Only digits bound a match: a number glued to letters (tel13912345678) is still a number.
_ID_NUMBER = re.compile(rf"(?<![0-9])\d(?:{_SEPARATOR}\d){{16}}{_SEPARATOR}[\dXx](?![0-9])")
_MOBILE = re.compile(
    rf"(?<![0-9])(?:(?:\+|00)?86{_SEPARATOR}|\(\+?86\){_SEPARATOR})?1[3-9]\d(?:{_SEPARATOR}\d){{8}}(?![0-9])"
)
_NOT_ID_CHARACTER = re.compile(r"[^0-9Xx]")
# The same patterns in RE2 syntax, for a column at a time (RE2 has no look-behind: a bounding non-digit is
# matched instead): only the cells they match, or that hold full-width digits, go through Python.
_RE2_SEPARATOR = r"[ \-\x{2010}-\x{2015}]?"
_MAY_HOLD_IDENTIFIER = (
    rf"(?:^|[^0-9])(?:\d(?:{_RE2_SEPARATOR}\d){{16}}{_RE2_SEPARATOR}[\dXx]"
    rf"|(?:(?:\+|00)?86{_RE2_SEPARATOR}|\(\+?86\){_RE2_SEPARATOR})?1[3-9]\d(?:{_RE2_SEPARATOR}\d){{8}})(?:[^0-9]|$)"
    r"|[\x{ff10}-\x{ff19}]"
)
_BLOCK = 64  # SHA-256's block size, which HMAC pads the key to


class PiiProtector:
    """HMAC-SHA256 with a secret key, so the same person joins across registries but no one can recompute
    a hash from a known ID number without the key."""

    def __init__(self, key: str):
        self._key = key
        block = key.encode("utf-8")
        if len(block) > _BLOCK:
            block = hashlib.sha256(block).digest()
        block = block.ljust(_BLOCK, b"\0")
        # HMAC's keyed inner and outer states, computed once: copying them is most of the cost saved per value.
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def __reduce__(self):
        return PiiProtector, (self._key,)

    def hash(self, kind: str, value: str) -> str:
        return self.hash_all(kind, [value])[0]

    def hash_all(self, kind: str, values: Iterable[str]) -> list[str]:
        """hmac.new(key, f"{kind}:{canonical value}", sha256).hexdigest() of each value."""
        canonical = str.upper if kind == "id_number" else functools.partial(_NON_DIGIT.sub, "")
        keyed = self._inner.copy()
        keyed.update(f"{kind}:".encode())
        outer = self._outer
        out = []
        for value in values:
            inner = keyed.copy()
            inner.update(canonical(value).encode())
            digest = outer.copy()
            digest.update(inner.digest())
            out.append(digest.hexdigest())
        return out


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***: the surname's first character only."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else name


def mask_names(names: pa.StringArray) -> pa.StringArray:
    """mask_name over a column of non-empty names (null stays null)."""
    stars = pc.max_element_wise(pc.subtract(pc.utf8_length(names), 1), 1)
    return pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(names, 0, 1), pc.binary_repeat(pa.scalar("*"), stars), ""
    )


def mask_identifier(value: str, keep: int = 4) -> str:
    """Only the last characters of an ID number or phone, for an auditor matching a quarantined row."""
    return "*" * max(len(value) - keep, 0) + value[-keep:]


def scrub_identifiers(text: str) -> str:
    """`text` with every ID number and mobile number in it masked (mask_identifier), in whatever form it is
    written; everything else unchanged."""
    folded = to_halfwidth(text)
    spans = [m.span() for pattern in (_ID_NUMBER, _MOBILE) for m in pattern.finditer(folded)]
    if not spans:
        return text
    out, end = [], 0
    for start, stop in sorted(spans):
        if start < end:  # overlapping matches: the first one masked it
            start = end
        out.append(text[end:start])
        out.append(mask_identifier(_NOT_ID_CHARACTER.sub("", folded[start:stop]).upper()))
        end = max(end, stop)
    out.append(text[end:])
    return "".join(out)


def holds_identifier(text: str) -> bool:
    folded = to_halfwidth(text)
    return bool(_ID_NUMBER.search(folded) or _MOBILE.search(folded))


def scrub_column(texts: pa.StringArray) -> pa.StringArray:
    """scrub_identifiers over a column; only cells that may hold one go through Python."""
    suspect = pc.fill_null(pc.match_substring_regex(texts, _MAY_HOLD_IDENTIFIER), False)
    if not pc.any(suspect).as_py():
        return texts
    scrubbed = [scrub_identifiers(text) for text in texts.filter(suspect).to_pylist()]
    return pc.replace_with_mask(texts, suspect, pa.array(scrubbed, pa.string()))


def mask_unknown(value: str) -> str:
    """A cell whose meaning the contract does not know (an unlisted column, a misaligned record): its first
    character (unless a digit) and its length in stars, at most 12 — enough to recognise a row, never to read
    a name, an address or a number."""
    if not value:
        return value
    first = value[0] if not to_halfwidth(value[0]).isdigit() and value[0] not in "+(" else "*"
    return first + "*" * (min(len(value), 12) - 1)


def id_number_codes(id_numbers: pa.StringArray) -> np.ndarray:
    """18-character ASCII ID numbers (no nulls) as an (n, 18) array of their character codes."""
    if not len(id_numbers):
        return np.zeros((0, 18), np.uint8)
    offsets = np.frombuffer(id_numbers.buffers()[1], np.int32)[id_numbers.offset :][: len(id_numbers) + 1]
    data = np.frombuffer(id_numbers.buffers()[2], np.uint8)[offsets[0] : offsets[-1]]
    return data.reshape(len(id_numbers), 18)


def birth_year_bands(id_numbers: pa.StringArray, width: int = 5) -> pa.StringArray:
    """'1990-1994' from a valid ID number's birth year (digits 7–10)."""
    digits = id_number_codes(id_numbers).astype(np.int64) - ord("0")
    years = digits[:, 6:10] @ np.array([1000, 100, 10, 1])
    starts, positions = np.unique(years - years % width, return_inverse=True)
    bands = pa.array([f"{start}-{start + width - 1}" for start in starts.tolist()], pa.string())
    return bands.take(positions)


def genders(id_numbers: pa.StringArray) -> pa.StringArray:
    """GB 11643: the 17th digit of a valid ID number is odd for men, even for women."""
    odd = (id_number_codes(id_numbers)[:, 16] - ord("0")) % 2 == 1
    return pc.if_else(pa.array(odd), "male", "female")
