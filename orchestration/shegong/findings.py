"""What happened to the landing files, for the run summary and `shegong report`: each rejected file with its
reason, each re-send recorded as a duplicate, and the files behind the file-level warnings (a file with more
than QUARANTINE_WARNING_PCT of its rows quarantined)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

# The share the raw files suites warn above (quality/authoring.py, quarantine_pct).
QUARANTINE_WARNING_PCT = 20


@dataclass(frozen=True)
class FileFinding:
    registry: str
    source_file: str
    kind: str  # rejected | duplicate | quarantine_share
    detail: str  # one line: why it was rejected, which file it repeats, or its quarantine share
    rows_in: int = 0
    rows_quarantined: int = 0
    landed_at: dt.datetime | None = None

    @property
    def quarantine_pct(self) -> float:
        return round(100 * self.rows_quarantined / self.rows_in, 1) if self.rows_in else 0.0

    def line(self) -> str:
        return f"{self.registry}/{self.source_file.split('/', 1)[-1]}: {self.detail}"


def file_findings(con: duckdb.DuckDBPyConnection, since: dt.datetime | None = None) -> list[FileFinding]:
    """Findings about the files recorded since `since` (all when None) that are still what they were."""
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'audit' and table_name = 'ingested_files'"
    ).fetchone()[0]
    if not exists:
        return []
    columns = {
        c
        for (c,) in con.execute(
            "select column_name from information_schema.columns where table_schema = 'audit' and table_name = 'ingested_files'"
        ).fetchall()
    }
    duplicate_of = "duplicate_of" if "duplicate_of" in columns else "null"
    rows = con.execute(
        f"""select registry, source_file, status, coalesce(error, ''), {duplicate_of}, rows_in, rows_quarantined,
                   ingested_at
            from audit.ingested_files
            where ($since is null or ingested_at >= $since)
              and (status in ('rejected', 'duplicate')
                   or (status = 'current' and rows_in > 0 and rows_quarantined * 100 > rows_in * $pct))
            order by registry, status, source_file""",
        {"since": since, "pct": QUARANTINE_WARNING_PCT},
    ).fetchall()
    findings = []
    for registry, source_file, status, error, earlier, rows_in, quarantined, landed_at in rows:
        counts = {"rows_in": rows_in or 0, "rows_quarantined": quarantined or 0, "landed_at": landed_at}
        if status == "rejected":
            # The reason as recorded, without the file name it starts with (the finding names the file).
            name = source_file.rsplit("/", 1)[-1]
            reason = error.split(": ", 1)[1] if error.startswith(name + ": ") else error
            findings.append(FileFinding(registry, source_file, "rejected", f"rejected: {reason}", **counts))
        elif status == "duplicate":
            detail = f"not loaded: the same content as {earlier}"
            findings.append(FileFinding(registry, source_file, "duplicate", detail, **counts))
        else:
            detail = (
                f"{quarantined:,} of {rows_in:,} rows quarantined ({100 * quarantined / rows_in:.0f}%, warning "
                f"above {QUARANTINE_WARNING_PCT}%)"
            )
            findings.append(FileFinding(registry, source_file, "quarantine_share", detail, **counts))
    return findings
