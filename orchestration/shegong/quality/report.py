"""Auditor reports: GX Data Docs per run under <warehouse>/validation/<run_id>/, a `latest` pointer, and the
one-screen summary behind `shegong report`.

Each validated suite's aggregated result is stored (GX's JSON) under <run>/results/; the run's site is rebuilt
from those results after every suite, so the report is complete up to the last check even when a blocking
failure stops the run before publishing.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb

from shegong.quality.context import load_suites, quiet_gx
from shegong.quality.runner import SuiteOutcome

SITE = "run"
RESULTS = "results"


def run_dir(warehouse_dir: Path | str, run_id: str) -> Path:
    return Path(warehouse_dir) / "validation" / run_id


def _context(root: Path):
    """An ephemeral GX context whose validation results store and Data Docs site are the run's folder."""
    quiet_gx()
    import great_expectations as gx
    from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars={"globally": False, "metric_calculations": False},
        data_docs_sites={
            SITE: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(root)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
    )
    config.stores["validation_results_store"] = {
        "class_name": "ValidationResultsStore",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(root / RESULTS)},
    }
    return gx.get_context(project_config=config, mode="ephemeral")


def _result_key(suite: str, run_id: str, run_time: dt.datetime, data_asset: str):
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    return ValidationResultIdentifier(
        ExpectationSuiteIdentifier(suite), RunIdentifier(run_name=run_id, run_time=run_time), data_asset
    )


def save_suite_result(warehouse_dir: Path | str, run_id: str, outcome: SuiteOutcome) -> Path:
    """Store the suite's aggregated result in the run's folder (replacing an earlier one of the same suite in
    this run) and rebuild the run's Data Docs. Returns the run's index.html."""
    root = run_dir(warehouse_dir, run_id)
    suite_results = root / RESULTS / Path(*outcome.suite.split("."))
    if suite_results.exists():
        shutil.rmtree(suite_results)
    context = _context(root)
    run_time = outcome.validated_at.astimezone(dt.UTC)
    result = outcome.result
    result.meta["run_id"] = {"run_name": run_id, "run_time": run_time.isoformat()}
    key = _result_key(outcome.suite, run_id, run_time, outcome.dataset.data_asset)
    context.validation_results_store.set(key, result)
    return build_run_report(run_id, warehouse_dir, context=context, only=[key])


def build_run_report(run_id: str, warehouse_dir: Path | str, context=None, only: list | None = None) -> Path:
    """(Re)build the Data Docs of a run from its stored suite results (all pages, or the pages of `only` and
    the index); point `latest` at it. Returns the run's index.html (a page listing nothing when no suite was
    validated in the run)."""
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    root = run_dir(warehouse_dir, run_id)
    root.mkdir(parents=True, exist_ok=True)
    context = context or _context(root)
    suites = load_suites()
    validated = {
        key.expectation_suite_identifier.name for key in context.validation_results_store.list_keys()
    }
    for name in sorted(validated):
        if name in suites:
            suite = copy.deepcopy(suites[name])
            for expectation in suite.expectations:
                meta = expectation.meta or {}
                expectation.description = (
                    f"{meta.get('severity', 'warning').capitalize()}: {meta.get('meaning', '')}"
                )
            context.suites.add_or_update(suite)
    resources = None
    if only:
        resources = [*only, *(ExpectationSuiteIdentifier(k.expectation_suite_identifier.name) for k in only)]
    context.build_data_docs(site_names=[SITE], resource_identifiers=resources)
    index = root / "index.html"
    _point_latest(Path(warehouse_dir) / "validation", run_id)
    return index


def _point_latest(validation_dir: Path, run_id: str) -> None:
    latest = validation_dir / "latest"
    latest.mkdir(parents=True, exist_ok=True)
    (latest / "index.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<meta http-equiv='refresh' content='0; url=../{run_id}/index.html'>"
        f"<title>shegong validation: latest run {run_id}</title></head>"
        f"<body><a href='../{run_id}/index.html'>Validation report of run {run_id}</a></body></html>\n",
        encoding="utf-8",
    )
    (latest / "RUN_ID").write_text(run_id + "\n", encoding="utf-8")


