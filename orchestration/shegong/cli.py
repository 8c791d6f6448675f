"""The `shegong` command line: generate sample data, run the pipeline, extract reports, inspect status."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import importlib.util
import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from shegong.config import (
    DBT_PROJECT_DIR,
    DEVELOPMENT_KEY_WARNING,
    LANDING_FOLDERS,
    export_build_db_env,
    settings,
)

# Into a log file or a pipe, lines are written whole: no wrapping at 80 columns, no progress bars.
console = Console(stderr=True, width=None if sys.stderr.isatty() else 1000, soft_wrap=not sys.stderr.isatty())
out = Console(width=None if sys.stdout.isatty() else 1000, soft_wrap=not sys.stdout.isatty())


def fail(message: str, code: int = 1) -> None:
    """One clear line on stderr: what, where, and what to do."""
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    sys.exit(code)


def _require_tools(command: str) -> None:
    """`shegong generate` and `shegong bench` run the development tools, a package of their own beside the
    runtime (`shegong_tools`): the runtime never imports it, so an install may lack it."""
    if importlib.util.find_spec("shegong_tools") is None:
        fail(
            f"{command}: the development tools package shegong_tools is not installed: "
            "run make install (or pip install -e . from the repository)"
        )


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    )


@click.group()
def main() -> None:
    """shegong: the social-work workforce warehouse."""


@main.command()
def prepare() -> None:
    """Parse the dbt project into target/manifest.json (done at install; Dagster never parses on load)."""
    from dbt.cli.main import dbtRunner

    from shegong.engines import dbt_target

    # With the build file and the target Dagster's dbt steps use, so that the parse state saved beside the
    # manifest also spares this deployment's first run a full parse (dbt's partial parsing requires the same
    # profile and target).
    export_build_db_env(settings())
    project = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    result = dbtRunner().invoke(["parse", *project, "--target", dbt_target(), "--quiet"])
    if not result.success:
        fail(f"dbt parse failed in {DBT_PROJECT_DIR}: {result.exception or 'see the messages above'}")
    console.print(f"dbt manifest ready: {DBT_PROJECT_DIR / 'target' / 'manifest.json'}")


@main.command()
@click.option(
    "--scale", default="small", show_default=True, help="small | medium | large | a number of workers"
)
@click.option("--seed", default=20241, show_default=True, type=int)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    help="landing folder to write (default: SHEGONG_LANDING)",
)
@click.option(
    "--start-month",
    default=None,
    help="first reporting month, YYYY-MM [default: the data ends at the last complete month]",
)
@click.option("--months", default=12, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="do nothing when the landing folders already hold files")
def generate(
    scale: str, seed: int, out_dir: Path | None, start_month: str | None, months: int, if_empty: bool
) -> None:
    """Write deterministic sample registries and reports in the landing layout (per seed and month range)."""
    _require_tools("generate")
    from shegong_tools.generate import generate as make_sample
    from shegong_tools.generate.calendar import last_complete_month, start_month_ending

    if start_month is None:
        try:
            start_month = start_month_ending(last_complete_month(dt.date.today()), months)
        except ValueError as exc:
            fail(f"generate: {exc}")

    target = (out_dir or settings().landing_dir).resolve()
    if if_empty and any((target / f).is_dir() and any((target / f).iterdir()) for f in LANDING_FOLDERS):
        console.print(f"landing folders in {target} already hold files: nothing generated")
        return
    scale_value: str | int = int(scale) if scale.isdigit() else scale
    with _progress() as bars:
        tasks: dict[str, int] = {}

        def advance(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(stage, total=total)
            bars.update(tasks[stage], completed=done, total=total)

        try:
            summary = make_sample(
                target, scale=scale_value, seed=seed, start_month=start_month, months=months, progress=advance
            )
        except ValueError as exc:
            fail(f"generate: {exc}")
    console.print(f"sample data written to {target}: {summary}")


def _plain(line: str) -> None:
    """A progress line when stderr is no terminal (a log file, CI): a timestamped line instead of a bar."""
    if not console.is_terminal:
        console.print(f"{dt.datetime.now():%H:%M:%S} {line}", highlight=False, markup=False)


@main.command()
@click.option("--wait", is_flag=True, help="wait for a run already using this warehouse instead of exiting")
@click.option(
    "--full-refresh",
    is_flag=True,
    help="rebuild everything: every model from scratch (dbt --full-refresh), every report re-extracted",
)
def run(wait: bool, full_refresh: bool) -> None:
    """Ingest what landed since the last published run, build the models downstream of it, validate and
    publish (in-process Dagster runs); with nothing new, say so and do nothing."""
    from shegong.config import ConfigurationError, checked_pii_key
    from shegong.engines import EngineConfigError
    from shegong.engines.spark import SparkUnavailable
    from shegong.pipeline import NothingToBuild, run_pipeline
    from shegong.runlock import RunInProgress

    current = settings()
    try:
        checked_pii_key(current.pii_key, current.production)
    except ConfigurationError as exc:
        fail(str(exc))
    with _progress() as bars:
        task = bars.add_task("pipeline", total=None)
        state = {"step": "", "assets": 0, "checks": 0, "last": ""}

        def on_step(event: str, key: str) -> None:
            if event == "STEP_START":
                state.update(step=key, assets=0, checks=0, last="")
                _plain(f"started {key}")
            elif event == "ASSET_MATERIALIZATION":
                state["assets"] += 1
                state["last"] = key
            elif event == "ASSET_CHECK_EVALUATION":
                state["checks"] += 1
            else:
                bars.advance(task)
                counts = f"{state['assets']} assets, {state['checks']} checks" if state["step"] == key else ""
                _plain(f"{event.removeprefix('STEP_').lower()} {key}" + (f" ({counts})" if counts else ""))
                return
            # While dbt runs (one step for every model and test), the latest model built and the counts so far.
            last = f": built {state['last']}" if state["last"] else ""
            bars.update(
                task,
                description=f"running {state['step']}{last} ({state['assets']} assets, {state['checks']} checks)",
            )

        log_path = current.warehouse_dir / "logs" / f"run-{dt.datetime.now():%Y%m%dT%H%M%S}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # dbt's own log (written to stdout by dagster-dbt) goes to a file; the terminal keeps the progress.
            with log_path.open("w", encoding="utf-8") as log, contextlib.redirect_stdout(log):
                summary = run_pipeline(
                    on_step, wait_seconds=6 * 3600 if wait else 0, full_refresh=full_refresh
                )
        except (NothingToBuild, RunInProgress) as exc:
            fail(str(exc))
        except (EngineConfigError, SparkUnavailable) as exc:
            fail(f"{exc} (the published warehouse is unchanged)")
        bars.update(task, total=bars.tasks[0].completed, description="pipeline finished")
    if summary.nothing_new:
        log_path.unlink(missing_ok=True)  # nothing ran: no log worth keeping
        out.print(summary.nothing_new, highlight=False, soft_wrap=True)
        return
    if summary.changes:
        out.print(summary.changes, highlight=False, soft_wrap=True)
    for failure in summary.failures:
        console.print(f"[bold red]error:[/] {failure}", highlight=False, soft_wrap=True)
    for expectation in summary.blocked_by:
        console.print(f"[bold red]blocked by:[/] {expectation}", highlight=False, soft_wrap=True)
    console.print(f"run log (dbt output included): {log_path}", highlight=False)
    _print_status(
        current.published_db, failed_checks=summary.checks_failed, checks_passed=summary.checks_passed
    )
    if summary.success and summary.checks_failed:
        _explain_warnings(current, summary.checks_failed, summary.check_descriptions)
    if summary.file_findings:
        out.print("landing files this run set aside or flagged:", highlight=False)
        for line in summary.file_findings:
            out.print(f"  {line}", highlight=False, soft_wrap=True)
    if summary.development_key:
        console.print(f"[bold yellow]warning:[/] {DEVELOPMENT_KEY_WARNING}", highlight=False, soft_wrap=True)
    if not summary.success:
        fail(f"nothing published by runs {', '.join(summary.run_ids)}: fix the errors above and run again")


def _print_status(
    published: Path, failed_checks: list[str] | None = None, checks_passed: int | None = None
) -> None:
    from shegong.status import read_status

    status = read_status(published)
    if status is None:
        out.print(f"No warehouse published yet at {published}.")
    else:
        table = Table(
            title=f"Published {status.published_at:%Y-%m-%d %H:%M:%S} (run {status.run_id[:8]}) → {published}"
        )
        table.add_column("mart")
        table.add_column("rows", justify="right")
        for name, rows in status.rows_by_table.items():
            table.add_row(name, f"{rows:,}")
        out.print(table)
        out.print(
            f"validation: {status.expectations_passed} expectations passed, {status.expectations_failed} failed "
            f"(warnings) in the published run; report: {status.report_path or 'none yet'}"
        )
        if status.exports_path:
            out.print(
                f"DuckDB storage {status.storage_version}; Parquet exports: {status.exports_path}",
                highlight=False,
            )
    if checks_passed is not None:
        out.print(f"asset checks this run: {checks_passed} passed, {len(failed_checks or [])} failed")
        for name in failed_checks or []:
            out.print(f"  failed: {name}")


def _explain_warnings(current, failed_checks: list[str], descriptions: dict[str, str]) -> None:
    """What each failed warning of the published run means: they did not block publishing."""
    from shegong.quality import report_summary
    from shegong.quality.report import check_meaning

    summary = report_summary(current.published_db, current.warehouse_dir)
    warnings = [f for f in summary.get("top_failures", []) if f["severity"] == "warning"]
    # Checks other than the suites (dbt tests, registry checks), named "<asset>:<check> (<severity>)".
    others = [name for name in failed_checks if ":gx_" not in name]
    if not (warnings or others):
        return
    out.print("warnings (published anyway; README 'Set-up' explains the sample data's):", highlight=False)
    for f in warnings:
        where = f" on {f['column']}" if f["column"] else ""
        out.print(f"  {f['suite']}: {f['expectation']}{where} — {f['meaning']}", highlight=False)
    for name in others:
        key = name.rsplit(" (", 1)[0]
        meaning = check_meaning({"check": key.split(":", 1)[-1], "description": descriptions.get(key)})
        out.print(f"  {name} — {meaning}", highlight=False)


@main.command()
@click.option(
    "--json", "as_json", is_flag=True, help="the publication and rows of every mart as one JSON object"
)
def status(as_json: bool) -> None:
    """What is published, when, rows per mart, last validation result."""
    if not as_json:
        _print_status(settings().published_db)
        return
    from shegong.status import read_status

    published = settings().published_db
    current = read_status(published)
    publication = None
    if current is not None:
        publication = {
            "run_id": current.run_id,
            "published_at": current.published_at.isoformat(timespec="seconds"),
            "path": str(published),
            "expectations_passed": current.expectations_passed,
            "expectations_failed_warning": current.expectations_failed,
            "validation_report": current.report_path,
        }
    rows = current.rows_by_table if current is not None else {}
    out.print_json(json.dumps({"published": publication, "rows_by_mart": rows}, ensure_ascii=False))


@main.group()
def spark() -> None:
    """The local Spark Thrift server (pyspark's Spark on Java 17) under <SHEGONG_WAREHOUSE_DIR>/spark."""


def _spark_folder() -> Path:
    return settings().warehouse_dir / "spark"


@spark.command("start")
def spark_start() -> None:
    """Start it on 127.0.0.1 (a free port) and wait until it answers; prints its pid and the variables to export."""
    from shegong.engines.spark import SparkUnavailable, start_local_server

    try:
        server = start_local_server(_spark_folder())
    except SparkUnavailable as exc:
        fail(str(exc))
    console.print(f"Spark Thrift server pid {server.pid} on {server.endpoint.address} (log {server.log})")
    for name, value in server.endpoint.environment().items():
        out.print(f"export {name}={value}", highlight=False)


@spark.command("stop")
def spark_stop() -> None:
    """Stop the server `shegong spark start` started, by its pid."""
    from shegong.engines.spark import recorded_server, stop_local_server

    server = recorded_server(_spark_folder())
    if server is None:
        console.print(f"no local Spark Thrift server is running for {_spark_folder()}")
        return
    stop_local_server(server)
    console.print(f"stopped the Spark Thrift server pid {server.pid}")


@main.command()
def report() -> None:
    """Where the latest validation report is, and a one-screen summary for auditors."""
    from shegong.quality import format_summary, report_summary

    current = settings()
    database = current.published_db if current.published_db.exists() else current.build_db
    if not database.exists():
        fail(f"no warehouse at {current.published_db} or {current.build_db}: run `shegong run` first")
    out.print(format_summary(report_summary(database, current.warehouse_dir)), highlight=False)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "table"]), default="jsonl", show_default=True)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def extract(fmt: str, files: tuple[Path, ...]) -> None:
    """Extract headline figures from regional reports (.txt, .html, .md)."""
    from shegong.extraction import Fact, ReportReadError, extract_file
    from shegong.extraction.reading import is_sidecar

    rows = []
    failed = 0
    for path in files:
        if is_sidecar(path):
            continue  # read beside its report, not a report of its own
        try:
            result = extract_file(path)
        except (ReportReadError, OSError) as exc:
            console.print(f"[bold red]error:[/] {path}: {exc}", highlight=False)
            failed += 1
            continue
        rows.extend(f.to_dict() for f in result.facts)
    if fmt == "jsonl":
        for row in rows:
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
    else:
        columns = [field.name for field in dataclasses.fields(Fact)]
        table = Table(*columns)
        for row in rows:
            table.add_row(*(str(row[c]) for c in columns))
        out.print(table)
    if failed:
        sys.exit(1)


