"""Spark as the warehouse engine: the Thrift endpoint dbt-spark and the pipeline talk to, and a local Thrift
server for development and CI.

The endpoint comes from the environment — a department's own Spark Thrift server, Kyuubi or a managed Spark SQL
endpoint:

  SHEGONG_SPARK_HOST       host of the endpoint; unset = shegong starts a local server (below)
  SHEGONG_SPARK_PORT       default 10000
  SHEGONG_SPARK_USER       default shegong
  SHEGONG_SPARK_AUTH       PyHive/dbt-spark auth: NONE (default), NOSASL, LDAP, KERBEROS, CUSTOM
  SHEGONG_SPARK_PASSWORD   for LDAP / CUSTOM
  SHEGONG_SPARK_DATABASE   prefix of the databases shegong builds (default shegong: shegong_raw, shegong_marts …)

The local server is pyspark's bundled Spark (HiveThriftServer2, `spark-submit … spark-internal`) on Debian's
Java 17, listening on 127.0.0.1 at a free port, with its own warehouse dir and Derby metastore under one folder
(one server per metastore: Derby admits a single process). It is started and stopped by its own pid, recorded
in `<folder>/thrift.json` so `shegong spark stop` finds it from another process.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from shegong.engines import EngineConfigError

THRIFT_SERVER_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
START_TIMEOUT_SECONDS = 180  # ~13 s idle; minutes when the two cores are busy
STOP_TIMEOUT_SECONDS = 30
DEFAULT_PORT = 10000
AUTH_MODES = ("NONE", "NOSASL", "LDAP", "KERBEROS", "CUSTOM")


class SparkUnavailable(RuntimeError):
    """The Spark endpoint cannot be used: the message names it and says what to do (one line)."""


class SparkCredentialRefused(SparkUnavailable):
    """The endpoint answered and refused the user or password: retrying cannot help."""


@dataclass(frozen=True)
class SparkEndpoint:
    host: str
    port: int
    user: str = "shegong"
    auth: str = "NONE"
    password: str | None = None
    database_prefix: str = "shegong"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def database(self, layer: str) -> str:
        """The Spark database of a layer (raw, staging, intermediate, marts, reference, audit)."""
        return f"{self.database_prefix}_{layer}"

    def environment(self) -> dict[str, str]:
        """The variables dbt's `spark` target (dbt_project/profiles.yml) reads."""
        env = {
            "SHEGONG_SPARK_HOST": self.host,
            "SHEGONG_SPARK_PORT": str(self.port),
            "SHEGONG_SPARK_USER": self.user,
            "SHEGONG_SPARK_AUTH": self.auth,
            "SHEGONG_SPARK_DATABASE": self.database_prefix,
        }
        if self.password is not None:
            env["SHEGONG_SPARK_PASSWORD"] = self.password
        return env


def endpoint_from_environment(environ: Mapping[str, str] | None = None) -> SparkEndpoint | None:
    """The endpoint the environment names, or None when shegong should start a local server."""
    env = os.environ if environ is None else environ
    host = env.get("SHEGONG_SPARK_HOST")
    if not host:
        return None
    port_text = env.get("SHEGONG_SPARK_PORT", str(DEFAULT_PORT))
    if not port_text.isdigit():
        raise EngineConfigError(
            f"SHEGONG_SPARK_PORT={port_text!r} is not a port number: set it to e.g. 10000"
        )
    auth = env.get("SHEGONG_SPARK_AUTH", "NONE").upper()
    if auth not in AUTH_MODES:
        raise EngineConfigError(f"SHEGONG_SPARK_AUTH={auth!r}: set it to one of {', '.join(AUTH_MODES)}")
    return SparkEndpoint(
        host=host,
        port=int(port_text),
        user=env.get("SHEGONG_SPARK_USER", "shegong"),
        auth=auth,
        password=env.get("SHEGONG_SPARK_PASSWORD") or None,
        database_prefix=env.get("SHEGONG_SPARK_DATABASE", "shegong"),
    )


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.splitlines()[0].split())


