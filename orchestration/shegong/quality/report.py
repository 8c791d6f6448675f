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
import re
import shutil
from pathlib import Path

import duckdb

from shegong.findings import file_findings
from shegong.quality.charts import line_chart, paired_bar_chart, stacked_bar_chart
from shegong.quality.context import load_suites, quiet_gx
from shegong.quality.runner import SuiteOutcome, column_of

SITE = "run"
RESULTS = "results"


def run_dir(warehouse_dir: Path | str, run_id: str) -> Path:
    return Path(warehouse_dir) / "validation" / run_id


def _context(root: Path, results: Path | None = None):
    """An ephemeral GX context whose validation results store (`results`, default the run's results/ folder)
    and Data Docs site are the run's folder."""
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
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(results or root / RESULTS),
        },
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
        _render(root, only=[key])
    return _write_index(warehouse_dir, run_id)


def build_run_report(
    run_id: str,
    warehouse_dir: Path | str,
    checks: list[dict] | None = None,
    build_db: Path | str | None = None,
    outcome: dict | None = None,
) -> Path:
    """Render the Data Docs of a run from its stored suite results (their CDN assets replaced by vendored
    copies), then the run's own pages: index (verdict, every check, rejected files), reconciliation and
    history. `checks`: the run's Dagster asset checks (dbt tests, registry checks); `build_db`: the build
    warehouse the figures come from; `outcome`: {"published": {...}} or {"blocked": "..."}. Returns the run's
    index.html (a page listing nothing when no suite was validated in the run)."""
    root = run_dir(warehouse_dir, run_id)
    root.mkdir(parents=True, exist_ok=True)
    _render(root)
    if checks is not None:
        (root / CHECKS).write_text(json.dumps(checks, ensure_ascii=False, default=str), encoding="utf-8")
    if outcome is not None:
        (root / OUTCOME).write_text(json.dumps(outcome, ensure_ascii=False, default=str), encoding="utf-8")
    if build_db is not None and Path(build_db).exists():
        con = duckdb.connect(str(build_db), read_only=True)
        try:
            facts = warehouse_facts(con, run_id)
        finally:
            con.close()
        (root / FACTS).write_text(json.dumps(facts, ensure_ascii=False, default=str), encoding="utf-8")
        (root / "reconciliation.html").write_text(reconciliation_html(run_id, facts), encoding="utf-8")
        (root / "history.html").write_text(history_html(run_id, facts), encoding="utf-8")
    return _write_index(warehouse_dir, run_id)


def escaped_result(result: dict) -> dict:
    """A stored GX result whose observed values (each expectation's `result`: unexpected values, observed
    value, details) are HTML-escaped. GX's pages put unexpected values into the page as markup, so a registry
    cell holding `<script>` would run there; GX's renderer only ever sees these escaped copies."""

    def escape_strings(value):
        if isinstance(value, str):
            return html.escape(value)
        if isinstance(value, list):
            return [escape_strings(v) for v in value]
        if isinstance(value, dict):
            return {k: escape_strings(v) for k, v in value.items()}
        return value

    out = dict(result)
    out["results"] = [
        {**outcome, "result": escape_strings(outcome.get("result") or {})}
        for outcome in result.get("results", [])
    ]
    return out


def _render(root: Path, only: list | None = None) -> None:
    """GX's pages of the run's stored results (all, or those of `only`) and GX's index of them, rendered from
    escaped copies of the results."""

    escaped = root / ".escaped_results"
    shutil.rmtree(escaped, ignore_errors=True)
    for path in (root / RESULTS).rglob("*.json"):
        copy_path = escaped / path.relative_to(root / RESULTS)
        copy_path.parent.mkdir(parents=True, exist_ok=True)
        result = escaped_result(json.loads(path.read_text(encoding="utf-8")))
        copy_path.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    try:
        _render_escaped(root, _context(root, escaped), only)
    finally:
        shutil.rmtree(escaped, ignore_errors=True)


def _render_escaped(root: Path, context, only: list | None) -> None:
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
    # GX's own index builds its table with scripts; the run's index is a page of our own, GX's stays beside it.
    shutil.move(root / "index.html", root / GX_INDEX)
    vendor_gx_pages(root)


