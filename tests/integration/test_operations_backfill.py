"""A backfill over a range of months ingests exactly those months, rebuilds the marts, and is idempotent."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from shegong.dagster_internals import partition_range_tags
from tests.integration.test_operations_alerts import definitions_with, warehouse

pytestmark = pytest.mark.integration

# Columns that say when or by which run a row was written, not what the warehouse holds.
VOLATILE = {"_ingested_at", "ingested_at", "superseded_at", "run_id", "published_at", "validated_at", "at"}
# Content fingerprints of every table, the audit trail's included (which holds run ids): they differ from run to
# run by design; the tables they fingerprint are compared row by row themselves.
FINGERPRINT_TABLES = {"audit.published_tables", "audit.personal_data_scanned"}


def table_rows(path: Path) -> dict[str, set[tuple]]:
    """Every table of a warehouse file as a set of rows, volatile columns left out."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            """select table_schema, table_name from information_schema.tables
               where table_type = 'BASE TABLE' order by 1, 2"""
        ).fetchall()
        contents = {}
        for schema, table in tables:
            if f"{schema}.{table}" in FINGERPRINT_TABLES:
                continue
            columns = [
                c
                for (c,) in con.execute(
                    """select column_name from information_schema.columns
                       where table_schema = ? and table_name = ? order by ordinal_position""",
                    [schema, table],
                ).fetchall()
                if c not in VOLATILE
                and not c.endswith(("_at", "_run_id"))
                and c not in ("rows_by_table", "observed_value")
            ]
            listed = ", ".join(f'cast("{c}" as varchar)' for c in columns)
            contents[f"{schema}.{table}"] = set(
                con.execute(f'select {listed} from "{schema}"."{table}"').fetchall()
            )
        return contents
    finally:
        con.close()


def run_range(job: dg.JobDefinition, instance, first: str, last: str) -> dg.ExecuteInProcessResult:
    return job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        tags=partition_range_tags(first, last),
    )


@pytest.fixture
def build_env(tmp_path, monkeypatch):
    """dbt's profile reads the build file from SHEGONG_DUCKDB: point it at the test's own (restored after)."""
    build_db = tmp_path / "build" / "build.duckdb"
    monkeypatch.setenv("SHEGONG_DUCKDB", str(build_db))
    return build_db


def test_a_two_month_backfill_ingests_those_months_and_a_rerun_changes_nothing(tmp_path, build_env):
    from shegong_tools.generate import generate

    landing = tmp_path / "landing"
    generate(landing, scale=300, seed=13, start_month="2024-01", months=3)
    resource = warehouse(tmp_path, landing, build_db=build_env)
    published = tmp_path / "warehouse" / "shegong.duckdb"

    with dg.instance_for_test() as instance:
        # Resolved while this instance is current: Dagster keeps a weak global to the instance last entered.
        job = definitions_with(resource).resolve_job_def("warehouse_build")
        first = run_range(job, instance, "2024-01-01", "2024-02-01")
        assert first.success, [e.message for e in first.all_events if e.is_failure]
        con = duckdb.connect(str(published), read_only=True)
        try:
            ingested = con.execute(
                """select distinct strftime(period_month, '%Y-%m') from audit.ingested_files
                   where period_month is not null and status = 'current' order by 1"""
            ).fetchall()
            mart_months = con.execute(
                "select distinct strftime(month_start, '%Y-%m') from marts.fct_workforce_monthly order by 1"
            ).fetchall()
            files = con.execute("select count(*) from audit.ingested_files").fetchall()[0][0]
        finally:
            con.close()
        # Exactly the backfill's months (the March files stay in landing, not ingested).
        assert [m for (m,) in ingested] == ["2024-01", "2024-02"]
        assert [m for (m,) in mart_months] == ["2024-01", "2024-02"]
        march = sorted(p.name for p in landing.rglob("*_2024-03_*"))
        assert march, "the generator wrote no March files"
        before = table_rows(published)

        again = run_range(job, instance, "2024-01-01", "2024-02-01")
        assert again.success
        materialized = {
            key.to_user_string(): mat
            for key, mat in (
                (e.asset_key, e.event_specific_data.materialization)
                for e in again.all_events
                if e.event_type_value == "ASSET_MATERIALIZATION"
            )
        }
        workers = materialized["raw/workers"].metadata
        assert workers["files_ingested"].value == 0
        assert workers["files_unchanged"].value == workers["files_seen"].value > 0

    after = table_rows(published)
    con = duckdb.connect(str(published), read_only=True)
    try:
        assert con.execute("select count(*) from audit.ingested_files").fetchall()[0][0] == files
        assert con.execute("select count(*) from audit.publications").fetchall()[0][0] == 2
    finally:
        con.close()
    assert before.keys() == after.keys()
    changed = sorted(t for t in before if before[t] != after[t] and t != "audit.publications")
    assert changed == []
    assert os.environ["SHEGONG_DUCKDB"] == str(build_env)
