"""Mart suites: the statistical expectations on the marts that dbt expresses poorly — the derived distribution
suites of datasets.yml (a month's certified-worker total against the month before).

dbt owns the invariants of the marts, each stated once as a test of the model (keys, not-null, accepted values,
relationships, code formats, value ranges, the documented columns present, non-empty marts, row counts
reconciled across layers, station coverage and the monthly marts current): they run in `dbt build` and reach
Dagster as dbt asset checks, so they are not repeated here. Personal data in clear is one SQL scan of every text
column (`shegong.quality.personal_data`), not an expectation per column.

Read at authoring time only (`python -m shegong.quality.authoring`); Dagster never parses dbt.
"""

from __future__ import annotations

import json
from pathlib import Path

from shegong.config import DBT_PROJECT_DIR
from shegong.quality import expectation_specs as a

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"


def _manifest(path: Path = MANIFEST) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"nodes": {}}


def mart_names(manifest: dict) -> set[str]:
    """The names of the models (and snapshots) the manifest builds in the marts schema."""
    return {
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] in ("model", "snapshot") and n["schema"] == "marts"
    }


def derived_suites() -> dict[str, list[dict]]:
    return {
        "marts.fct_workforce_monthly.month_over_month": [
            a.between(
                "change_pct",
                "No month's certified-worker total falls by more than 30% from the previous month: a drop that "
                "large usually means missing registry files, not workers leaving.",
                severity="warning",
                low=-30,
            ),
            a.between("certified_workers", "Every month has certified workers.", severity="warning", low=1),
        ],
    }


def mart_suites(manifest_path: Path = MANIFEST) -> dict[str, list[dict]]:
    """The derived suites whose marts the dbt manifest has."""
    marts = mart_names(_manifest(manifest_path))
    return {k: v for k, v in derived_suites().items() if k.split(".")[1] in marts}
