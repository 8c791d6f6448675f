"""Which engine builds the warehouse: embedded DuckDB (the default) or Apache Spark through a Thrift endpoint.

`SHEGONG_ENGINE=duckdb|spark` (`make run ENGINE=spark`). Ingest is the same for both (the build DuckDB file
keeps ingestion state, and the Parquet lake, `shegong.lake`, is the raw layer both engines read); the engine
decides where dbt builds the models: the dbt target `dev` (DuckDB) or `spark` (dbt-spark over Thrift, see
`shegong.engines.spark`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

ENGINE_ENV = "SHEGONG_ENGINE"
ENGINES = ("duckdb", "spark")
# The dbt target of each engine in dbt_project/profiles.yml.
DBT_TARGETS = {"duckdb": "dev", "spark": "spark"}


class EngineConfigError(ValueError):
    """The environment names an engine or endpoint that cannot be used; the message says what to set."""


def engine(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    name = (env.get(ENGINE_ENV) or "duckdb").strip().lower()
    if name not in ENGINES:
        raise EngineConfigError(
            f"{ENGINE_ENV}={env.get(ENGINE_ENV)!r} is not an engine: set it to one of {', '.join(ENGINES)} "
            "(or unset it for DuckDB)"
        )
    return name


def dbt_target(environ: Mapping[str, str] | None = None) -> str:
    return DBT_TARGETS[engine(environ)]


@contextlib.contextmanager
def engine_session(warehouse_dir: Path) -> Iterator[None]:
    """What a build on the configured engine needs for its duration. DuckDB: nothing. Spark: the endpoint the
    environment names (checked now, so an unreachable one fails before ingest), or a local Thrift server under
    `<warehouse_dir>/spark`, started for the run and stopped by its pid afterwards; its address is exported for
    dbt's `spark` target and the Dagster assets."""
    if engine() != "spark":
        yield
        return
    from shegong.engines.spark import spark_endpoint

    with spark_endpoint(warehouse_dir / "spark") as endpoint:
        saved = {name: os.environ.get(name) for name in endpoint.environment()}
        os.environ.update(endpoint.environment())
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
