"""One `shegong run` at a time per warehouse folder.

DuckDB lets one process write the build file; two runs at once would have the second fail somewhere in the
middle on a lock (or, between two steps, interleave). The run holds an exclusive advisory lock (flock) on
`<warehouse>/.run.lock` for its whole length; the kernel drops it when the process ends, however it ends, so
a killed run never leaves a stale lock behind. The file names the holder for the message the next run prints.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path


class RunInProgress(RuntimeError):
    pass


@contextlib.contextmanager
def run_lock(warehouse_dir: Path, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the warehouse's run lock; wait up to `wait_seconds` for another run to finish, then raise
    RunInProgress naming it."""
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    path = warehouse_dir / ".run.lock"
    with open(path, "a+", encoding="utf-8") as handle:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise RunInProgress(
                        f"another shegong run is using {warehouse_dir} ({holder}): wait for it to finish "
                        "(or `shegong run --wait`), or stop it, then run again"
                    ) from None
                time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        handle.seek(0)
        handle.truncate()
        handle.write(
            f"pid {os.getpid()} on {socket.gethostname()}, started {dt.datetime.now():%Y-%m-%d %H:%M:%S}"
        )
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
