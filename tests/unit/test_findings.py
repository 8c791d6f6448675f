"""What the run summary, `shegong report` and the auditor index say about landing files, from audit rows."""

from __future__ import annotations

import datetime as dt

import duckdb

from shegong.findings import file_findings
from shegong.schema import ensure_build_schema


def test_rejected_duplicate_and_quarantine_heavy_files_are_found_and_nothing_else():
    con = duckdb.connect()
    ensure_build_schema(con)
    earlier, now = dt.datetime(2024, 1, 1), dt.datetime(2024, 2, 1)
    rows = [
        ("workers/a.csv", "rejected", "a.csv: the file is empty — ask the sender", 0, 0, None, now),
        ("workers/b.csv", "current", None, 10, 3, None, now),  # 30%: over the warning's 20%
        ("workers/c.csv", "current", None, 10, 2, None, now),  # 20%: not over it
        ("workers/d.csv", "duplicate", None, 0, 0, "workers/c.csv", now),
        ("workers/e.csv", "superseded", None, 10, 9, None, now),
        ("workers/f.csv", "rejected", "f.csv: old", 0, 0, None, earlier),
    ]
    for name, status, error, rows_in, quarantined, duplicate_of, at in rows:
        con.execute(
            """insert into audit.ingested_files (registry, source_file, source_sha256, status, error, rows_in,
               rows_quarantined, duplicate_of, ingested_at) values ('workers', ?, ?, ?, ?, ?, ?, ?, ?)""",
            [name, name, status, error, rows_in, quarantined, duplicate_of, at],
        )
    found = {f.source_file: f for f in file_findings(con, since=now)}
    assert sorted(found) == ["workers/a.csv", "workers/b.csv", "workers/d.csv"]
    assert found["workers/a.csv"].line() == "workers/a.csv: rejected: the file is empty — ask the sender"
    assert found["workers/b.csv"].kind == "quarantine_share" and found["workers/b.csv"].quarantine_pct == 30.0
    assert "the same content as workers/c.csv" in found["workers/d.csv"].detail
    assert "workers/f.csv" in {f.source_file for f in file_findings(con)}
