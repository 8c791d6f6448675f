"""Ingesting a landing folder (or the files of some months) for one registry; no Dagster here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from shegong.contracts import Contract
from shegong.ingest.load import FileOutcome, ingest_file
from shegong.ingest.pii import PiiProtector
from shegong.ingest.reading import SUPPORTED_SUFFIXES, FileRejected, period_of


@dataclass
class BatchOutcome:
    registry: str
    files: list[FileOutcome] = field(default_factory=list)
    unreadable_names: list[str] = field(default_factory=list)  # files whose name gives no month

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def rows_in(self) -> int:
        return sum(f.rows_in for f in self.files)

    @property
    def rows_clean(self) -> int:
        return sum(f.rows_clean for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def rejected(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status == "rejected"]


def landing_files(folder: Path) -> list[Path]:
    """Registry files in a landing folder, in name order (which decides which of two duplicates is later)."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith((".", "~$")) and p.suffix.lower() in SUPPORTED_SUFFIXES
    )


def month_of(path: Path) -> dt.date | None:
    try:
        return period_of(path)[1]
    except FileRejected:
        return None


def files_for_months(files: Iterable[Path], months: set[dt.date] | None) -> list[Path]:
    """The files of the given months (all when None). Files whose name gives no month are kept, so that
    ingestion rejects them with a clear reason instead of silently passing them by."""
    return [p for p in files if months is None or month_of(p) is None or month_of(p) in months]


def ingest_registry(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    files: list[Path],
    protector: PiiProtector,
    landing_root: Path,
    on_file: Callable[[FileOutcome], None] | None = None,
) -> BatchOutcome:
    outcome = BatchOutcome(contract.registry)
    for path in files:
        result = ingest_file(con, path, contract, protector, landing_root)
        outcome.files.append(result)
        if on_file:
            on_file(result)
    return outcome
