"""The Great Expectations file context in `expectations/`, loaded quietly: once per process for its suites, and
once more for each frame validated side by side (`validation_context`).

GX is used with its pandas engine on frames pulled from DuckDB (GX on DuckDB through SQLAlchemy fails in metric
resolution). Process-wide settings make that fast and quiet:
  * progress bars are off in `great_expectations.yml` (`progress_bars: {globally: false}`), analytics off;
  * the pandas engine fingerprints every batch (an md5 over `hash_pandas_object`, 2 s per million Arrow-backed
    rows, recomputed per validation). We validate frames we have just pulled, so the fingerprint serves nothing:
    `HASH_THRESHOLD = 0` skips it (the engine hashes only frames smaller than the threshold).
What GX is slow at (key sets of a million values, regexes over every text column) is not asked of it: dbt tests
the marts' relationships and the personal-data scan is SQL (`shegong.quality.personal_data`).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import threading
from collections.abc import Iterator
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


def _open_file_context(root: Path):
    quiet_gx()
    import great_expectations as gx

    return gx.get_context(mode="file", context_root_dir=str(root))


@functools.cache
def file_context(root: Path = EXPECTATIONS_DIR):
    """The project's FileDataContext (suites, datasource assets, validation definitions, checkpoints)."""
    return _open_file_context(root)


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


# Frames are validated side by side (shegong.quality.runner), each with a context of its own: a datasource's one
# execution engine files every frame of an asset under the same batch id, so it can validate one at a time.
WORKERS = 2
_contexts_lock = threading.Lock()
_idle_contexts: dict[Path, list] = {}
_opened_contexts: dict[Path, int] = {}
_definitions: dict[tuple[int, str], object] = {}


@contextlib.contextmanager
def validation_context(root: Path = EXPECTATIONS_DIR) -> Iterator:
    """A file context no other validation is using, for the time of one validation (the project's own, or one
    more opened when validations run side by side)."""
    with _contexts_lock:
        idle = _idle_contexts.setdefault(root, [])
        if idle:
            context = idle.pop()
        else:
            opened = _opened_contexts.get(root, 0)
            context = file_context(root) if opened == 0 else _open_file_context(root)
            _opened_contexts[root] = opened + 1
    try:
        yield context
    finally:
        with _contexts_lock:
            _idle_contexts[root].append(context)


def batch_definition(context, data_asset: str):
    key = (id(context), data_asset)
    if key not in _definitions:
        asset = context.data_sources.get(DATASOURCE).get_asset(data_asset)
        _definitions[key] = asset.get_batch_definition(BATCH_DEFINITION)
    return _definitions[key]
