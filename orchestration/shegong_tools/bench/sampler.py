"""Resident memory of this process plus its children (dbt runs as a subprocess), sampled by a thread.

psutil when it is installed; otherwise Linux's /proc (VmRSS of the process and of every descendant).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _proc_children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            kids.extend(int(p) for p in task.read_text().split())
        except (OSError, ValueError):
            continue
    return kids


def _proc_rss(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/statm").read_text().split()
        return int(fields[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def proc_tree_rss(pid: int) -> int:
    """RSS in bytes of `pid` and all its descendants, read from /proc."""
    total, stack, seen = 0, [pid], set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        total += _proc_rss(current)
        stack.extend(_proc_children(current))
    return total


def tree_rss_reader(pid: int | None = None) -> Callable[[], int]:
    """A function returning the current RSS of the process tree rooted at `pid` (default: this process)."""
    pid = pid or os.getpid()
    try:
        import psutil
    except ImportError:
        return lambda: proc_tree_rss(pid)
    process = psutil.Process(pid)

    def read() -> int:
        total = 0
        try:
            total = process.memory_info().rss
            for child in process.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    continue
        except psutil.Error:
            pass
        return total

    return read


class MemorySampler:
    """Samples (time.time(), rss bytes) every `interval` seconds on a daemon thread until stopped; the label
    returned by `current` (the running stage) is recorded with each sample and its peak kept per label."""

    def __init__(
        self,
        interval: float = 0.05,
        read: Callable[[], int] | None = None,
        current: Callable[[], str | None] | None = None,
    ):
        self.interval = interval
        self._read = read or tree_rss_reader()
        self._current = current or (lambda: None)
        self.samples: list[tuple[float, int]] = []
        self.peaks: dict[str | None, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-memory-sampler", daemon=True)

    def sample(self) -> int:
        rss = self._read()
        label = self._current()
        self.samples.append((time.time(), rss))
        if rss > self.peaks.get(label, 0):
            self.peaks[label] = rss
        return rss

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    @property
    def peak(self) -> int:
        return max((rss for _, rss in self.samples), default=0)

    def start(self) -> MemorySampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self.sample()  # one last reading, so even an instant run has one

    def __enter__(self) -> MemorySampler:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
