"""Crash recovery: `shegong run` killed (SIGKILL) mid-ingest, then run again, gives the warehouse one clean run
gives, and the killed run never touched the published file. Runs the CLI in subprocesses with their own
environment and their own DAGSTER_HOME holding the project's dagster.yaml (pools and all)."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.test_operations_backfill import table_rows

pytestmark = pytest.mark.integration

PROJECT = Path(__file__).parents[2]
SHEGONG = Path(sys.executable).parent / "shegong"


def environment(root: Path, landing: Path) -> dict[str, str]:
    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT / "dagster.yaml", home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHEGONG_", "DAGSTER_"))}
    env.update(
        SHEGONG_LANDING=str(landing),
        SHEGONG_WAREHOUSE_DIR=str(root / "warehouse"),
        SHEGONG_DUCKDB=str(root / "warehouse" / "build" / "shegong_build.duckdb"),
        SHEGONG_PII_KEY="recovery-test-key",
        DAGSTER_HOME=str(home),
    )
    return env


def shegong_run(env: dict[str, str], log: Path, timeout: float = 600) -> None:
    with log.open("w") as out:
        done = subprocess.run(
            [str(SHEGONG), "run"], env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False
        )
    assert done.returncode == 0, log.read_text()[-3000:]


def steps_succeeded(home: Path, job: str) -> int:
    """STEP_SUCCESS events of the job's runs so far, read from the instance's SQLite storage (the build file
    itself is locked by the writer)."""
    history = home / "storage" / "history"
    if not (history / "runs.db").exists():
        return 0
    count = 0
    try:
        with sqlite3.connect(f"file:{history / 'runs.db'}?mode=ro", uri=True, timeout=5) as runs:
            run_ids = [r for (r,) in runs.execute("select run_id from runs where pipeline_name = ?", [job])]
        for run_id in run_ids:
            db = history / "runs" / f"{run_id}.db"
            if db.exists():
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as events:
                    count += events.execute(
                        "select count(*) from event_logs where dagster_event_type = 'STEP_SUCCESS'"
                    ).fetchall()[0][0]
    except sqlite3.OperationalError:
        # The storage files appear a moment before Dagster has created their tables: no progress yet.
        return count
    return count


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_run_killed_mid_ingest_then_rerun_equals_one_clean_run(tmp_path):
    from shegong_tools.generate import generate

    landing = tmp_path / "landing"
    generate(landing, scale=150, seed=17, start_month="2024-01", months=2)

    clean_env = environment(tmp_path / "clean", landing)
    shegong_run(clean_env, tmp_path / "clean.log")
    clean_published = tmp_path / "clean" / "warehouse" / "shegong.duckdb"

    # The crashed deployment already serves an earlier version of the warehouse.
    crash = tmp_path / "crash"
    crash_env = environment(crash, landing)
    published = crash / "warehouse" / "shegong.duckdb"
    published.parent.mkdir(parents=True)
    shutil.copy(clean_published, published)
    previous = sha256(published)

    with (tmp_path / "killed.log").open("w") as out:
        killed = subprocess.Popen(
            [str(SHEGONG), "run"], env=crash_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 300
            while steps_succeeded(crash / "dagster_home", "warehouse_build") < 2:
                assert killed.poll() is None, "the run ended before it could be killed"
                assert time.monotonic() < deadline, "no ingest progress within 300 s"
                time.sleep(0.2)
            # Mid-ingest: some registries are in, the rest and dbt, validation and publishing are not.
            os.killpg(killed.pid, signal.SIGKILL)
        finally:
            if killed.poll() is None:
                os.killpg(killed.pid, signal.SIGKILL)
            killed.wait()
    assert sha256(published) == previous, "the killed run replaced the published warehouse"
    assert not list(published.parent.glob(".shegong.duckdb.*.tmp"))

    shegong_run(crash_env, tmp_path / "rerun.log")
    assert sha256(published) != previous

    clean, recovered = table_rows(clean_published), table_rows(published)
    assert clean.keys() == recovered.keys()
    differing = sorted(t for t in clean if clean[t] != recovered[t])
    assert differing == []
