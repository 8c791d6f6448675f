"""Regional reports into the build warehouse: one document's facts replace that document's earlier facts, so
re-extracting a report (after a better extractor, or a corrected file) is always safe."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from shegong.ingest.landing import IGNORED_SUFFIXES, entry_digest, entry_problem, unexpected_failure
from shegong.ingest.load import landing_name
from shegong.ingest.pii import scrub_identifiers
from shegong.ingest.pool import replace_broken_pool, worker_pool
from shegong.ingest.reading import file_digest

if TYPE_CHECKING:
    from shegong.extraction.model import ExtractionResult

REPORT_SUFFIXES = (".txt", ".html", ".htm", ".md")


@dataclass(frozen=True)
class ReportOutcome:
    doc: str
    status: str  # extracted | rejected
    facts: int = 0
    stats: dict | None = None
    error: str | None = None
    quality: dict | None = None  # extraction-quality summary (mean confidence, score, issues)


REVIEW_FOLDER = "review"


def report_files(folder: Path) -> list[Path]:
    """Every entry of the reports folder ingestion accounts for: the reports, and anything else landed there
    (a link, a hidden file, another type), which is recorded as rejected with its reason and never opened.
    Sidecars (`.meta.json`) belong to their report; the review/ subfolder holds the analysts' review files."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if not p.name.lower().endswith(IGNORED_SUFFIXES) and not (p.name == REVIEW_FOLDER and p.is_dir())
    )


def report_problem(path: Path) -> str | None:
    """Why a landed entry is not a report ingestion may open, as one line; None for a report."""
    problem = entry_problem(path)
    if problem is None and path.suffix.lower() not in REPORT_SUFFIXES:
        problem = (
            f"unsupported report type {path.suffix or '(none)'}",
            f"land reports as {', '.join(REPORT_SUFFIXES)} (with an optional .meta.json sidecar)",
        )
    return f"{problem[0]} — {problem[1]}" if problem else None