@main.command()
@click.option("--limit", default=30, show_default=True, type=int, help="how many facts to list")
@click.option("--doc", default=None, help="only the facts of this report (file name)")
@click.option(
    "--template",
    type=click.Path(path_type=Path),
    default=None,
    help="write a review file (.csv or .xlsx) for the listed facts, to fill in and land in reports/review/",
)
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
def review(limit: int, doc: str | None, template: Path | None, files: tuple[Path, ...]) -> None:
    """Report facts waiting for an analyst's review, least confident first: from the warehouse, or extracted
    from the report FILES given."""
    from shegong.ingest.reviews import queue_from_results, review_queue, write_review_template

    if files:
        from shegong.extraction import ReportReadError, extract_file

        results = []
        for path in files:
            try:
                results.append(extract_file(path))
            except (ReportReadError, OSError) as exc:
                fail(f"{path}: {exc}")
        queue = [q for q in queue_from_results(results, limit=10**9) if doc is None or q["document"] == doc][
            :limit
        ]
    else:
        import duckdb

        current = settings()
        database = current.published_db if current.published_db.exists() else current.build_db
        if not database.exists():
            fail(
                f"no warehouse at {current.published_db} or {current.build_db}: run `shegong run` or give report files"
            )
        con = duckdb.connect(str(database), read_only=True)
        try:
            queue = review_queue(con, limit, doc)
        except duckdb.CatalogException:
            fail(f"{database} has no marts.fct_reported_indicators: run `shegong run` first")
        finally:
            con.close()
    table = Table("confidence", "document", "fact_key", "metric", "value", "region", "year", "quote")
    for item in queue:
        table.add_row(
            f"{item['confidence']:.2f}" if item["confidence"] is not None else "",
            item["document"],
            item["fact_key"],
            item["metric"],
            f"{item['value']:g}",
            str(item["region"] or ""),
            str(item["year"] or ""),
            item["quote"],
        )
    out.print(table)
    if template is not None:
        written = write_review_template(template, queue)
        console.print(
            f"wrote {written} review rows to {template}: fill in action, reviewer, reason, reviewed_at"
        )


