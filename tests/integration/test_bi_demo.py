"""A demo that looks healthy when it is: sample data ends at the last complete month (the same files for the same
seed and month), partitions start at the first month landed, no stale-registry warning, and a run logged to
a file writes whole, plain lines — with dbt's progress (assets built, checks run) — instead of bars."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.bi_warehouse import hostile_published_warehouse

pytestmark = pytest.mark.integration

SHEGONG = str(Path(sys.executable).parent / "shegong")


def digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_sample_data_ends_at_the_last_complete_month_and_is_the_same_per_seed(tmp_path):
    for name in ("a", "b"):
        result = subprocess.run(
            [
                SHEGONG,
                "generate",
                "--scale",
                "50",
                "--months",
                "3",
                "--seed",
                "3",
                "--out",
                str(tmp_path / name),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    months = sorted({p.name.split("_")[1] for p in (tmp_path / "a" / "workers").iterdir()})
    last = dt.date.today().replace(day=1) - dt.timedelta(days=1)  # the last complete month
    middle = last.replace(day=1) - dt.timedelta(days=1)
    first = middle.replace(day=1) - dt.timedelta(days=1)
    assert months == [f"{first:%Y-%m}", f"{middle:%Y-%m}", f"{last:%Y-%m}"]


def test_partitions_start_at_the_first_month_landed_unless_set(tmp_path):
    landing = tmp_path / "landing"
    (landing / "workers").mkdir(parents=True)
    (landing / "workers" / "320585_2025-07_持证社工名册.csv").write_text("x\n", encoding="utf-8")
    (landing / "stations").mkdir()
    (landing / "stations" / "320585_2025-05_社工站台账.csv").write_text("x\n", encoding="utf-8")
    code = (
        "from shegong.defs.partitions import FIRST_MONTH, monthly_partitions;"
        "print(FIRST_MONTH, monthly_partitions.get_first_partition_key())"
    )
    environment = {k: v for k, v in os.environ.items() if k != "SHEGONG_FIRST_MONTH"}
    environment["SHEGONG_LANDING"] = str(landing)
    landed = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True)
    assert landed.stdout.split() == ["2025-05-01", "2025-05-01"], landed.stderr[-1000:]
    environment["SHEGONG_FIRST_MONTH"] = "2024-02"
    pinned = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True)
    assert pinned.stdout.split() == ["2024-02-01", "2024-02-01"], pinned.stderr[-1000:]


def test_a_run_into_a_log_file_writes_plain_whole_lines_with_dbt_progress():
    env = hostile_published_warehouse()
    stderr, stdout = env["_stderr"], env["_stdout"]
    assert "\x1b[" not in stderr + stdout, "no terminal escapes in a log"
    assert "━" not in stderr, "no progress bars in a log"
    dbt_steps = re.findall(r"^\d\d:\d\d:\d\d success (dbt_\w+) \((\d+) assets, (\d+) checks\)$", stderr, re.M)
    assert dbt_steps, stderr[-2000:]
    assert max(int(assets) for _, assets, _ in dbt_steps) >= 20
    assert max(int(checks) for _, _, checks in dbt_steps) >= 100
    assert re.search(r"^\d\d:\d\d:\d\d started dbt_\w+$", stderr, re.M)
    # the summary is not wrapped: the report path and the published path each stay on one line
    warehouse = env["SHEGONG_WAREHOUSE_DIR"]
    assert re.search(rf"report: {re.escape(warehouse)}/validation/[\w-]+/index\.html$", stdout, re.M), stdout
    assert re.search(rf"→ {re.escape(warehouse)}/shegong\.duckdb", stdout), stdout


def test_data_ending_at_the_last_complete_month_raises_no_freshness_warning():
    env = hostile_published_warehouse()
    failed = re.findall(r"^\s+failed: (.+)$", env["_stdout"], re.M)
    assert failed, "the hostile files raise warnings of their own"
    assert not [f for f in failed if "arrived_within" in f], failed


def test_make_docs_builds_and_serves_dbt_docs_without_touching_dagsters_manifest(tmp_path):
    """The README's `make docs`, run for real on a copy of a built warehouse, on a free local port."""
    import shutil
    import signal
    import socket
    import time
    import urllib.request

    env = hostile_published_warehouse()
    project = Path(__file__).parents[2]
    manifest = project / "dbt_project" / "target" / "manifest.json"
    before = hashlib.sha256(manifest.read_bytes()).hexdigest()
    shutil.copyfile(env["SHEGONG_DUCKDB"], tmp_path / "build.duckdb")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = dict(os.environ, SHEGONG_DUCKDB=str(tmp_path / "build.duckdb"))
    make = subprocess.Popen(
        ["make", "--no-print-directory", "docs", f"DOCS_PORT={port}", f"DOCS_TARGET={tmp_path / 'docs'}"],
        cwd=project,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # make, dbt and its server in one process group, stopped together below
    )
    try:
        deadline, page = time.monotonic() + 240, None
        while time.monotonic() < deadline and make.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=2) as response:
                    page = response.read()
                    break
            except OSError:
                time.sleep(1)
        assert page is not None, (
            make.stdout.read() if make.poll() is not None else "docs server never answered"
        )
        assert b"dbt" in page.lower()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/catalog.json", timeout=5) as response:
            catalog = response.read().decode("utf-8")
        assert "fct_indicator_reconciliation" in catalog
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(timeout=30)
    assert hashlib.sha256(manifest.read_bytes()).hexdigest() == before
    assert (tmp_path / "docs" / "manifest.json").exists()
