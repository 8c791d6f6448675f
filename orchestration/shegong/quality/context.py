"""The Great Expectations file context in `expectations/`, loaded quietly and once per process.

GX is used with its pandas engine on frames pulled from DuckDB (GX on DuckDB through SQLAlchemy fails in metric
resolution). Two process-wide settings make that fast and quiet:
  * progress bars are off in `great_expectations.yml` (`progress_bars: {globally: false}`), analytics off;
  * the pandas engine fingerprints every batch (an md5 over `hash_pandas_object`, 2 s per million Arrow-backed
    rows, recomputed per validation). We validate frames we have just pulled, so the fingerprint serves nothing:
    `HASH_THRESHOLD = 0` skips it (the engine hashes only frames smaller than the threshold).
"""

from __future__ import annotations

import functools
import json
import logging
import os
from pathlib import Path

from shegong.config import EXPECTATIONS_DIR

DATASOURCE = "warehouse"
BATCH_DEFINITION = "whole_frame"
SEVERITIES = ("blocking", "warning")


def quiet_gx() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    _fast_flat_sequences()


_SEQUENCES = (list, tuple, set, frozenset)
_SCALARS = frozenset((str, int, float, bool, type(None)))


def _fast_flat_sequences() -> None:
    """GX rebuilds an expectation's configuration with pydantic's `.dict()` on every access (~170 times per
    expectation in one validation), and pydantic copies a list element by element through `_get_value`: a
    key set of a million dimension keys (`value_set` from a suite parameter) then costs minutes per
    expectation. For a flat list/tuple/set of plain scalars `_get_value` returns a copy of the same elements
    anyway; this takes that path in one C-level copy. Anything else goes through pydantic unchanged."""
    from great_expectations.expectations.expectation import Expectation

    original = Expectation._get_value
    if getattr(original, "_shegong_fast", False):
        return
    generic = original.__func__

    def _get_value(
        cls, v, to_dict, by_alias, include, exclude, exclude_unset, exclude_defaults, exclude_none
    ):
        if (
            include is None
            and exclude is None
            and type(v) in _SEQUENCES
            and _SCALARS.issuperset(map(type, v))
        ):
            return type(v)(v)
        return generic(
            cls, v, to_dict, by_alias, include, exclude, exclude_unset, exclude_defaults, exclude_none
        )

    _get_value._shegong_fast = True
    Expectation._get_value = classmethod(_get_value)


@functools.cache
def file_context(root: Path = EXPECTATIONS_DIR):
    """The project's FileDataContext (suites, datasource assets, validation definitions, checkpoints)."""
    quiet_gx()
    import great_expectations as gx

    return gx.get_context(mode="file", context_root_dir=str(root))


def suite_files(root: Path = EXPECTATIONS_DIR) -> dict[str, Path]:
    """Suite name → JSON file, read without GX (cheap: used when Dagster loads the code location)."""
    found = {}
    for path in sorted((root / "expectations").rglob("*.json")):
        found[json.loads(path.read_text(encoding="utf-8"))["name"]] = path
    return found


def suite_spec(name: str, root: Path = EXPECTATIONS_DIR) -> dict:
    """A suite's JSON as committed: expectations with their meta (severity, meaning)."""
    return json.loads(suite_files(root)[name].read_text(encoding="utf-8"))


@functools.cache
def load_suites(root: Path = EXPECTATIONS_DIR) -> dict:
    """Every ExpectationSuite of the file context, by name (GX parses and checks every expectation)."""
    context = file_context(root)
    return {suite.name: suite for suite in context.suites.all()}


def batch_definition(data_asset: str, root: Path = EXPECTATIONS_DIR):
    return (
        file_context(root)
        .data_sources.get(DATASOURCE)
        .get_asset(data_asset)
        .get_batch_definition(BATCH_DEFINITION)
    )
