"""The fast paths of shegong.quality.fastpaths compute what GX and pandas would: regex answers equal Python's `re`
(with the Arrow path taken whenever RE2 gives the same answer), string `isin` equals membership, and a key set is
passed through GX without copies while metric ids still tell key sets apart."""

from __future__ import annotations

import copy
import re

import numpy as np
import pandas as pd
import pytest

from shegong.quality import authoring
from shegong.quality.context import quiet_gx
from shegong.quality.fastpaths import KeySet
from shegong.quality.frames import _STR

quiet_gx()  # installs the fast paths, as every validation does

PATTERNS = [
    authoring.ID_NUMBER_ANYWHERE,
    authoring.MOBILE_ANYWHERE,
    authoring.CERTIFICATE_NO,
    authoring.DIVISION_CODE,
    authoring.HASH,
    authoring.MASKED_NAME,
    r"^\d{4}-\d{4}$",
]
TEXT = [
    "张*",
    "320585_2024-03_持证社工名册.csv",
    "联系人13912345678公司",
    "身份证110101199003071234",
    "20203210001726996",
    "320585001",
    "1980-1984",
    "number 110101199003071234.5",
    "",
    "a" * 64,
]
FULLWIDTH = ["电话13９12345678", "１２３４５６７８９０１２３４５６７", "１９８０-１９８４"]
NEWLINE = ["line1\n13912345678", "20203210001726996\n"]


def _contains(values: list[str], pattern: str) -> list[bool]:
    return pd.Series(values, dtype=_STR).str.contains(pattern).tolist()


def _python(values: list[str], pattern: str) -> list[bool]:
    return [re.search(pattern, v) is not None for v in values]


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize(
    "values", [TEXT, TEXT + FULLWIDTH, TEXT + NEWLINE], ids=["text", "fullwidth", "newline"]
)
def test_regex_answers_are_pythons(values: list[str], pattern: str) -> None:
    assert _contains(values, pattern) == _python(values, pattern)


def test_non_ascii_text_without_non_ascii_digits_stays_in_arrow() -> None:
    array = pd.array(TEXT, dtype=_STR)
    assert not any(array._needs_python_regex(p) for p in PATTERNS)
    assert pd.array(TEXT + FULLWIDTH, dtype=_STR)._needs_python_regex(authoring.MOBILE_ANYWHERE)
    assert pd.array(TEXT + NEWLINE, dtype=_STR)._needs_python_regex(authoring.CERTIFICATE_NO)  # `$`
    assert pd.array(TEXT, dtype=_STR)._needs_python_regex(r"\w+")  # \w on non-ASCII text: Python's re
    assert not pd.array(["abc"], dtype=_STR)._needs_python_regex(r"\w+")


def test_string_isin_is_membership() -> None:
    column = pd.Series(["a", "b", None, "张"], dtype=_STR)
    assert column.isin(KeySet(["a", "张", "z"])).tolist() == [True, False, False, True]
    assert column.isin(["a", None]).tolist() == [True, False, True, False]  # pandas' own path: nulls match
    assert column.isin([]).tolist() == [False] * 4
    assert column.isin(np.array(["b"], dtype=object)).tolist() == [False, True, False, False]


def test_a_key_set_is_passed_on_not_copied() -> None:
    from great_expectations.core.id_dict import IDDict
    from great_expectations.expectations.core.expect_column_values_to_be_in_set import (
        ExpectColumnValuesToBeInSet,
    )

    keys = KeySet(f"k{i}" for i in range(5000))
    assert copy.deepcopy(keys) is keys
    expectation = ExpectColumnValuesToBeInSet(column="c", value_set=keys)
    assert expectation.value_set is keys
    assert expectation.configuration.kwargs["value_set"] is keys
    same, other = KeySet(list(keys)), KeySet([*keys[:-1], "other"])
    assert IDDict({"value_set": keys, "x": 1}).to_id() == IDDict({"value_set": same, "x": 1}).to_id()
    assert IDDict({"value_set": keys, "x": 1}).to_id() != IDDict({"value_set": other, "x": 1}).to_id()