def report_digest(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a report together with its sidecar: a changed sidecar (a corrected publication date)
    is a changed report. Without a sidecar, the file's own digest."""
    from shegong.extraction.reading import sidecar_path

    if report_problem(path) is not None:
        return entry_digest(path)
    sha256, size = file_digest(path)
    side = sidecar_path(path)
    if not side.is_file() or side.is_symlink():
        return sha256, size
    side_sha, side_size = file_digest(side)
    return hashlib.sha256(f"{sha256}+{side_sha}".encode()).hexdigest(), size + side_size


def report_signature(path: Path) -> tuple[int, int]:
    """(size, mtime) of a report and its sidecar: the cheap change signal of the landing sensor."""
    from shegong.extraction.reading import sidecar_path

    stat = path.lstat()
    size, mtime = stat.st_size, stat.st_mtime_ns
    side = sidecar_path(path)
    if side.is_file() and not side.is_symlink():
        side_stat = side.stat()
        size, mtime = size + side_stat.st_size, max(mtime, side_stat.st_mtime_ns)
    return size, mtime


def _publication_date(published: str | None) -> dt.date | None:
    if not published:
        return None
    try:
        return dt.date.fromisoformat(published)
    except ValueError:
        return None  # 'YYYY-MM' or 'YYYY' alone: the year still drives fact years, no date to reconcile by


FACT_COLUMNS = {
    "doc": pa.string(),
    "fact_index": pa.int32(),
    "metric": pa.string(),
    "value": pa.float64(),
    "unit": pa.string(),
    "qualifier": pa.string(),
    "is_target": pa.bool_(),
    "region": pa.string(),
    "adcode": pa.string(),
    "year": pa.int32(),
    "quote": pa.string(),
    "fact_key": pa.string(),
    "confidence": pa.float64(),
}
DOCUMENT_COLUMNS = {
    "doc": pa.string(),
    "title": pa.string(),
    "published": pa.string(),
    "publication_date": pa.date32(),
    "language": pa.string(),
    "main_region": pa.string(),
    "main_adcode": pa.string(),
    "facts": pa.int32(),
    "stats": pa.string(),
    "url": pa.string(),
    "published_source": pa.string(),
    "publisher": pa.string(),
    "quality": pa.string(),
    "quality_score": pa.float64(),
}
FILE_COLUMNS = {
    "source_file": pa.string(),
    "source_sha256": pa.string(),
    "size_bytes": pa.int64(),
    "status": pa.string(),
    "error": pa.string(),
    "rows": pa.int32(),
}
PROVENANCE_COLUMNS = {
    "_source_file": pa.string(),
    "_source_sha256": pa.string(),
    "_ingested_at": pa.timestamp("us"),
}


# A batch of at least this many reports is extracted by the ingest worker processes, on both cores (the extractor is
# pure Python, one core per process): a report takes 1.7 ms at `large` (short generated texts), 6 ms for real ones
# (3 KB on average), and starting a worker ~0.3 s. A smaller batch is extracted here.
POOLED_REPORTS = 200


def extract_report(path: Path) -> tuple[ExtractionResult | None, str | None]:
    """One landed report's extraction, or None and why it was rejected (one line, identifiers scrubbed). The
    normalised text the facts were read from is dropped: only facts and metadata are stored (and carried back
    from a worker process)."""
    from shegong.extraction import ReportReadError, extract_file

    try:
        problem = report_problem(path)
        if problem is not None:
            raise ReportReadError(path.name, problem)
        result = extract_file(path)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # a document the reader cannot take is that document's rejection only
        if isinstance(exc, ReportReadError):
            return None, scrub_identifiers(str(exc).splitlines()[0])
        return None, unexpected_failure(path, exc)
    return dataclasses.replace(result, normalized_text=""), None


def extract_reports(paths: list[Path]) -> Iterator[tuple[ExtractionResult | None, str | None]]:
    """`extract_report` of each path, in order: in the worker processes for a batch of POOLED_REPORTS or more.
    Should the workers die, the rest are extracted here (as a small batch always is), and the shared pool is
    replaced for its next user (the registries' ingest)."""
    if len(paths) < POOLED_REPORTS:
        yield from map(extract_report, paths)
        return
    with worker_pool() as pool:
        futures = [pool.submit(extract_report, path) for path in paths]
        broken = False
        for path, future in zip(paths, futures, strict=True):
            if not broken:
                try:
                    yield future.result()
                    continue
                except BrokenProcessPool:
                    broken = True
                    replace_broken_pool(pool)
            yield extract_report(path)


def _table(rows: list[dict], columns: dict[str, pa.DataType]) -> pa.Table:
    return pa.table({name: pa.array([row[name] for row in rows], kind) for name, kind in columns.items()})


def ingest_reports(
    con: duckdb.DuckDBPyConnection,
    paths: list[Path],
    landing_root: Path | None = None,
    now: dt.datetime | None = None,
) -> list[ReportOutcome]:
    """Extract every report, then write them all in one transaction: each extracted document's facts replace
    its earlier facts; a rejected file is recorded with its reason and leaves earlier facts in place. One
    transaction for the batch because a DuckDB commit per document cost more than extracting it."""
    now = now or dt.datetime.now()
    ensure_metric_catalogue(
        con
    )  # the facts' checks read it, and a report run may precede the first reference load
    outcomes: list[ReportOutcome] = []
    facts: list[dict] = []
    documents: list[dict] = []
    files: list[dict] = []
    for path, (result, error) in zip(paths, extract_reports(paths), strict=True):
        name = landing_name(path, landing_root)
        sha256, size = report_digest(path)
        provenance = {"_source_file": name, "_source_sha256": sha256, "_ingested_at": now}
        if result is None:
            files.append(
                {"source_file": name, "source_sha256": sha256, "size_bytes": size, "rows": 0}
                | {"status": "rejected", "error": error}
            )
            outcomes.append(ReportOutcome(path.name, "rejected", error=error))
            continue
        extracted = [f.to_dict() | {"fact_key": f.fact_key} for f in result.facts]
        for index, fact in enumerate(extracted):
            facts.append(
                fact
                | {"fact_index": index, "value": float(fact["value"]), "is_target": bool(fact["is_target"])}
                | provenance
            )
        documents.append(
            {
                "doc": result.doc,
                "title": result.title,
                "published": result.published,
                "publication_date": _publication_date(result.published),
                "language": result.language,
                "main_region": result.main_region,
                "main_adcode": result.main_adcode,
                "facts": len(extracted),
                "stats": json.dumps(result.stats, ensure_ascii=False),
                "url": result.url,
                "published_source": result.published_source,
                "publisher": result.publisher,
                "quality": json.dumps(result.quality, ensure_ascii=False),
                "quality_score": result.quality.get("score"),
                **provenance,
            }
        )
        files.append(
            {"source_file": name, "source_sha256": sha256, "size_bytes": size, "rows": len(extracted)}
            | {"status": "current", "error": None}
        )
        outcomes.append(
            ReportOutcome(result.doc, "extracted", len(extracted), result.stats, quality=result.quality)
        )

    con.execute("begin transaction")
    try:
        con.register("incoming_documents", _table(documents, DOCUMENT_COLUMNS | PROVENANCE_COLUMNS))
        con.register("incoming_facts", _table(facts, FACT_COLUMNS | PROVENANCE_COLUMNS))
        con.register("incoming_files", _table(files, FILE_COLUMNS))
        con.execute("delete from raw.report_facts where doc in (select doc from incoming_documents)")
        con.execute("delete from raw.report_documents where doc in (select doc from incoming_documents)")
        con.execute(
            """delete from audit.ingested_files where registry = 'reports'
               and source_file in (select source_file from incoming_files where status = 'current')"""
        )
        con.execute("insert into raw.report_facts by name select * from incoming_facts")
        con.execute("insert into raw.report_documents by name select * from incoming_documents")
        con.execute(
            """insert or replace into audit.ingested_files
               (registry, source_file, source_sha256, size_bytes, encoding, status, error, ingested_at, rows_in,
                rows_clean, rows_quarantined)
               select 'reports', source_file, source_sha256, size_bytes,
                      case when status = 'current' then 'text' end, status, error, ?, rows, rows, 0
               from incoming_files""",
            [now],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        for view in ("incoming_documents", "incoming_facts", "incoming_files"):
            con.unregister(view)
    return outcomes


def ensure_metric_catalogue(con: duckdb.DuckDBPyConnection) -> None:
    """raw.metric_catalogue, loaded if this file has none yet: report facts and review files are checked
    against it, and either may land before the first reference load."""
    (exists,) = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = 'metric_catalogue'"
    ).fetchone()
    if not exists:
        load_metric_catalogue(con)


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
