"""Great Expectations suites as Dagster asset checks (one check per suite on the asset it validates, the suites
of one stage's assets run in one step), and the personal-data scan of the whole build (one blocking check, in
SQL).

A suite's check pulls its frame(s) from the build file (via Arrow, on the step's one connection), validates
with GX's pandas engine (column group by column group, and chunked per partition, for big tables), appends its
rows to audit.audit_validation_results with the run id, stores the result in the run's report
(<warehouse>/validation/<run_id>/index.html; GX's pages are rendered once, by the publish step) and reports:
severity ERROR when a blocking expectation failed (the check is blocking: downstream assets and publishing
stop), WARN when only warnings failed.

The personal-data scan is an asset of its own, audit/personal_data_scan, between every asset the publish step
depends on and the publish step: it scans every text column of every table of the build file (all of it is
published) for resident ID numbers and mobile numbers in clear once every table of the run is written, and so is
part of every run that publishes, whatever changed (a run over one new report too). Its blocking check
no_personal_numbers_in_clear fails with severity ERROR on a finding, which stops publishing; a finding names
table, column and count, never a value.
"""

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb

from shegong.defs.dbt import dbt_asset_defs
from shegong.defs.partitions import months_from
from shegong.defs.publish import published_warehouse
from shegong.defs.resources import WarehouseResource
from shegong.quality.checks import CheckSpec, check_specs
from shegong.quality.personal_data import CHECK_NAME, SCAN_ASSET, record_scan, scan_personal_data
from shegong.quality.report import save_suite_result
from shegong.quality.runner import record_outcome, run_suite


def _failures_md(outcome) -> str:
    lines = []
    for e in sorted(outcome.failed, key=lambda e: (e.severity != "blocking", e.expectation)):
        where = f" on `{e.column}`" if e.column else ""
        lines.append(
            f"- **{e.severity}** `{e.expectation}`{where}: observed {e.observed_value} — {e.meaning}"
        )
    return "\n".join(lines) or "none"


def months_of_run(context: dg.AssetCheckExecutionContext) -> frozenset[dt.date] | None:
    """The reporting months a run covers (its monthly partition or partition range), or None for a run that is
    not over months (an unpartitioned run, a report's document partition)."""
    step = context.op_execution_context
    if not (step.has_partition_key or step.has_partition_key_range):
        return None
    keys = step.partition_key_range
    try:
        first, last = dt.date.fromisoformat(keys.start), dt.date.fromisoformat(keys.end)
    except ValueError:
        return None
    return months_from(first, last + dt.timedelta(days=1))


def evaluate_suite(
    context: dg.AssetCheckExecutionContext,
    con: duckdb.DuckDBPyConnection,
    warehouse: WarehouseResource,
    spec: CheckSpec,
) -> dg.AssetCheckResult:
    """Validate one suite on `con`, record its rows and its result for the run's report, and say how it went.
    A suite with a partition column validates only the months of the run: the other months were validated when
    they were built, and a run over one new month should not re-read years of rows."""
    run_id = context.run.run_id
    outcome = run_suite(warehouse.build_db, spec.suite, run_id=run_id, con=con, months=months_of_run(context))
    record_outcome(con, run_id, outcome)
    report = save_suite_result(Path(warehouse.warehouse_dir), run_id, outcome)
    blocking = outcome.blocking_failed
    for e in outcome.failed:
        log = context.log.error if e.severity == "blocking" else context.log.warning
        log(f"{spec.suite}: {e.expectation}{' on ' + e.column if e.column else ''} failed: {e.meaning}")
    return dg.AssetCheckResult(
        asset_key=dg.AssetKey(list(spec.asset_key)),
        check_name=spec.name,
        passed=outcome.success,
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        metadata={
            "suite": spec.suite,
            "expectations_evaluated": len(outcome.expectations),
            "expectations_failed": len(outcome.failed),
            "blocking_failed": len(blocking),
            "rows_validated": outcome.rows,
            "partitions_validated": "all" if outcome.scope is None else len(outcome.scope),
            "chunks": outcome.chunks,
            "seconds": round(outcome.seconds, 2),
            "failing_expectations": dg.MetadataValue.md(_failures_md(outcome)),
            "data_docs": dg.MetadataValue.path(str(report)),
        },
    )