def connect(endpoint: SparkEndpoint, database: str | None = None):
    """A PyHive connection to the endpoint, or SparkUnavailable saying whether it is unreachable or refused."""
    from pyhive import hive
    from thrift.transport.TTransport import TTransportException

    with socket.socket() as probe:
        probe.settimeout(5)
        try:
            probe.connect((endpoint.host, endpoint.port))
        except OSError as exc:
            raise SparkUnavailable(
                f"cannot reach the Spark Thrift endpoint {endpoint.address} ({first_line(exc)}): start it "
                "(`shegong spark start` for a local one) or set SHEGONG_SPARK_HOST/SHEGONG_SPARK_PORT to a running "
                "Spark Thrift server, Kyuubi or Spark SQL endpoint"
            ) from None
    try:
        return hive.connect(
            host=endpoint.host,
            port=endpoint.port,
            username=endpoint.user,
            auth=endpoint.auth,
            password=endpoint.password if endpoint.auth in ("LDAP", "CUSTOM") else None,
            database=database or "default",
        )
    except TTransportException as exc:
        raise SparkCredentialRefused(
            f"the Spark Thrift endpoint {endpoint.address} refused user {endpoint.user!r} "
            f"(auth {endpoint.auth}: {first_line(exc)}): check SHEGONG_SPARK_USER, SHEGONG_SPARK_AUTH and "
            "SHEGONG_SPARK_PASSWORD"
        ) from None
    except Exception as exc:
        raise SparkUnavailable(
            f"the Spark Thrift endpoint {endpoint.address} did not open a session ({first_line(exc)}): check "
            "the server's log and SHEGONG_SPARK_AUTH"
        ) from None


def execute(endpoint: SparkEndpoint, statements: list[str]) -> list[list[tuple]]:
    """Run statements in one session; the rows of each (empty for DDL)."""
    con = connect(endpoint)
    try:
        cursor = con.cursor()
        results = []
        for sql in statements:
            cursor.execute(sql)
            results.append(cursor.fetchall() if cursor.description else [])
        return results
    finally:
        con.close()


# --- the local Thrift server ------------------------------------------------------------------------------


