"""The engine's resources for the duration of a run (kept apart from `shegong.engines`, which every Spark module
imports, so that the package does not import them back)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from shegong.config import environment_set
from shegong.engines import engine
from shegong.engines.spark import spark_endpoint


@contextlib.contextmanager
def engine_session(warehouse_dir: Path) -> Iterator[None]:
    """What a build on the configured engine needs for its duration. DuckDB: nothing. Spark: the endpoint the
    environment names (checked now, so an unreachable one fails before ingest), or a local Thrift server under
    `<warehouse_dir>/spark`, started for the run and stopped by its pid afterwards; its address is exported for
    dbt's `spark` target and the Dagster assets."""
    if engine() != "spark":
        yield
        return
    with spark_endpoint(warehouse_dir / "spark") as endpoint, environment_set(endpoint.environment()):
        yield