def build_quality_checks(name: str, specs: list[CheckSpec]) -> dg.AssetChecksDefinition:
    """The suites of one stage's assets as one step (a step costs Dagster ~0.5 s, more than most suites): each
    suite is its own check, with its own result and blocking flag; a run selecting some of the assets runs
    only their suites."""

    @dg.multi_asset_check(
        name=name,
        specs=[
            dg.AssetCheckSpec(
                name=spec.name,
                asset=dg.AssetKey(list(spec.asset_key)),
                description=spec.description,
                blocking=spec.blocking,
            )
            for spec in specs
        ],
        can_subset=True,
    )
    def gx_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        selected = context.selected_asset_check_keys
        # One connection for the step's suites: opening the build file costs 20-40 ms, and closing a writing
        # connection checkpoints it; a step opened two per suite (a read-only one to validate, a writing one to
        # record), 50-odd suites a build.
        with warehouse.connect() as con:
            for spec in specs:
                if dg.AssetCheckKey(dg.AssetKey(list(spec.asset_key)), spec.name) in selected:
                    yield evaluate_suite(context, con, warehouse, spec)

    return gx_checks


def stage_of(asset_key: tuple[str, ...]) -> str:
    """The step whose assets a suite validates: a check step holding suites of two steps' assets would wait
    for both (and a blocking check on dim_worker holds back the incremental marts built on it)."""
    key = dg.AssetKey(list(asset_key))
    for assets in dbt_asset_defs:
        if key in assets.keys:
            return f"gx_{assets.node_def.name}"
    return "gx_reports" if asset_key == ("raw", "reports") else "gx_raw"


def grouped_quality_checks(specs: list[CheckSpec]) -> list[dg.AssetChecksDefinition]:
    stages: dict[str, list[CheckSpec]] = {}
    for spec in specs:
        stages.setdefault(stage_of(spec.asset_key), []).append(spec)
    return [build_quality_checks(name, stage_specs) for name, stage_specs in sorted(stages.items())]


def build_personal_data_scan(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    """The scan asset, after `upstream` (what the publish step depends on), with its blocking check."""
    key = dg.AssetKey(list(SCAN_ASSET))

    @dg.asset(
        key=key,
        group_name="quality",
        kinds={"duckdb"},
        deps=[k for k in upstream if k != key],
        description=(
            "The personal-data scan of the whole build: every text column of every table (every schema is "
            "published) scanned in SQL for resident ID numbers and mobile numbers in clear, once every table of "
            "the run is written (a table, or a month of a table, found clean before and unchanged since is "
            "skipped); recorded in audit.audit_validation_results (suite personal_data)."
        ),
        check_specs=[
            dg.AssetCheckSpec(
                CHECK_NAME,
                asset=key,
                blocking=True,
                description=(
                    "No resident ID number and no mobile number in clear in any text column of any table of the "
                    "build (every schema is published): one SQL scan per table; a finding names table, column "
                    "and count."
                ),
            )
        ],
    )
    def personal_data_scan(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        with warehouse.connect(read_only=True) as con:
            scan = scan_personal_data(con)
        with warehouse.connect() as con:  # a short writing connection, after the read-only one closed
            record_scan(con, context.run.run_id, key.to_user_string(), scan)
        for finding in scan.findings:
            context.log.error(f"personal data in clear: {finding.line()}")
        counts = {
            "tables_scanned": scan.tables,
            "tables_unchanged_since_clean_scan": scan.unchanged,
            "text_columns_scanned": scan.columns,
            "values_scanned": scan.values,
            "columns_with_findings": len(scan.findings),
            "seconds": round(scan.seconds, 2),
        }
        return dg.MaterializeResult(
            metadata=counts,
            check_results=[
                dg.AssetCheckResult(
                    check_name=CHECK_NAME,
                    passed=scan.clean,
                    severity=dg.AssetCheckSeverity.ERROR,
                    metadata={
                        **counts,
                        "findings": dg.MetadataValue.md(
                            "\n".join(f"- {f.line()}" for f in scan.findings) or "none"
                        ),
                    },
                )
            ],
        )

    return personal_data_scan


personal_data_scan = build_personal_data_scan(
    sorted(published_warehouse.dependency_keys, key=lambda key: key.to_user_string())
)


quality_check_specs: list[CheckSpec] = check_specs()
quality_checks: list[dg.AssetChecksDefinition] = [
    *grouped_quality_checks(quality_check_specs),
]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[personal_data_scan], asset_checks=quality_checks)
