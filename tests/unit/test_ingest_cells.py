import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from shegong.ingest import pii
from shegong.ingest.cells import CellError, clean, parse_date, parse_decimal, parse_integer, to_halfwidth


def test_fullwidth_digits_and_spaces_become_halfwidth():
    assert to_halfwidth("３２０５８５　２０２４") == "320585 2024"
    assert clean("  ２０１８３２０５１０００００００１ ") == "20183205100000001"


def test_numbers_stored_as_floats_by_spreadsheets_come_back_as_digits():
    assert clean(320585.0) == "320585"
    assert clean(None) == ""


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-03-05", dt.date(2024, 3, 5)),
        ("2024/3/5", dt.date(2024, 3, 5)),
        ("2024.03.05", dt.date(2024, 3, 5)),
        ("2024年3月5日", dt.date(2024, 3, 5)),
        ("20240305", dt.date(2024, 3, 5)),
        ("2024-03-05 00:00:00", dt.date(2024, 3, 5)),
    ],
)
def test_dates_in_the_forms_departments_type_them(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["2024-02-30", "2023-13-01", "三月五日", "05/03/2024"])
def test_impossible_or_unreadable_dates_are_unparseable(text):
    with pytest.raises(CellError) as error:
        parse_date(text)
    assert error.value.code == "unparseable_date"


def test_amounts_with_separators_and_currency_marks():
    assert parse_decimal("1,200,000.50") == Decimal("1200000.50")
    assert parse_decimal("¥5000元") == Decimal("5000")
    assert parse_decimal("-30") == Decimal("-30")
    with pytest.raises(CellError) as error:
        parse_decimal("五千")
    assert error.value.code == "not_a_number"


def test_integers_reject_fractions():
    assert parse_integer("12") == 12
    with pytest.raises(CellError):
        parse_integer("1.5")


def test_keyed_hash_is_stable_per_key_and_differs_between_keys():
    a, b = pii.PiiProtector("k1"), pii.PiiProtector("k2")
    assert a.hash("id_number", "32058319900101001x") == a.hash("id_number", "32058319900101001X")
    assert a.hash("id_number", "320583199001010010") != b.hash("id_number", "320583199001010010")
    assert len(a.hash("phone", "138-1234-5678")) == 64
    assert a.hash("phone", "138-1234-5678") == a.hash("phone", "13812345678")


def test_masks_and_derived_attributes():
    assert pii.mask_name("张三") == "张*"
    assert pii.mask_name("欧阳娜娜") == "欧***"
    assert pii.mask_identifier("320583199001010010") == "**************0010"
    ids = pa.array(["320583199001010010", "320583199212120022", "11010120040229001X"])
    assert pii.birth_year_bands(ids).to_pylist() == ["1990-1994", "1990-1994", "2000-2004"]
    assert pii.genders(ids).to_pylist() == ["male", "female", "male"]  # the 17th digit: odd for men