def java_executable(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    if env.get("JAVA_HOME") and (Path(env["JAVA_HOME"]) / "bin" / "java").exists():
        return str(Path(env["JAVA_HOME"]) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise SparkUnavailable(
            "Java not found (no java on PATH, no JAVA_HOME): the local Spark Thrift server needs Java 17 — "
            "`apt-get install openjdk-17-jre-headless` — or set SHEGONG_SPARK_HOST to a running Spark endpoint"
        )
    return found


def spark_home() -> Path:
    try:
        import pyspark
    except ImportError:
        raise SparkUnavailable(
            "pyspark is not installed: `.venv/bin/pip install -c constraints.txt -e '.[spark]'` (make install "
            "does), or set SHEGONG_SPARK_HOST to a running Spark endpoint"
        ) from None
    return Path(pyspark.__file__).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class LocalThriftServer:
    """A running local server: its pid, port and folder (warehouse/, metastore_db/, thrift.log)."""

    pid: int
    port: int
    folder: str

    @property
    def endpoint(self) -> SparkEndpoint:
        return SparkEndpoint(host="127.0.0.1", port=self.port)

    @property
    def log(self) -> Path:
        return Path(self.folder) / "thrift.log"

    def running(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        # A zombie child (exited, not yet reaped) counts as stopped.
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(self.pid, os.WNOHANG)[0] == self.pid:
                return False
        return True


def _state_file(folder: Path) -> Path:
    return folder / "thrift.json"


def recorded_server(folder: Path) -> LocalThriftServer | None:
    """The server a previous start recorded in `folder`, if its process is still alive."""
    state = _state_file(folder)
    if not state.exists():
        return None
    server = LocalThriftServer(**json.loads(state.read_text()))
    return server if server.running() else None


@dataclass(frozen=True)
class PasswordCheck:
    """A local server that checks passwords: a Hive `PasswdAuthenticationProvider` class on `class_path`
    (hive.server2.authentication=CUSTOM), and the credential start-up probes it with. Nothing of it is recorded
    in `thrift.json`."""

    class_name: str
    class_path: Path
    user: str
    password: str

    def endpoint(self, port: int) -> SparkEndpoint:
        return SparkEndpoint("127.0.0.1", port, user=self.user, auth="CUSTOM", password=self.password)


def thrift_server_command(
    home: Path, folder: Path, port: int, driver_memory: str, password_check: PasswordCheck | None = None
) -> list[str]:
    metastore = folder / "metastore_db"
    conf = {
        "spark.sql.warehouse.dir": str(folder / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={metastore};create=true",
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={folder}",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.host": "127.0.0.1",
        "spark.ui.enabled": "false",
        # Small shuffles on a small machine: Spark's default of 200 tasks per shuffle dominates small builds.
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.adaptive.enabled": "true",
        # insert_overwrite replaces only the partitions (months) a run writes.
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        "spark.sql.session.timeZone": "UTC",
    }
    command = [
        str(home / "bin" / "spark-submit"),
        "--class",
        THRIFT_SERVER_CLASS,
        "--master",
        "local[2]",
        "--driver-memory",
        driver_memory,
        "--name",
        "shegong-thrift",
    ]
    hiveconf = {"hive.server2.thrift.port": str(port), "hive.server2.thrift.bind.host": "127.0.0.1"}
    if password_check is not None:
        command += ["--driver-class-path", str(password_check.class_path)]
        hiveconf["hive.server2.authentication"] = "CUSTOM"
        hiveconf["hive.server2.custom.authentication.class"] = password_check.class_name
    for key, value in conf.items():
        command += ["--conf", f"{key}={value}"]
    for key, value in hiveconf.items():
        command += ["--hiveconf", f"{key}={value}"]
    return [*command, "spark-internal"]


def start_local_server(
    folder: Path, driver_memory: str = "1g", password_check: PasswordCheck | None = None
) -> LocalThriftServer:
    """Start a local Thrift server for `folder` (or return the one already running there) and wait until it
    answers a query."""
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    running = recorded_server(folder)
    if running is not None:
        return running
    java = java_executable()
    home = spark_home()
    port = free_port()
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "JAVA_HOME": str(Path(java).resolve().parents[1]),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(folder),
        "PYSPARK_PYTHON": os.environ.get("PYSPARK_PYTHON", "python3"),
    }
    log = folder / "thrift.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            thrift_server_command(home, folder, port, driver_memory, password_check),
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C in the shell stops shegong, and shegong stops the server
        )
    server = LocalThriftServer(pid=process.pid, port=port, folder=str(folder))
    _state_file(folder).write_text(json.dumps(asdict(server)))
    try:
        wait_until_answering(server, process, password_check.endpoint(port) if password_check else None)
    except BaseException:
        stop_local_server(server)
        raise
    return server


def _log_reason(log: Path) -> str:
    if not log.exists():
        return "no log"
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR" in line or "Exception" in line]
    return " ".join((errors or lines or ["empty log"])[-1].split())[:300]


def wait_until_answering(
    server: LocalThriftServer, process: subprocess.Popen | None = None, endpoint: SparkEndpoint | None = None
) -> None:
    endpoint = endpoint or server.endpoint
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        if process is not None and process.poll() is not None:
            raise SparkUnavailable(
                f"the local Spark Thrift server exited during start (code {process.returncode}, log "
                f"{server.log}): {_log_reason(server.log)}"
            )
        try:
            execute(endpoint, ["select 1"])
            return
        except SparkCredentialRefused:
            raise
        except SparkUnavailable:
            if time.monotonic() > deadline:
                raise SparkUnavailable(
                    f"the local Spark Thrift server (pid {server.pid}) did not answer on {server.endpoint.address} "
                    f"within {START_TIMEOUT_SECONDS} s (log {server.log}): {_log_reason(server.log)}"
                ) from None
            time.sleep(1)


def stop_local_server(server: LocalThriftServer) -> None:
    """SIGTERM to the server's own pid (Spark shuts its session down), SIGKILL after STOP_TIMEOUT_SECONDS."""
    if server.running():
        os.kill(server.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while server.running() and time.monotonic() < deadline:
            time.sleep(0.2)
        if server.running():
            os.kill(server.pid, signal.SIGKILL)
            while server.running():
                time.sleep(0.1)
    state = _state_file(Path(server.folder))
    with contextlib.suppress(FileNotFoundError):
        if json.loads(state.read_text())["pid"] == server.pid:
            state.unlink()


def remove_orphan_table_folders(server: LocalThriftServer) -> list[Path]:
    """Remove the table folders of the local server's warehouse that no table of the metastore owns; the folders
    removed.

    Why: a server killed while it created a table leaves that table's folder, with the files written so far and
    no table in the metastore, and Spark then refuses to create the table there again (LOCATION_ALREADY_EXISTS),
    so every rerun failed on it (`spark.sql.legacy.allowNonEmptyLocationInCTAS` does not lift that for
    Spark 4's `create table … as select`). Called as a run starts (`spark_endpoint`, within the warehouse's run
    lock), when no table of this warehouse is being written. Only the databases the metastore answers for are
    looked at, and only in the local server's warehouse, which is shegong's; a cluster's operator clears a
    cluster's (docs/operations.md)."""
    warehouse = Path(server.folder) / "warehouse"
    folders = {p.name.removesuffix(".db"): p for p in warehouse.glob("*.db") if p.is_dir()}
    if not folders:
        return []
    (databases,) = execute(server.endpoint, ["show databases"])
    known = sorted({name for (name,) in databases} & set(folders))
    removed = []
    for database, tables in zip(
        known, execute(server.endpoint, [f"show tables in {d}" for d in known]), strict=True
    ):
        # (namespace, tableName, isTemporary): a managed table's folder is its name, lower-cased
        owned = {name.lower() for _, name, temporary in tables if not temporary}
        for folder in sorted(folders[database].iterdir()):
            if folder.is_dir() and folder.name not in owned:
                shutil.rmtree(folder)
                removed.append(folder)
    return removed


@contextlib.contextmanager
def spark_endpoint(folder: Path) -> Iterator[SparkEndpoint]:
    """The configured endpoint; or a local server in `folder` for the duration of the block, stopped by its pid
    afterwards (unless it was already running before, e.g. `shegong spark start`)."""
    configured = endpoint_from_environment()
    if configured is not None:
        execute(configured, ["select 1"])  # fail now, with the endpoint named, not inside dbt
        yield configured
        return
    already = recorded_server(folder)
    server = already or start_local_server(folder)
    try:
        remove_orphan_table_folders(server)  # what a server killed mid-write left behind
        yield server.endpoint
    finally:
        if already is None:
            stop_local_server(server)


def register_lake(endpoint: SparkEndpoint, root: Path) -> list[str]:
    """(Re)declare every lake table as an external Parquet table in `<prefix>_raw` / `<prefix>_audit`.

    Dropped and created again each time (an external table's drop leaves its files): the schema follows the
    contract, and a fresh declaration lists the files the last export swapped in. The files' own columns are the
    table's (recursiveFileLookup: partition folders are layout, not columns)."""
    from shegong.lake import lake_tables

    statements, names = [], []
    for layer in ("raw", "audit"):
        statements.append(f"create database if not exists {endpoint.database(layer)}")
    for table in lake_tables():
        location = table.path(root)
        if not any(location.rglob("*.parquet")):
            continue
        name = f"{endpoint.database(table.layer)}.{table.name}"
        path = str(location).replace("'", "\\'")
        statements += [
            f"drop table if exists {name}",
            f"create table {name} using parquet options (path '{path}', recursiveFileLookup 'true')",
        ]
        names.append(name)
    execute(endpoint, statements)
    return names


def required_endpoint() -> SparkEndpoint:
    """The endpoint a Spark build uses: the environment's (`shegong run` exports the local server's)."""
    endpoint = endpoint_from_environment()
    if endpoint is None:
        raise SparkUnavailable(
            "SHEGONG_ENGINE=spark but no Spark endpoint is named: set SHEGONG_SPARK_HOST (and _PORT) to a running "
            "Spark Thrift server, or run through `shegong run`, which starts a local one"
        )
    return endpoint
