"""A private PostgreSQL server for tests: Debian's PostgreSQL 15 binaries, `initdb` into a fresh data dir, `pg_ctl`
on 127.0.0.1 at a free port with a password (scram-sha-256) for TCP, stopped by the postmaster's own pid.

PostgreSQL refuses to run as root, so under root (CI, these machines) the binaries run as the `postgres` user
that Debian's package creates. `.ci/run` installs the package when it is missing."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

SUPERUSER = "dagster"
STOP_TIMEOUT_SECONDS = 30


def postgres_bin_dir() -> Path:
    """The newest installed server's binaries (Debian keeps them out of PATH)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not candidates:
        raise RuntimeError(
            "PostgreSQL server binaries not found under /usr/lib/postgresql: "
            "`apt-get install postgresql` (.ci/run does) and rerun"
        )
    return Path(candidates[-1]).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run_as_server_user(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        kwargs.update(user="postgres", group="postgres", extra_groups=[])
    return subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)


@dataclass
class PostgresServer:
    bin_dir: Path
    data_dir: Path
    port: int
    password: str
    pid: int

    def url(self, database: str, password: str | None = None) -> str:
        secret = quote(self.password if password is None else password, safe="")
        return f"postgresql://{SUPERUSER}:{secret}@127.0.0.1:{self.port}/{database}"

    def psql(self, database: str, sql: str) -> list[str]:
        connect = ["-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, "-d", database]
        done = subprocess.run(
            [str(self.bin_dir / "psql"), *connect, "-At", "-c", sql],
            capture_output=True,
            text=True,
            env={**os.environ, "PGPASSWORD": self.password},
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"psql on 127.0.0.1:{self.port}/{database} failed: {done.stderr.strip()}")
        return done.stdout.splitlines()

    def create_database(self, name: str) -> str:
        self.psql("postgres", f'create database "{name}"')
        return name

    def running(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def stop(self) -> None:
        """Fast shutdown (SIGINT to the postmaster), then wait for the pid to go (SIGKILL if it will not), and
        remove the private data dir."""
        try:
            self._stop_postmaster()
        finally:
            shutil.rmtree(self.data_dir.parent, ignore_errors=True)

    def _stop_postmaster(self) -> None:
        if not self.running():
            return
        os.kill(self.pid, signal.SIGINT)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.running():
            os.kill(self.pid, signal.SIGKILL)
            time.sleep(0.5)


def start_postgres(password: str) -> PostgresServer:
    bin_dir = postgres_bin_dir()
    # Not under pytest's tmp dirs: those are private to root, and the server runs as `postgres`.
    base = Path(tempfile.mkdtemp(prefix="shegong-pg-"))
    data_dir, pwfile, log = base / "data", base / "pwfile", base / "postgres.log"
    data_dir.mkdir(mode=0o700)
    pwfile.write_text(password + "\n")
    pwfile.chmod(0o600)
    if os.geteuid() == 0:
        server_user = pwd.getpwnam("postgres")
        for path in (base, data_dir, pwfile):
            os.chown(path, server_user.pw_uid, server_user.pw_gid)

    init = _run_as_server_user(
        [
            str(bin_dir / "initdb"),
            *("-D", str(data_dir), "-U", SUPERUSER, f"--pwfile={pwfile}"),
            *("--auth-host=scram-sha-256", "--auth-local=peer", "--encoding=UTF8", "--locale=C.UTF-8"),
        ]
    )
    pwfile.unlink()
    if init.returncode != 0:
        raise RuntimeError(f"initdb {data_dir} failed: {(init.stderr or init.stdout).strip()[-500:]}")

    port = free_port()
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={data_dir}"
    started = _run_as_server_user(
        [
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data_dir),
            "-o",
            options,
            "-l",
            str(log),
            "-w",
            "-t",
            "60",
            "start",
        ]
    )
    if started.returncode != 0:
        tail = log.read_text()[-1000:] if log.exists() else started.stderr
        raise RuntimeError(f"pg_ctl start on 127.0.0.1:{port} failed: {tail.strip()}")
    pid = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
    return PostgresServer(bin_dir=bin_dir, data_dir=data_dir, port=port, password=password, pid=pid)
