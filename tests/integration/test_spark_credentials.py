"""A refused credential against a real authenticating endpoint: a local Spark Thrift server that checks passwords
(hive.server2.authentication=CUSTOM with a small authenticator compiled here from tests/fixtures/spark, on the
Spark jars' own interface). A wrong password is one line naming the endpoint and the variables to check — never
the password — and `shegong run` stops before ingest, publishing nothing; the right password opens a session, so
the refusal is the server's.

The server is started by this test and stopped by its pid."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shegong.engines.spark import (
    PasswordCheck,
    SparkCredentialRefused,
    SparkEndpoint,
    execute,
    spark_home,
    start_local_server,
    stop_local_server,
)
from tests.integration.test_operations_recovery import environment

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
AUTHENTICATOR = Path(__file__).parents[1] / "fixtures" / "spark" / "ShegongTestAuthenticator.java"
USER, PASSWORD, WRONG = "auditor", "s3cret-pass", "not-the-password"


def compile_authenticator(into: Path) -> Path:
    javac = shutil.which("javac")
    assert javac, (
        "javac not found: install openjdk-17-jdk-headless (the refused-credential test compiles its authenticator)"
    )
    jars = spark_home() / "jars"
    class_path = ":".join(str(jar) for jar in jars.glob("spark-hive-thriftserver_*.jar"))
    into.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [javac, "-cp", class_path, "-d", str(into), str(AUTHENTICATOR)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return into


@pytest.fixture(scope="module")
def authenticating_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("spark-auth")
    check = PasswordCheck(
        "ShegongTestAuthenticator", compile_authenticator(folder / "classes"), USER, PASSWORD
    )
    previous = {
        name: os.environ.get(name) for name in ("SHEGONG_TEST_SPARK_USER", "SHEGONG_TEST_SPARK_PASSWORD")
    }
    os.environ.update(SHEGONG_TEST_SPARK_USER=USER, SHEGONG_TEST_SPARK_PASSWORD=PASSWORD)  # the server's own
    try:
        server = start_local_server(folder / "server", password_check=check)
    finally:
        for name, value in previous.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value
    try:
        yield server
    finally:
        stop_local_server(server)
    assert not server.running()


def test_a_refused_credential_is_one_line_naming_the_endpoint_and_what_to_check(authenticating_server):
    port = authenticating_server.port
    wrong = SparkEndpoint("127.0.0.1", port, user=USER, auth="CUSTOM", password=WRONG)
    with pytest.raises(SparkCredentialRefused) as refused:
        execute(wrong, ["select 1"])
    message = str(refused.value)
    assert len(message.splitlines()) == 1
    assert f"the Spark Thrift endpoint 127.0.0.1:{port} refused user '{USER}' (auth CUSTOM" in message
    assert "SHEGONG_SPARK_USER, SHEGONG_SPARK_AUTH and SHEGONG_SPARK_PASSWORD" in message
    assert WRONG not in message

    # The same server admits the right credential: it is the password that was refused.
    right = SparkEndpoint("127.0.0.1", port, user=USER, auth="CUSTOM", password=PASSWORD)
    assert execute(right, ["select 41 + 1"]) == [[(42,)]]


def test_shegong_run_with_a_refused_credential_stops_before_ingest_and_publishes_nothing(
    authenticating_server, tmp_path
):
    landing = tmp_path / "landing"
    env = {
        **environment(tmp_path, landing),
        "SHEGONG_ENGINE": "spark",
        "SHEGONG_SPARK_HOST": "127.0.0.1",
        "SHEGONG_SPARK_PORT": str(authenticating_server.port),
        "SHEGONG_SPARK_USER": USER,
        "SHEGONG_SPARK_AUTH": "CUSTOM",
        "SHEGONG_SPARK_PASSWORD": WRONG,
    }
    generated = subprocess.run(
        [str(BIN / "shegong"), "generate", "--scale", "50", "--months", "1", "--out", str(landing)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert generated.returncode == 0, generated.stderr[-2000:]
    run = subprocess.run(
        [str(BIN / "shegong"), "run"], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert run.returncode != 0
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, run.stderr[-3000:]
    assert f"127.0.0.1:{authenticating_server.port} refused user '{USER}'" in errors[0]
    assert WRONG not in run.stdout + run.stderr
    warehouse = Path(env["SHEGONG_WAREHOUSE_DIR"])
    assert not (warehouse / "shegong.duckdb").exists()
    # Checked before ingest: no landing file was read into a build.
    assert not list(warehouse.rglob("*.parquet"))
