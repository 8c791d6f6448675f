"""The personal-data scan on a real DuckDB file: every text column of every schema, numbers found by table and
column with their count, never a value; codes, hashes and decimals that merely hold long digit runs pass."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from shegong.fingerprints import table_shapes
from shegong.publish import blocking_failures
from shegong.quality.personal_data import (
    DISTINCT,
    EVERY,
    SCANNED,
    SKIP,
    Finding,
    column_reads,
    record_scan,
    scan_personal_data,
    table_scan_sql,
    text_tables,
)
from shegong.schema import PERSONAL_DATA_SCANNED_DDL, VALIDATION_DDL

ID_NUMBER = "110101198001010015"
MOBILE = "13912345678"


@pytest.fixture()
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "build.duckdb"))
    connection.execute("create schema marts; create schema raw")
    # What the warehouse legitimately holds: certificate numbers (17 digits), keyed hashes and file digests
    # (64 hex, digit runs inside), unified social credit codes, amounts as text, masked names, numbers next to
    # letters in a file name.
    connection.execute(
        """create table marts.dim_contacts as select * from (values
               ('20203210001726996', repeat('1', 20) || repeat('ab', 22), '52320213MJ4141774X', '张**',
                '13912345678.50', 'file_13912345678x.csv', ['助理社会工作师'], 1::bigint),
               ('20203210001726997', md5('a') || md5('b'), '52320213MJ4160166Y', '李*',
                '1000.50', '320213_2024-01_名册.csv', [], 2::bigint)
           ) as t(certificate_no, person_hash, employer_uscc, name_masked, amount_text, source_file, levels, n)"""
    )
    connection.execute("create table raw.notes (note varchar, extra json)")
    connection.execute("insert into raw.notes values ('no number here', '{\"a\": 1}')")
    yield connection
    connection.close()


def test_a_clean_warehouse_passes(con) -> None:
    scan = scan_personal_data(con)
    assert scan.clean and scan.findings == []
    assert scan.tables == 2 and scan.columns == 7 + 2  # the bigint column is not text
    # Every value of every text column but the masked names, whose longest value (5 bytes) cannot hold a number.
    assert scan.values == 2 * 6 + 2


def test_numbers_in_clear_are_found_by_table_and_column(con) -> None:
    con.execute(f"insert into raw.notes values ('联系人{MOBILE}，身份证 {ID_NUMBER}', null)")
    con.execute(f"insert into raw.notes values ('电话：{MOBILE}', '{{\"phone\": \"{MOBILE}\"}}')")
    con.execute(
        f"""insert into marts.dim_contacts values
            ('20203210001726998', '{ID_NUMBER}', null, '王*', null, null, ['{MOBILE}'], 3)"""
    )
    scan = scan_personal_data(con)
    assert not scan.clean
    assert sorted(scan.findings, key=lambda f: (f.where, f.kind)) == [
        Finding("marts", "dim_contacts", "levels", "mobile_number", 1),
        Finding("marts", "dim_contacts", "person_hash", "id_number", 1),
        Finding("raw", "notes", "extra", "mobile_number", 1),
        Finding("raw", "notes", "note", "id_number", 1),
        Finding("raw", "notes", "note", "mobile_number", 2),
    ]


def test_the_audit_trail_names_columns_and_counts_never_values(con) -> None:
    con.execute(VALIDATION_DDL)  # the build schema's results table (shegong/schema.py)
    con.execute(PERSONAL_DATA_SCANNED_DDL)
    con.execute(f"insert into raw.notes values ('电话 {MOBILE}', null)")
    scan = scan_personal_data(con)
    assert record_scan(con, "run-1", "marts/dim_worker", scan) == 2
    assert blocking_failures(con, "run-1") == [
        ("personal_data", "no_mobile_number", "raw.notes.note"),
        ("personal_data", "no_personal_numbers_in_clear", ""),
    ]
    text = " ".join(
        str(v) for row in con.execute("select * from audit.audit_validation_results").fetchall() for v in row
    )
    assert MOBILE not in text and "raw.notes.note" in text
    # a re-run of the check replaces its rows; a clean scan records one passing row
    con.execute("delete from raw.notes where note like '电话%'")
    record_scan(con, "run-1", "marts/dim_worker", scan_personal_data(con))
    assert con.execute(
        "select expectation, success from audit.audit_validation_results where run_id = 'run-1'"
    ).fetchall() == [("no_personal_numbers_in_clear", True)]


def test_a_table_found_clean_is_scanned_again_only_once_it_changed(con) -> None:
    con.execute(VALIDATION_DDL)
    con.execute(PERSONAL_DATA_SCANNED_DDL)
    first = scan_personal_data(con)
    assert first.unchanged == 0 and {"marts.dim_contacts", "raw.notes"} <= set(first.clean_tables)
    record_scan(con, "run-1", "audit/personal_data_scan", first)

    # Nothing changed but the audit trail the first scan wrote: only the audit tables are scanned again.
    second = scan_personal_data(con)
    assert second.clean and second.unchanged == 2 and second.tables == 4
    record_scan(con, "run-2", "audit/personal_data_scan", second)

    # A number planted in a table known clean changes its fingerprint: found.
    con.execute(f"insert into raw.notes values ('电话 {MOBILE}', null)")
    third = scan_personal_data(con)
    assert [f.where for f in third.findings] == ["raw.notes.note"]
    assert third.unchanged == 1 and "raw.notes" not in third.clean_tables
    record_scan(con, "run-3", "audit/personal_data_scan", third)
    assert "raw.notes" not in dict(con.execute(f"select table_name, rules from {SCANNED}").fetchall())

    # A table scanned clean under other patterns is scanned again.
    con.execute("delete from raw.notes where note like '电话%'")
    con.execute(f"update {SCANNED} set rules = 'older-patterns'")
    assert scan_personal_data(con).unchanged == 0


def test_a_table_with_a_reporting_month_is_scanned_again_only_in_the_months_that_changed(con) -> None:
    con.execute(VALIDATION_DDL)
    con.execute(PERSONAL_DATA_SCANNED_DDL)
    con.execute(
        """create table raw.roster as
           select cast(date '2024-01-01' + to_months(i % 3) as date) as _period_month, 'c' || i as certificate_no,
                  '张*' as name_masked
           from range(30) t(i)"""
    )
    first = scan_personal_data(con)
    assert first.clean and set(first.clean_months["raw.roster"]) == {
        dt.date(2024, 1, 1),
        dt.date(2024, 2, 1),
        dt.date(2024, 3, 1),
    }
    record_scan(con, "run-1", "audit/personal_data_scan", first)

    # A new month lands, holding a mobile number in clear: found, and of the roster only that month's values
    # were scanned (its 2 distinct values, 1 per text column); dim_contacts and notes are unchanged.
    con.execute(f"insert into raw.roster values (date '2024-04-01', 'c99', '{MOBILE}')")
    second = scan_personal_data(con)
    assert [f.where for f in second.findings] == ["raw.roster.name_masked"]
    audit_values = 0  # the audit trail the first scan wrote changed too: scanned whole
    for t in text_tables(table_shapes(con, "build")):
        if t.schema == "audit":
            (rows,) = con.execute(f"select count(*) from {t.schema}.{t.table}").fetchone()
            sql = table_scan_sql(t.schema, t.table, t.columns, column_reads(con, t, rows))
            audit_values += sum(n for _, n, _ in con.execute(sql).fetchall()) if sql else 0
    # The new month's name only: the three earlier months were not read, and the certificate numbers (3 bytes at
    # most) cannot hold a number. The names could not either until the new one came.
    assert second.values == audit_values + 1

    # Corrected: the month's rows change again and are scanned again, clean; rows without a month are a month
    # of their own.
    con.execute("update raw.roster set name_masked = '李*' where _period_month = date '2024-04-01'")
    con.execute("insert into raw.roster values (null, 'c100', '王*')")
    third = scan_personal_data(con)
    assert third.clean and None in third.clean_months["raw.roster"]
    record_scan(con, "run-3", "audit/personal_data_scan", third)
    assert scan_personal_data(con).unchanged >= 3  # dim_contacts, notes and the roster


def test_columns_are_read_as_their_statistics_allow(con) -> None:
    """From DuckDB's statistics of the stored values, never the values: a column whose longest value is under 11
    bytes is not read, a column of mostly distinct values is read whole, others by their distinct values (so are
    columns DuckDB keeps no length for), and an empty table not at all."""
    con.execute(
        """create table raw.mixed as
           select 'L' || (i % 3)::varchar as level, md5(i::varchar) as hash, 'file_' || (i % 5) || '_roster.csv' as file,
                  ['助理社会工作师'] as levels
           from range(1000) t(i)"""
    )
    con.execute("create table raw.empty (note varchar)")
    tables = {t.name: t for t in text_tables(table_shapes(con, "build"))}
    assert column_reads(con, tables["raw.mixed"], 1000) == [SKIP, EVERY, DISTINCT, DISTINCT]
    assert column_reads(con, tables["raw.empty"], 0) == [SKIP]
    # The statistics follow the data: a longer value makes the short column one to read, and a number in it is found.
    con.execute(f"insert into raw.mixed values ('电话{MOBILE}', md5('x'), 'file_1_roster.csv', [])")
    assert column_reads(con, tables["raw.mixed"], 1001)[0] == DISTINCT
    assert [f.where for f in scan_personal_data(con).findings] == ["raw.mixed.level"]
