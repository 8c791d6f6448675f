"""Write-audit-publish: the build file is copied beside the published file and renamed over it, so a BI
reader sees either the previous complete warehouse or the new one, never a half-built state or a lock."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

PUBLICATIONS_DDL = """
create schema if not exists audit;
create table if not exists audit.publications (
    run_id varchar not null,
    published_at timestamp not null,
    rows_by_table json,
    checks_passed integer,
    checks_failed_warning integer
);
"""

VALIDATION_DDL = """
create schema if not exists audit;
create table if not exists audit.audit_validation_results (
    run_id varchar not null,
    validated_at timestamp not null,
    suite varchar not null,
    asset varchar not null,
    expectation varchar not null,
    column_name varchar,
    severity varchar not null,          -- blocking | warning
    success boolean not null,
    observed_value varchar,
    unexpected_count bigint,
    element_count bigint,
    meaning varchar
);
"""


class PublishBlocked(RuntimeError):
    """Blocking expectations failed: the published warehouse stays as it was."""


@dataclass(frozen=True)
class Publication:
    run_id: str
    published_at: dt.datetime
    path: Path
    rows_by_table: dict[str, int]


def blocking_failures(con: duckdb.DuckDBPyConnection, run_id: str) -> list[tuple[str, str, str]]:
    """(suite, expectation, column) of every blocking expectation that failed in this run (read-only safe)."""
    (exists,) = con.execute(
        """select count(*) from information_schema.tables
           where table_schema = 'audit' and table_name = 'audit_validation_results'"""
    ).fetchall()[0]
    if not exists:
        return []
    return con.execute(
        """select suite, expectation, coalesce(column_name, '') from audit.audit_validation_results
           where run_id = ? and severity = 'blocking' and not success order by 1, 2, 3""",
        [run_id],
    ).fetchall()


def mart_row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = con.execute(
        """select table_schema || '.' || table_name from information_schema.tables
           where table_schema = 'marts' order by 1"""
    ).fetchall()
    return {name: con.execute(f"select count(*) from {name}").fetchall()[0][0] for (name,) in tables}


def publish(build_db: Path, published_db: Path, run_id: str, now: dt.datetime | None = None) -> Publication:
    """Record the publication in the build file, then replace the published file atomically.

    Raises PublishBlocked naming the failing blocking expectations of this run, if any.
    """
    now = now or dt.datetime.now()
    con = duckdb.connect(str(build_db))
    try:
        con.execute(VALIDATION_DDL)
        failures = blocking_failures(con, run_id)
        if failures:
            named = "; ".join(
                f"{suite}: {exp}" + (f" on {col}" if col else "") for suite, exp, col in failures[:10]
            )
            raise PublishBlocked(
                f"publish blocked: {len(failures)} blocking expectation(s) failed in run {run_id}: {named}"
                f"{' …' if len(failures) > 10 else ''} — the published warehouse is unchanged; see the validation report"
            )
        rows = mart_row_counts(con)
        con.execute(PUBLICATIONS_DDL)
        passed, warned = con.execute(
            """select count(*) filter (where success), count(*) filter (where not success)
               from audit.audit_validation_results where run_id = ?""",
            [run_id],
        ).fetchall()[0]

        con.execute(
            "insert into audit.publications values (?, ?, ?, ?, ?)",
            [run_id, now, json.dumps(rows), passed, warned],
        )
        con.execute("checkpoint")
    finally:
        con.close()

    published_db.parent.mkdir(parents=True, exist_ok=True)
    staging = published_db.with_name(f".{published_db.name}.{run_id}.tmp")
    shutil.copyfile(build_db, staging)
    with staging.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(staging, published_db)
    directory = os.open(published_db.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return Publication(run_id, now, published_db, rows)
