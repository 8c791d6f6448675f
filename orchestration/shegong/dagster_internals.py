"""The one module that touches Dagster's private APIs (`dagster._…`). Everything else imports from here, so a
Dagster upgrade that moves or changes them breaks one import, and `tests/unit/test_dagster_internals.py` (the
canary) says which.

Why each is needed — none has a public equivalent in Dagster 1.13:
- the partition-range run tags: a run over a range of partitions (one run for many months, a backfill) is
  requested with these two tags; Dagster's own backfill daemon writes them;
- the storage base classes: `shegong.instance_storage.ShegongStorage` chooses SQLite or PostgreSQL from the
  environment at start-up, as a configurable storage class in `dagster.yaml`;
- the instigator and tick types: reading back the tick retention `dagster.yaml` configures (tests);
- the current state-storage context variable: Dagster keeps the last entered instance's state storage there, and
  a test that opens an instance from a ref and never closes it leaves a dead reference every later Definitions
  load trips on (tests reset it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from dagster._core.scheduler.instigation import InstigatorType, TickStatus
from dagster._core.storage.base_storage import DagsterStorage
from dagster._core.storage.defs_state.base import _current_storage
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from dagster._serdes import ConfigurableClass, ConfigurableClassData

__all__ = [
    "ASSET_PARTITION_RANGE_END_TAG",
    "ASSET_PARTITION_RANGE_START_TAG",
    "ConfigurableClass",
    "ConfigurableClassData",
    "DagsterSqliteStorage",
    "DagsterStorage",
    "InstigatorType",
    "SqliteRunStorage",
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
