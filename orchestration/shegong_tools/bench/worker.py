"""One measured build in its own process: `python -m shegong_tools.bench.worker --mode full|noop|incremental|baseline`
(noop: the pipeline run again, as `shegong run` would, with nothing new landed).

The parent (`shegong bench`) sets SHEGONG_LANDING / SHEGONG_WAREHOUSE_DIR / SHEGONG_DUCKDB / DAGSTER_HOME before
starting it, so the definitions' resources see the bench's folders at import. Progress goes to the parent as
lines `BENCH {json}` on stdout; everything else the run prints (dbt's log) goes to --log; the figures are
written as JSON to --out.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from shegong_tools.bench.sampler import MemorySampler
from shegong_tools.bench.stages import (
    DBT,
    EXTRACT,
    INGEST,
    PUBLISH,
    VALIDATE,
    Interval,
    classify_step,
    dbt_test_spans,
    split_intervals,
    stage_peaks,
    stage_seconds,
    step_intervals,
    with_gaps,
)

STARTUP = "startup"
DBT_SCHEMAS = ("staging", "intermediate", "marts", "reference", "snapshots")


class Reporter:
    """Progress lines to the parent on the real stdout, whatever the run does with sys.stdout."""

    def __init__(self) -> None:
        self._out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)

    def __call__(self, **message: Any) -> None:
        self._out.write("BENCH " + json.dumps(message, ensure_ascii=False) + "\n")
        self._out.flush()


def op_stages() -> dict[str, str]:
    """Op (step key) → stage, from the definitions themselves."""
    from shegong.defs.dbt import dbt_asset_defs
    from shegong.defs.publish import published_warehouse
    from shegong.defs.quality import personal_data_scan, quality_checks
    from shegong.defs.registries import reference_data, registry_assets, registry_checks
    from shegong.defs.reports import reports

    kinds: dict[str, str] = {}
    for defs, stage in (
        ((*registry_assets, reference_data), INGEST),
        ((reports,), EXTRACT),
        (tuple(dbt_asset_defs), DBT),
        ((published_warehouse,), PUBLISH),
        ((*registry_checks, *quality_checks, personal_data_scan), VALIDATE),
    ):
        for item in defs:
            kinds[item.node_def.name] = stage
    return kinds


def _dbt_spans(run_ids: list[str], warehouse_dir: Path) -> list[tuple[float, float]]:
    """Test-only spans of every dbt invocation of the runs (each invocation's own target folder)."""
    from shegong.defs.dbt import dbt_invocation_folders

    spans: list[tuple[float, float]] = []
    for run_id in run_ids:
        for folder in dbt_invocation_folders(warehouse_dir, run_id):
            results = folder / "run_results.json"
            if results.exists():
                spans.extend(dbt_test_spans(json.loads(results.read_text(encoding="utf-8"))))
    return spans


def _validated_rows(run_ids: list[str]) -> int:
    """Rows the GX checks validated (their rows_validated metadata) in the runs."""
    import dagster as dg

    instance = dg.DagsterInstance.get()
    total = 0
    for run_id in run_ids:
        records = instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=100_000
        ).records
        for record in records:
            data = record.event_log_entry.dagster_event.event_specific_data
            value = (data.metadata or {}).get("rows_validated")
            total += int(getattr(value, "value", value) or 0)
    return total


def _build_figures(
    build_db: Path, published_db: Path, since: dt.datetime
) -> tuple[dict[str, dict[str, float]], dict[str, int]]:
    """Rows and bytes each stage handled, read back from the build file (files ingested since `since`), and
    the row count of every mart."""
    import duckdb

    figures: dict[str, dict[str, float]] = {
        s: {"rows": 0, "bytes": 0} for s in (INGEST, EXTRACT, DBT, PUBLISH)
    }
    con = duckdb.connect(str(build_db), read_only=True)
    try:
        rows = con.execute(
            """select registry = 'reports' as is_report, count(*), coalesce(sum(rows_in), 0),
                      coalesce(sum(size_bytes), 0)
               from audit.ingested_files where ingested_at >= ? group by 1""",
            [since],
        ).fetchall()
        for is_report, files, rows_in, size in rows:
            if is_report:
                figures[EXTRACT].update(rows=files, bytes=size, facts=rows_in)
            else:
                figures[INGEST].update(rows=rows_in, bytes=size, files=files)
        placeholders = ", ".join(f"'{s}'" for s in DBT_SCHEMAS)
        (materialised,) = con.execute(
            f"""select coalesce(sum(estimated_size), 0) from duckdb_tables()
                where database_name = current_database() and schema_name in ({placeholders})"""
        ).fetchall()[0]
        figures[DBT]["rows"] = materialised
        names = con.execute(
            """select table_name from duckdb_tables()
               where database_name = current_database() and schema_name = 'marts' order by 1"""
        ).fetchall()
        mart_rows = {n: con.execute(f"select count(*) from marts.{n}").fetchone()[0] for (n,) in names}
    finally:
        con.close()
    figures[PUBLISH].update(
        rows=sum(mart_rows.values()), bytes=published_db.stat().st_size if published_db.exists() else 0
    )
    return figures, mart_rows


