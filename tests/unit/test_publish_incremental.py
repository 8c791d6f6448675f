"""A publication is a byte copy of the build file, in the publication's storage version: real DuckDB files,
published twice with a change between. Each copy equals the build table by table, records which run last changed
each table, and hard-links the Parquet exports of the tables that did not change; a build file in another
storage version is converted once."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from shegong.fingerprints import table_fingerprints
from shegong.publish import PUBLISHED_TABLES, publish
from shegong.quality.personal_data import PersonalDataScan, record_scan
from shegong.schema import ensure_build_schema


def _build(path: Path) -> None:
    con = duckdb.connect(str(path))
    try:
        ensure_build_schema(con)
        con.execute("create schema marts")
        con.execute(
            "create table marts.fct_funding as select i as contract_no, i * 10.5 as amount from range(500) t(i)"
        )
        con.execute(
            "create table marts.dim_region as select i as region_code, 'r' || i as name from range(40) t(i)"
        )
        con.execute("create schema intermediate")
        con.execute("create table intermediate.int_scratch as select 1 as x")
    finally:
        con.close()


def _sql(path: Path, *statements: str) -> None:
    con = duckdb.connect(str(path))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()


def _published_states(published: Path, column: str) -> dict[str, str]:
    """Table → `column` (written_by_run, fingerprint) of the publication's audit.published_tables."""
    con = duckdb.connect(str(published), read_only=True)
    try:
        return dict(con.execute(f"select table_name, {column} from {PUBLISHED_TABLES}").fetchall())
    finally:
        con.close()


def _written_by(published: Path) -> dict[str, str]:
    return _published_states(published, "written_by_run")


