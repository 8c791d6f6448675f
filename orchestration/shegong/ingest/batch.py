"""Ingesting a landing folder (or the files of some months) for one registry; no Dagster here."""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import os
import tempfile
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Set
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from shegong.contracts import Contract
from shegong.ingest.landing import entry_digest
from shegong.ingest.load import (
    FileOutcome,
    PreparedFile,
    RegistryLoader,
    ingest_file,
    landing_name,
    prepare_file,
)
from shegong.ingest.pii import PiiProtector
from shegong.ingest.pool import replace_broken_pool, worker_pool
from shegong.ingest.reading import FileRejected, period_of

AHEAD = 16  # files prepared ahead of the loader, waiting in spool files


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


def month_of(path: Path) -> dt.date | None:
    try:
        return period_of(path)[1]
    except FileRejected:
        return None


def files_for_months(
    files: Iterable[Path],
    months: Set[dt.date] | None,
    partition_months: tuple[dt.date, dt.date] | None = None,
) -> list[Path]:
    """The files of the given months (all when None). Files whose name gives no month, or a month outside the
    partitions (`partition_months`: the first and last), are kept too, so that ingestion rejects them with a
    clear reason instead of silently passing them by."""
    out = []
    for path in files:
        month = month_of(path)
        outside = (
            partition_months is not None
            and month is not None
            and not (partition_months[0] <= month <= partition_months[1])
        )
        if months is None or month is None or outside or month in months:
            out.append(path)
    return out


def ingest_registry(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    files: list[Path],
    protector: PiiProtector,
    landing_root: Path,
    on_file: Callable[[FileOutcome], None] | None = None,
    first_month: dt.date | None = None,
) -> BatchOutcome:
    """Ingest files in order, to the warehouse ingest_file gives one file after the other. A file named for a
    month before `first_month` (the first partition) is rejected.

    Reading and checking a file needs no warehouse, so worker processes prepare the files ahead while this
    process, the warehouse's only writer, loads them in order, many files to a transaction (a commit per file
    costs more than the rest of loading it). If loading fails, the open transaction is rolled back and its
    files are done again one at a time, so the files before the failing one are in and the error is the one
    ingest_file raises. An interrupt leaves out the files of the open transaction. `on_file` hears of every
    file at the end (or, after a failure, of each file as it is done again)."""
    files, digests = _still_there(files)
    names = [landing_name(path, landing_root) for path in files]
    options = _Options(contract, protector, first_month)
    outcome = BatchOutcome(contract.registry)
    committed = 0  # files[:committed] are in
    con.execute("begin transaction")
    open_transaction = True
    try:
        loader = RegistryLoader(con, contract)
        wanted = [
            path
            for path, name, (sha256, _) in zip(files, names, digests, strict=True)
            if not loader.unchanged(name, sha256)
        ]
        uncommitted_rows = 0
        with _Preparing(wanted, options) as prepared:
            for path, name, (sha256, size) in zip(files, names, digests, strict=True):
                # Earlier files of the batch can change whether this one is new: decide at its turn.
                if loader.unchanged(name, sha256):
                    prepared.discard(path)
                    outcome.files.append(FileOutcome(name, "unchanged"))
                else:
                    result = loader.load(prepared.take(path), name, sha256, size, dt.datetime.now())
                    outcome.files.append(result)
                    uncommitted_rows += result.rows_in
                if uncommitted_rows >= COMMIT_ROWS:
                    loader.flush()
                    con.execute("commit")
                    open_transaction, committed = False, len(outcome.files)
                    con.execute("begin transaction")
                    open_transaction, uncommitted_rows = True, 0
        loader.flush()
        con.execute("commit")
        open_transaction, committed = False, len(outcome.files)
    except Exception:
        if open_transaction:
            con.execute("rollback")
        del outcome.files[committed:]
        _report(outcome.files, on_file)
        for path in files[committed:]:
            result = ingest_file(con, path, contract, protector, landing_root, prepare=options.prepare_alone)
            outcome.files.append(result)
            _report([result], on_file)
        return outcome
    except BaseException:
        if open_transaction:
            con.execute("rollback")
        raise
    _report(outcome.files, on_file)
    return outcome


# Rows loaded in one transaction: DuckDB holds the Arrow data inserted in a transaction until it commits.
COMMIT_ROWS = 500_000


def _report(results: list[FileOutcome], on_file: Callable[[FileOutcome], None] | None) -> None:
    for result in results:
        if on_file:
            on_file(result)


def _still_there(files: list[Path]) -> tuple[list[Path], list[tuple[str, int]]]:
    """The files with their digests, less any removed since the folder was listed (the next run sees them
    gone)."""
    kept, digests = [], []
    for path in files:
        try:
            digests.append(entry_digest(path))
        except FileNotFoundError:
            continue
        kept.append(path)
    return kept, digests


