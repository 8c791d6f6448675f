"""Great Expectations suites as Dagster asset checks: one check per suite on the asset it validates.

A check pulls its frame(s) from the build file (read-only, via Arrow), validates with GX's pandas engine
(column group by column group, and chunked per partition, for big tables), appends its rows to
audit.audit_validation_results with the run id, stores the result in the run's report
(<warehouse>/validation/<run_id>/index.html; GX's pages are rendered once, by the publish step) and reports:
severity ERROR when a blocking expectation failed (the check is blocking: downstream assets and publishing
stop), WARN when only warnings failed.
"""

from pathlib import Path

import dagster as dg

from shegong.defs.resources import WarehouseResource
from shegong.quality.checks import CheckSpec, check_specs
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


def build_quality_check(spec: CheckSpec) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(list(spec.asset_key)),
        name=spec.name,
        description=spec.description,
        blocking=spec.blocking,
    )
    def gx_check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        run_id = context.run.run_id
        outcome = run_suite(Path(warehouse.build_db), spec.suite, run_id=run_id)
        with warehouse.connect() as con:  # a short writing connection, after the read-only one closed
            record_outcome(con, run_id, outcome)
        report = save_suite_result(Path(warehouse.warehouse_dir), run_id, outcome)
        blocking = outcome.blocking_failed
        for e in outcome.failed:
            log = context.log.error if e.severity == "blocking" else context.log.warning
            log(f"{spec.suite}: {e.expectation}{' on ' + e.column if e.column else ''} failed: {e.meaning}")
        return dg.AssetCheckResult(
            passed=outcome.success,
            severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
            metadata={
                "suite": spec.suite,
                "expectations_evaluated": len(outcome.expectations),
                "expectations_failed": len(outcome.failed),
                "blocking_failed": len(blocking),
                "rows_validated": outcome.rows,
                "chunks": outcome.chunks,
                "seconds": round(outcome.seconds, 2),
                "failing_expectations": dg.MetadataValue.md(_failures_md(outcome)),
                "data_docs": dg.MetadataValue.path(str(report)),
            },
        )

    return gx_check


quality_check_specs: list[CheckSpec] = check_specs()
quality_checks: list[dg.AssetChecksDefinition] = [build_quality_check(s) for s in quality_check_specs]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(asset_checks=quality_checks)
