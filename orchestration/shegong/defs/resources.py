"""The warehouse resource: where the build file, landing folders and published file are, and connections."""

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from shegong.config import (
    PII_KEY_VARIABLE,
    checked_pii_key,
    duckdb_config,
    settings,
    storage_version_error,
)
from shegong.ingest.pii import PiiProtector
from shegong.lake import export_tables, lake_dir
from shegong.schema import ensure_build_schema

LOCK_RETRY_SECONDS = (0.5, 1, 2, 4, 8, 16)


def open_with_backoff(path: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Another process holding the file (a stray `dg dev` step, a backup) is transient: wait and retry
    with exponential backoff, then fail with one line saying who to look for."""
    for wait in (*LOCK_RETRY_SECONDS, None):
        try:
            return duckdb.connect(path, read_only=read_only, config=duckdb_config())
        except duckdb.InvalidInputException:
            problem = storage_version_error(settings().publish_storage_version)
            if problem is None:
                raise
            raise RuntimeError(f"cannot open the build warehouse {path}: {problem}") from None
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if wait is None:
                raise RuntimeError(
                    f"cannot open the build warehouse {path}: {str(exc).splitlines()[0]} — another process holds "
                    "it; stop it (is a second `shegong run` or `dg dev` active?) and retry"
                ) from None
            time.sleep(wait)
    raise AssertionError("unreachable")


class WarehouseResource(dg.ConfigurableResource):
    """The build warehouse (DuckDB) and its landing folders; defaults come from the SHEGONG_* environment.

    `pii_key` is the HMAC key for ID numbers and phones. Configure it as dg.EnvVar("SHEGONG_PII_KEY"): Dagster
    then keeps the variable's name in run storage and shows it in the UI, never its value. None means the
    public development key (refused when `production`)."""

    build_db: str
    landing_dir: str
    warehouse_dir: str
    pii_key: str | None = None
    production: bool = False
    # The Parquet raw layer both engines read (shegong/lake.py); SHEGONG_LAKE, "" for <warehouse_dir>/lake.
    lake_dir: str = ""
    # The build schema (shegong/schema.py) is applied by the first writing connection of a run, not every one.
    _schema_applied: bool = PrivateAttr(default=False)

    @classmethod
    def from_environment(cls) -> "WarehouseResource":
        current = settings()
        return cls(
            build_db=str(current.build_db),
            landing_dir=str(current.landing_dir),
            warehouse_dir=str(current.warehouse_dir),
            pii_key=dg.EnvVar(PII_KEY_VARIABLE) if not current.uses_development_key else None,
            production=current.production,
            lake_dir=str(lake_dir(current.warehouse_dir)),
        )

    @property
    def uses_development_key(self) -> bool:
        return checked_pii_key(self.pii_key, self.production) != self.pii_key

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir)

    @property
    def lake(self) -> Path:
        return Path(self.lake_dir) if self.lake_dir else Path(self.warehouse_dir) / "lake"

    @property
    def published_db(self) -> Path:
        return Path(self.warehouse_dir) / "shegong.duckdb"

    def export_to_lake(self, con: duckdb.DuckDBPyConnection, tables: list[str]) -> dict[str, int]:
        """Write build tables (`raw.workers`, `audit.quarantined_rows` …) to the Parquet lake, rows per table."""
        return export_tables(con, self.lake, tables)

    def protector(self) -> PiiProtector:
        return PiiProtector(checked_pii_key(self.pii_key, self.production))

    @contextlib.contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection closed on exit: dbt and validation open the same file within the same process."""
        Path(self.build_db).parent.mkdir(parents=True, exist_ok=True)
        con = open_with_backoff(self.build_db, read_only)
        try:
            if not read_only and not self._schema_applied:
                ensure_build_schema(con)
                self._schema_applied = True
            yield con
        finally:
            con.close()


@dg.definitions
def defs() -> dg.Definitions:
    # DuckDB allows one writing process: every step of a run shares this process and the file.
    return dg.Definitions(
        resources={"warehouse": WarehouseResource.from_environment()}, executor=dg.in_process_executor
    )
