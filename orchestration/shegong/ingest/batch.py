"""Ingesting a landing folder (or the files of some months) for one registry; no Dagster here."""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import os
import tempfile
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from shegong.contracts import Contract
from shegong.ingest.load import (
    FileOutcome,
    PreparedFile,
    RegistryLoader,
    ingest_file,
    landing_name,
    prepare_file,
)
from shegong.ingest.pii import PiiProtector
from shegong.ingest.reading import SUPPORTED_SUFFIXES, FileRejected, file_digest, period_of

WORKERS = 2
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
    """Ingest files in order, to the warehouse ingest_file gives one file after the other.

    Reading and checking a file needs no warehouse, so worker processes prepare the files ahead while this
    process, the warehouse's only writer, loads them in order, many files to a transaction (a commit per file
    costs more than the rest of loading it). If loading fails, the open transaction is rolled back and its
    files are done again one at a time, so the files before the failing one are in and the error is the one
    ingest_file raises. An interrupt leaves out the files of the open transaction. `on_file` hears of every
    file at the end (or, after a failure, of each file as it is done again)."""
    names = [landing_name(path, landing_root) for path in files]
    digests = [file_digest(path) for path in files]
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
        with _Preparing(wanted, contract, protector) as prepared:
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
            result = ingest_file(con, path, contract, protector, landing_root)
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


class _Preparing:
    """The files to load, prepared in order by the worker processes, a bounded number ahead of the loader;
    a file not asked for at the start (or the only one: a worker's start costs more) is prepared here."""

    def __init__(self, paths: list[Path], contract: Contract, protector: PiiProtector):
        self._waiting = deque(paths if len(paths) > 1 else ())
        self._contract = contract
        self._protector = protector
        self._running: dict[Path, Future[_Spooled]] = {}
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> _Preparing:
        if self._waiting:
            self._pool = self._stack.enter_context(_worker_pool())
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
            self._running[path] = self._pool.submit(
                _prepare_spooled, path, self._contract, self._protector, self._spool
            )

    def take(self, path: Path) -> PreparedFile:
        """The prepared file; files are taken (or discarded) in the order they were given."""
        future = self._running.pop(path, None)
        self._top_up()
        if future is None:
            return prepare_file(path, self._contract, self._protector)
        return future.result().restore()

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


def _prepare_spooled(path: Path, contract: Contract, protector: PiiProtector, spool: Path) -> _Spooled:
    prepared = prepare_file(path, contract, protector)
    if prepared.source is None:
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


# The worker processes outlive a batch for a while: the next registry's batch usually follows, and starting
# them (importing, warming caches) takes about as long as preparing a few files.
_pool_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_pool_users = 0
_pool_idle: threading.Timer | None = None
IDLE_SECONDS = 30.0


@contextlib.contextmanager
def _worker_pool() -> Iterator[ProcessPoolExecutor]:
    global _pool, _pool_users, _pool_idle
    with _pool_lock:
        if _pool_idle is not None:
            _pool_idle.cancel()
            _pool_idle = None
        if _pool is None:
            _pool = ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn"))
        _pool_users += 1
        pool = _pool
    try:
        yield pool
    except BrokenProcessPool:
        with _pool_lock:
            if _pool is pool:
                _pool = None
        raise
    finally:
        with _pool_lock:
            _pool_users -= 1
            if _pool_users == 0 and _pool is not None:
                _pool_idle = threading.Timer(IDLE_SECONDS, _close_idle_pool)
                _pool_idle.daemon = True
                _pool_idle.start()


def _close_idle_pool() -> None:
    global _pool
    with _pool_lock:
        if _pool_users == 0 and _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
            _pool = None