@dataclass(frozen=True)
class _Options:
    """What preparing a file needs besides the file, picklable for the worker processes."""

    contract: Contract
    protector: PiiProtector
    first_month: dt.date | None = None

    def prepare(self, path: Path) -> PreparedFile:
        return prepare_file(path, self.contract, self.protector, first_month=self.first_month)

    def prepare_alone(self, path: Path) -> PreparedFile:
        """Prepared where a crash can only take this file with it: a workbook is read by native code (calamine),
        which aborts the whole process on some inputs; a CSV is read in this process."""
        if path.suffix.lower() != ".xlsx":
            return self.prepare(path)
        try:
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                return pool.submit(_prepare_spooled, path, self, None).result().restore()
        except BrokenProcessPool:
            return PreparedFile(
                path,
                rejection=f"{path.name}: the workbook reader crashed on this file (its process died) — "
                "open and re-save it in Excel/WPS, then land it again",
            )


class _Preparing:
    """The files to load, prepared in order by the worker processes, a bounded number ahead of the loader;
    a file not asked for at the start (or the only one, when it is a CSV: a worker's start costs more) is
    prepared here. A worker that dies (a native reader aborting on a hostile file) costs only its file: the
    files in flight with it are prepared again, and the file it was preparing, alone, once more."""

    def __init__(self, paths: list[Path], options: _Options):
        isolate = len(paths) > 1 or any(p.suffix.lower() == ".xlsx" for p in paths)
        self._waiting = deque(paths if isolate else ())
        self._options = options
        self._running: dict[Path, Future[_Spooled]] = {}
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> _Preparing:
        if self._waiting:
            self._pool = self._stack.enter_context(worker_pool())
            self._spool = Path(
                self._stack.enter_context(
                    tempfile.TemporaryDirectory(prefix="shegong-ingest-", ignore_cleanup_errors=True)
                )
            )
            self._top_up()
        return self

    def __exit__(self, *exc) -> None:
        for future in self._running.values():
            future.cancel()
        self._stack.__exit__(*exc)

    def _top_up(self) -> None:
        while self._waiting and len(self._running) < AHEAD:
            path = self._waiting.popleft()
            self._running[path] = self._pool.submit(_prepare_spooled, path, self._options, self._spool)

    def take(self, path: Path) -> PreparedFile:
        """The prepared file; files are taken (or discarded) in the order they were given."""
        future = self._running.pop(path, None)
        self._top_up()  # the next file starts before this one is waited for
        if future is None:
            return self._options.prepare(path)
        try:
            return future.result().restore()
        except BrokenProcessPool:
            # Every file in flight died with the pool: queue them again and find out whether it was this one.
            self._waiting.extendleft(reversed(list(self._running)))
            self._running.clear()
            self._pool = replace_broken_pool(self._pool)
            prepared = self._options.prepare_alone(path)
            self._top_up()
            return prepared

    def discard(self, path: Path) -> None:
        future = self._running.pop(path, None)
        if future is not None:
            future.cancel()  # or, already running, its spool files go with the spool
        self._top_up()


@dataclass
class _Spooled:
    """A file prepared in a worker, its Arrow data in spool files: the loader maps them, where unpickling
    them would hold its GIL (copying tens of megabytes) while the loader waits for it."""

    prepared: PreparedFile
    cells: str | None = None
    clean: str | None = None

    def restore(self) -> PreparedFile:
        prepared = self.prepared
        if self.cells is not None:
            prepared.source.cells = [_single_chunk(column) for column in _read_spool(self.cells).columns]
            prepared.checked.clean = _read_spool(self.clean)
        return prepared


def _prepare_spooled(path: Path, options: _Options, spool: Path | None) -> _Spooled:
    prepared = options.prepare(path)
    if prepared.source is None or spool is None:
        return _Spooled(prepared)
    cells = pa.table({f"c{i}": column for i, column in enumerate(prepared.source.cells)})
    spooled = _Spooled(prepared, _write_spool(spool, cells), _write_spool(spool, prepared.checked.clean))
    prepared.source.cells = []
    prepared.checked.clean = pa.table({})
    return spooled


def _write_spool(spool: Path, table: pa.Table) -> str:
    path = str(spool / f"{uuid.uuid4().hex}.arrow")
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return path


def _read_spool(path: str) -> pa.Table:
    table = pa.ipc.open_file(pa.memory_map(path)).read_all()
    os.unlink(path)  # the mapping outlives the name
    return table


def _single_chunk(column: pa.ChunkedArray) -> pa.Array:
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
