"""`shegong run` does only what changed since the last published run: nothing at all when nothing landed, the
models downstream of a new report or month otherwise; and the marts it publishes equal a full build of the same
landing (EXCEPT ALL both ways). Runs the CLI in subprocesses with their own environment and Dagster home."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from shegong.defs.dbt import dbt_invocation_folders
from tests.integration.test_operations_recovery import SHEGONG, environment, shegong_run

pytestmark = pytest.mark.integration


def last_publication(published: Path) -> tuple[str, int]:
    """(run id, publications so far) of a published warehouse file."""
    con = duckdb.connect(str(published), read_only=True)
    try:
        run_id, count = con.execute(
            "select arg_max(run_id, published_at), count(*) from audit.publications"
        ).fetchone()
    finally:
        con.close()
    return run_id, count


def dbt_artifacts(published: Path, run_id: str) -> list[dict]:
    """dbt's run_results.json of every dbt step of a Dagster run (each invocation has its own target folder in
    the deployment's warehouse folder)."""
    folders = dbt_invocation_folders(published.parent, run_id)
    return [json.loads((f / "run_results.json").read_text(encoding="utf-8")) for f in folders]


def dbt_results(published: Path, run_id: str) -> dict[str, dict]:
    """Node name → its result in a Dagster run's dbt steps, with the invocation's args."""
    return {
        result["unique_id"].split(".")[-1]: result | {"args": artifact["args"]}
        for artifact in dbt_artifacts(published, run_id)
        for result in artifact["results"]
    }


def dbt_test_results(published: Path, run_id: str, test_prefix: str) -> list[dict]:
    """Every result of the dbt tests named `test_prefix`… in every dbt step of a Dagster run, with the args."""
    return [
        result | {"args": artifact["args"]}
        for artifact in dbt_artifacts(published, run_id)
        for result in artifact["results"]
        if result["unique_id"].startswith(f"test.shegong.{test_prefix}")
    ]


def executed(result: dict, bound: str) -> str:
    """When dbt started or completed executing a node (ISO timestamp)."""
    (execute,) = [t for t in result["timing"] if t["name"] == "execute"]
    return execute[bound]


def land(generated: Path, landing: Path, pattern: str) -> list[str]:
    copied = []
    for path in sorted(generated.rglob(pattern)):
        target = landing / path.relative_to(generated)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        copied.append(target.name)
    assert copied, f"the generator wrote nothing like {pattern}"
    return copied


