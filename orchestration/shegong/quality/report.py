"""Auditor reports: GX Data Docs per run under <warehouse>/validation/<run_id>/, a `latest` pointer, and the
one-screen summary behind `shegong report`.

Each validated suite's aggregated result is stored (GX's JSON) under <run>/results/, and the run's own index
(index.html: verdict, failing expectations, every suite) is rewritten from the stored results, so it is complete
up to the last check even when a blocking failure stops the run before publishing. GX's Data Docs pages are
rendered once per run, by the publish step (`build_run_report`, ~1.5 s for every suite at the `large` scale where
rendering after each suite cost ~0.5 s a suite and grew with the run). A failing blocking check stops the run
before that step, so a suite whose blocking expectations failed has its page rendered at once.
"""

from __future__ import annotations

import copy
import datetime as dt
import html
import json
import shutil
from pathlib import Path

import duckdb

from shegong.findings import file_findings
from shegong.quality.context import load_suites, quiet_gx
from shegong.quality.runner import SuiteOutcome, column_of

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
    this run) and rewrite the run's index. GX's page of the suite is rendered now only when its blocking
    expectations failed (the publish step that renders the others will not run). Returns the run's index.html."""
    root = run_dir(warehouse_dir, run_id)
    # <suite path>/<run id>/: a suite's folder also holds the folders of suites named below it
    # (marts.fct_certifications.reconciliation), which must stay.
    suite_results = root / RESULTS / Path(*outcome.suite.split(".")) / run_id
    if suite_results.exists():
        shutil.rmtree(suite_results)
    context = _context(root)
    run_time = outcome.validated_at.astimezone(dt.UTC)
    result = outcome.result
    result.meta["run_id"] = {"run_name": run_id, "run_time": run_time.isoformat()}
    key = _result_key(outcome.suite, run_id, run_time, outcome.dataset.data_asset)
    context.validation_results_store.set(key, result)
    if outcome.blocking_failed:
        _render(root, context, only=[key])
    return _write_index(warehouse_dir, run_id)


def build_run_report(run_id: str, warehouse_dir: Path | str) -> Path:
    """Render the Data Docs of a run from its stored suite results, write its index and point `latest` at it.
    Returns the run's index.html (a page listing nothing when no suite was validated in the run)."""
    root = run_dir(warehouse_dir, run_id)
    root.mkdir(parents=True, exist_ok=True)
    _render(root, _context(root))
    return _write_index(warehouse_dir, run_id)


def _render(root: Path, context, only: list | None = None) -> None:
    """GX's pages of the run's stored results (all, or those of `only`) and GX's index of them."""
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    keys = only or context.validation_results_store.list_keys()
    suites = load_suites()
    for name in sorted({key.expectation_suite_identifier.name for key in keys}):
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
    # GX's own index builds its table with scripts from public CDNs: on a closed network (where many
    # auditors work) it renders empty. The run's index is a self-contained page; GX's stays beside it.
    shutil.move(root / "index.html", root / GX_INDEX)


def _write_index(warehouse_dir: Path | str, run_id: str) -> Path:
    root = run_dir(warehouse_dir, run_id)
    index = root / "index.html"
    index.write_text(auditor_index_html(run_id, _suite_sections(root)), encoding="utf-8")
    _point_latest(Path(warehouse_dir) / "validation", run_id)
    return index


GX_INDEX = "gx_index.html"


def _suite_sections(root: Path) -> list[dict]:
    """Every validated suite of the run with its expectations' outcomes, read from the stored GX results (plain
    JSON: cheap enough to redo after every suite)."""
    sections = []
    for path in sorted((root / RESULTS).rglob("*.json")):
        result = json.loads(path.read_text(encoding="utf-8"))
        suite = result["suite_name"]
        pages = sorted(root.glob("validations/" + "/".join(suite.split(".")) + "/*/*/*.html"))
        expectations = []
        for outcome in result["results"]:
            config = outcome["expectation_config"]
            meta = config.get("meta") or {}
            details = outcome.get("result") or {}
            expectations.append(
                {
                    "type": config["type"],
                    "column": column_of(config.get("kwargs") or {}) or "",
                    "severity": meta.get("severity", "warning"),
                    "meaning": meta.get("meaning", ""),
                    "success": bool(outcome["success"]),
                    "observed": details.get("observed_value", ""),
                    "unexpected": details.get("unexpected_count"),
                }
            )
        sections.append(
            {
                "suite": suite,
                "page": pages[-1].relative_to(root).as_posix() if pages else None,
                "expectations": expectations,
            }
        )
    return sorted(sections, key=lambda s: s["suite"])


