"""A Spark Thrift server that dies mid-build: `SHEGONG_ENGINE=spark shegong run` stops with one line naming the
endpoint, the published warehouse stays byte-identical and nothing reaches Spark's published views, and after
the endpoint is back a rerun publishes a warehouse whose marts have the rows the DuckDB build published from the
same landing — in the published file and in the views of shegong_published alike.

Runs the CLI in subprocesses with their own environment and DAGSTER_HOME; the Spark server is started by this
test (`shegong run` uses a running local server instead of starting its own), killed by its pid mid-build,
started again, and stopped by its pid at the end."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shegong.engines.spark import execute, start_local_server, stop_local_server
from tests.integration.test_operations_recovery import environment
from tests.integration.test_spark_engine import SPARK_SESSION_CLOSE_FAULT

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
MODELS_BEFORE_KILL = 4  # dbt has started this many Spark models when the server is killed


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def shegong(env: dict[str, str], *args: str, timeout: float = 1200) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "shegong"), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def status(env: dict[str, str]) -> dict:
    done = shegong(env, "status", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def newest_run_log(logs: Path) -> str:
    """The text of the newest run log (run-<time>.log: the names sort by time), or "" before any."""
    runs = sorted(logs.glob("run-*.log"))
    return runs[-1].read_text(encoding="utf-8", errors="replace") if runs else ""


def spark_models_started(logs: Path) -> int:
    return newest_run_log(logs).count("START sql table model shegong_")


def test_a_spark_server_killed_mid_build_leaves_the_published_warehouse_and_a_rerun_publishes(tmp_path):
    landing = tmp_path / "landing"
    env = environment(tmp_path, landing)
    generated = shegong(env, "generate", "--scale", "150", "--months", "2", "--out", str(landing))
    assert generated.returncode == 0, generated.stderr[-2000:]

    # A warehouse published by the DuckDB engine first.
    first = shegong(env, "run")
    assert first.returncode == 0, first.stderr[-3000:]
    published = Path(env["SHEGONG_WAREHOUSE_DIR"]) / "shegong.duckdb"
    before = digest(published)
    duckdb_status = status(env)
    assert duckdb_status["rows_by_mart"]["marts.fct_workforce_monthly"] > 0

    spark_env = {**env, "SHEGONG_ENGINE": "spark"}
    folder = Path(env["SHEGONG_WAREHOUSE_DIR"]) / "spark"
    server = start_local_server(folder)
    try:
        logs = Path(env["SHEGONG_WAREHOUSE_DIR"]) / "logs"
        for old in logs.glob("run-*.log"):
            old.unlink()
        # Nothing landed since the DuckDB build, but the engine changed: the run builds everything.
        run = subprocess.Popen(
            [str(BIN / "shegong"), "run"],
            env=spark_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 900
        while spark_models_started(logs) < MODELS_BEFORE_KILL and run.poll() is None:
            assert time.monotonic() < deadline, "dbt never started on Spark"
            time.sleep(0.5)
        assert run.poll() is None, run.communicate()[1][-3000:]
        os.kill(server.pid, signal.SIGKILL)  # the server dies mid-build
        _, stderr = run.communicate(timeout=900)
        assert run.returncode != 0
        errors = [line for line in stderr.splitlines() if line.startswith("error:")]
        assert errors, stderr[-3000:]
        lost = [line for line in errors if "dbt on Spark stopped mid-build" in line]
        assert lost, errors
        assert f"127.0.0.1:{server.port}" in lost[0] and "published warehouse is unchanged" in lost[0]
        assert digest(published) == before  # readers still see the DuckDB publication, byte for byte
        assert not list(published.parent.glob(".shegong.duckdb.*.tmp"))

        server = start_local_server(folder)  # the endpoint is back (same metastore and warehouse dir)
        # Where the kill fell while a table was being created, its folder is left with no table (made here too,
        # so that the run is seen clearing it wherever the kill fell); the rerun removes it before dbt.
        orphan = folder / "warehouse" / "shegong_marts.db" / "left_by_the_killed_write"
        orphan.mkdir(parents=True)
        (orphan / "part-00000.snappy.parquet").write_bytes(b"not parquet")
        # Nothing of the failed build reached Spark's readers either.
        assert execute(server.endpoint, ["show databases like 'shegong_published'"]) == [[]]
        rerun = shegong(spark_env, "run")  # still no Spark publication: everything again
        if rerun.returncode != 0 and SPARK_SESSION_CLOSE_FAULT in newest_run_log(logs):
            # The server's known fault, not what this test is about: once more, the failure on stderr.
            print(
                f"rerun failed by the server's known fault, once more:\n{rerun.stderr[-2000:]}",
                file=sys.stderr,
            )
            rerun = shegong(spark_env, "run")
        assert "published from duckdb, this run builds on spark" in rerun.stdout + rerun.stderr
        assert rerun.returncode == 0, rerun.stderr[-3000:]
        assert not orphan.exists()
        (publication,) = execute(server.endpoint, ["select run_id from shegong_published.publication"])
        (workforce,) = execute(
            server.endpoint, ["select count(*) from shegong_published.fct_workforce_monthly"]
        )
    finally:
        stop_local_server(server)
    assert not server.running()

    assert digest(published) != before
    spark_status = status(env)
    assert spark_status["published"]["run_id"] != duckdb_status["published"]["run_id"]
    # Spark built, the same checks passed, and the marts hold the rows the DuckDB build published.
    assert spark_status["rows_by_mart"] == duckdb_status["rows_by_mart"]
    # Spark's readers see the same publication: shegong_published's views moved to the rerun's snapshot.
    assert publication[0][0] == spark_status["published"]["run_id"]
    assert workforce[0][0] == spark_status["rows_by_mart"]["marts.fct_workforce_monthly"]
