"""Check characters of Chinese identifiers, for generating valid codes and validating received ones.

Validation of ID numbers (GB 11643) and unified social credit codes (GB 32100) is python-stdnum's
`cn.ric` / `cn.uscc`; this module adds what stdnum lacks: building a number from its body, and the
certificate management number's shape.
"""

from __future__ import annotations

import re

from stdnum.cn import ric, uscc

CERTIFICATE_NO = re.compile(r"\d{17}")
MOBILE = re.compile(r"1[3-9]\d{9}")
LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}")


def complete_id_number(body17: str) -> str:
    """An 18-character ID number from its first 17 digits (region, birth date, sequence)."""
    return body17 + ric.calc_check_digit(body17 + "0")


def complete_uscc(body17: str) -> str:
    """An 18-character unified social credit code from its first 17 characters."""
    return body17 + uscc.calc_check_digit(body17)


def is_certificate_no(value: str) -> bool:
    """Certificate management numbers (职业水平证书管理号) are 17 digits."""
    return CERTIFICATE_NO.fullmatch(value) is not None


def is_phone(value: str) -> bool:
    return MOBILE.fullmatch(value) is not None or LANDLINE.fullmatch(value) is not None
