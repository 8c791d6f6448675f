"""Mart suites: what the marts' dbt tests do not state — the columns the dbt manifest documents are there (the
published interface BI reports rely on) — plus the derived distribution suite of datasets.yml.

dbt owns the invariants its tests state (keys, not-null, accepted values, relationships, code formats, value
ranges, non-empty marts, row counts reconciled across layers, station coverage and the monthly marts current):
they run in `dbt build` and reach Dagster as dbt asset checks, so they are not repeated here. Personal data in
clear is one SQL scan of every text column (`shegong.quality.personal_data`), not an expectation per column.

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


def mart_models(manifest: dict) -> dict[str, dict]:
    return {
        n["name"]: n
        for n in manifest["nodes"].values()
        if n["resource_type"] in ("model", "snapshot") and n["schema"] == "marts"
    }


def mart_suite(name: str, node: dict) -> list[dict]:
    """The expectations of one mart."""
    columns = list(node.get("columns") or {})
    out: list[dict] = []
    if columns:
        out.append(
            a.x(
                "expect_table_columns_to_match_set",
                "blocking",
                f"marts.{name} has every column its dbt documentation describes (BI reports rely on them).",
                column_set=columns,
                exact_match=False,
            )
        )
    # Code formats, value ranges, emptiness and row counts across layers are dbt tests of the model
    # (code_formats, within_range, has_rows, row_count_matches in dbt_project/tests/generic): one owner per
    # invariant. The regexes cost about the same in SQL as in GX's Arrow kernels (fct_certifications' five
    # code columns at `large`: 0.38 s in DuckDB, 0.55 s in GX); what moving them saved is GX's per-suite work.
    return out


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
    models = mart_models(_manifest(manifest_path))
    if not models:
        return {}
    suites = {f"marts.{name}": mart_suite(name, node) for name, node in sorted(models.items())}
    suites.update({k: v for k, v in derived_suites().items() if k.split(".")[1] in models})
    return suites
