"""What each suite validates: `expectations/datasets.yml` maps a suite to the Dagster asset its check sits on,
the SQL producing its frame (default `select * from <suite name>`), an optional partition column for chunked
validation, and run-time suite parameters (SQL whose result GX substitutes for `$PARAMETER` references)."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from shegong.config import EXPECTATIONS_DIR

DATASETS_FILE = "datasets.yml"
DEFAULT_CHUNK_ROWS = 2_000_000


@dataclass(frozen=True)
class Dataset:
    suite: str
    asset_key: tuple[str, ...]  # the Dagster asset the check sits on
    data_asset: str  # the GX dataframe asset (a table name, or the derived dataset's name)
    sql: str
    partition_column: str | None = None
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    parameters: dict[str, str] = field(default_factory=dict)  # name → SQL
    description: str = ""
    requires: tuple[str, ...] = ()  # tables the SQL reads: the check is only built when their assets exist

    @property
    def derived(self) -> bool:
        return self.data_asset != self.suite or self.sql != f"select * from {self.suite}"


@functools.cache
def _spec(root: Path) -> dict:
    """datasets.yml with its `per_registry` entries expanded: `{registry}` in a name or SQL becomes each
    registry of the data contracts."""
    from shegong.contracts import contracts

    path = root / DATASETS_FILE
    spec = (yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None) or {}
    expanded = {}
    for template_name, template in (spec.get("per_registry") or {}).items():
        for registry in contracts():
            entry = yaml.safe_load(yaml.safe_dump(template).replace("{registry}", registry))
            expanded[template_name.replace("{registry}", registry)] = entry
    expanded.update(spec.get("datasets") or {})  # explicit entries override the templates
    return {**spec, "datasets": expanded}


def dataset_names(root: Path = EXPECTATIONS_DIR) -> list[str]:
    return sorted(_spec(root)["datasets"])


def dataset(suite: str, root: Path = EXPECTATIONS_DIR) -> Dataset:
    spec = _spec(root)
    defaults = spec.get("defaults") or {}
    entry = (spec.get("datasets") or {}).get(suite) or {}
    table = entry.get("table", suite)
    return Dataset(
        suite=suite,
        asset_key=tuple(entry.get("asset_key") or table.split(".")),
        data_asset=entry.get("data_asset", suite),
        sql=" ".join(str(entry.get("sql") or f"select * from {table}").split()),
        partition_column=entry.get("partition_column"),
        chunk_rows=int(entry.get("chunk_rows", defaults.get("chunk_rows", DEFAULT_CHUNK_ROWS))),
        parameters=dict(entry.get("parameters") or {}),
        description=" ".join(str(entry.get("description", "")).split()),
        requires=tuple(entry.get("requires") or ([table] if "sql" not in entry else [])),
    )


def builtin_parameters(today: dt.date | None = None) -> dict[str, object]:
    """Parameters every suite may use. Dates are given as 'YYYY-MM-DD 00:00:00' so GX compares them as
    datetimes against the datetime64 columns of the frame (a bare date would not compare)."""
    today = today or dt.date.today()
    return {"today": f"{today.isoformat()} 00:00:00"}
