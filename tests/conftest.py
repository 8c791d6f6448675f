"""Test-wide environment: every SHEGONG_* path points into one temporary folder before any test imports the
Dagster definitions (whose resources read the environment), so no test touches the developer's warehouse."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_ROOT = Path(tempfile.mkdtemp(prefix="shegong-tests-"))
os.environ["SHEGONG_LANDING"] = str(_ROOT / "landing")
os.environ["SHEGONG_WAREHOUSE_DIR"] = str(_ROOT / "warehouse")
os.environ["SHEGONG_DUCKDB"] = str(_ROOT / "warehouse" / "build" / "shegong_build.duckdb")
os.environ["DAGSTER_HOME"] = str(_ROOT / "dagster_home")
os.environ.setdefault("SHEGONG_PII_KEY", "test-pii-key")
# Partitions from a fixed month: otherwise they start at the first month in whatever landing a test filled.
os.environ.setdefault("SHEGONG_FIRST_MONTH", "2023-01")
(_ROOT / "dagster_home").mkdir(parents=True, exist_ok=True)


def test_root() -> Path:
    return _ROOT


@pytest.fixture(autouse=True)
def _fresh_dagster_state_storage():
    """Dagster keeps the state storage of the last instance entered in a context variable; a test context that
    opens an instance from a ref and never closes it leaves a dead weak reference there, and every later
    Definitions load in the session fails. Each test starts without one."""
    from shegong.dagster_internals import without_current_state_storage

    with without_current_state_storage():
        yield
