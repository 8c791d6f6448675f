"""The code location, the `dg` way: every module of `shegong.defs` contributes its own `@dg.definitions`
(assets, checks, jobs, schedules, sensors, resources), and Dagster's defs-folder loader merges them
(`[tool.dg]` in pyproject.toml; `dg dev`, `dg check defs`). Importing this module loads nothing: `defs()` does.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
