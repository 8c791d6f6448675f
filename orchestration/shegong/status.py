"""What the published warehouse holds: read from the published file itself, read-only."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class Status:
    run_id: str
    published_at: dt.datetime
    rows_by_table: dict[str, int]
    expectations_passed: int
    expectations_failed: int
    report_path: str | None
    exports_path: str | None = None  # exports/current when it holds this publication's Parquet files
    storage_version: str | None = None


def read_status(published: Path) -> Status | None:
    if not published.exists():
        return None
    con = duckdb.connect(str(published), read_only=True)
    try:
        row = con.execute(
            """select run_id, published_at, rows_by_table, checks_passed, checks_failed_warning
               from audit.publications order by published_at desc limit 1"""
        ).fetchall()
    finally:
        con.close()
    if not row:
        return None
    run_id, published_at, rows, passed, failed = row[0]
    report = published.parent / "validation" / run_id / "index.html"
    manifest_path = published.parent / "exports" / "current" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
    current = manifest.get("run_id") == run_id
    return Status(
        run_id,
        published_at,
        json.loads(rows),
        passed or 0,
        failed or 0,
        str(report) if report.exists() else None,
        str(manifest_path.parent) if current else None,
        manifest.get("duckdb", {}).get("storage_version") if current else None,
    )
