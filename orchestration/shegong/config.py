"""Where things live. Every path can be moved by one environment variable; nothing else reads os.environ
(the PII key reaches Dagster's resource as a dg.EnvVar, never as a config value).

SHEGONG_DUCKDB names the build warehouse file for both dbt's profile and Dagster's resource: ingest and dbt
write there, validation reads it, and publishing copies it to the file BI tools open. SHEGONG_DUCKDB_MEMORY_LIMIT
caps DuckDB's memory in dbt and in the pipeline's own connections alike (DuckDB spills to disk beyond it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(os.environ.get("SHEGONG_PROJECT_DIR", Path(__file__).resolve().parents[2]))
DBT_PROJECT_DIR = PROJECT_DIR / "dbt_project"
CONTRACTS_DIR = PROJECT_DIR / "sources" / "contracts"
EXPECTATIONS_DIR = PROJECT_DIR / "expectations"

# DuckDB's own default is 80% of RAM per process; dbt runs beside the pipeline's process, so both get a cap
# that keeps the whole build under 4 GiB (see docs/benchmarks.md).
DEFAULT_DUCKDB_MEMORY_LIMIT = "2GB"

# The oldest DuckDB storage format that keeps the marts' types: DuckDB 1.1 and later, the node client and the
# JDBC drivers BI tools bundle read it (the engine's own default, v2.0, only DuckDB 2 reads).
DEFAULT_STORAGE_VERSION = "v1.0.0"

# How every Parquet file the pipeline writes (the lake, the publication's exports) is encoded. zstd at level 1,
# not DuckDB's default level 3: measured at `large` (2026-12-04), the four biggest marts wrote in 5.7 s instead of
# 7.3 s and came out 4% smaller, raw.workers by month in 1.7 s instead of 2.2 s at the same size. The level is
# the writer's alone: every Parquet reader decodes it the same.
PARQUET_OPTIONS = "format parquet, compression zstd, compression_level 1"

# Development default only: production sets SHEGONG_PII_KEY so hashes cannot be recomputed from public IDs.
DEVELOPMENT_PII_KEY = "shegong-development-pii-key-do-not-use-in-production"
PII_KEY_VARIABLE = "SHEGONG_PII_KEY"
DEVELOPMENT_KEY_WARNING = (
    "personal data hashed with the public development key: anyone can recompute these hashes from known ID "
    "numbers; set SHEGONG_PII_KEY to a secret of your own (and SHEGONG_ENV=production to require it)"
)


class ConfigurationError(RuntimeError):
    """The environment asks for something the project will not do (e.g. production with the public key)."""


REGISTRIES = (
    "workers",
    "stations",
    "agencies",
    "funding",
    "training_sessions",
    "training_attendance",
    "regions",
)
LANDING_FOLDERS = (*REGISTRIES, "reports")


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    warehouse_dir: Path
    build_db: Path
    pii_key: str
    duckdb_memory_limit: str
    # The DuckDB storage format of the published file (SHEGONG_PUBLISH_STORAGE_VERSION); see publish.py.
    publish_storage_version: str
    production: bool = False

    @property
    def uses_development_key(self) -> bool:
        return self.pii_key == DEVELOPMENT_PII_KEY

    @property
    def published_db(self) -> Path:
        """The file BI tools open: only ever a fully built, validated warehouse."""
        return self.warehouse_dir / "shegong.duckdb"

    @property
    def exports_dir(self) -> Path:
        """Parquet exports of each publication (<version>/ folders and the `current` symlink)."""
        return self.warehouse_dir / "exports"

    @property
    def validation_reports_dir(self) -> Path:
        return self.warehouse_dir / "validation"

    @property
    def alerts_dir(self) -> Path:
        return self.warehouse_dir / "alerts"

    def landing(self, folder: str) -> Path:
        return self.landing_dir / folder


def settings() -> Settings:
    warehouse = Path(os.environ.get("SHEGONG_WAREHOUSE_DIR", PROJECT_DIR / "warehouse")).resolve()
    build_db = Path(os.environ.get("SHEGONG_DUCKDB", warehouse / "build" / "shegong_build.duckdb")).resolve()
    return Settings(
        landing_dir=Path(os.environ.get("SHEGONG_LANDING", PROJECT_DIR / "sources" / "landing")).resolve(),
        warehouse_dir=warehouse,
        build_db=build_db,
        pii_key=os.environ.get(PII_KEY_VARIABLE) or DEVELOPMENT_PII_KEY,
        duckdb_memory_limit=os.environ.get("SHEGONG_DUCKDB_MEMORY_LIMIT", DEFAULT_DUCKDB_MEMORY_LIMIT),
        publish_storage_version=os.environ.get("SHEGONG_PUBLISH_STORAGE_VERSION", DEFAULT_STORAGE_VERSION),
        production=os.environ.get("SHEGONG_ENV", "").lower() == "production",
    )


def checked_pii_key(key: str | None, production: bool) -> str:
    """The key to hash personal data with: `key`, or in development the public default. Production refuses to
    run on the public key (or none)."""
    if key and key != DEVELOPMENT_PII_KEY:
        return key
    if production:
        raise ConfigurationError(
            "SHEGONG_ENV=production but SHEGONG_PII_KEY is unset or the public development key: set "
            "SHEGONG_PII_KEY to a secret of your own (e.g. `openssl rand -hex 32`) in the environment of the "
            "webserver, the daemon and `shegong run`"
        )
    return DEVELOPMENT_PII_KEY


@contextmanager
def environment_set(values: dict[str, str]) -> Iterator[None]:
    """The variables set for the duration of the block (then as they were), for the libraries that read their
    switches from the process environment (Dagster's event storage, the dbt subprocess dagster-dbt starts)."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def export_build_db_env(current: Settings) -> None:
    """dbt reads the build file's path and memory cap from the environment; make sure it sees Dagster's."""
    os.environ["SHEGONG_DUCKDB"] = str(current.build_db)
    os.environ["SHEGONG_DUCKDB_MEMORY_LIMIT"] = current.duckdb_memory_limit


def duckdb_config() -> dict[str, str]:
    """Settings for every connection the pipeline opens on the build file (one DuckDB instance per process). A
    build file is created in the publication's storage version, so that publishing is a byte copy of it (see
    shegong/publish.py); an existing file keeps the version it was written in."""
    current = settings()
    return {
        "memory_limit": current.duckdb_memory_limit,
        "storage_compatibility_version": current.publish_storage_version,
    }


def storage_version_error(version: str) -> str | None:
    """Why DuckDB cannot write files in storage `version`, as one line naming the setting; None when it can."""
    import duckdb

    try:
        duckdb.connect(config={"storage_compatibility_version": version}).close()
    except duckdb.Error as exc:
        return (
            f"SHEGONG_PUBLISH_STORAGE_VERSION={version!r} is not a storage version this DuckDB writes "
            f"({str(exc).splitlines()[0][:120]}): use e.g. v1.0.0"
        )
    return None
