"""Mart suites, written from the dbt manifest (columns and tests the mart models document) plus the rules dbt
tests do not state: value ranges by column meaning, code formats, the personal-data guard, referential
integrity as GX suite parameters, and the derived reconciliation/distribution suites of datasets.yml.

Read at authoring time only (`python -m shegong.quality.authoring`); Dagster never parses dbt.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from shegong.config import DBT_PROJECT_DIR

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"

# Column-name conventions of the marts → the range or format they must hold.
_AMOUNT = re.compile(r"(^|_)(amount|yuan|budget)(_|$)")
_RATE = re.compile(r"(_pct|_percent|_rate|_share)$")
_HOURS = re.compile(r"hours")
_COUNT = re.compile(r"(_workers|_count|_stations|_agencies|_sessions|_attendees|_days|_rows|^facts)$")
_NOT_TEXT = re.compile(r"(_sk|_key|_id|_hash|_on|_date|_month|_year|_at|_start|_end|_from|_to|_rows|_count)$")


def _manifest(path: Path = MANIFEST) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"nodes": {}}


def _ref_name(to: str) -> str:
    match = re.search(r"ref\(\s*['\"]([^'\"]+)['\"]\s*\)", to)
    return match.group(1) if match else to


def mart_models(manifest: dict) -> dict[str, dict]:
    return {
        n["name"]: n
        for n in manifest["nodes"].values()
        if n["resource_type"] in ("model", "snapshot") and n["schema"] == "marts"
    }


def _tests_by_model(manifest: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or not node.get("test_metadata") or not node.get("attached_node"):
            continue
        model = node["attached_node"].split(".")[-1]
        meta = node["test_metadata"]
        kwargs = dict(meta.get("kwargs") or {})
        kwargs.update(kwargs.pop("arguments", None) or {})
        out.setdefault(model, []).append(
            {
                "name": meta["name"],
                "column": node.get("column_name") or kwargs.get("column_name"),
                "kwargs": kwargs,
            }
        )
    return out


def mart_suite(name: str, node: dict, tests: list[dict], schemas: dict[str, str]) -> tuple[list[dict], dict]:
    """(expectations, run-time parameters) of one mart."""
    from shegong.quality import authoring as a

    columns = list(node.get("columns") or {})
    out: list[dict] = []
    parameters: dict[str, str] = {}
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
    seen: set[tuple] = set()
    for test in sorted(tests, key=lambda t: (t["name"], str(t["column"]))):
        column, kwargs = test["column"], test["kwargs"]
        key = (test["name"], column, json.dumps(kwargs, sort_keys=True, default=str))
        if key in seen:
            continue
        seen.add(key)
        if test["name"] == "not_null" and column:
            out.append(a.not_null(column, f"a {column}"))
        elif test["name"] == "unique" and column:
            out.append(a.unique([column], f"the key {column}"))
        elif test["name"] == "unique_combination" and kwargs.get("columns"):
            cols = list(kwargs["columns"])
            out.append(a.unique(cols, f"the grain {' × '.join(cols)}"))
        elif test["name"] == "accepted_values" and column and kwargs.get("values"):
            values = sorted(str(v) for v in kwargs["values"])
            out.append(
                a.in_set(column, values, f"{column} holds only the documented values ({', '.join(values)}).")
            )
        elif test["name"] == "relationships" and column and kwargs.get("to") and kwargs.get("field"):
            target, field = _ref_name(kwargs["to"]), kwargs["field"]
            schema = schemas.get(target, "marts")
            parameter = f"{target}__{field}_keys"
            parameters[parameter] = (
                f"select distinct {field} from {schema}.{target} where {field} is not null"
            )
            out.append(
                a.in_set(
                    column,
                    {"$PARAMETER": parameter},
                    f"Every {column} points at an existing {target}.{field} (referential integrity).",
                )
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
    for column in columns:
        if (
            not _NOT_TEXT.search(column)
            and not _AMOUNT.search(column)
            and not _RATE.search(column)
            and not _COUNT.search(column)
            and not _HOURS.search(column)
            and column != "certificate_no"
            and not column.endswith("sha256")  # a file digest: its own format check proves what it is
        ):
            out += a.no_personal_numbers(column)
    return out, parameters


def derived_suites() -> dict[str, list[dict]]:
    from shegong.quality import authoring as a

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
    manifest = _manifest(manifest_path)
    models = mart_models(manifest)
    if not models:
        return {}
    schemas = {
        n["name"]: n["schema"]
        for n in manifest["nodes"].values()
        if n["resource_type"] in ("model", "snapshot", "seed")
    }
    tests = _tests_by_model(manifest)
    suites = {}
    for name, node in sorted(models.items()):
        expectations, _ = mart_suite(name, node, tests.get(name, []), schemas)
        suites[f"marts.{name}"] = expectations
    suites.update({k: v for k, v in derived_suites().items() if k.split(".")[1] in models})
    return suites


def mart_parameters(manifest_path: Path = MANIFEST) -> dict[str, dict[str, str]]:
    """Suite → run-time key-set parameters (for datasets.yml: the generator keeps them in sync)."""
    manifest = _manifest(manifest_path)
    schemas = {
        n["name"]: n["schema"]
        for n in manifest["nodes"].values()
        if n["resource_type"] in ("model", "snapshot", "seed")
    }
    tests = _tests_by_model(manifest)
    return {
        f"marts.{name}": mart_suite(name, node, tests.get(name, []), schemas)[1]
        for name, node in mart_models(manifest).items()
    }
