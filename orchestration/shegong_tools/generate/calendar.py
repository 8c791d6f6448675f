"""Reporting months: index k = 0..months-1 from the start month."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Month:
    index: int
    year: int
    month: int

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def end(self) -> dt.date:
        nxt = dt.date(self.year + self.month // 12, self.month % 12 + 1, 1)
        return nxt - dt.timedelta(days=1)

    @property
    def days(self) -> int:
        return self.end.day


def months_from(start: str, count: int) -> list[Month]:
    try:
        year, month = (int(p) for p in start.split("-"))
        dt.date(year, month, 1)
    except ValueError as exc:
        raise ValueError(f"start_month must look like 2024-01, not {start!r}") from exc
    if count < 1:
        raise ValueError("months must be at least 1")
    out = []
    for k in range(count):
        m0 = month - 1 + k
        out.append(Month(k, year + m0 // 12, m0 % 12 + 1))
    return out


def last_complete_month(today: dt.date) -> dt.date:
    """The month before today's: the demo's data ends there. It is recent enough for every registry's
    freshness check (45 days), and a month still running would hold dates after today, which the blocking
    'not in the future' expectations reject."""
    return today.replace(day=1) - dt.timedelta(days=1)


def start_month_ending(end: dt.date, count: int) -> str:
    """The start month (YYYY-MM) of `count` months whose last is `end`'s month (the same seed and months give
    the same files)."""
    if count < 1:
        raise ValueError("months must be at least 1")
    index = end.year * 12 + end.month - 1 - (count - 1)
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def to_np(d: dt.date):
    import numpy as np

    return np.datetime64(d, "D")
