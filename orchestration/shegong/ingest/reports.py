"""Regional reports into the build warehouse: one document's facts replace that document's earlier facts, so
re-extracting a report (after a better extractor, or a corrected file) is always safe."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from shegong.ingest.load import landing_name
from shegong.ingest.reading import file_digest

REPORT_SUFFIXES = (".txt", ".html", ".htm", ".md")

REPORT_DDL = """
create schema if not exists raw;
create table if not exists raw.report_documents (
    doc varchar primary key,
    title varchar,
    published varchar,
    publication_date date,
    language varchar,
    main_region varchar,
    main_adcode varchar,
    facts integer,
    stats json,
    _source_file varchar,
    _source_sha256 varchar,
    _ingested_at timestamp
);
create table if not exists raw.report_facts (
    doc varchar not null,
    fact_index integer not null,
    metric varchar not null,
    value double not null,
    unit varchar,
    qualifier varchar,
    is_target boolean,
    region varchar,
    adcode varchar,
    year integer,
    quote varchar,
    _source_file varchar,
    _source_sha256 varchar,
    _ingested_at timestamp
);
"""


@dataclass(frozen=True)
class ReportOutcome:
    doc: str
    status: str  # extracted | rejected
    facts: int = 0
    stats: dict | None = None
    error: str | None = None


def report_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in REPORT_SUFFIXES)


def ensure_report_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(REPORT_DDL)
    # Facts are validated against the catalogue; a report run may come before the first reference load.
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = 'metric_catalogue'"
    ).fetchall()[0][0]
    if not exists:
        load_metric_catalogue(con)


def _publication_date(published: str | None) -> dt.date | None:
    if not published:
        return None
    try:
        return dt.date.fromisoformat(published)
    except ValueError:
        return None  # 'YYYY-MM' or 'YYYY' alone: the year still drives fact years, no date to reconcile by


def ingest_report(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    landing_root: Path | None = None,
    now: dt.datetime | None = None,
) -> ReportOutcome:
    from shegong.extraction import ReportReadError, extract_file

    now = now or dt.datetime.now()
    name = landing_name(path, landing_root)
    sha256, size = file_digest(path)
    try:
        result = extract_file(path)
    except ReportReadError as exc:
        con.execute(
            """insert or replace into audit.ingested_files
               (registry, source_file, source_sha256, size_bytes, status, error, ingested_at, rows_in, rows_clean,
                rows_quarantined)
               values ('reports', ?, ?, ?, 'rejected', ?, ?, 0, 0, 0)""",
            [name, sha256, size, str(exc), now],
        )
        return ReportOutcome(path.name, "rejected", error=str(exc))

    facts = [f.to_dict() for f in result.facts]
    table = pa.table(
        {
            "doc": pa.array([f["doc"] for f in facts], pa.string()),
            "fact_index": pa.array(range(len(facts)), pa.int32()),
            "metric": pa.array([f["metric"] for f in facts], pa.string()),
            "value": pa.array([float(f["value"]) for f in facts], pa.float64()),
            "unit": pa.array([f["unit"] for f in facts], pa.string()),
            "qualifier": pa.array([f["qualifier"] for f in facts], pa.string()),
            "is_target": pa.array([bool(f["is_target"]) for f in facts], pa.bool_()),
            "region": pa.array([f["region"] for f in facts], pa.string()),
            "adcode": pa.array([f["adcode"] for f in facts], pa.string()),
            "year": pa.array([f["year"] for f in facts], pa.int32()),
            "quote": pa.array([f["quote"] for f in facts], pa.string()),
            "_source_file": pa.array([name] * len(facts), pa.string()),
            "_source_sha256": pa.array([sha256] * len(facts), pa.string()),
            "_ingested_at": pa.array([now] * len(facts), pa.timestamp("us")),
        }
    )
    con.execute("begin transaction")
    try:
        con.execute("delete from raw.report_facts where doc = ?", [result.doc])
        con.execute("delete from raw.report_documents where doc = ?", [result.doc])
        con.execute("delete from audit.ingested_files where registry = 'reports' and source_file = ?", [name])
        con.register("incoming_facts", table)
        con.execute("insert into raw.report_facts select * from incoming_facts")
        con.unregister("incoming_facts")
        con.execute(
            "insert into raw.report_documents values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                result.doc,
                result.title,
                result.published,
                _publication_date(result.published),
                result.language,
                result.main_region,
                result.main_adcode,
                len(facts),
                json.dumps(result.stats, ensure_ascii=False),
                name,
                sha256,
                now,
            ],
        )
        con.execute(
            """insert or replace into audit.ingested_files
               (registry, source_file, source_sha256, size_bytes, encoding, status, ingested_at, rows_in, rows_clean,
                rows_quarantined)
               values ('reports', ?, ?, ?, 'text', 'current', ?, ?, ?, 0)""",
            [name, sha256, size, now, len(facts), len(facts)],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return ReportOutcome(result.doc, "extracted", len(facts), result.stats)


def load_metric_catalogue(con: duckdb.DuckDBPyConnection) -> int:
    """raw.metric_catalogue from the extractor's catalogue file: one source of truth for codes and cues."""
    from shegong.extraction import load_metric_catalogue as catalogue

    entries = catalogue()
    columns = ("code", "category", "unit", "name_zh", "name_en", "description")
    table = pa.table({c: pa.array([str(e.get(c) or "") for e in entries], pa.string()) for c in columns})
    con.execute("create schema if not exists raw")
    con.register("incoming_catalogue", table)
    con.execute("create or replace table raw.metric_catalogue as select * from incoming_catalogue")
    con.unregister("incoming_catalogue")
    return table.num_rows
