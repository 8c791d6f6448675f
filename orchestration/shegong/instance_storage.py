"""The Dagster instance's storage, chosen from the environment by the one dagster.yaml of the project.

SQLite under <DAGSTER_HOME>/<base_dir> by default (a relative base_dir is resolved against DAGSTER_HOME, not the
working directory, so `dagster dev`, `dagster-daemon run` and `shegong run` started from anywhere share one run
history). PostgreSQL for runs, event logs and schedules/sensors when the environment names a server:

- SHEGONG_PG_URL=postgresql://user:password@host:5432/dagster, or
- DAGSTER_PG_HOST (+ DAGSTER_PG_USERNAME, DAGSTER_PG_PASSWORD, DAGSTER_PG_DB, DAGSTER_PG_PORT).

The URL's driver is always psycopg2: SQLAlchemy 2.1 maps a bare `postgresql://` to psycopg 3, which
dagster-postgres does not install, so a plain URL is rewritten to `postgresql+psycopg2://` (an explicit driver
is kept). PostgreSQL needs the `postgres` extra (`pip install -e '.[postgres]'`: dagster-postgres 0.29.27, the
release paired with dagster 1.13.27); `make install` installs it for development and tests.

Dagster's `storage:` block is a selector (sqlite | postgres | custom) without conditionals, so this class is
the `custom` storage: it returns Dagster's own SQLite storage (its event log writing a batch of events in one
transaction, shegong.dagster_internals) or PostgreSQL storage, built per process from the environment (the
daemon, webserver and run workers each rehydrate it from dagster.yaml).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from dagster import Field, StringSource

from shegong.dagster_internals import (
    ConfigurableClass,
    ConfigurableClassData,
    DagsterStorage,
    ShegongSqliteStorage,
)

PG_URL_ENV = "SHEGONG_PG_URL"
PG_HOST_ENV = "DAGSTER_PG_HOST"
POSTGRES_PACKAGE = "dagster-postgres==0.29.27"
# dagster-postgres depends on psycopg2; SQLAlchemy 2.1's default driver for postgresql:// is psycopg (3).
PG_DRIVER_SCHEME = "postgresql+psycopg2"


def postgres_url(environ: Mapping[str, str] | None = None) -> str | None:
    """The PostgreSQL connection string the environment names, or None for SQLite."""
    env = os.environ if environ is None else environ
    if env.get(PG_URL_ENV):
        return with_psycopg2_driver(env[PG_URL_ENV])
    if env.get(PG_HOST_ENV):
        user = quote(env.get("DAGSTER_PG_USERNAME", "dagster"))
        password = env.get("DAGSTER_PG_PASSWORD", "")
        userinfo = f"{user}:{quote(password)}" if password else user
        host, port = env[PG_HOST_ENV], env.get("DAGSTER_PG_PORT", "5432")
        return f"{PG_DRIVER_SCHEME}://{userinfo}@{host}:{port}/{env.get('DAGSTER_PG_DB', 'dagster')}"
    return None


def with_psycopg2_driver(url: str) -> str:
    """`postgresql://` or `postgres://` names no driver, and SQLAlchemy 2.1 would pick psycopg 3; name psycopg2.
    A URL that names its driver (`postgresql+...://`) is left as it is."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme in ("postgresql", "postgres"):
        return f"{PG_DRIVER_SCHEME}://{rest}"
    return url


def postgres_location(url: str) -> str:
    """host:port/database of a PostgreSQL URL, for messages: never the user's password."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return f"{parsed.host}:{parsed.port or 5432}/{parsed.database}"


def connection_reason(exc: BaseException) -> str:
    """The server's own reason on one line ('password authentication failed for user …', 'Connection refused')."""
    text = " ".join(str(getattr(exc, "orig", None) or exc).split())
    reason = text.rsplit("failed:", 1)[-1].strip()
    return reason.removeprefix("FATAL:").strip() or type(exc).__name__


def sqlite_dir(base_dir: str, environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    path = Path(base_dir).expanduser()
    if not path.is_absolute():
        path = Path(env.get("DAGSTER_HOME") or os.getcwd()) / path
    return str(path.resolve())


class ShegongStorage(DagsterStorage, ConfigurableClass):
    """Factory only: from_config_value returns Dagster's SQLite storage (writing event batches in one transaction,
    shegong.dagster_internals.ShegongSqliteStorage) or a DagsterPostgresStorage."""

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return {"base_dir": Field(StringSource, is_required=False, default_value="storage")}

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]
    ) -> DagsterStorage:
        url = postgres_url()
        if url is None:
            return ShegongSqliteStorage.from_local(sqlite_dir(config_value["base_dir"]))
        try:
            from dagster_postgres import DagsterPostgresStorage
        except ImportError as exc:
            raise RuntimeError(
                f"{PG_URL_ENV} or {PG_HOST_ENV} is set, so the Dagster instance wants PostgreSQL storage, but "
                f"dagster-postgres is not installed: `.venv/bin/pip install -e '.[postgres]'` ({POSTGRES_PACKAGE}; "
                "or unset the variable for the local SQLite storage)"
            ) from exc
        try:
            return DagsterPostgresStorage(postgres_url=url)
        except Exception as exc:  # psycopg2 / SQLAlchemy OperationalError, after dagster-postgres' retries
            raise RuntimeError(
                f"cannot connect to Dagster's PostgreSQL storage at {postgres_location(url)}: {connection_reason(exc)} "
                f"— check the server is up and {PG_URL_ENV} (or DAGSTER_PG_*) names the right host, port, database, "
                "user and password"
            ) from None

    # Never instantiated: from_config_value returns Dagster's own storages.
    @property
    def inst_data(self) -> ConfigurableClassData | None:  # pragma: no cover
        raise NotImplementedError

    @property
    def run_storage(self):  # pragma: no cover
        raise NotImplementedError

    @property
    def event_log_storage(self):  # pragma: no cover
        raise NotImplementedError

    @property
    def schedule_storage(self):  # pragma: no cover
        raise NotImplementedError
