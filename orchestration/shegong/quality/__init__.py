"""Great Expectations validation of the warehouse (no Dagster here; the asset checks are shegong.defs.quality).

run_suite(build_db, suite, run_id=...)        validate one suite (pandas engine, Arrow frames, chunked)
record_outcome(con, run_id, outcome)          its rows into audit.audit_validation_results
save_suite_result(warehouse_dir, run_id, o)   its GX result into the run's folder (the run's index rewritten)
build_run_report(run_id, warehouse_dir)       the run's Data Docs, rendered once: <warehouse>/validation/<run_id>/
report_summary(db, warehouse_dir)             the one-screen summary of the latest run
personal_data.scan_personal_data(con)         the SQL scan of every text column for ID and mobile numbers
"""

from shegong.quality.checks import CheckSpec, check_specs, manifest_asset_keys
from shegong.quality.report import build_run_report, format_summary, report_summary, save_suite_result
from shegong.quality.runner import SuiteOutcome, record_outcome, run_suite

__all__ = [
    "CheckSpec",
    "SuiteOutcome",
    "build_run_report",
    "check_specs",
    "format_summary",
    "manifest_asset_keys",
    "record_outcome",
    "report_summary",
    "run_suite",
    "save_suite_result",
]
