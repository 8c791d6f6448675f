"""Which engine builds the warehouse: embedded DuckDB (the default) or Apache Spark through a Thrift endpoint.

`SHEGONG_ENGINE=duckdb|spark` (`make run ENGINE=spark`). Ingest is the same for both (the build DuckDB file
keeps ingestion state, and the Parquet lake, `shegong.lake`, is the raw layer both engines read); the engine
decides where dbt builds the models: the dbt target `dev` (DuckDB) or `spark` (dbt-spark over Thrift, see
`shegong.engines.spark`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

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