def report_summary(db: Path | str, warehouse_dir: Path | str, run_id: str | None = None) -> dict:
    """The latest validation run (or the one given) of a build or published warehouse, on one screen:
    suites, expectations passed/failed by severity, top failing expectations with their meaning, quarantined
    rows by registry and reason code, and the report's path."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = {
            r[0]
            for r in con.execute(
                "select table_schema || '.' || table_name from information_schema.tables"
            ).fetchall()
        }
        summary: dict = {"run_id": None, "report_path": None}
        if "audit.audit_validation_results" in tables:
            if run_id is None:
                latest = con.execute(
                    """select run_id from audit.audit_validation_results
                       group by run_id order by max(validated_at) desc limit 1"""
                ).fetchall()
                run_id = latest[0][0] if latest else None
            if run_id is not None:
                summary.update(_run_summary(con, run_id))
                index = run_dir(warehouse_dir, run_id) / "index.html"
                summary["report_path"] = str(index) if index.exists() else None
        summary["quarantine"] = _quarantine(con) if "audit.quarantined_rows" in tables else {}
    finally:
        con.close()
    return summary


def _run_summary(con: duckdb.DuckDBPyConnection, run_id: str) -> dict:
    validated_at, suites = con.execute(
        "select max(validated_at), count(distinct suite) from audit.audit_validation_results where run_id = ?",
        [run_id],
    ).fetchall()[0]
    by_severity = {
        severity: {"passed": passed, "failed": failed}
        for severity, passed, failed in con.execute(
            """select severity, count(*) filter (where success), count(*) filter (where not success)
               from audit.audit_validation_results where run_id = ? group by 1 order by 1""",
            [run_id],
        ).fetchall()
    }
    failing = [
        {
            "suite": suite,
            "expectation": expectation,
            "column": column,
            "severity": severity,
            "unexpected_count": unexpected,
            "observed_value": observed,
            "meaning": meaning,
        }
        for suite, expectation, column, severity, unexpected, observed, meaning in con.execute(
            """select suite, expectation, column_name, severity, unexpected_count, observed_value, meaning
               from audit.audit_validation_results where run_id = ? and not success
               order by severity = 'blocking' desc, unexpected_count desc nulls last, suite, expectation
               limit 10""",
            [run_id],
        ).fetchall()
    ]
    return {
        "run_id": run_id,
        "validated_at": validated_at.isoformat(timespec="seconds") if validated_at else None,
        "suites": suites,
        "expectations": by_severity,
        "blocking_failed": by_severity.get("blocking", {}).get("failed", 0),
        "top_failures": failing,
    }


def _quarantine(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    """Quarantined rows of current files, by registry and reason code (a row with two reasons counts twice)."""
    rows = con.execute(
        """with reasons as (
               select q.registry, unnest(q.reason_codes) as reason
               from audit.quarantined_rows as q
               join audit.ingested_files as f on f.registry = q.registry and f.source_sha256 = q.source_sha256
               where f.status = 'current'
           )
           select registry, reason, count(*) from reasons group by all order by 1, 3 desc, 2"""
    ).fetchall()
    out: dict[str, dict[str, int]] = {}
    for registry, reason, n in rows:
        out.setdefault(registry, {})[reason] = n
    return out


def format_summary(summary: dict) -> str:
    """Plain text for the terminal."""
    if not summary.get("run_id"):
        lines = ["validation: no run recorded yet"]
    else:
        lines = [
            f"validation run {summary['run_id']} at {summary['validated_at']}: {summary['suites']} suites"
        ]
        for severity, counts in sorted(summary["expectations"].items()):
            lines.append(f"  {severity:9s} {counts['passed']:5d} passed  {counts['failed']:5d} failed")
        if summary["top_failures"]:
            lines.append("top failing expectations:")
            for f in summary["top_failures"]:
                where = f" on {f['column']}" if f["column"] else ""
                count = f" ({f['unexpected_count']} rows)" if f["unexpected_count"] else ""
                lines.append(f"  [{f['severity']}] {f['suite']}: {f['expectation']}{where}{count}")
                lines.append(f"      {f['meaning']}")
        lines.append(f"report: {summary.get('report_path') or 'not built'}")
    if summary.get("quarantine"):
        lines.append("quarantined rows (current files) by registry and reason:")
        for registry, reasons in summary["quarantine"].items():
            lines.append(f"  {registry}: " + ", ".join(f"{r} {n}" for r, n in reasons.items()))
    return "\n".join(lines)


def summary_json(summary: dict) -> str:
    return json.dumps(summary, ensure_ascii=False, indent=2, default=str)
