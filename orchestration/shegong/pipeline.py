"""`shegong run`: ingest what landed since the last published run, build what depends on it, validate and
publish, in-process runs. Dagster (and the definitions) are imported only once a run has something to do: a run
with nothing new answers without paying for them."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb

from shegong.changes import Changes, detect_changes
from shegong.config import (
    DBT_PROJECT_DIR,
    PROJECT_DIR,
    REGISTRIES,
    Settings,
    checked_pii_key,
    environment_set,
    export_build_db_env,
    settings,
)
from shegong.findings import file_findings
from shegong.ingest.batch import month_of
from shegong.ingest.landing import landing_files
from shegong.ingest.reports import report_files
from shegong.runlock import run_lock

if TYPE_CHECKING:
    import dagster as dg

# (event, step key / asset key / check name) → the CLI's progress display
ProgressCallback = Callable[[str, str], None]


# The manifest Dagster loads the dbt assets from: prepared after the last publication, the models changed.
DBT_MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"

# Only the progress logger: Dagster's console logger would bury the progress bar (events still reach storage).
QUIET = {"loggers": {"progress": {}}}


class NothingToBuild(RuntimeError):
    pass


# A report run covers every document partition (thousands at scale), and Dagster writes one "planned" event per
# partition when it creates the run: ~20 ms each in SQLite storage, 44 s for 2,000 documents. Dagster's own
# switch makes it one event per asset. Its trade-off: a failed run does not mark each of its partitions failed;
# the run's failure and the per-document table in the asset's metadata still say which document failed (and an
# unreadable document does not fail the run: it is recorded as rejected).
ONE_PLANNED_EVENT_PER_ASSET = {"DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true"}
# Dagster hands the event storage a step's partition materializations (2,000 for a full report run) and a run's
# planned events as batches, which the project's SQLite storage writes in one transaction (PostgreSQL's does
# too): 3.6 s instead of 16 s for 2,000 documents (shegong.dagster_internals.ShegongSqliteEventLog).
EVENT_BATCHES = {"DAGSTER_EVENT_BATCH_SIZE": "1000"}


@dataclass
class RunSummary:
    run_ids: list[str] = field(default_factory=list)
    success: bool = False
    months: tuple[str, str] | None = None
    documents: int = 0
    failures: list[str] = field(default_factory=list)  # one line per failed step
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)
    # "<asset>:<check>" → the check's description from its definition (dbt tests have none)
    check_descriptions: dict[str, str] = field(default_factory=dict)
    blocked_by: list[str] = field(default_factory=list)  # blocking expectations that failed
    # Files this run rejected or recorded as duplicates, and files behind file-level warnings, one line each.
    file_findings: list[str] = field(default_factory=list)
    development_key: bool = False  # personal data hashed with the public development key
    # "nothing new since run … (published …)" when the run found nothing to do and did nothing
    nothing_new: str | None = None
    changes: str | None = None  # what the run built from, one line (None when given months / documents)


def landing_months(current: Settings, first: dt.date | None = None) -> list[dt.date]:
    """The reporting months the registry files are named for, within the monthly partitions (from `first` to
    this month): a file named for a month outside them is rejected by ingestion, and holds back nothing."""
    this_month = dt.date.today().replace(day=1)
    months = {
        month
        for registry in REGISTRIES
        for path in landing_files(current.landing(registry))
        if (month := month_of(path)) is not None and month <= this_month and (first is None or month >= first)
    }
    return sorted(months)


def _progress_logger(callback: ProgressCallback | None) -> dg.LoggerDefinition:
    """A Dagster logger that turns step events into progress callbacks instead of console noise."""
    import dagster as dg

    class StepEvents(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            meta = getattr(record, "dagster_meta", None) or {}
            event = meta.get("dagster_event")
            if callback is None or event is None:
                return
            kind = event.event_type_value
            if kind in ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"):
                callback(kind, event.step_key or "")
            elif kind == "ASSET_MATERIALIZATION":  # each dbt model as dbt finishes it, among others
                callback(kind, event.asset_key.to_user_string() if event.asset_key else "")
            elif kind == "ASSET_CHECK_EVALUATION":  # each dbt test, registry check and suite
                callback(kind, event.event_specific_data.asset_check_key.name)

    @dg.logger
    def progress(_init_context) -> logging.Logger:
        log = logging.getLogger("shegong.progress")
        log.handlers = [StepEvents()]
        log.setLevel(logging.DEBUG)
        log.propagate = False
        return log

    return progress


def _instance() -> dg.DagsterInstance:
    import dagster as dg

    os.environ.setdefault("DAGSTER_HOME", str(PROJECT_DIR))
    return dg.DagsterInstance.get()


def _collect(result: dg.ExecuteInProcessResult, summary: RunSummary, defs: dg.Definitions) -> None:
    from shegong.defs.publish import check_description

    summary.run_ids.append(result.run_id)
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            error = event.step_failure_data.error
            while (
                error is not None
                and error.cause is not None
                and "DagsterExecutionStepExecutionError" in error.cls_name
            ):
                error = error.cause  # the user code's own error, not Dagster's wrapper
            message = error.message.strip().splitlines()[0] if error else "unknown error"
            summary.failures.append(f"step {event.step_key}: {message}")
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
            if evaluation.passed:
                summary.checks_passed += 1
            else:
                summary.checks_failed.append(f"{name} ({evaluation.severity.value.lower()})")
                description = check_description(defs, evaluation.asset_check_key)
                if description:
                    summary.check_descriptions[name] = description


def run_pipeline(
    progress: ProgressCallback | None = None,
    months: list[dt.date] | None = None,
    documents: list[str] | None = None,
    wait_seconds: float = 0.0,
    full_refresh: bool = False,
) -> RunSummary:
    """Build what changed since the last published run (shegong.changes): the registries' new or changed files
    of their months, new reports, new review files, and every model downstream of them; validate those models
    and publish. With nothing new, nothing runs (`summary.nothing_new` says since which run). Everything is
    built when nothing was published yet, when the dbt project changed, or with `full_refresh` (dbt's
    --full-refresh, every report re-extracted). Given `months` and/or `documents` (file names; [] for none):
    exactly those registry months and reports, and every model. One run at a time per warehouse: a second
    waits up to `wait_seconds`, then raises RunInProgress. On SHEGONG_ENGINE=spark, within the engine's session
    (a local Thrift server for the run's duration unless an endpoint is configured)."""
    from shegong.engines import engine
    from shegong.engines.session import engine_session

    current = settings()
    checked_pii_key(current.pii_key, current.production)  # production refuses the public key before anything
    with run_lock(current.warehouse_dir, wait_seconds):
        changes = None
        if not full_refresh and months is None and documents is None:
            changes = detect_changes(current, DBT_MANIFEST, engine())
            if changes.nothing:
                return RunSummary(success=True, nothing_new=changes.nothing_new_line())
        with engine_session(current.warehouse_dir):
            started = dt.datetime.now()
            summary = _run_pipeline(current, progress, months, documents, changes, full_refresh)
            summary.file_findings = _file_findings(current, started)
            summary.development_key = current.uses_development_key
            return summary


def _first_partition() -> dt.date:
    from shegong.defs.partitions import FIRST_MONTH

    return dt.date.fromisoformat(FIRST_MONTH)


def _file_findings(current: Settings, since: dt.datetime) -> list[str]:
    if not current.build_db.exists():
        return []
    try:
        con = duckdb.connect(str(current.build_db), read_only=True)
    except duckdb.IOException:
        # A step's subprocess (dbt) still holds the file after the step failed: the step's own error says why.
        return []
    try:
        return [finding.line() for finding in file_findings(con, since)]
    finally:
        con.close()


@dataclass(frozen=True)
class RunPlan:
    """What the two jobs of a run do: report partitions to extract, the build's month range and assets."""

    documents: list[str]
    months: list[dt.date]  # the build's partition range: from the first to the last of these
    assets: list[dg.AssetKey] | None  # None: every asset of the build job
    full_refresh: bool = False


def _plan(
    defs: dg.Definitions,
    current: Settings,
    months: list[dt.date] | None,
    documents: list[str] | None,
    changes: Changes | None,
    full_refresh: bool,
) -> RunPlan:
    import dagster as dg

    from shegong.defs.jobs import REPORTS_KEY, build_assets_downstream_of

    first_partition = _first_partition()
    landed_months = landing_months(current, first_partition)
    if not landed_months:
        early = landing_months(current)
        if early:
            raise NothingToBuild(
                f"landing holds files only for {early[0]:%Y-%m}…{early[-1]:%Y-%m}, before the first partition "
                f"{first_partition:%Y-%m}: set SHEGONG_FIRST_MONTH to an earlier month"
            )
        raise NothingToBuild(
            f"no registry files with a reporting month in {current.landing_dir}: run `shegong generate` "
            "or land files named like 320585_2024-03_持证社工名册.csv"
        )
    landed_docs = [p.name for p in report_files(current.landing("reports"))]
    if changes is None or changes.everything:  # explicit months / documents, or everything
        docs = landed_docs if documents is None else [d for d in landed_docs if d in set(documents)]
        # Changed models may no longer fit the tables they built: a changed dbt project rebuilds from scratch.
        refresh = full_refresh or (changes is not None and changes.rebuild_from_scratch)
        return RunPlan(docs, sorted(months) if months else landed_months, None, refresh)
    # Incremental: the changed months up to the newest month (a month's workers can change the versions in
    # force in every later month); a change with no month within the partitions (reference files, misnamed
    # files, which ingestion rejects) rebuilds the newest month.
    this_month = dt.date.today().replace(day=1)
    changed = [m for m in changes.months if first_partition <= m <= this_month]
    newest = max([landed_months[-1], *changed])
    window = [changed[0] if changed else newest, newest]
    sources = [dg.AssetKey(["raw", registry]) for registry in changes.registry_months]
    if changes.documents:
        sources.append(REPORTS_KEY)
    if changes.reviews:
        sources.append(dg.AssetKey(["raw", "report_reviews"]))
    docs = [d for d in landed_docs if d in changes.documents]
    return RunPlan(docs, window, build_assets_downstream_of(defs, sources))


def _run_pipeline(
    current: Settings,
    progress: ProgressCallback | None,
    months: list[dt.date] | None,
    documents: list[str] | None,
    changes: Changes | None,
    full_refresh: bool,
) -> RunSummary:
    export_build_db_env(current)
    from shegong.dagster_internals import partition_range_tags
    from shegong.definitions import defs as load_definitions
    from shegong.defs.dbt import full_refresh_run_config
    from shegong.defs.jobs import in_process_run_tags, release_abandoned_runs
    from shegong.defs.partitions import report_partitions

    defs = load_definitions()
    plan = _plan(defs, current, months, documents, changes, full_refresh)
    summary = RunSummary(changes=changes.describe() if changes is not None else None)
    instance = _instance()
    release_abandoned_runs(instance)  # a killed earlier run must not hold the warehouse_writer pool
    loggers = {"progress": _progress_logger(progress)}

    if plan.documents:
        docs = set(plan.documents)
        known = set(instance.get_dynamic_partitions(report_partitions.name))
        instance.add_dynamic_partitions(report_partitions.name, [d for d in plan.documents if d not in known])
        # The run's range: from the first to the last of its documents (in the partitions' order).
        keys = [k for k in instance.get_dynamic_partitions(report_partitions.name) if k in docs]
        job = defs.resolve_job_def("report_extraction").with_logger_defs(loggers)
        with environment_set(EVENT_BATCHES | ONE_PLANNED_EVENT_PER_ASSET):
            result = job.execute_in_process(
                instance=instance,
                run_config=QUIET,
                raise_on_error=False,
                tags={**partition_range_tags(keys[0], keys[-1]), **in_process_run_tags()},
            )
        _collect(result, summary, defs)
        summary.documents = len(plan.documents)
        if not result.success:
            return summary

    first, last = plan.months[0].isoformat(), plan.months[-1].isoformat()
    summary.months = (first[:7], last[:7])
    job = defs.resolve_job_def("warehouse_build").with_logger_defs(loggers)
    run_config = QUIET | (full_refresh_run_config() if plan.full_refresh else {})
    with environment_set(EVENT_BATCHES):
        result = job.execute_in_process(
            instance=instance,
            run_config=run_config,
            raise_on_error=False,
            asset_selection=plan.assets,
            tags={**partition_range_tags(first, last), **in_process_run_tags()},
        )
    _collect(result, summary, defs)
    summary.success = result.success
    if not result.success:
        summary.blocked_by = _blocking_expectations(current, result.run_id)
        _report_unpublished_run(current, result, summary)
    return summary


def _report_unpublished_run(
    current: Settings, result: dg.ExecuteInProcessResult, summary: RunSummary
) -> None:
    """A run stopped before its publish step still gets its complete auditor report: every check evaluated,
    and what stopped it."""
    from shegong.defs.publish import check_rows
    from shegong.quality import build_run_report

    evaluations = [
        e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    reason = "; ".join(summary.blocked_by or summary.failures) or "the run failed before publishing"
    build_run_report(
        result.run_id,
        current.warehouse_dir,
        check_rows(evaluations),
        current.build_db if current.build_db.exists() else None,
        outcome={"blocked": reason},
    )


def _blocking_expectations(current: Settings, run_id: str) -> list[str]:
    """What stopped publishing, by expectation, for the one-line errors the CLI prints."""
    from shegong.publish import blocking_failures

    if not current.build_db.exists():
        return []
    con = duckdb.connect(str(current.build_db), read_only=True)
    try:
        return [
            f"{suite}: {expectation}" + (f" on {column}" if column else "")
            for suite, expectation, column in blocking_failures(con, run_id)
        ]
    finally:
        con.close()
