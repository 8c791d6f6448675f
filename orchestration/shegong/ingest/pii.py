"""Personal data never lands in clear: keyed hashes for identifiers, masks for names, derived attributes."""

from __future__ import annotations

import hashlib
import hmac
import re

_NON_DIGIT = re.compile(r"\D")


class PiiProtector:
    """HMAC-SHA256 with a secret key, so the same person joins across registries but no one can recompute
    a hash from a known ID number without the key."""

    def __init__(self, key: str):
        self._key = key.encode("utf-8")

    def hash(self, kind: str, value: str) -> str:
        canonical = value.upper() if kind == "id_number" else _NON_DIGIT.sub("", value)
        return hmac.new(self._key, f"{kind}:{canonical}".encode(), hashlib.sha256).hexdigest()


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***: the surname's first character only."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else name


def mask_identifier(value: str, keep: int = 4) -> str:
    """Only the last characters of an ID number or phone, for an auditor matching a quarantined row."""
    return "*" * max(len(value) - keep, 0) + value[-keep:]


def birth_year_band(id_number: str, width: int = 5) -> str:
    year = int(id_number[6:10])
    start = year - year % width
    return f"{start}-{start + width - 1}"


def gender(id_number: str) -> str:
    """GB 11643: the 17th digit is odd for men, even for women."""
    return "male" if int(id_number[16]) % 2 else "female"
