"""The ingest worker processes: two (one per core), shared by the registry files being prepared
(`shegong.ingest.batch`) and the reports being extracted (`shegong.ingest.reports`) of one process, started on
first use (spawned: no state of the parent's is inherited)."""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

WORKERS = 2

# The worker processes outlive a batch for a moment: in a run, the next registry's batch (or the registries' after
# the reports') follows within a tenth of a second, and starting them (importing, warming caches) takes about as
# long as preparing a few files. Not longer: an idle worker keeps the memory of what it prepared (~0.55 GB for the
# two after `large`'s workers), and 30 s reached well into the dbt step that follows ingest, where the build's
# memory peaks.
_pool_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_pool_users = 0
_pool_idle: threading.Timer | None = None
IDLE_SECONDS = 3.0


@contextlib.contextmanager
def worker_pool() -> Iterator[ProcessPoolExecutor]:
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
        replace_broken_pool(pool)
        raise
    finally:
        with _pool_lock:
            _pool_users -= 1
            if _pool_users == 0 and _pool is not None:
                _pool_idle = threading.Timer(IDLE_SECONDS, _close_idle_pool)
                _pool_idle.daemon = True
                _pool_idle.start()


def replace_broken_pool(broken: ProcessPoolExecutor) -> ProcessPoolExecutor:
    """A working pool in place of a broken one (its workers died), shared as the broken one was."""
    global _pool
    with _pool_lock:
        if _pool is broken or _pool is None:
            _pool = ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn"))
        broken.shutdown(wait=False, cancel_futures=True)
        return _pool


def _close_idle_pool() -> None:
    global _pool
    with _pool_lock:
        if _pool_users == 0 and _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
            _pool = None
