"""Pure parts of the benchmark: which stage a Dagster step belongs to, the timeline of stages built from step
events (and dbt's own timings, which split a dbt step into model building and testing), and per-stage wall
seconds and peak memory from that timeline and the memory samples.

Times are wall-clock epoch seconds (time.time()) everywhere, so that dbt's run_results.json timestamps, the
progress callback's events and the memory sampler's samples share one clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# Stages of a build, in pipeline order; ORCHESTRATION is the time between steps (run set-up, event storage).
INGEST = "ingest"
EXTRACT = "extract"
DBT = "dbt"
VALIDATE = "validate"
PUBLISH = "publish"
ORCHESTRATION = "orchestration"
STAGES = (INGEST, EXTRACT, DBT, VALIDATE, PUBLISH, ORCHESTRATION)

STAGE_LABELS = {
    INGEST: "ingest registries",
    EXTRACT: "extract reports",
    DBT: "dbt models",
    VALIDATE: "validation",
    PUBLISH: "publish",
    ORCHESTRATION: "orchestration",
}

END_EVENTS = ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED")


def classify_step(step_key: str, kinds: Mapping[str, str] | None = None) -> str:
    """The stage of a step: from the op → stage map built from the definitions when it knows the step, else
    from the step key's shape (raw__reports, raw__*, dbt_*, *published*; anything else is a check)."""
    if kinds and step_key in kinds:
        return kinds[step_key]
    if step_key.startswith("raw__reports"):
        return EXTRACT
    if step_key.startswith("raw__") or step_key == "reference_data":
        return INGEST
    if step_key.startswith("dbt_"):
        return DBT
    if "published" in step_key:
        return PUBLISH
    return VALIDATE


@dataclass(frozen=True)
class Interval:
    start: float
    end: float
    stage: str
    step: str = ""

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)


def step_intervals(
    events: Iterable[tuple[float, str, str]], kinds: Mapping[str, str] | None = None, end: float | None = None
) -> list[Interval]:
    """(time, event, step key) events → one interval per step, from its STEP_START to its end event. A step
    still open when the events stop is closed at `end` (a crashed run)."""
    open_steps: dict[str, float] = {}
    out: list[Interval] = []
    last = None
    for when, kind, step in events:
        last = when if last is None else max(last, when)
        if kind == "STEP_START":
            open_steps[step] = when
        elif kind in END_EVENTS and step in open_steps:
            out.append(Interval(open_steps.pop(step), when, classify_step(step, kinds), step))
    closing = end if end is not None else last
    for step, started in open_steps.items():
        if closing is not None:
            out.append(Interval(started, max(started, closing), classify_step(step, kinds), step))
    return sorted(out, key=lambda i: (i.start, i.end))


def _merge(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[list[float]] = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def _subtract(
    spans: list[tuple[float, float]], holes: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    out = []
    for start, end in spans:
        pieces = [(start, end)]
        for h_start, h_end in holes:
            next_pieces = []
            for a, b in pieces:
                if h_end <= a or h_start >= b:
                    next_pieces.append((a, b))
                    continue
                if a < h_start:
                    next_pieces.append((a, h_start))
                if h_end < b:
                    next_pieces.append((h_end, b))
            pieces = next_pieces
        out.extend(pieces)
    return out


def _epoch(stamp: str) -> float:
    parsed = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    if parsed.tzinfo is None:  # dbt writes UTC
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def dbt_test_spans(run_results: Mapping) -> list[tuple[float, float]]:
    """Spans of a dbt invocation when only tests were running (dbt runs two threads: a test overlapping a
    model build counts for the model). From run_results.json: each node's compile + execute timing."""
    tests, models = [], []
    for result in run_results.get("results", []):
        timings = [t for t in result.get("timing", []) if t.get("started_at") and t.get("completed_at")]
        if not timings:
            continue
        span = (
            min(_epoch(t["started_at"]) for t in timings),
            max(_epoch(t["completed_at"]) for t in timings),
        )
        (tests if str(result.get("unique_id", "")).startswith(("test.", "unit_test.")) else models).append(
            span
        )
    return _merge(_subtract(_merge(tests), _merge(models)))


def split_intervals(
    intervals: Sequence[Interval], spans: Iterable[tuple[float, float]], stage: str
) -> list[Interval]:
    """Cut `spans` out of the DBT intervals and give them to `stage` (dbt tests → validation)."""
    spans = _merge(spans)
    out: list[Interval] = []
    for interval in intervals:
        if interval.stage != DBT:
            out.append(interval)
            continue
        inside = [(max(a, interval.start), min(b, interval.end)) for a, b in spans]
        inside = [(a, b) for a, b in inside if b > a]
        for a, b in _subtract([(interval.start, interval.end)], inside):
            out.append(Interval(a, b, DBT, interval.step))
        for a, b in inside:
            out.append(Interval(a, b, stage, interval.step))
    return sorted(out, key=lambda i: (i.start, i.end))


def with_gaps(intervals: Sequence[Interval], start: float, end: float) -> list[Interval]:
    """The timeline from start to end: the steps, and ORCHESTRATION for every gap between them."""
    out: list[Interval] = []
    cursor = start
    for interval in sorted(intervals, key=lambda i: (i.start, i.end)):
        if interval.start > cursor:
            out.append(Interval(cursor, interval.start, ORCHESTRATION))
        out.append(interval)
        cursor = max(cursor, interval.end)
    if end > cursor:
        out.append(Interval(cursor, end, ORCHESTRATION))
    return out


def stage_seconds(timeline: Iterable[Interval]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for interval in timeline:
        totals[interval.stage] = totals.get(interval.stage, 0.0) + interval.seconds
    return totals


def stage_at(timeline: Sequence[Interval], when: float) -> str | None:
    """The stage running at `when` (the last interval containing it), None outside the timeline."""
    found = None
    for interval in timeline:
        if interval.start <= when <= interval.end:
            found = interval.stage
        elif interval.start > when:
            break
    return found


def stage_peaks(timeline: Sequence[Interval], samples: Iterable[tuple[float, int]]) -> dict[str, int]:
    """Peak resident memory (bytes) per stage from (time, rss) samples."""
    peaks: dict[str, int] = {}
    ordered = sorted(timeline, key=lambda i: (i.start, i.end))
    for when, rss in samples:
        stage = stage_at(ordered, when)
        if stage is not None and rss > peaks.get(stage, 0):
            peaks[stage] = rss
    return peaks
