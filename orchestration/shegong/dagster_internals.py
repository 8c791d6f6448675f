"""The one module that touches Dagster's private APIs (`dagster._…`). Everything else imports from here, so a
Dagster upgrade that moves or changes them breaks one import, and `tests/unit/test_dagster_internals.py` (the
canary) says which.

Why each is needed — none has a public equivalent in Dagster 1.13:
- the partition-range run tags: a run over a range of partitions (one run for many months, a backfill) is
  requested with these two tags; Dagster's own backfill daemon writes them;
- the storage base classes: `shegong.instance_storage.ShegongStorage` chooses SQLite or PostgreSQL from the
  environment at start-up, as a configurable storage class in `dagster.yaml`;
- the SQLite event log's connection method: Dagster's SQLite event log creates an engine per connection (so
  SQLAlchemy compiles every statement afresh) and has no batch write (its PostgreSQL one has): every event
  opens, commits and closes its run's database file and, for asset events, the index file too, ~8 ms an event,
  16 s for the 2,000 document partitions of a full report run. `ShegongSqliteStorage` has an event log
  (`ShegongSqliteEventLog`) that keeps an engine per file and writes the batches Dagster hands it in one
  transaction per file. Dagster hands a storage batches (a step's partition materializations, a run's planned
  events) only in a process whose DAGSTER_EVENT_BATCH_SIZE is above 0: `shegong run` sets it for its runs,
  `make dev` for the UI's;
- the instigator and tick types: reading back the tick retention `dagster.yaml` configures (tests);
- two things dagster-dbt's `DbtCliResource.cli` does in the step's own process before starting dbt:
  - it asks the dbt executable for its version (`dbt --version`, a process that imports dbt: 1.9 s, once per
    run). The project runs the venv's own dbt, so the installed dbt-core package tells the same version;
  - it builds a dbt adapter (it loads the profile and parses every macro of the project: 2.3 s in a run's
    first dbt step, 0.7 s in the next). dagster-dbt uses it only to fetch column metadata and row counts, which
    this project does not ask for, and it already carries on without one when building it fails.
  `VenvDbtCliResource` does neither;
- the current state-storage context variable: Dagster keeps the last entered instance's state storage there, and
  a test that opens an instance from a ref and never closes it leaves a dead reference every later Definitions
  load trips on (tests reset it).
"""

from __future__ import annotations

import collections
import contextlib
import threading
from collections.abc import Iterator, Sequence
from functools import cached_property

import sqlalchemy
from dagster._core.events.log import EventLogEntry
from dagster._core.scheduler.instigation import InstigatorType, TickStatus
from dagster._core.storage.base_storage import DagsterStorage
from dagster._core.storage.defs_state.base import _current_storage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from dagster._serdes import ConfigurableClass, ConfigurableClassData
from dagster_dbt import DbtCliResource
from dbt.version import __version__ as dbt_core_version
from packaging.version import Version
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

__all__ = [
    "ASSET_PARTITION_RANGE_END_TAG",
    "ASSET_PARTITION_RANGE_START_TAG",
    "ConfigurableClass",
    "ConfigurableClassData",
    "DagsterSqliteStorage",
    "DagsterStorage",
    "InstigatorType",
    "ShegongSqliteEventLog",
    "ShegongSqliteStorage",
    "SqliteRunStorage",
    "TickStatus",
    "VenvDbtCliResource",
    "partition_range_tags",
    "without_current_state_storage",
]


def partition_range_tags(first: str, last: str) -> dict[str, str]:
    """The tags of one run over the partitions `first` … `last` (inclusive)."""
    return {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}


@contextlib.contextmanager
def without_current_state_storage() -> Iterator[None]:
    """No state storage in Dagster's context variable for the duration of the block (restored afterwards)."""
    token = _current_storage.set(None)
    try:
        yield
    finally:
        _current_storage.reset(token)


class VenvDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt resource for the dbt executable of this venv, minus the version probe and the dbt
    adapter it builds in-process before every invocation (see the module's docstring); dbt itself runs exactly
    as before, in its own process."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(dbt_core_version)

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        return None


def _commit_without_fsync(dbapi_connection, _record) -> None:
    """SQLite's `synchronous = NORMAL` on a connection to a file in WAL mode (Dagster's event log files are): a
    commit appends to the log without waiting for the disk, which is synced when the log is checkpointed into the
    file. The files stay consistent whatever happens; what a power cut (not a crash of the process) can lose is
    the last transactions before it. At FULL, Dagster's default, every event waited for the disk: 2 s of a
    37 s run at `small`."""
    dbapi_connection.execute("pragma synchronous = normal")


class ShegongSqliteEventLog(SqliteEventLogStorage):
    """Dagster's SQLite event log, storing every event with Dagster's own code, with two differences in how it
    connects to the files (the index file, one file per run):

    - **One SQLAlchemy engine per file**, kept (the most recent `ENGINES_KEPT` files), where Dagster creates and
      disposes of an engine for every connection it opens (two or three per event), so that SQLAlchemy compiles
      each statement afresh every time: a third of the time an event takes. Its connections are kept open too:
      closing the last connection to a file in WAL mode checkpoints the log into the file, at every event.
      Commits do not wait for the disk (`_commit_without_fsync`).
    - **Batches in one transaction per file.** Dagster hands a storage a batch of events (a step's partition
      materializations, a run's planned events) when DAGSTER_EVENT_BATCH_SIZE is set; its PostgreSQL storage
      writes a batch at once, its SQLite storage one event at a time, opening, committing and closing each file
      per event. This one stores the batch's events in one open transaction per file. A batch that fails before
      its commits is rolled back whole, and Dagster then stores its events one at a time
      (`DagsterInstance.handle_new_event`). The two files commit one after the other, the run's first, as each
      event does in Dagster's own storage: a failure between the two commits leaves the batch in the run's file
      only, where the events stored again one at a time then appear twice (Dagster's storage leaves one event
      so).

    `_connect` is the method every read and write of Dagster's SQLite event log opens its connections with.
    While a batch is written, the thread writing it holds the storage's lock (other threads wait, as they wait
    for any write), and `_connect` hands that thread the batch's open connection to the file."""

    ENGINES_KEPT = 64

    # Class attributes, not set in __init__: Dagster's __init__ already connects (to index a new event log).
    _engines: collections.OrderedDict[str, Engine] | None = None
    _batch: dict[str, Connection] | None = None
    _batch_thread: int | None = None
    _batch_resources: contextlib.ExitStack | None = None
    _tables_present: frozenset[str] = frozenset()

    def has_table(self, table_name: str) -> bool:
        """Whether the index file has the table. Dagster asks before storing nearly every event (asset event
        tags, check executions), each time through a new engine and connection to the index file: about 1 ms,
        a third of storing a report run's 2,000 partition materializations. Its tables are only ever added (by
        migrations; `wipe` empties them and keeps the file), so a table found once is remembered; a missing one
        is asked again."""
        if table_name in self._tables_present:
            return True
        if super().has_table(table_name):
            self._tables_present = self._tables_present | {table_name}
            return True
        return False

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        with self._db_lock, contextlib.ExitStack() as resources:
            self._batch, self._batch_thread, self._batch_resources = {}, threading.get_ident(), resources
            try:
                for event in events:
                    self.store_event(event)
                # The run's file first, as store_event writes it first.
                for connection in self._batch.values():
                    connection.commit()
            except BaseException:
                for connection in self._batch.values():
                    connection.rollback()
                raise
            finally:
                self._batch, self._batch_thread, self._batch_resources = None, None, None

    @contextlib.contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        if self._batch is not None and self._batch_thread == threading.get_ident():
            yield self._batch.get(shard) or self._open_in_batch(shard)
            return
        # As SqliteEventLogStorage._connect, with the file's kept engine.
        with self._db_lock, self._engine(shard).connect() as connection, connection.begin():
            yield connection

    def _engine(self, shard: str) -> Engine:
        """The file's engine, created (and the file with it, on first use) as Dagster creates its engines. The
        caller holds the storage's lock."""
        if self._engines is None:
            self._engines = collections.OrderedDict()
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
            return engine
        engine = sqlalchemy.create_engine(
            self.conn_string_for_shard(shard),
            poolclass=QueuePool,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        sqlalchemy.event.listen(engine, "connect", _commit_without_fsync)
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        self._engines[shard] = engine
        while len(self._engines) > self.ENGINES_KEPT:
            self._engines.popitem(last=False)[1].dispose()
        return engine

    def _open_in_batch(self, shard: str) -> Connection:
        """A connection to the file in an open transaction, closed with the batch."""
        assert self._batch is not None and self._batch_resources is not None
        connection = self._batch_resources.enter_context(self._engine(shard).connect())
        connection.begin()
        self._batch[shard] = connection
        return connection

    def wipe(self) -> None:
        # The kept connections would go on writing the run files Dagster deletes.
        self._dispose_engines()
        super().wipe()

    def dispose(self) -> None:
        super().dispose()
        self._dispose_engines()

    def _dispose_engines(self) -> None:
        with self._db_lock:
            for engine in (self._engines or {}).values():
                engine.dispose()
            self._engines = None


class ShegongSqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage (the same files under `base_dir`) with the project's event log."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        # Dagster's __init__ builds its own event log on the same folder (its first start creates the index
        # file); this one takes its place before the instance registers the storages.
        super().__init__(base_dir, inst_data)
        self._event_log_storage = ShegongSqliteEventLog(_event_logs_directory(base_dir))