def _differences(build: Path, published: Path) -> dict[str, int]:
    """Rows that differ between each build table and its published copy (both directions, with duplicates)."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{build}' as b (read_only)")
        con.execute(f"attach '{published}' as p (read_only)")
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'b'"
        ).fetchall()
        return {
            f"{s}.{t}": con.execute(
                f"""select count(*) from ((select * from b.{s}.{t} except all select * from p.{s}.{t})
                    union all (select * from p.{s}.{t} except all select * from b.{s}.{t}))"""
            ).fetchall()[0][0]
            for s, t in tables
        }
    finally:
        con.close()


def _manifest(exports: Path) -> dict[str, dict]:
    manifest = json.loads((exports / "current" / "manifest.json").read_text(encoding="utf-8"))
    return {entry["table"]: entry for entry in manifest["tables"]}


def test_the_second_publication_records_what_changed(tmp_path):
    build, published, exports = tmp_path / "build.duckdb", tmp_path / "shegong.duckdb", tmp_path / "exports"
    _build(build)
    publish(build, published, "run-1", now=dt.datetime(2026, 1, 1, 8), exports_dir=exports)
    first = _written_by(published)
    assert set(first.values()) == {"run-1"} and "marts.fct_funding" in first
    first_exports = (exports / "current").resolve()

    _sql(
        build,
        "update marts.fct_funding set amount = amount + 1 where contract_no = 7",
        "drop table intermediate.int_scratch",
        "create table marts.fct_new as select 1 as id",
    )
    publish(build, published, "run-2", now=dt.datetime(2026, 1, 1, 9), exports_dir=exports)

    written = _written_by(published)
    assert written["marts.fct_funding"] == written["marts.fct_new"] == "run-2"
    assert written["audit.publications"] == "run-2"  # every publication adds its own row
    assert written["marts.dim_region"] == written["raw.workers"] == "run-1"
    assert "intermediate.int_scratch" not in written
    assert set(_differences(build, published).values()) == {0}
    con = duckdb.connect(str(published), read_only=True)
    try:
        tables = {
            r[0]
            for r in con.execute("select schema_name || '.' || table_name from duckdb_tables()").fetchall()
        }
        assert "intermediate.int_scratch" not in tables
        (version,) = con.execute(
            "select tags['storage_version'] from duckdb_databases() where database_name = 'shegong'"
        ).fetchall()[0]
        assert version == "v1.0.0+"
    finally:
        con.close()

    entries, second_exports = _manifest(exports), (exports / "current").resolve()
    assert second_exports != first_exports
    unchanged = "marts.dim_region"
    assert (second_exports / entries[unchanged]["file"]).stat().st_ino == (
        first_exports / entries[unchanged]["file"]
    ).stat().st_ino
    changed = second_exports / entries["marts.fct_funding"]["file"]
    assert changed.stat().st_ino != (first_exports / entries["marts.fct_funding"]["file"]).stat().st_ino
    assert (
        duckdb.sql(f"select sum(amount) from '{changed}'").fetchall()[0][0]
        == duckdb.connect(str(build), read_only=True)
        .execute("select sum(amount) from marts.fct_funding")
        .fetchall()[0][0]
    )


def test_two_publications_of_one_run_in_the_same_second_get_their_own_export_folders(tmp_path):
    """A build published again at once (the same run, the same second) is a new version folder, not a collision
    with the first; `current` points at the second and the first is kept."""
    build, published, exports = tmp_path / "build.duckdb", tmp_path / "shegong.duckdb", tmp_path / "exports"
    _build(build)
    first = publish(build, published, "run-1", now=dt.datetime(2026, 1, 1, 8, 0, 0, 100), exports_dir=exports)
    second = publish(
        build, published, "run-1", now=dt.datetime(2026, 1, 1, 8, 0, 0, 900), exports_dir=exports
    )
    assert first.exports != second.exports and first.exports.is_dir()
    assert (exports / "current").resolve() == second.exports
    assert sorted(p.name for p in exports.iterdir() if not p.is_symlink()) == [
        first.exports.name,
        second.exports.name,
    ]


def _storage_tag(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "select tags['storage_version'] from duckdb_databases() where database_name = ?", [path.stem]
        ).fetchall()[0][0]
    finally:
        con.close()


def test_a_build_file_in_another_storage_version_is_converted_once(tmp_path):
    build, published = tmp_path / "build.duckdb", tmp_path / "shegong.duckdb"
    _build(build)  # written by this DuckDB in its own newest format
    assert _storage_tag(build) == "v2.0.0+"
    before = _differences(build, build)  # every table, to compare after the conversion
    first = publish(build, published, "run-1", storage_version="v1.2.0")
    assert first.build_converted_from == "v2.0.0+"
    assert _storage_tag(build) == _storage_tag(published) == "v1.2.0+"
    assert set(_differences(build, published)) == set(before)
    assert set(_differences(build, published).values()) == {0}

    again = publish(build, published, "run-2", storage_version="v1.2.0")
    assert again.build_converted_from is None  # already in the publication's format: copied as it is
    # v1.1.3 files are tagged v1.0.0+ like v1.0.0's: converted once to that format, then left alone.
    assert publish(build, published, "run-3", storage_version="v1.1.3").build_converted_from == "v1.2.0+"
    assert publish(build, published, "run-4", storage_version="v1.0.0").build_converted_from is None
    assert _storage_tag(published) == "v1.0.0+"
    assert not list(tmp_path.glob(".*"))  # no conversion or staging file left behind
    con = duckdb.connect(str(build))  # the converted build keeps its constraints, which ingestion relies on
    try:
        row = "('workers', 'a.csv', 'x', 'current', now())"
        columns = "(registry, source_file, source_sha256, status, ingested_at)"
        con.execute(f"insert into audit.ingested_files {columns} values {row}")
        with pytest.raises(duckdb.ConstraintException):
            con.execute(f"insert into audit.ingested_files {columns} values {row}")
    finally:
        con.close()


@pytest.mark.parametrize(
    "change",
    [
        "update t set v = 'b' where k = 2",  # one value
        "insert into t values (1, 'a', '1')",  # a duplicated row
        "alter table t rename column v to x",  # a column's name
        "alter table t alter column k type integer",  # a column's type
        "delete from t where k = 3",
        "update t set v = null where k = 2",  # a value gone
        "update t set v = k::varchar, w = 'a' where k = 1",  # two values swapped between columns
    ],
)
def test_any_change_of_content_or_shape_changes_the_fingerprint(change):
    con = duckdb.connect()
    con.execute("create table t as select i as k, 'a' as v, i::varchar as w from range(5) t(i)")
    before = table_fingerprints(con, "memory")["main.t"]
    con.execute(change)
    assert table_fingerprints(con, "memory")["main.t"] != before


def test_the_fingerprint_ignores_row_order():
    con = duckdb.connect()
    con.execute("create table a as select i as k from range(1000) t(i)")
    con.execute("create table b as select * from a order by k desc")
    fingerprints = table_fingerprints(con, "memory")
    assert fingerprints["main.a"] == fingerprints["main.b"]


def _published_fingerprints(published: Path) -> dict[str, str]:
    return _published_states(published, "fingerprint")


def test_the_publication_takes_the_fingerprints_its_runs_scan_recorded(tmp_path):
    """The run's personal-data scan fingerprinted its clean tables just before the publish step: the publication
    records those for every table but the audit tables (written after the scan), and hashes a table itself when
    the scan was another run's."""
    build, published = tmp_path / "build.duckdb", tmp_path / "shegong.duckdb"
    _build(build)
    con = duckdb.connect(str(build))
    try:
        computed = table_fingerprints(con, "build")
        scan = {**computed, "marts.fct_funding": (500, "as-scanned"), "audit.publications": (0, "as-scanned")}
        scanned = PersonalDataScan(tables=0, columns=0, values=0, findings=[], seconds=0.0, clean_tables=scan)
        record_scan(con, "run-1", "audit/personal_data_scan", scanned)
    finally:
        con.close()

    publish(build, published, "run-1")
    recorded = _published_fingerprints(published)
    assert recorded["marts.fct_funding"] == "as-scanned"  # the scan's, not hashed again
    assert recorded["marts.dim_region"] == computed["marts.dim_region"][1]
    assert recorded["audit.publications"] not in ("as-scanned", computed["audit.publications"][1])

    publish(build, published, "run-2")  # no scan of its own: every table is hashed
    assert _published_fingerprints(published)["marts.fct_funding"] == computed["marts.fct_funding"][1]
