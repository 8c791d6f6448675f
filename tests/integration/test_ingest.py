"""Registry files through the real ingest into a real DuckDB file: defects, file failures, accounting."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from shegong.contracts import contract
from shegong.ingest.load import ingest_file
from shegong.ingest.pii import PiiProtector
from shegong.schema import ensure_build_schema
from tests.fixtures.registry_files import (
    FUNDING_HEADER,
    ID_A,
    ID_B,
    ID_C,
    WORKER_HEADER,
    funding_row,
    worker_row,
    write_csv,
    write_xlsx,
)

KEY = "test-key"


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "build.duckdb"))
    ensure_build_schema(connection)
    yield connection
    connection.close()


def ingest(con, path: Path, registry: str, landing: Path):
    return ingest_file(con, path, contract(registry), PiiProtector(KEY), landing)


def reasons_by_row(con, source_file: str) -> dict[int, list[str]]:
    rows = con.execute(
        "select source_row, reason_codes from audit.quarantined_rows where source_file = ? order by 1",
        [source_file],
    ).fetchall()
    return {row: codes for row, codes in rows}


def accounting(con) -> list[tuple]:
    """rows_in versus rows in raw + quarantine, per current file, straight from the tables."""
    return con.execute(
        """select f.source_file, f.rows_in,
                  (select count(*) from raw.workers w where w._source_file = f.source_file)
                + (select count(*) from raw.funding w where w._source_file = f.source_file),
                  (select count(*) from audit.quarantined_rows q where q.source_file = f.source_file)
           from audit.ingested_files f where f.status = 'current' order by 1"""
    ).fetchall()


def test_each_row_defect_is_quarantined_with_its_reason(con, tmp_path):
    landing = tmp_path / "landing"
    rows = [
        worker_row(),  # row 3: clean (title is row 1, header row 2)
        worker_row(身份证号码=ID_B[:-1] + ("0" if ID_B[-1] != "0" else "1"), 证书编号="20183205100000002"),
        worker_row(证书编号="2018320510000003"),  # 16 digits
        worker_row(证书编号="20183205100000004", 行政区划代码="999999"),
        worker_row(证书编号="20183205100000005", 取证日期="2024-02-30"),
        worker_row(证书编号="20183205100000006", 取证日期="2007-01-01"),  # before the exam existed
        worker_row(证书编号="20183205100000007", 证书等级="特级社工"),
        worker_row(证书编号="20183205100000008", 姓名=""),
        worker_row(证书编号="20183205100000009", 工作单位统一社会信用代码="52320585MJ500000X1"),
        worker_row(),  # row 12: same certificate as row 3
        worker_row(
            身份证号码=ID_C, 证书编号="20183205100000010", 证书等级="社會工作師"
        ),  # traditional script: fine
        ["合计", "", "", "", "", "", "", "", "", "", ""],
    ]
    path = write_csv(
        landing / "workers" / "320585_2024-03_持证社工名册.csv",
        WORKER_HEADER,
        rows,
        "gb18030",
        "太仓市持证社工名册(2024年3月)",
    )
    outcome = ingest(con, path, "workers", landing)
    assert (outcome.status, outcome.rows_in, outcome.rows_clean, outcome.rows_quarantined) == (
        "ingested",
        12,
        2,
        10,
    )
    assert reasons_by_row(con, "workers/320585_2024-03_持证社工名册.csv") == {
        4: ["bad_id_number"],
        5: ["bad_certificate_no"],
        6: ["unknown_region_code"],
        7: ["unparseable_date"],
        8: ["implausible_date"],
        9: ["unknown_enum_value"],
        10: ["missing_required"],
        11: ["bad_uscc"],
        12: ["duplicate_in_file"],
        14: ["missing_required"],
    }
    levels = con.execute("select certificate_level from raw.workers order by _source_row").fetchall()
    assert levels == [("assistant",), ("intermediate",)]
    file_row = con.execute(
        "select encoding, header_row, rows_in, rows_clean, rows_quarantined from audit.ingested_files"
    ).fetchall()
    assert file_row == [("gb18030", 2, 12, 2, 10)]


def test_quarantine_keeps_raw_values_without_personal_data(con, tmp_path):
    landing = tmp_path / "landing"
    path = write_csv(
        landing / "workers" / "320585_2024-03_a.csv", WORKER_HEADER, [worker_row(证书等级="特级社工")]
    )
    ingest(con, path, "workers", landing)
    raw_values, reasons = con.execute("select raw_values, reasons from audit.quarantined_rows").fetchall()[0]
    values = json.loads(raw_values)
    assert values["certificate_level"] == "特级社工"
    assert values["worker_name"] == "张*"
    assert values["id_number"] == "*" * 14 + ID_A[-4:]
    assert values["phone"] == "*******5678"
    assert json.loads(reasons)[0] == {
        "code": "unknown_enum_value",
        "column": "certificate_level",
        "detail": json.loads(reasons)[0]["detail"],
    }


def test_personal_data_is_hashed_masked_and_derived(con, tmp_path):
    landing = tmp_path / "landing"
    path = write_csv(landing / "workers" / "320585_2024-03_a.csv", WORKER_HEADER, [worker_row()], "utf-8-sig")
    ingest(con, path, "workers", landing)
    row = con.execute(
        "select worker_name_masked, id_number_hash, birth_year_band, gender, phone_hash from raw.workers"
    ).fetchall()[0]
    assert row[0] == "张*"
    assert row[1] == PiiProtector(KEY).hash("id_number", ID_A)
    assert row[2:4] == ("1990-1994", "male")
    assert ID_A not in json.dumps(row) and "13812345678" not in json.dumps(row)


def test_reingesting_the_same_file_is_a_no_op(con, tmp_path):
    landing = tmp_path / "landing"
    path = write_csv(
        landing / "workers" / "320585_2024-03_a.csv", WORKER_HEADER, [worker_row(), worker_row(姓名="")]
    )
    first = ingest(con, path, "workers", landing)
    again = ingest(con, path, "workers", landing)
    assert first.status == "ingested" and again.status == "unchanged"
    assert con.execute("select count(*) from raw.workers").fetchall() == [(1,)]
    assert con.execute("select count(*) from audit.quarantined_rows").fetchall() == [(1,)]
    assert con.execute("select count(*) from audit.ingested_files").fetchall() == [(1,)]


def test_a_corrected_resend_supersedes_the_earlier_file_for_its_region_and_month(con, tmp_path):
    landing = tmp_path / "landing"
    first = write_csv(
        landing / "workers" / "320585_2024-03_a.csv", WORKER_HEADER, [worker_row(), worker_row(姓名="")]
    )
    ingest(con, first, "workers", landing)
    corrected = write_csv(
        landing / "workers" / "320585_2024-03_a_更正.csv",
        WORKER_HEADER,
        [worker_row(), worker_row(姓名="李四", 身份证号码=ID_B, 证书编号="20183205100000002")],
    )
    outcome = ingest(con, corrected, "workers", landing)
    assert outcome.superseded == ("workers/320585_2024-03_a.csv",)
    assert con.execute("select count(*), count(distinct _source_file) from raw.workers").fetchall() == [
        (2, 1)
    ]
    assert con.execute("select count(*) from audit.quarantined_rows").fetchall() == [(0,)]
    statuses = con.execute("select source_file, status from audit.ingested_files order by 1").fetchall()
    assert statuses == [
        ("workers/320585_2024-03_a.csv", "superseded"),
        ("workers/320585_2024-03_a_更正.csv", "current"),
    ]


def test_duplicates_across_files_respect_the_key_scope(con, tmp_path):
    landing = tmp_path / "landing"
    # Workers: a certificate may appear once per month across files, and again in a later month.
    ingest(
        con,
        write_csv(landing / "workers" / "320585_2024-03_a.csv", WORKER_HEADER, [worker_row()]),
        "workers",
        landing,
    )
    other_unit = [
        worker_row(行政区划代码="320583"),
        worker_row(姓名="李四", 身份证号码=ID_B, 证书编号="20183205100000002"),
    ]
    same_month = ingest(
        con,
        write_csv(landing / "workers" / "320583_2024-03_b.csv", WORKER_HEADER, other_unit),
        "workers",
        landing,
    )
    changed = [worker_row(工作单位="太仓市新单位")]
    next_month = ingest(
        con,
        write_csv(landing / "workers" / "320585_2024-04_a.csv", WORKER_HEADER, changed),
        "workers",
        landing,
    )
    assert (same_month.rows_clean, same_month.rows_quarantined) == (1, 1)
    assert (next_month.rows_clean, next_month.rows_quarantined) == (1, 0)
    assert reasons_by_row(con, "workers/320583_2024-03_b.csv") == {2: ["duplicate_across_files"]}
    # Funding: a contract number is unique for ever.
    ingest(
        con,
        write_csv(landing / "funding" / "320585_2024-03_f.csv", FUNDING_HEADER, [funding_row()]),
        "funding",
        landing,
    )
    resent = [funding_row(签订日期="2024-05-06")]
    later = ingest(
        con,
        write_csv(landing / "funding" / "320585_2024-05_f.csv", FUNDING_HEADER, resent),
        "funding",
        landing,
    )
    assert (later.rows_clean, later.rows_quarantined) == (0, 1)


def test_funding_amount_and_period_rules(con, tmp_path):
    landing = tmp_path / "landing"
    rows = [
        funding_row(),
        funding_row(合同编号="TC-2", 合同金额="-5000"),
        funding_row(合同编号="TC-3", 服务开始日期="2024-06-01", 服务结束日期="2024-05-01"),
        funding_row(合同编号="TC-4", 资金来源="福利彩票公益金", **{"合同金额(元)": "88,000"}),
        funding_row(合同编号="TC-5", **{"合同金额(元)": "-1"}),
    ]
    path = write_csv(landing / "funding" / "320585_2024-03_f.csv", FUNDING_HEADER, rows)
    outcome = ingest(con, path, "funding", landing)
    assert (outcome.rows_clean, outcome.rows_quarantined) == (3, 2)
    assert reasons_by_row(con, "funding/320585_2024-03_f.csv") == {
        4: ["end_before_start"],
        6: ["negative_value"],
    }
    assert con.execute(
        "select funding_source, amount_yuan from raw.funding where contract_no = 'TC-4'"
    ).fetchall() == [("lottery", 88000)]


def test_xlsx_with_title_row_and_real_dates(con, tmp_path):
    import datetime as dt

    landing = tmp_path / "landing"
    row = worker_row()
    row[5] = dt.datetime(2018, 6, 30)
    path = write_xlsx(
        landing / "workers" / "320585_2024-03_名册.xlsx", WORKER_HEADER, [row], title="持证社工名册"
    )
    outcome = ingest(con, path, "workers", landing)
    assert (outcome.status, outcome.rows_clean) == ("ingested", 1)
    assert con.execute("select certified_on, _source_row from raw.workers").fetchall() == [
        (dt.date(2018, 6, 30), 3)
    ]


def test_unknown_and_missing_optional_columns_are_reported(con, tmp_path):
    landing = tmp_path / "landing"
    header = [h for h in WORKER_HEADER if h != "手机号"] + ["备注"]
    rows = [[*worker_row()[:2], *worker_row()[3:], "无"]]
    ingest(con, write_csv(landing / "workers" / "320585_2024-03_a.csv", header, rows), "workers", landing)
    unknown, missing = con.execute(
        "select unknown_columns, missing_optional_columns from audit.ingested_files"
    ).fetchall()[0]
    assert unknown == ["备注"]
    assert "phone" in missing


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("320585_2024-03_empty.csv", b"", "the file is empty"),
        ("320585_2024-03_binary.csv", b"%PDF-1.4\x00\x01\x02 binary", "binary content"),
        ("320585_2024-03_mixed.csv", "姓名,身份证号码\n".encode() + b"\x80\xff\xfe", "undecodable bytes"),
        ("320585_2024-03_trunc.xlsx", b"PK\x03\x04truncated-zip", "not a valid XLSX workbook"),
        (
            "no_month_here.csv",
            "姓名,身份证号码\n张三,1\n".encode(),
            "cannot tell the reporting region and month",
        ),
        (
            "320585_2024-03_notes.csv",
            "备注,说明\n这是,说明文件\n".encode(),
            "no header row matching the workers contract",
        ),
    ],
)
def test_whole_file_failures_name_the_file_and_move_nothing(con, tmp_path, name, content, reason):
    landing = tmp_path / "landing"
    good = write_csv(landing / "workers" / "320585_2024-02_ok.csv", WORKER_HEADER, [worker_row()])
    bad = landing / "workers" / name
    bad.write_bytes(content)
    outcome = ingest(con, bad, "workers", landing)
    assert outcome.status == "rejected"
    assert name in outcome.error and reason in outcome.error
    assert ingest(con, good, "workers", landing).status == "ingested"
    assert con.execute("select count(*) from raw.workers").fetchall() == [(1,)]
    assert con.execute("select count(*) from audit.quarantined_rows").fetchall() == [(0,)]
    assert con.execute(
        "select status from audit.ingested_files where source_file like ?", [f"%{name}"]
    ).fetchall() == [("rejected",)]


def test_a_file_for_another_registry_is_rejected_with_the_right_folder(con, tmp_path):
    landing = tmp_path / "landing"
    path = write_csv(landing / "workers" / "320585_2024-03_funding.csv", FUNDING_HEADER, [funding_row()])
    outcome = ingest(con, path, "workers", landing)
    assert outcome.status == "rejected"
    assert (
        "this is a funding file" in outcome.error
        and "move it to the funding/ landing folder" in outcome.error
    )


def test_missing_required_column_rejects_the_file(con, tmp_path):
    landing = tmp_path / "landing"
    header = [h for h in WORKER_HEADER if h != "证书编号"]
    rows = [[c for h, c in zip(WORKER_HEADER, worker_row(), strict=True) if h != "证书编号"]]
    outcome = ingest(
        con, write_csv(landing / "workers" / "320585_2024-03_a.csv", header, rows), "workers", landing
    )
    assert (
        outcome.status == "rejected"
        and "required columns missing: certificate_no (证书编号)" in outcome.error
    )


def test_rows_in_equal_clean_plus_quarantined_for_every_file(con, tmp_path):
    landing = tmp_path / "landing"
    ingest(
        con,
        write_csv(
            landing / "workers" / "320585_2024-03_a.csv",
            WORKER_HEADER,
            [worker_row(), worker_row(姓名=""), worker_row()],
        ),
        "workers",
        landing,
    )
    ingest(
        con,
        write_csv(
            landing / "funding" / "320585_2024-03_f.csv",
            FUNDING_HEADER,
            [funding_row(), funding_row(合同编号="X", **{"合同金额(元)": "-1"})],
        ),
        "funding",
        landing,
    )
    for source_file, rows_in, clean, quarantined in accounting(con):
        assert rows_in == clean + quarantined, source_file
    assert [r[1] for r in accounting(con)] == [2, 3]


def test_an_unchanged_roster_for_the_next_month_is_still_that_months_data(con, tmp_path):
    """Two months' rosters can be byte-identical; each is its own month's file, not a re-send."""
    landing = tmp_path / "landing"
    rows = [worker_row()]
    march = ingest(
        con, write_csv(landing / "workers" / "320585_2024-03_a.csv", WORKER_HEADER, rows), "workers", landing
    )
    april = ingest(
        con, write_csv(landing / "workers" / "320585_2024-04_a.csv", WORKER_HEADER, rows), "workers", landing
    )
    assert (march.status, april.status) == ("ingested", "ingested")
    months = con.execute("select _period_month, count(*) from raw.workers group by 1 order by 1").fetchall()
    assert [count for _, count in months] == [1, 1]
    statuses = con.execute("select status from audit.ingested_files order by source_file").fetchall()
    assert statuses == [("current",), ("current",)]


def test_phone_number_and_range_defects(con, tmp_path):
    landing = tmp_path / "landing"
    workers = [worker_row(手机号="12345")]
    ingest(
        con,
        write_csv(landing / "workers" / "320585_2024-03_a.csv", WORKER_HEADER, workers),
        "workers",
        landing,
    )
    assert reasons_by_row(con, "workers/320585_2024-03_a.csv") == {2: ["bad_phone"]}

    funding = [funding_row(**{"合同金额(元)": "五千元"})]
    ingest(
        con,
        write_csv(landing / "funding" / "320585_2024-03_f.csv", FUNDING_HEADER, funding),
        "funding",
        landing,
    )
    assert reasons_by_row(con, "funding/320585_2024-03_f.csv") == {2: ["not_a_number"]}

    header = ["培训班编号", "培训名称", "培训类型", "主办单位区划代码", "开始日期", "结束日期", "学时"]
    sessions = [
        ["PX-1", "督导培训", "督导培训", "320585", "2024-03-02", "2024-03-03", "16"],
        ["PX-2", "超长培训", "继续教育", "320585", "2024-03-02", "2024-03-03", "500"],
    ]
    path = write_csv(landing / "training_sessions" / "320585_2024-03_s.csv", header, sessions)
    outcome = ingest(con, path, "training_sessions", landing)
    assert (outcome.rows_clean, outcome.rows_quarantined) == (1, 1)
    assert reasons_by_row(con, "training_sessions/320585_2024-03_s.csv") == {3: ["out_of_range"]}