CHECKS, OUTCOME, FACTS = "checks.json", "outcome.json", "facts.json"
VENDOR = Path(__file__).parent / "vendor"
# GX's CDN addresses → the vendored copy (static/vendor/ in the run's folder); None: the reference is removed.
CDN_ASSETS = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "js/bootstrap.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "js/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "js/popper.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "css/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "js/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": (
        "css/bootstrap-table-filter-control.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": (
        "css/bootstrap-table-filter-control.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": (
        "js/bootstrap-table-filter-control.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": (
        "css/bootstrap-datepicker.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": (
        "js/bootstrap-datepicker.min.js"
    ),
    "https://cdn.jsdelivr.net/npm/vega@5": "js/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "js/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "js/vega-embed.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "css/fontawesome-all.min.css",
}
REMOVED_TAGS = (
    re.compile(r"<link[^>]*https://cdn\.jsdelivr\.net/npm/@forevolve/bootstrap-dark[^>]*>"),
    re.compile(r"<img[^>]*https://great-expectations-web-assets[^>]*>"),
)
REMOTE_REFERENCE = re.compile(r"""(?:src|href)=["']https?://[^"']+["']""")


def vendor_gx_pages(root: Path) -> None:
    """Copy the vendored assets into the run's folder and point every GX page at them: offline, the pages
    render styled, and no page asks the network for anything (links to GX's website stay plain links)."""
    target = root / "static" / "vendor"
    shutil.copytree(VENDOR, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("README.md"))
    for page in root.rglob("*.html"):
        if page.parent == root and page.name != GX_INDEX:
            continue  # our own pages
        text = page.read_text(encoding="utf-8")
        prefix = Path(*([".."] * (len(page.relative_to(root).parts) - 1))).as_posix()
        prefix = f"{prefix}/" if prefix != "." else ""
        for url, local in CDN_ASSETS.items():
            text = text.replace(f'"{url}"', f'"{prefix}static/vendor/{local}"')
        for tag in REMOVED_TAGS:
            text = tag.sub("", text)
        page.write_text(text, encoding="utf-8")


def warehouse_facts(con: duckdb.DuckDBPyConnection, run_id: str) -> dict:
    """What the run's pages show from the build warehouse (plain JSON, kept beside the pages)."""
    tables = {
        r[0]
        for r in con.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
        ).fetchall()
    }

    def rows(sql: str, params: list | None = None) -> list[dict]:
        cursor = con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]

    facts: dict = {"rejected_files": [], "quarantine_heavy_files": [], "reconciliation": [], "history": []}
    if "audit.ingested_files" in tables:
        found = file_findings(con)
        facts["rejected_files"] = [
            {"registry": f.registry, "source_file": f.source_file, "error": f.detail.removeprefix("rejected: "),
             "ingested_at": f.landed_at}
            for f in found if f.kind == "rejected"
        ]  # fmt: skip
        # The files behind the files suites' quarantine-share warning (the expectation's bound, findings.py).
        facts["quarantine_heavy_files"] = [
            {"registry": f.registry, "source_file": f.source_file, "rows_in": f.rows_in,
             "rows_quarantined": f.rows_quarantined, "quarantine_pct": f.quarantine_pct}
            for f in found if f.kind == "quarantine_share"
        ]  # fmt: skip
    if "audit.quarantined_rows" in tables:
        facts["quarantine_by_month"] = rows(
            """with reasons as (
                   select q.registry, strftime(q.period_month, '%Y-%m') as month, unnest(q.reason_codes) as reason
                   from audit.quarantined_rows as q
                   join audit.ingested_files as f on f.registry = q.registry and f.source_file = q.source_file
                   where f.status = 'current'
               )
               select registry, month, reason, count(*) as n_rows from reasons group by all order by 1, 2, 3"""
        )
        facts["quarantine_examples"] = rows(
            """select q.registry, q.source_file, q.source_row, array_to_string(q.reason_codes, ', ') as reasons,
                      q.raw_values::varchar as raw_values
               from audit.quarantined_rows as q
               join audit.ingested_files as f on f.registry = q.registry and f.source_file = q.source_file
               where f.status = 'current' order by q.registry, q.source_file, q.source_row limit 200"""
        )
    if "marts.fct_indicator_reconciliation" in tables:
        facts["reconciliation"] = rows(
            """select coalesce(r.region_name, f.adcode) as region, f.adcode, f.report_year, f.metric_code,
                      f.qualifier, f.reported_value, f.registry_value, f.difference, f.relative_difference,
                      f.reconciliation_status, f.not_comparable_reason, f.quote, f.doc
               from marts.fct_indicator_reconciliation as f
               left join marts.dim_region as r on r.region_sk = f.region_sk
               order by f.reconciliation_status = 'consistent', region, f.report_year, f.metric_code"""
        )
    if "audit.audit_validation_results" in tables:
        facts["history"] = rows(
            """select run_id, min(validated_at) as validated_at, suite, count(*) filter (where not success) as failed
               from audit.audit_validation_results group by run_id, suite order by 2, 3"""
        )
    if "audit.publications" in tables:
        facts["publication"] = next(
            iter(rows("select run_id, published_at from audit.publications where run_id = ?", [run_id])), None
        )
    return facts


def _read_json(path: Path, default):
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else default


def _write_index(warehouse_dir: Path | str, run_id: str) -> Path:
    root = run_dir(warehouse_dir, run_id)
    index = root / "index.html"
    index.write_text(
        auditor_index_html(
            run_id,
            _suite_sections(root),
            checks=_read_json(root / CHECKS, None),
            facts=_read_json(root / FACTS, {}),
            outcome=_read_json(root / OUTCOME, {}),
        ),
        encoding="utf-8",
    )
    _point_latest(Path(warehouse_dir) / "validation", run_id)
    return index


GX_INDEX = "gx_index.html"


def _observed(details: dict) -> str:
    """What GX saw: its observed value, or for row-wise expectations the share of unexpected rows and the
    first unexpected values."""
    if details.get("observed_value") not in (None, ""):
        return str(details["observed_value"])
    if details.get("unexpected_count") is None:
        return ""
    text = f"{details['unexpected_count']} of {details.get('element_count', '?')} rows"
    if details.get("unexpected_percent") is not None:
        text += f" ({details['unexpected_percent']:.2f}%)"
    examples = details.get("partial_unexpected_list") or []
    if examples:
        text += "; e.g. " + ", ".join(str(v) for v in examples[:5])
    return text


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
                    "observed": _observed(details),
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


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1400px; }
table { border-collapse: collapse; margin-bottom: 2em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; font-size: 14px; }
th { background: #f0f0f0; }
nav a { margin-right: 1.5em; }
.good { color: #176f2c; font-weight: bold; } .bad { color: #a4161a; font-weight: bold; }
tr.blocking td:first-child, tr.blocked td:nth-child(2), tr.failed td.status { color: #a4161a; font-weight: bold; }
tr.warning td:first-child, tr.warnings td:nth-child(2) { color: #9c6500; }
td.num { text-align: right; } code { font-size: 13px; } details { margin-bottom: .5em; }
"""


def _page(title: str, run_id: str, body: str) -> str:
    esc = html.escape
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)} — run {esc(run_id)}</title>
<style>{STYLE}</style></head><body>
<nav><a href="index.html">Verdict and checks</a><a href="reconciliation.html">Reconciliation</a>
<a href="history.html">History across runs</a><a href="{GX_INDEX}">Great Expectations' index</a></nav>
<h1>{esc(title)}</h1>
{body}
</body></html>
"""


def _number(value: int | float) -> str:
    """Integers as written (years, counts); amounts with thousands separators; ratios to four digits."""
    if isinstance(value, int):
        return str(value)
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}" if abs(value) >= 100 else f"{value:.4g}"


def _table(headers: list[str], rows: list[list], classes: list[str] | None = None) -> str:
    """Every cell escaped here: registry values and report sentences are data, never markup."""
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = ""
    for i, row in enumerate(rows):
        css = f" class='{esc(classes[i])}'" if classes else ""
        cells = "".join(
            f"<td class='num'>{esc(_number(c))}</td>"
            if isinstance(c, int | float) and not isinstance(c, bool)
            else f"<td>{esc('' if c is None else str(c))}</td>"
            for c in row
        )
        body += f"<tr{css}>{cells}</tr>"
    return f"<table><tr>{head}</tr>{body}</table>"


def check_meaning(check: dict) -> str:
    """A dbt test's meaning from its name (dagster-dbt gives dbt tests no description)."""
    if check.get("description"):
        return check["description"]
    name = check["check"]
    for prefix, meaning in (
        ("unique_", "dbt test: the column's values are unique"),
        ("not_null_", "dbt test: the column has no nulls"),
        ("relationships_", "dbt test: every value exists in the referenced table"),
        ("accepted_values_", "dbt test: every value is one of the accepted values"),
        ("code_formats_", "dbt test: every code follows its format (vars.code_formats in dbt_project.yml)"),
        ("documented_columns_", "dbt test: every column the model's documentation describes is there"),
    ):
        if name.startswith(prefix):
            return meaning
    return "dbt test (see dbt_project/tests and the model's yml)"


def auditor_index_html(
    run_id: str,
    sections: list[dict],
    checks: list[dict] | None = None,
    facts: dict | None = None,
    outcome: dict | None = None,
) -> str:
    """The run's report as one static page: published or blocked (and by what), every check of the run with
    its severity and meaning, rejected files and the files behind warnings."""
    esc = html.escape
    facts, outcome, checks = facts or {}, outcome or {}, checks or []
    failing = [(s, e) for s in sections for e in s["expectations"] if not e["success"]]
    blocking = [(s, e) for s, e in failing if e["severity"] == "blocking"]
    failed_checks = [c for c in checks if not c["passed"]]
    blocking_checks = [c for c in failed_checks if c["severity"] == "blocking"]
    total = sum(len(s["expectations"]) for s in sections)
    if outcome.get("published"):
        published = outcome["published"]
        verdict = (
            f"<p class='good'>Published at {esc(str(published.get('published_at', '')))}: "
            f"<code>{esc(str(published.get('path', '')))}</code> (DuckDB storage "
            f"{esc(str(published.get('storage_version', '')))}) and the Parquet exports "
            f"<code>{esc(str(published.get('exports', '')))}</code>.</p>"
        )
    elif blocking or blocking_checks or outcome.get("blocked"):
        named = [
            f"{s['suite']}: {e['type']}" + (f" on {e['column']}" if e["column"] else "") for s, e in blocking
        ]
        named += [f"{c['asset']}: {c['check']}" for c in blocking_checks]
        verdict = (
            f"<p class='bad'>Blocked — not published: {len(named)} blocking check(s) failed: "
            f"{esc('; '.join(named[:20]))}. The published warehouse is still the previous one.</p>"
            if named
            else f"<p class='bad'>Not published: {esc(outcome['blocked'])}. The published warehouse is still the "
            "previous one.</p>"
        )
    else:
        verdict = (
            "<p>Not published yet: every blocking expectation validated so far passed, and the run has not "
            "reached the publish step (still running, or stopped by an error outside validation).</p>"
        )
    failing_table = _table(
        ["severity", "suite", "expectation", "column", "observed", "unexpected rows", "what it means"],
        [
            [e["severity"], s["suite"], e["type"], e["column"], str(e["observed"])[:300], e["unexpected"],
             e["meaning"]]
            for s, e in sorted(failing, key=lambda p: (p[1]["severity"] != "blocking", p[0]["suite"]))
        ],
        [e["severity"] for _, e in failing],
    ) if failing else "<p>None.</p>"  # fmt: skip
    heavy = facts.get("quarantine_heavy_files") or []
    behind = (
        "<h3>Files behind the quarantine-share warnings</h3>"
        + _table(
            ["registry", "file", "rows read", "rows quarantined", "% quarantined"],
            [
                [f["registry"], f["source_file"], f["rows_in"], f["rows_quarantined"], f["quarantine_pct"]]
                for f in heavy
            ],
        )
        if heavy
        else ""
    )
    rejected = facts.get("rejected_files") or []
    rejected_table = (
        _table(
            ["registry", "file", "why it was rejected", "landed at"],
            [[f["registry"], f["source_file"], f["error"], f["ingested_at"]] for f in rejected],
        )
        if rejected
        else "<p>None.</p>"
    )
    check_rows = sorted(
        checks, key=lambda c: (c["passed"], c["severity"] != "blocking", c["asset"], c["check"])
    )
    checks_table = (
        _table(
            ["severity", "asset", "check", "status", "what it means", "details"],
            [
                [
                    c["severity"],
                    c["asset"],
                    c["check"],
                    "passed" if c["passed"] else "FAILED",
                    check_meaning(c),
                    c.get("details", ""),
                ]
                for c in check_rows
            ],
            [c["severity"] if not c["passed"] else "passed" for c in check_rows],
        )
        if checks
        else "<p>Not recorded for this run (the publish step records them).</p>"
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
        every = _table(
            ["severity", "expectation", "column", "result", "observed", "what it means"],
            [
                [
                    e["severity"],
                    e["type"],
                    e["column"],
                    "passed" if e["success"] else "FAILED",
                    str(e["observed"])[:300],
                    e["meaning"],
                ]
                for e in s["expectations"]
            ],
        )
        suites += (
            f"<details><summary><b>{esc(s['suite'])}</b>: {status}, {len(s['expectations'])} expectations, "
            f"{len(failed)} failed {link}</summary>{every}</details>"
        )
    quarantine = facts.get("quarantine_examples") or []
    quarantine_table = (
        _table(
            ["registry", "file", "row", "reasons", "raw values (personal data redacted)"],
            [
                [q["registry"], q["source_file"], q["source_row"], q["reasons"], q["raw_values"]]
                for q in quarantine
            ],
        )
        if quarantine
        else "<p>None.</p>"
    )
    body = f"""
<p>Run <code>{esc(run_id)}</code>: {len(sections)} Great Expectations suites with {total} expectations
({len(blocking)} blocking and {len(failing) - len(blocking)} warning expectation(s) failed); {len(checks)} other
checks — dbt tests, registry checks (row accounting, rejected files, freshness), the personal-data scan of every
text column and the suites as Dagster asset checks — of which {len(failed_checks)} failed ({len(blocking_checks)} blocking).</p>
{verdict}
<h2>Failing expectations</h2>
{failing_table}
{behind}
<h2>Rejected files</h2>
{rejected_table}
<h2>Every check of the run (Dagster asset checks: dbt tests, registry checks, personal-data scan, suites)</h2>
{checks_table}
<h2>Every Great Expectations suite and expectation</h2>
{suites}
<h2>Quarantined rows (first 200 of current files)</h2>
{quarantine_table}
"""
    return _page("shegong validation report", run_id, body)


def reconciliation_html(run_id: str, facts: dict) -> str:
    """Each reported figure beside the registry figure for its region, year and metric."""
    rows = facts.get("reconciliation") or []
    table = _table(
        ["region", "adcode", "year", "metric", "qualifier", "reported", "registry", "difference",
         "relative difference", "status", "why not comparable", "quote", "document"],
        [[r["region"], r["adcode"], r["report_year"], r["metric_code"], r["qualifier"], r["reported_value"],
          r["registry_value"], r["difference"], r["relative_difference"], r["reconciliation_status"],
          r["not_comparable_reason"], r["quote"], r["doc"]] for r in rows],
        ["warning" if r["reconciliation_status"] not in ("consistent",) else "passed" for r in rows],
    ) if rows else "<p>No reported figures.</p>"  # fmt: skip
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["reconciliation_status"]] = counts.get(r["reconciliation_status"], 0) + 1
    summary = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
    body = f"""<p>{len(rows)} reported figures: {html.escape(summary)}. Tolerances are in
<code>dbt_project/dbt_project.yml</code> and explained in <code>fct_indicator_reconciliation.yml</code>.</p>
{table}"""
    return _page("Reported figures against the registries", run_id, body)


def history_html(run_id: str, facts: dict) -> str:
    """Charts across runs, drawn as inline SVG."""
    history = facts.get("history") or []
    runs = sorted({(h["validated_at"], h["run_id"]) for h in history})
    run_ids = [r for _, r in runs]
    by_suite: dict[str, list[float]] = {}
    for h in history:
        by_suite.setdefault(h["suite"], [0.0] * len(run_ids))[run_ids.index(h["run_id"])] = h["failed"]
    failing_suites = dict(
        sorted(((k, v) for k, v in by_suite.items() if any(v)), key=lambda kv: -max(kv[1]))[:9]
    )
    labels = [f"{str(at)[:16]} {rid[:8]}" for at, rid in runs]
    charts = [
        line_chart("Expectations failed per suite, by run", labels, failing_suites)
        if failing_suites
        else "<p>No suite has failed an expectation in any run.</p>"
    ]
    quarantine = facts.get("quarantine_by_month") or []
    for registry in sorted({q["registry"] for q in quarantine}):
        rows = [q for q in quarantine if q["registry"] == registry]
        months = sorted({q["month"] or "?" for q in rows})
        reasons = sorted({q["reason"] for q in rows})
        series = {reason: [0.0] * len(months) for reason in reasons}
        for q in rows:
            series[q["reason"]][months.index(q["month"] or "?")] += q["n_rows"]
        charts.append(
            stacked_bar_chart(f"Quarantined rows of {registry} by month and reason", months, series)
        )
    reconciliation = [r for r in facts.get("reconciliation") or [] if r["registry_value"] is not None]
    if reconciliation:
        reconciliation.sort(key=lambda r: (r["region"] or "", r["report_year"], r["metric_code"]))
        charts.append(
            paired_bar_chart(
                "Reported figure vs registry figure, per region, year and metric",
                [
                    (
                        f"{r['region']} {r['report_year']} {r['metric_code']}",
                        float(r["reported_value"]),
                        float(r["registry_value"]),
                    )
                    for r in reconciliation[:80]
                ],
            )
        )
    body = f"<p>{len(run_ids)} validation run(s) on record.</p>" + "".join(f"<div>{c}</div>" for c in charts)
    return _page("History across runs", run_id, body)


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
