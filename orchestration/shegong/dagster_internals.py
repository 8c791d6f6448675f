"""The one module that touches Dagster's private APIs (`dagster._…`). Everything else imports from here, so a
Dagster upgrade that moves or changes them breaks one import, and `tests/unit/test_dagster_internals.py` (the
canary) says which.

Why each is needed — none has a public equivalent in Dagster 1.13:
- the partition-range run tags: a run over a range of partitions (one run for many months, a backfill) is
  requested with these two tags; Dagster's own backfill daemon writes them;
- the storage base classes: `shegong.instance_storage.ShegongStorage` chooses SQLite or PostgreSQL from the
  environment at start-up, as a configurable storage class in `dagster.yaml`;
- the SQLite event log's connection method: Dagster's SQLite event log has no batch write (its PostgreSQL one
  has), so every event opens, commits and closes its run's database file and, for asset events, the index file
  too: ~8 ms an event, 16 s for the 2,000 document partitions of a full report run. `SqliteStorageWritingBatches`
  writes the batches Dagster hands it in one transaction per file (`SqliteEventLogWritingBatches`). Dagster
  hands a storage batches (a step's partition materializations, a run's planned events) only in a process whose
  DAGSTER_EVENT_BATCH_SIZE is above 0: `shegong run` sets it for its runs, `make dev` for the UI's;
- the instigator and tick types: reading back the tick retention `dagster.yaml` configures (tests);
- the current state-storage context variable: Dagster keeps the last entered instance's state storage there, and
  a test that opens an instance from a ref and never closes it leaves a dead reference every later Definitions
  load trips on (tests reset it).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence

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
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

__all__ = [
    "ASSET_PARTITION_RANGE_END_TAG",
    "ASSET_PARTITION_RANGE_START_TAG",
    "ConfigurableClass",
    "ConfigurableClassData",
    "DagsterSqliteStorage",
    "DagsterStorage",
    "InstigatorType",
    "SqliteEventLogWritingBatches",
    "SqliteRunStorage",
    "SqliteStorageWritingBatches",
    "TickStatus",
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


class SqliteEventLogWritingBatches(SqliteEventLogStorage):
    """Dagster's SQLite event log, which stores a batch of events as Dagster's own `store_event` stores each of
    them, but in one transaction per database file (the run's file, the index file) instead of a connection,
    a commit and a close per event and file. A batch that fails before its commits is rolled back whole, and
    Dagster then stores its events one at a time (`DagsterInstance.handle_new_event`). The two files commit one
    after the other, the run's first, as each event does in Dagster's own storage: a failure between the two
    commits leaves the batch in the run's file only, where the events stored again one at a time then appear
    twice (Dagster's storage leaves one event so).

    While a batch is written, the thread writing it holds the storage's lock (other threads wait, as they wait
    for any write), and `_connect`, the method every read and write of the storage opens its connections with,
    hands that thread the batch's open connection to the file instead of a new one."""

    # Class attributes, not set in __init__: Dagster's __init__ already connects (to index a new event log).
    _batch: dict[str, Connection] | None = None
    _batch_thread: int | None = None
    _batch_resources: contextlib.ExitStack | None = None

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
        if self._batch is None or self._batch_thread != threading.get_ident():
            with super()._connect(shard) as connection:
                yield connection
            return
        connection = self._batch.get(shard)
        if connection is None:
            connection = self._open_in_batch(shard)
        yield connection

    def _open_in_batch(self, shard: str) -> Connection:
        """A connection to the shard's file in an open transaction, closed with the batch; as
        SqliteEventLogStorage._connect opens it (the file created on first use)."""
        assert self._batch is not None and self._batch_resources is not None
        engine = sqlalchemy.create_engine(
            self.conn_string_for_shard(shard),
            poolclass=NullPool,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
        )
        self._batch_resources.callback(engine.dispose)
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        connection = self._batch_resources.enter_context(engine.connect())
        connection.begin()
        self._batch[shard] = connection
        return connection


class SqliteStorageWritingBatches(DagsterSqliteStorage):
    """Dagster's SQLite storage (the same files under `base_dir`) with the event log that writes batches."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        # Dagster's __init__ builds its own event log on the same folder (its first start creates the index
        # file); this one takes its place before the instance registers the storages.
        super().__init__(base_dir, inst_data)
        self._event_log_storage = SqliteEventLogWritingBatches(_event_logs_directory(base_dir))