def auditor_index_html(run_id: str, sections: list[dict]) -> str:
    """The run's report as one static page: verdict, failing expectations with their meaning, every suite."""
    esc = html.escape
    failing = [(s, e) for s in sections for e in s["expectations"] if not e["success"]]
    blocking = [(s, e) for s, e in failing if e["severity"] == "blocking"]
    total = sum(len(s["expectations"]) for s in sections)
    verdict = (
        f"<p class='bad'>Not publishable: {len(blocking)} blocking expectation(s) failed.</p>"
        if blocking
        else "<p class='good'>Every blocking expectation passed: this run may be published.</p>"
    )
    rows = "".join(
        f"<tr class='{e['severity']}'><td>{esc(e['severity'])}</td><td>{esc(s['suite'])}</td>"
        f"<td>{esc(e['type'])}</td><td>{esc(e['column'])}</td><td>{esc(str(e['observed']))[:120]}</td>"
        f"<td>{'' if e['unexpected'] is None else e['unexpected']}</td><td>{esc(e['meaning'])}</td></tr>"
        for s, e in sorted(failing, key=lambda p: (p[1]["severity"] != "blocking", p[0]["suite"]))
    )
    suites = ""
    for s in sections:
        failed = [e for e in s["expectations"] if not e["success"]]
        status = (
            "blocked"
            if any(e["severity"] == "blocking" for e in failed)
            else ("warnings" if failed else "passed")
        )
        link = f"<a href='{esc(s['page'])}'>details</a>" if s["page"] else ""
        suites += (
            f"<tr class='{status}'><td>{esc(s['suite'])}</td><td>{status}</td><td>{len(s['expectations'])}</td>"
            f"<td>{len(failed)}</td><td>{link}</td></tr>"
        )
    failing_table = (
        "<table><tr><th>severity</th><th>suite</th><th>expectation</th><th>column</th><th>observed</th>"
        f"<th>unexpected rows</th><th>what it means</th></tr>{rows}</table>"
        if failing
        else "<p>None.</p>"
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>shegong validation report — run {esc(run_id)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 2em; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; font-size: 14px; }}
th {{ background: #f0f0f0; }}
.good {{ color: #176f2c; font-weight: bold; }} .bad {{ color: #a4161a; font-weight: bold; }}
tr.blocking td:first-child, tr.blocked td:nth-child(2) {{ color: #a4161a; font-weight: bold; }}
tr.warning td:first-child, tr.warnings td:nth-child(2) {{ color: #9c6500; }}
</style></head><body>
<h1>shegong validation report</h1>
<p>Run <code>{esc(run_id)}</code>: {len(sections)} suites, {total} expectations,
{len(blocking)} blocking and {len(failing) - len(blocking)} warning expectation(s) failed.</p>
{verdict}
<h2>Failing expectations</h2>
{failing_table}
<h2>Suites</h2>
<table><tr><th>suite</th><th>status</th><th>expectations</th><th>failed</th><th>Data Docs</th></tr>{suites}</table>
<p><a href="{GX_INDEX}">Great Expectations' own index</a> (interactive; its scripts load from the internet).</p>
</body></html>
"""


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
        summary["files"] = [finding.line() for finding in file_findings(con) if finding.kind != "duplicate"]
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
               join audit.ingested_files as f on f.registry = q.registry and f.source_file = q.source_file
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
    if summary.get("files"):
        lines.append("landing files set aside or flagged:")
        lines.extend(f"  {line}" for line in summary["files"])
    if summary.get("quarantine"):
        lines.append("quarantined rows (current files) by registry and reason:")
        for registry, reasons in summary["quarantine"].items():
            lines.append(f"  {registry}: " + ", ".join(f"{r} {n}" for r, n in reasons.items()))
    return "\n".join(lines)


def summary_json(summary: dict) -> str:
    return json.dumps(summary, ensure_ascii=False, indent=2, default=str)
