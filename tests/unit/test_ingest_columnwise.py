"""The column-wise ingest helpers give what the per-cell functions they stand in for give."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import random
import sys

import pyarrow as pa
import pytest
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from shegong.contracts import FileLimits, contract
from shegong.identifiers import complete_id_number, is_certificate_no, is_phone
from shegong.ingest import pii, reading
from shegong.ingest.cells import CellError, clean, clean_column
from shegong.ingest.fingerprints import key_fingerprints
from shegong.ingest.pii import PiiProtector
from shegong.ingest.reading import _cell_text, _column_text, _data_rows, _DelimiterSniffer, _PlainText
from shegong.ingest.rows import (
    _certainly_valid,
    _check_certificate,
    _check_phone,
    ric_accepted,
    validate_rows,
)
from tests.fixtures.registry_files import FUNDING_HEADER, funding_row, write_csv

WHITESPACE = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]


def test_clean_column_is_clean_of_each_cell():
    rng = random.Random(7)
    alphabet = [*WHITESPACE, "a", "中", "1", "，", "Ａ", "１", "　", "x y", "\ufeff", "\u200b"]
    texts = ["", " ", "  ", "plain", "two words", *WHITESPACE]
    texts += ["".join(rng.choices(alphabet, k=rng.randint(0, 8))) for _ in range(3000)]
    assert clean_column(pa.array(texts)).to_pylist() == [clean(t) for t in texts]


def test_masked_names_column_wise():
    names = ["张三", "欧阳娜娜", "A", "x😀y", "王"]
    assert pii.mask_names(pa.array(names)).to_pylist() == [pii.mask_name(n) for n in names]


@pytest.mark.parametrize("key", ["k", "", "x" * 64, "y" * 65, "密钥" * 40])
def test_keyed_hash_is_hmac_sha256(key):
    protector = PiiProtector(key)
    for kind, value, canonical in [
        ("id_number", "32058319900101001x", "32058319900101001X"),
        ("phone", "138-1234-5678", "13812345678"),
        ("phone", "0512 1234567", "05121234567"),
    ]:
        expected = hmac.new(key.encode(), f"{kind}:{canonical}".encode(), hashlib.sha256).hexdigest()
        assert protector.hash(kind, value) == expected
        assert protector.hash_all(kind, [value, value]) == [expected, expected]


def _stdnum(value: str) -> str | None:
    try:
        return ric.validate(value)
    except (ValidationError, KeyError):
        return None


def test_column_wise_id_check_agrees_with_stdnum():
    rng = random.Random(20241)
    prefixes = ["320585", "320583", "110101", "330106", "000000", "999999", "320500", "320511", "371402"]
    values = set()
    for _ in range(3000):
        year = rng.choice(["0000", "1850", "1940", "1965", "1980", "1999", "2000", "2004", "2030"])
        body = rng.choice(prefixes) + year + f"{rng.randint(0, 13):02d}{rng.randint(0, 32):02d}"
        valid = complete_id_number(body + f"{rng.randint(0, 999):03d}")
        values.add(valid)
        values.add(valid[:-1] + ("0" if valid[-1] != "0" else "1"))  # wrong check character
        values.add(
            complete_id_number(valid[:10] + rng.choice(["0229", "0230", "1301", "0100"]) + valid[14:17])
        )
    values.update(["11010120040229001X", "110101200402290019", "11010119000229001X"])
    upper = sorted(values)
    accepted = ric_accepted(pa.array(upper))
    assert {v[-1] for v, ok in zip(upper, accepted, strict=True) if ok} >= {"X"}
    for value, ok in zip(upper, accepted, strict=True):
        assert ok == (_stdnum(value) == value), value
    assert accepted.any() and not accepted.all()
    # Cells of another shape are left to stdnum.
    assert not ric_accepted(
        pa.array(["32058319900101001", "3205831990010100101", "3205 8319900101001X", ""])
    ).any()


@pytest.mark.parametrize(
    "column_format, check, texts",
    [
        (
            "phone",
            _check_phone,
            [
                "13812345678",
                "138 1234 5678",
                "0512-12345678",
                "051212345678",
                "12345",
                "1381234567",
                "+8613812345678",
            ],
        ),
        (
            "certificate_no",
            _check_certificate,
            ["20183205100000001", "2018320510000000", "2018320510000000A"],
        ),
    ],
)
def test_column_wise_format_checks_accept_only_what_the_check_accepts(column_format, check, texts):
    accepted, values = _certainly_valid(column_format, pa.array(texts))
    for text, ok, value in zip(texts, accepted, values.to_pylist(), strict=True):
        try:
            expected = check(text)
        except CellError:
            expected = None
        assert ok == (expected is not None)
        if ok:
            assert value == expected
    # Other scripts' digits are \\d to Python: those cells go to the check itself.
    arabic = "13" + "٨١٢٣٤٥٦٧٨"
    assert is_phone(arabic) and not _certainly_valid("phone", pa.array([arabic]))[0].any()
    assert (
        is_certificate_no("٢" * 17) and not _certainly_valid("certificate_no", pa.array(["٢" * 17]))[0].any()
    )


def _sniffed(sniffer: csv.Sniffer, sample: str) -> str:
    try:
        return sniffer.sniff(sample, delimiters=reading.DELIMITERS).delimiter
    except csv.Error:
        return "no delimiter"


def test_narrowed_delimiter_sniffer_agrees_with_the_csv_module():
    rng = random.Random(11)
    alphabet = [",", "\t", ";", "|", "\n", "\n", " ", "a", "中", '"', "'", "1", ":", "\r"]
    samples = ["", "a", "a,b\nc,d", "a;b;c\n1;2;3\n", "x|y\n1|2\n3|4", "a\tb\n1\t2"]
    for _ in range(3000):
        samples.append(
            "".join(rng.choices(alphabet, [rng.random() for _ in alphabet], k=rng.randint(0, 300)))
        )
    for _ in range(1000):
        delimiter = rng.choice(",\t;| :")
        lines = [
            delimiter.join(
                "".join(rng.choices("ab1中 ,;|\t", k=rng.randint(0, 5))) for _ in range(rng.randint(1, 8))
            )
            for _ in range(rng.randint(1, 40))
        ]
        samples.append("\n".join(lines))
    for sample in samples:
        assert _sniffed(_DelimiterSniffer(), sample) == _sniffed(csv.Sniffer(), sample), repr(sample)


def test_fingerprints_depend_on_values_only():
    rng = random.Random(3)
    texts = ["".join(rng.choices("ab中1", k=rng.randint(0, 20))) for _ in range(2000)] + [None]
    months = [dt.date(2024, rng.randint(1, 12), 1) for _ in texts]
    table = pa.table({"key": pa.array(texts), "month": pa.array(months, pa.date32())})
    prints = key_fingerprints(table)
    reordered = pa.table({"key": pa.array(texts[::-1], pa.large_string()), "month": pa.array(months[::-1])})
    assert (key_fingerprints(reordered)[::-1] == prints).all()
    assert (key_fingerprints(table.slice(7, 100)) == prints[7:107]).all()
    assert (key_fingerprints(pa.Table.from_batches(table.to_batches(max_chunksize=99))) == prints).all()
    seen: dict[tuple, int] = {}
    for row, fingerprint in zip(zip(texts, months, strict=True), prints.tolist(), strict=True):
        assert seen.setdefault(row, fingerprint) == fingerprint
    assert len(set(prints.tolist())) == len(seen)  # no collisions among these


def test_workbook_columns_read_as_each_cell_would():
    columns = [
        ("a", "b ", ""),
        (1.0, 2.0, -0.0, 123456789012.0),
        (1.0, 1.5, float("nan"), 1e20),
        (dt.date(2019, 12, 11), dt.date(1, 1, 1)),
        (dt.date(2019, 12, 11), "2019年12月11日", dt.datetime(2020, 1, 1, 8, 30), dt.datetime(2020, 1, 2)),
        (True, None, 3, "x"),
    ]
    for values in columns:
        assert clean_column(_column_text(values)).to_pylist() == [_cell_text(v) for v in values], values


@pytest.mark.parametrize(
    "text",
    [
        "标题\n姓名,身份证号码\n张三,1\n\n李四,2\n",
        "姓名,身份证号码\r\n张三,1\r\n\r\n,\r\n李四,2",
        "姓名;身份证号码\n张三;1\n李四\n王五;3;多\n",  # rows of other widths: split_records reads them
        "姓名\t身份证号码\n 张 三 \t１\n  \n",
        "姓名,身份证号码\n",
        "姓名,身份证号码\n\ufeff张三,1\n",  # a byte-order mark opening the data: a cell's, not the file's
    ],
)
def test_plain_csv_rows_read_as_split_records_reads_them(text):
    delimiter = ";" if ";" in text else "\t" if "\t" in text else ","
    plain = _PlainText(text, text.encode(), delimiter, FileLimits())
    records = plain.records()
    assert plain.top == records.top
    header = next(i for i, row in enumerate(plain.top) if "姓名" in row)
    width = len(plain.top[header])
    assert _rows(*_data_rows(plain, header, width)) == _rows(*_data_rows(records, header, width))


def test_random_plain_csv_reads_as_split_records_reads_it():
    rng = random.Random(99)
    alphabet = [
        "a",
        "中",
        ",",
        ";",
        "\t",
        " ",
        "\u3000",
        "\ufeff",
        "\xa0",
        "１",
        "\x0b",
        "\x1c",
        "\x85",
        "|",
        "'",
    ]
    for _ in range(1500):
        delimiter = rng.choice([",", ";", "\t", "|"])
        width = rng.randint(1, 5)
        lines = []
        for _ in range(rng.randint(0, 12)):
            kind = rng.random()
            cells = (
                "".join(rng.choices(alphabet, k=rng.randint(0, 4))).replace(delimiter, "")
                for _ in range(width)
            )
            lines.append(
                ""
                if kind < 0.1
                else delimiter.join(cells)
                if kind < 0.7
                else "".join(rng.choices(alphabet, k=8))
            )
        newline = rng.choice(["\n", "\r\n"])
        text = newline.join(lines) + rng.choice(["", newline, newline * 2])
        plain = _PlainText(text, text.encode(), delimiter, FileLimits())
        records = plain.records()
        assert plain.top == records.top
        for header in range(min(3, len(plain.top))):
            width = len(plain.top[header])
    assert _rows(*_data_rows(plain, header, width)) == _rows(*_data_rows(records, header, width)), repr(text)


def _rows(cells, numbers, widths) -> list[tuple[int, list[str]]]:
    """(physical row number, the row's cells) of each data row."""
    return [
        (int(number), [column[i].as_py() for column in cells[: len(cells) if widths is None else widths[i]]])
        for i, number in enumerate(numbers)
    ]


def test_a_rows_reasons_come_in_column_order_then_rules_then_duplicates(tmp_path):
    row = funding_row(购买方区划代码="999999", 服务开始日期="2024-06-01", 服务结束日期="2024-05-01")
    row[FUNDING_HEADER.index("合同金额(元)")] = "-5"
    path = write_csv(tmp_path / "funding" / "320585_2024-03_f.csv", FUNDING_HEADER, [funding_row(), row])
    funding = contract("funding")
    source = reading.read_registry_file(path, funding)
    checked = validate_rows(source, funding, PiiProtector("k"))
    assert checked.clean.num_rows == 1
    [quarantined] = checked.quarantined
    assert quarantined["source_row"] == 3
    assert [(r["code"], r["column"]) for r in quarantined["reasons"]] == [
        ("unknown_region_code", "purchaser_region_code"),
        ("negative_value", "amount_yuan"),
        ("end_before_start", "service_start_on,service_end_on"),
        ("duplicate_in_file", "contract_no"),
    ]
    assert quarantined["reasons"][-1]["detail"] == "same key as row 2"