@main.command()
@click.option(
    "--scale", default="small", show_default=True, help="small | medium | large | a number of workers"
)
@click.option("--no-incremental", is_flag=True, help="skip the incremental run (and the next month's data)")
@click.option(
    "--engine",
    type=click.Choice(["duckdb", "spark"]),
    default=None,
    help="build engine of the measured runs (default: SHEGONG_ENGINE, else duckdb)",
)
def bench(scale: str, no_incremental: bool, engine: str | None) -> None:
    """Time a full build stage by stage against a plain-DuckDB baseline and the read floor, a no-op run, an
    incremental run and extraction, and print the issue's targets with PASS/MISS."""
    import os

    if engine is not None:  # the measured builds run in child processes that inherit the environment
        os.environ["SHEGONG_ENGINE"] = engine
    _require_tools("bench")
    from shegong_tools.bench.report import (
        LEGEND,
        extraction_table,
        mart_differences,
        read_floor,
        stage_table,
        unequal_marts,
        verdict_table,
        verdicts,
    )
    from shegong_tools.bench.runner import BenchError, run_bench
    from shegong_tools.generate.scales import resolve

    try:  # before anything is generated or started: a bad scale is one line, not a traceback mid-run
        resolve(scale)
    except ValueError as exc:
        fail(f"bench: {exc}")
    bench_root = settings().warehouse_dir / "bench"
    with _progress() as bars:
        tasks: dict[str, int] = {}

        def on_progress(phase: str, event: str, detail: str) -> None:
            if phase not in tasks:
                tasks[phase] = bars.add_task(phase, total=None)
            task = tasks[phase]
            if event in ("STEP_START", "STAGE", "generate"):
                bars.update(task, description=f"{phase}: {detail}"[:70])
            elif event in ("DONE", "reuse", "generated"):
                done = bars.tasks[task].completed
                bars.update(task, total=done or 1, completed=done or 1, description=f"{phase}: done")
            else:
                bars.advance(task)

        try:
            result = run_bench(scale, bench_root, on_progress, incremental=not no_incremental)
        except BenchError as exc:
            fail(f"bench: {exc}")
    load = os.getloadavg()
    out.print(
        f"[bold]shegong bench --scale {scale}[/] — {result.machine['cpus']} CPUs, "
        f"{result.machine['memory_gib']} GiB; load average at start {result.loadavg[0]:.2f}, "
        f"full build {result.full['loadavg_start'][0]:.2f}→{result.full['loadavg_end'][0]:.2f}, now {load[0]:.2f} "
        "(another process's load slows every figure)",
        highlight=False,
    )
    out.print(
        f"landing: {result.landing_files:,} files, {result.landing_bytes / 2**20:,.1f} MiB "
        f"({'generated in ' + format(result.generation_seconds, '.0f') + ' s' if result.generation_seconds else 'reused'})",
        highlight=False,
    )
    out.print(
        stage_table(f"Full build ({result.full['months'][0]} … {result.full['months'][1]})", result.full)
    )
    out.print(
        stage_table(
            "No-op run: the pipeline again, nothing new landed (what it does today)",
            result.noop,
        )
    )
    out.print(
        stage_table(
            "Baseline: plain DuckDB, no orchestration or validation "
            f"(dbt models compiled beforehand in {result.baseline.get('compile_seconds', 0.0):.0f} s, not timed)",
            result.baseline,
        )
    )
    floor = read_floor(result.baseline)
    out.print(
        f"read floor (decode + parse + load every landing file into DuckDB, no checks): [bold]"
        f"{floor.get('seconds', 0.0):.1f} s[/] — {int(floor.get('files', 0)):,} files, "
        f"{int(floor.get('rows', 0)):,} rows, {floor.get('bytes', 0) / 2**20:,.1f} MiB",
        highlight=False,
    )
    wall = result.full["wall"]
    out.print(
        f"full build / baseline: [bold]{wall / result.baseline['wall']:.1f}×[/] ({wall:.1f} s / "
        f"{result.baseline['wall']:.1f} s); full build / read floor: [bold]"
        f"{wall / max(floor.get('seconds', 0.0), 1e-9):.1f}×[/] ({wall:.1f} s / {floor.get('seconds', 0.0):.1f} s)",
        highlight=False,
    )
    slowest = sorted(result.baseline.get("model_seconds", {}).items(), key=lambda kv: -kv[1])[:5]
    if slowest:
        out.print(
            "baseline's slowest models: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in slowest),
            highlight=False,
        )
    differences = mart_differences(result.full.get("mart_rows", {}), result.baseline.get("mart_rows", {}))
    marts = len({*result.full.get("mart_rows", {}), *result.baseline.get("mart_rows", {})})
    out.print(
        f"mart row counts, full build vs baseline: {marts - len(differences)} of {marts} equal"
        + (
            "; differ (the baseline quarantines nothing): "
            + ", ".join(f"{name} {built} vs {base}" for name, built, base in differences)
            if differences
            else ""
        ),
        highlight=False,
    )
    check = result.baseline.get("models_on_build_raw")
    if check is not None:
        unequal = unequal_marts(check)
        out.print(
            f"the baseline's models on the full build's own raw layer: {len(check) - len(unequal)} of {len(check)} "
            "marts identical to dbt's (EXCEPT ALL both ways)"
            + (": differ " + ", ".join(unequal) if unequal else ""),
            highlight=False,
        )
    if result.incremental:
        out.print(
            stage_table(
                f"Incremental run: {result.new_month} of {len(result.new_files)} {'workers'} file(s) "
                f"+ report {result.new_report}",
                result.incremental,
            )
        )
    out.print(extraction_table(result.extraction))
    out.print(f"[dim]{LEGEND}[/]", highlight=False)
    out.print(verdict_table(verdicts(scale, result.full, result.baseline, result.incremental, result.noop)))
    for name, measured in (
        ("full build", result.full),
        ("no-op run", result.noop),
        ("incremental run", result.incremental),
    ):
        for failure in (measured or {}).get("failures", [])[:5]:
            console.print(f"[bold red]{name} did not publish:[/] {failure}", highlight=False, soft_wrap=True)
    if not result.full.get("success") or (result.incremental and not result.incremental.get("success")):
        fail(
            "bench: a measured run did not publish; see the run logs under " + str(bench_root / scale / "run")
        )
    out.print(
        f"figures saved under {bench_root / scale} (results-*.json); run logs in {bench_root / scale / 'run'}"
    )
