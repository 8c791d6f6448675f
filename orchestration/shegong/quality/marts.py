"""Mart suites: what the marts' dbt tests do not state, from the columns the dbt manifest documents — the
documented columns are there, value ranges by column meaning, code formats — plus the derived distribution and
reconciliation suites of datasets.yml.

dbt owns the invariants its tests state (keys, not-null, accepted values, relationships): they run in `dbt
build` and reach Dagster as dbt asset checks, so they are not repeated here. Personal data in clear is one SQL
scan of every text column (`shegong.quality.personal_data`), not an expectation per column.

Read at authoring time only (`python -m shegong.quality.authoring`); Dagster never parses dbt.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from shegong.config import DBT_PROJECT_DIR
from shegong.quality import expectation_specs as a

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"

# Column-name conventions of the marts → the range or format they must hold.
_AMOUNT = re.compile(r"(^|_)(amount|yuan|budget)(_|$)")
_RATE = re.compile(r"(_pct|_percent|_rate|_share)$")
_HOURS = re.compile(r"hours")
_COUNT = re.compile(r"(_workers|_count|_stations|_agencies|_sessions|_attendees|_days|_rows|^facts)$")


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
    # A mart empty by design until something lands (analysts' reviews) says so in its dbt meta.
    if not (node.get("config", {}).get("meta") or node.get("meta") or {}).get("may_be_empty"):
        out.append(
            a.x("expect_table_row_count_to_be_between", "warning", f"marts.{name} is not empty.", min_value=1)
        )
    for column in columns:
        if _AMOUNT.search(column):
            out.append(a.between(column, f"{column} is never negative.", low=0))
        elif _RATE.search(column):
            out.append(a.between(column, f"{column} is a percentage between 0 and 100.", low=0, high=100))
        elif _HOURS.search(column) or _COUNT.search(column):
            out.append(a.between(column, f"{column} is never negative.", low=0))
        if column == "certificate_no":
            out.append(
                a.matches(column, a.CERTIFICATE_NO, "certificate_no is a 17-digit certificate number.")
            )
        elif column.endswith("_uscc"):
            out.append(a.matches(column, a.USCC, f"{column} is an 18-character unified social credit code."))
        elif column.endswith("_hash"):
            out.append(
                a.matches(column, a.HASH, f"{column} is a 64-hex keyed hash: no personal data in clear.")
            )
        elif column.endswith(("county_code", "region_code", "adcode")):
            out.append(a.matches(column, a.DIVISION_CODE, f"{column} is a 6-, 9- or 12-digit division code."))
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
        "marts.fct_certifications.reconciliation": [
            a.x(
                "expect_column_pair_values_to_be_equal",
                "blocking",
                "Row counts reconcile between layers: distinct raw worker keys = staging rows = certificate events.",
                column_A="upstream_rows",
                column_B="downstream_rows",
            ),
        ],
    }


def mart_suites(manifest_path: Path = MANIFEST) -> dict[str, list[dict]]:
    models = mart_models(_manifest(manifest_path))
    if not models:
        return {}
    suites = {f"marts.{name}": mart_suite(name, node) for name, node in sorted(models.items())}
    suites.update({k: v for k, v in derived_suites().items() if k.split(".")[1] in models})
    return suites