def test_runs_do_only_what_changed_and_equal_a_full_build(tmp_path):
    from shegong.engines.compare import compare_duckdb_marts
    from shegong_tools.generate import generate

    generated = tmp_path / "generated"
    generate(generated, scale=50, seed=23, start_month="2024-01", months=3)
    held_report = sorted(p.name for p in (generated / "reports").glob("*.txt"))[0]
    landing = tmp_path / "landing"
    shutil.copytree(
        generated,
        landing,
        ignore=lambda folder, names: [n for n in names if "_2024-03_" in n or n == held_report],
    )
    env = environment(tmp_path / "incremental", landing)
    published = tmp_path / "incremental" / "warehouse" / "shegong.duckdb"

    shegong_run(env, tmp_path / "first.log")
    first_run, publications = last_publication(published)
    assert publications == 1
    # Its warnings are explained with each check's own description (2024's data is long stale by now).
    assert re.search(
        r"raw/workers:arrived_within_\d+_days \(warn\) — The newest reporting month received ends no more than",
        (tmp_path / "first.log").read_text(encoding="utf-8"),
    )
    assert "stg_workers" in dbt_results(published, first_run)

    # Nothing new: no Dagster run, no dbt, no validation, no publication; one line, exit 0.
    before = hashlib.sha256(published.read_bytes()).hexdigest()
    started = time.monotonic()
    done = subprocess.run([str(SHEGONG), "run"], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
    assert re.fullmatch(rf"nothing new since run {first_run} \(published {stamp}\)\n", done.stdout)
    assert time.monotonic() - started < 120  # a timeout, not a target: `shegong bench` measures the no-op run
    assert hashlib.sha256(published.read_bytes()).hexdigest() == before

    # A new report: its extraction and the models downstream of reports, never the registry models.
    land(generated, landing, held_report)
    shegong_run(env, tmp_path / "report.log")
    report_run, publications = last_publication(published)
    assert publications == 2
    built = dbt_results(published, report_run)
    assert {"stg_report_facts", "fct_reported_indicators", "fct_indicator_reconciliation"} <= set(built)
    assert not {"stg_workers", "int_worker_versions", "fct_workforce_monthly", "dim_worker"} & set(built)
    assert all(r["status"] in ("success", "pass", "warn") for r in built.values())
    # The unit tests of the models it rebuilt (fct_indicator_reconciliation has some) are left to `make test`.
    assert not [name for name, r in built.items() if r["unique_id"].startswith("unit_test.")]
    con = duckdb.connect(str(published), read_only=True)
    try:
        # The personal-data scan of the whole build is part of a run over one report too.
        scanned = con.execute(
            """select count(*) from audit.audit_validation_results
               where run_id = ? and suite = 'personal_data' and success""",
            [report_run],
        ).fetchone()[0]
        # The publication rewrote the tables the report changed and kept the registry marts as published.
        written = dict(
            con.execute("select table_name, written_by_run from audit.published_tables").fetchall()
        )
    finally:
        con.close()
    assert scanned == 1
    assert written["marts.fct_reported_indicators"] == written["raw.report_facts"] == report_run
    assert written["marts.fct_workforce_monthly"] == written["raw.workers"] == first_run
    # A fresh deployment parses the project once: the first run's tables step parsed it (its profile names this
    # deployment's build file), and its monthly step started from that parse state.
    (first_monthly_log,) = [
        f / "dbt.log"
        for f in dbt_invocation_folders(published.parent, first_run)
        if f.name.startswith("dbt_incremental-")
    ]
    assert "Unable to do partial parsing" not in first_monthly_log.read_text(encoding="utf-8")
    # dbt started from the deployment's parse state instead of parsing the project again: partial parsing on, and
    # no word from dbt that it could not use the state (it says so at info level, its log file's level).
    (tables_folder,) = [
        f for f in dbt_invocation_folders(published.parent, report_run) if f.name.startswith("dbt_tables-")
    ]
    tables_args = json.loads((tables_folder / "run_results.json").read_text(encoding="utf-8"))["args"]
    assert tables_args["partial_parse"] is True and tables_args["log_level_file"] == "info"
    assert "Unable to do partial parsing" not in (tables_folder / "dbt.log").read_text(encoding="utf-8")

    # A new month of every registry: the monthly marts rebuild that month only (the incremental window).
    land(generated, landing, "*_2024-03_*")
    shegong_run(env, tmp_path / "month.log")
    month_run, publications = last_publication(published)
    assert publications == 3
    built = dbt_results(published, month_run)
    assert {"stg_workers", "int_worker_versions", "fct_workforce_monthly", "dim_worker"} <= set(built)
    # The window reached dbt (through the environment): both bounds of the mart's month filter are March.
    window = re.findall(
        r"cast\('(\d{4}-\d\d-\d\d)' as date\)", built["fct_workforce_monthly"]["compiled_code"]
    )
    assert window == ["2024-03-01", "2024-03-01"]
    assert not built["fct_workforce_monthly"]["args"].get("full_refresh")
    # The recency test of each incremental mart runs once, in the partitioned step, after the step rebuilt the
    # month: the tables step, which runs first, never tests a model of the other step.
    for mart in ("fct_workforce_monthly", "fct_training_attendance"):
        (recency,) = dbt_test_results(published, month_run, f"is_current_{mart}_")
        assert recency["status"] == "pass" and "tag:month_window+" in recency["args"]["select"]
        assert executed(built[mart], "completed_at") <= executed(recency, "started_at")
    # Neither dbt step parsed the project again: the window is not a --vars, so both steps share one parse state.
    month_logs = [f / "dbt.log" for f in dbt_invocation_folders(published.parent, month_run)]
    assert {f.parent.name.split("-")[0] for f in month_logs} == {"dbt_tables", "dbt_incremental"}
    for log in month_logs:
        assert "Unable to do partial parsing" not in log.read_text(encoding="utf-8"), log

    # A fresh full build (--full-refresh) of the same landing publishes the same marts, row for row.
    full_env = environment(tmp_path / "full", landing)
    full_run_log = tmp_path / "full.log"
    with full_run_log.open("w") as out:
        full = subprocess.run(
            [str(SHEGONG), "run", "--full-refresh"],
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    assert full.returncode == 0, full_run_log.read_text()[-3000:]
    full_published = tmp_path / "full" / "warehouse" / "shegong.duckdb"
    full_run, _ = last_publication(full_published)
    full_built = dbt_results(full_published, full_run)
    assert full_built["fct_workforce_monthly"]["args"]["full_refresh"] is True
    assert full_built["stg_workers"]["args"]["full_refresh"] is True

    con = duckdb.connect(str(published), read_only=True)
    try:
        con.execute(f"attach '{full_published}' as full_build (read_only)")
        differences = compare_duckdb_marts(con, "full_build")
        rows = con.execute("select count(*) from marts.fct_workforce_monthly").fetchone()[0]
    finally:
        con.close()
    assert len(differences) >= 15 and rows > 0
    assert {table: diff for table, diff in differences.items() if diff != (0, 0)} == {}
