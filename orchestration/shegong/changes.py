"""What changed since the last published run: the landing files, reports and review files an incremental run
builds from, or nothing (and the run does nothing).

A file version counts as published when the build warehouse recorded it (audit.ingested_files: registry files,
reports and review files alike, by landing name and SHA-256) no later than the last publication
(audit.publications). So a change is either a landing entry whose content the warehouse never recorded, or a
file version recorded by a run after the last publication (a run that was blocked, failed or killed: what it
ingested was never validated and published, even if the file has left the landing folder since). A dbt project
prepared after the last publication (a new manifest: models changed) changes everything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from shegong.config import REGISTRIES, Settings
from shegong.contracts import contract
from shegong.ingest.batch import month_of
from shegong.ingest.landing import entry_digest, landing_files
from shegong.ingest.load import landing_name
from shegong.ingest.reports import REVIEW_FOLDER, report_digest, report_files
from shegong.ingest.reviews import REGISTRY as REVIEWS
from shegong.ingest.reviews import review_files

REPORTS = "reports"


@dataclass(frozen=True)
class Publication:
    run_id: str
    published_at: dt.datetime
    engine: str = "duckdb"


@dataclass
class Changes:
    """The change set of a run. `last` is None when nothing was published yet: then everything is new."""

    last: Publication | None
    # Registry → reporting months of its new or changed files; None stands for an unpartitioned registry's file
    # or a name without a month (which ingestion rejects).
    registry_months: dict[str, set[dt.date | None]] = field(default_factory=dict)
    documents: set[str] = field(default_factory=set)  # report file names
    reviews: bool = False
    dbt_project_changed: bool = False
    engine_changed_to: str | None = None  # the engine of this run, when the last publication's was another

    @property
    def everything(self) -> bool:
        return self.last is None or self.dbt_project_changed or self.engine_changed_to is not None

    @property
    def rebuild_from_scratch(self) -> bool:
        """Models changed, or the engine did (its tables may be missing or stale): dbt's --full-refresh."""
        return self.dbt_project_changed or self.engine_changed_to is not None

    @property
    def nothing(self) -> bool:
        return not (self.everything or self.registry_months or self.documents or self.reviews)

    @property
    def months(self) -> list[dt.date]:
        return sorted({m for months in self.registry_months.values() for m in months if m is not None})

    def nothing_new_line(self) -> str:
        assert self.last is not None
        return (
            f"nothing new since run {self.last.run_id} (published {self.last.published_at:%Y-%m-%d %H:%M:%S})"
        )

    def describe(self) -> str:
        """One line: what the run builds from (registries and months, counts of reports; never file contents)."""
        if self.last is None:
            return "nothing published yet: building everything"
        since = f"since run {self.last.run_id[:8]}"
        if self.engine_changed_to is not None:
            return (
                f"run {self.last.run_id[:8]} was published from {self.last.engine}, this run builds on "
                f"{self.engine_changed_to}: building everything"
            )
        if self.dbt_project_changed:
            return f"the dbt project changed {since}: building everything"
        parts = []
        for registry, months in sorted(self.registry_months.items()):
            named = sorted(f"{m:%Y-%m}" for m in months if m is not None)
            parts.append(f"{registry} {', '.join(named)}" if named else registry)
        if self.documents:
            parts.append(f"{len(self.documents)} report(s)")
        if self.reviews:
            parts.append("review files")
        return f"new {since}: {'; '.join(parts)}"


def last_publication(con: duckdb.DuckDBPyConnection) -> Publication | None:
    exists = con.execute(
        """select count(*) from information_schema.tables
           where table_schema = 'audit' and table_name = 'publications'"""
    ).fetchone()[0]
    if not exists:
        return None
    (has_engine,) = con.execute(
        """select count(*) from information_schema.columns
           where table_schema = 'audit' and table_name = 'publications' and column_name = 'engine'"""
    ).fetchone()
    engine_column = "coalesce(engine, 'duckdb')" if has_engine else "'duckdb'"
    row = con.execute(
        f"select run_id, published_at, {engine_column} from audit.publications order by published_at desc limit 1"
    ).fetchone()
    return Publication(*row) if row else None


def landed_versions(current: Settings) -> list[tuple[str, str, str, dt.date | None]]:
    """(registry, landing name, SHA-256, reporting month) of every entry ingestion accounts for, as each
    ingest asset names and digests it."""
    root = current.landing_dir
    entries = []
    for registry in REGISTRIES:
        for path in landing_files(current.landing(registry)):
            entries.append((registry, landing_name(path, root), entry_digest(path)[0], month_of(path)))
    for path in report_files(current.landing(REPORTS)):
        entries.append((REPORTS, landing_name(path, root), report_digest(path)[0], None))
    for path in review_files(current.landing(REPORTS) / REVIEW_FOLDER):
        entries.append((REVIEWS, landing_name(path, root), entry_digest(path)[0], None))
    return entries


def detect_changes(current: Settings, manifest: Path, engine: str = "duckdb") -> Changes:
    """What the next run on `engine` must build, from the landing folders and the build warehouse (read-only)."""
    if not current.build_db.exists():
        return Changes(last=None)
    con = duckdb.connect(str(current.build_db), read_only=True)
    try:
        last = last_publication(con)
        if last is None:
            return Changes(last=None)
        recorded = con.execute(
            """select registry, source_file, source_sha256, ingested_at > ? as unpublished, period_month
               from audit.ingested_files""",
            [last.published_at],
        ).fetchall()
    finally:
        con.close()
    changes = Changes(last=last)
    if last.engine != engine:
        changes.engine_changed_to = engine
        return changes
    if manifest.exists() and dt.datetime.fromtimestamp(manifest.stat().st_mtime) > last.published_at:
        changes.dbt_project_changed = True
        return changes
    known = {(registry, name, sha256) for registry, name, sha256, _, _ in recorded}
    for registry, name, sha256, month in landed_versions(current):
        if (registry, name, sha256) not in known:
            _add(changes, registry, name, month)
    for registry, name, _, unpublished, month in recorded:
        if unpublished:
            _add(changes, registry, name, month)
    return changes


def _add(changes: Changes, registry: str, name: str, month: dt.date | None) -> None:
    if registry == REPORTS:
        changes.documents.add(Path(name).name)  # a report's partition key is its file name
    elif registry == REVIEWS:
        changes.reviews = True
    else:
        monthly = contract(registry).partitioned_by == "month"
        changes.registry_months.setdefault(registry, set()).add(month if monthly else None)
