"""What a run must build: landing files the build warehouse never recorded, and file versions recorded after the
last publication; nothing when every landed file was published. Real files ingested into a real DuckDB file."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

import duckdb

from shegong.changes import detect_changes
from shegong.config import settings
from shegong.contracts import contract
from shegong.ingest.batch import ingest_registry
from shegong.ingest.landing import landing_files
from shegong.ingest.pii import PiiProtector
from shegong.ingest.reports import ingest_reports, report_files
from shegong.schema import ensure_build_schema
from tests.fixtures.registry_files import WORKER_HEADER, worker_row, write_csv

REPORT = "2024年3月，太仓市共有持证社会工作者1234人。\n"


def _ingest(build_db: Path, landing: Path) -> None:
    con = duckdb.connect(str(build_db))
    try:
        ensure_build_schema(con)
        files = landing_files(landing / "workers")
        ingest_registry(con, contract("workers"), files, PiiProtector("changes-test-key"), landing)
        ingest_reports(con, report_files(landing / "reports"), landing)
    finally:
        con.close()


def _publish(build_db: Path, run_id: str, engine: str = "duckdb") -> dt.datetime:
    at = dt.datetime.now()
    con = duckdb.connect(str(build_db))
    try:
        con.execute(
            "insert into audit.publications (run_id, published_at, rows_by_table, engine) values (?, ?, '{}', ?)",
            [run_id, at, engine],
        )
    finally:
        con.close()
    return at


def test_a_run_builds_what_landed_or_was_ingested_since_the_last_publication(tmp_path):
    landing, build_db = tmp_path / "landing", tmp_path / "build.duckdb"
    current = dataclasses.replace(settings(), landing_dir=landing, build_db=build_db)
    manifest = tmp_path / "manifest.json"
    manifest.write_text("{}", encoding="utf-8")
    write_csv(landing / "workers" / "320585_2024-03_名册.csv", WORKER_HEADER, [worker_row()])
    (landing / "reports").mkdir()
    (landing / "reports" / "taicang.txt").write_text(REPORT, encoding="utf-8")

    assert detect_changes(current, manifest).everything  # no build warehouse yet
    _ingest(build_db, landing)
    assert detect_changes(current, manifest).everything  # ingested, never published

    published_at = _publish(build_db, "run-1")
    nothing = detect_changes(current, manifest)
    assert nothing.nothing and not nothing.everything
    assert (
        nothing.nothing_new_line()
        == f"nothing new since run run-1 (published {published_at:%Y-%m-%d %H:%M:%S})"
    )

    # A new month of workers and a corrected report: exactly those.
    april = write_csv(
        landing / "workers" / "320585_2024-04_名册.csv",
        WORKER_HEADER,
        [worker_row(), worker_row(证书等级="中级")],
    )
    (landing / "reports" / "taicang.txt").write_text(REPORT + "全市社工站12个。\n", encoding="utf-8")
    changes = detect_changes(current, manifest)
    assert changes.registry_months == {"workers": {dt.date(2024, 4, 1)}}
    assert changes.documents == {"taicang.txt"} and not changes.reviews and not changes.nothing

    # Ingested by a run that never published, then removed from landing: still to build (never validated).
    _ingest(build_db, landing)
    april.unlink()
    unpublished = detect_changes(current, manifest)
    assert unpublished.registry_months == {"workers": {dt.date(2024, 4, 1)}}
    assert unpublished.documents == {"taicang.txt"}

    _publish(build_db, "run-2")
    assert detect_changes(current, manifest).nothing

    # A dbt project prepared after the last publication: everything.
    later = dt.datetime.now().timestamp() + 5
    os.utime(manifest, (later, later))
    changed = detect_changes(current, manifest)
    assert changed.dbt_project_changed and changed.everything and not changed.nothing

    # A run on another engine than the last publication's: everything, from scratch (its tables may be stale).
    os.utime(manifest, (published_at.timestamp(), published_at.timestamp()))
    _publish(build_db, "run-3")
    assert detect_changes(current, manifest).nothing
    switched = detect_changes(current, manifest, engine="spark")
    assert switched.everything and switched.rebuild_from_scratch and switched.engine_changed_to == "spark"
    assert "published from duckdb, this run builds on spark" in switched.describe()
    _publish(build_db, "run-4", engine="spark")
    assert detect_changes(current, manifest, engine="spark").nothing
    assert detect_changes(current, manifest).engine_changed_to == "duckdb"