def run_build(
    mode: str, months: list[str] | None, documents: list[str] | None, log: Path, report: Reporter
) -> dict:
    started = time.time()
    since = dt.datetime.now()
    load_start = os.getloadavg()
    stage_now: list[str | None] = [STARTUP]
    sampler = MemorySampler(current=lambda: stage_now[0]).start()
    try:
        from shegong.config import settings
        from shegong.pipeline import run_pipeline

        # Loading the definitions is part of what a build costs (start-up); a run with nothing new answers
        # before it loads them (and Dagster), so the no-op run is timed without them, as `shegong run` does it.
        kinds = op_stages() if mode != "noop" else {}
        imported = time.time()
        events: list[tuple[float, str, str]] = []

        def on_step(kind: str, step: str) -> None:
            now = time.time()
            events.append((now, kind, step))
            stage_now[0] = classify_step(step, kinds) if kind == "STEP_START" else "orchestration"
            report(event=kind, step=step, stage=classify_step(step, kinds), t=now - started)

        month_dates = [dt.date.fromisoformat(f"{m}-01") for m in months] if months else None
        with log.open("a", encoding="utf-8") as sink, contextlib.redirect_stdout(sink):
            summary = run_pipeline(on_step, months=month_dates, documents=documents)
        finished = time.time()
    finally:
        sampler.stop()

    current = settings()
    steps = step_intervals(events, kinds, end=finished)
    steps = split_intervals(steps, _dbt_spans(summary.run_ids, current.warehouse_dir), VALIDATE)
    timeline = [Interval(started, imported, STARTUP), *with_gaps(steps, imported, finished)]
    seconds = stage_seconds(timeline)
    peaks = stage_peaks(timeline, sampler.samples)
    figures, mart_rows = _build_figures(current.build_db, current.published_db, since)
    figures[VALIDATE] = {"rows": _validated_rows(summary.run_ids), "bytes": 0}
    stages = {}
    for stage in {*seconds, *peaks}:
        stages[stage] = {
            "seconds": seconds.get(stage, 0.0),
            "peak_rss": peaks.get(stage, 0),
            **figures.get(stage, {"rows": 0, "bytes": 0}),
        }
    return {
        "mode": mode,
        "success": summary.success,
        "failures": summary.failures,
        "checks_passed": summary.checks_passed,
        "checks_failed": summary.checks_failed,
        "run_ids": summary.run_ids,
        "months": summary.months,
        "documents": summary.documents,
        "wall": finished - started,
        "peak_rss": sampler.peak,
        "stages": stages,
        "mart_rows": mart_rows,
        "steps": [[i.step, i.stage, i.seconds] for i in steps],
        "loadavg_start": load_start,
        "loadavg_end": os.getloadavg(),
        "samples": len(sampler.samples),
    }


def run_baseline(landing: Path, scratch: Path, build_db: Path | None, report: Reporter) -> dict:
    from shegong_tools.bench.baseline import READ, compile_models, models_on_build_raw
    from shegong_tools.bench.baseline import run_baseline as baseline

    scratch.mkdir(parents=True, exist_ok=True)
    report(event="STAGE", step="compile the dbt models (not timed)", stage="compile", t=0.0)
    compiling = time.time()
    nodes = compile_models(scratch / "baseline.duckdb", scratch / "target")
    compile_seconds = time.time() - compiling

    started = time.time()
    load_start = os.getloadavg()
    stage_now: list[str | None] = [READ]
    marks: list[tuple[float, str]] = []

    def on_stage(stage: str) -> None:
        now = time.time()
        marks.append((now, stage))
        stage_now[0] = stage
        report(event="STAGE", step=stage, stage=stage, t=now - started)

    with MemorySampler(current=lambda: stage_now[0]) as sampler:
        outcome = baseline(landing, scratch, nodes, on_stage=on_stage)
    finished = time.time()
    check = None
    if build_db is not None and build_db.exists():
        report(event="STAGE", step="the models on the build's raw layer (not timed)", stage="check", t=0.0)
        check = models_on_build_raw(build_db, scratch / "on-build-raw", nodes)
    timeline = [
        Interval(start, marks[i + 1][0] if i + 1 < len(marks) else finished, stage)
        for i, (start, stage) in enumerate(marks)
    ]
    seconds = stage_seconds(timeline)
    peaks = stage_peaks(timeline, sampler.samples)
    stages = {
        stage: {
            "seconds": seconds.get(stage, 0.0),
            "peak_rss": peaks.get(stage, 0),
            **outcome.figures.get(stage, {}),
        }
        for stage in {*seconds, *peaks}
    }
    return {
        "mode": "baseline",
        "success": True,
        "wall": finished - started,
        "compile_seconds": compile_seconds,
        "peak_rss": sampler.peak,
        "stages": stages,
        "mart_rows": outcome.mart_rows,
        "model_seconds": outcome.model_seconds,
        "models_on_build_raw": check,
        "loadavg_start": load_start,
        "loadavg_end": os.getloadavg(),
        "samples": len(sampler.samples),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shegong_tools.bench.worker")
    parser.add_argument("--mode", choices=("full", "noop", "incremental", "baseline"), required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument(
        "--month", action="append", help="YYYY-MM: build exactly these months (default: what changed)"
    )
    parser.add_argument("--document", action="append", help="report file name: extract exactly these reports")
    parser.add_argument("--landing", type=Path, help="landing root (baseline)")
    parser.add_argument("--scratch", type=Path, help="scratch folder (baseline)")
    parser.add_argument(
        "--build-db", type=Path, help="the full build's file, to compare marts with (baseline)"
    )
    args = parser.parse_args(argv)
    report = Reporter()
    if args.mode == "baseline":
        result = run_baseline(args.landing, args.scratch, args.build_db, report)
    else:
        # noop and incremental: whatever changed since the last publication, as `shegong run` finds it; --month
        # and --document name exactly what to build (every model), as a backfill does.
        result = run_build(args.mode, args.month, args.document, args.log, report)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    report(event="DONE", step="", stage="", t=result["wall"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
