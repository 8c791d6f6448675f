"""Writing the GX file context in `expectations/`: suites (raw ones derived from the data contracts, mart ones
from `shegong.quality.marts`), the pandas datasource with one dataframe asset per validated table or derived
dataset, a validation definition per suite and the `warehouse` checkpoint.

Run `python -m shegong.quality.authoring` after changing a contract, a mart spec or `datasets.yml`, and commit
the result; `tests/unit/test_quality_suites.py` fails when the committed files are out of date.
Ids are uuid5 of the names, so regenerating an unchanged project changes nothing.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import yaml

from shegong.config import EXPECTATIONS_DIR
from shegong.contracts import Contract, contracts
from shegong.ingest.load import raw_columns
from shegong.ingest.reports import DOCUMENT_COLUMNS, FACT_COLUMNS, PROVENANCE_COLUMNS
from shegong.ingest.rows import REASON_CODES
from shegong.quality.context import BATCH_DEFINITION, DATASOURCE
from shegong.quality.datasets import dataset
from shegong.quality.expectation_specs import (
    CERTIFICATE_NO,
    DIVISION_CODE,
    HASH,
    MASKED_NAME,
    TODAY,
    USCC,
    between,
    columns_exactly,
    date_bound,
    in_set,
    matches,
    not_null,
    unique,
    x,
)
from shegong.quality.marts import mart_suites

GX_VERSION = "1.24.1"
_NS = uuid.UUID("5b1d6a8e-3c1f-4e0a-9d54-6f0e7c2a9b11")


def uid(*parts: str) -> str:
    return str(uuid.uuid5(_NS, "/".join(parts)))


# ---- raw registries, from their contracts ---------------------------------------------------------------
def raw_suite(contract: Contract) -> list[dict]:
    columns = raw_columns(contract)
    names = [n for n, _ in columns]
    table = contract.raw_table
    key = [contract.by_name[k].raw_columns[0] for k in contract.primary_key]
    key_label = " + ".join(key)
    out = [
        columns_exactly(
            names, f"the {contract.registry} contract maps to (protected personal data, then provenance)"
        ),
        x(
            "expect_table_row_count_to_be_between",
            "warning",
            f"{table} holds rows: an empty table means no {contract.registry} file was ingested.",
            min_value=1,
        ),
    ]
    for column in key:
        out.append(not_null(column, f"its key column {column}"))
    if contract.key_scope == "period":
        out.append(
            unique(
                [*key, "_period_month"],
                f"{key_label} within a reporting month: a record appears once a month",
            )
        )
    else:
        out.append(unique(key, f"{key_label}: the key is unique across every file ever received"))
    for column in contract.columns:
        raw = column.raw_columns
        if column.required and raw[0] not in key:
            for name in raw:
                out.append(not_null(name, f"a {name} (required by the contract)"))
        if column.pii == "id_number":
            out.append(
                matches(raw[0], HASH, f"{raw[0]} is a 64-hex keyed hash: ID numbers never land in clear.")
            )
            out.append(
                matches(
                    raw[1], r"^\d{4}-\d{4}$", "Birth years are only kept as five-year bands (e.g. 1980-1984)."
                )
            )
            out.append(
                in_set(raw[2], ["male", "female"], "Gender derived from the ID number is male or female.")
            )
        elif column.pii == "phone":
            out.append(
                matches(raw[0], HASH, f"{raw[0]} is a 64-hex keyed hash: phone numbers never land in clear.")
            )
        elif column.pii == "name":
            out.append(
                matches(
                    raw[0],
                    MASKED_NAME,
                    f"{raw[0]} keeps only the first character of a name, the rest masked.",
                )
            )
        elif column.format == "certificate_no":
            out.append(
                matches(column.name, CERTIFICATE_NO, f"{column.name} is a 17-digit certificate number.")
            )
        elif column.format in ("region_code", "division_code"):
            out.append(
                matches(
                    column.name,
                    DIVISION_CODE if column.format == "region_code" else r"^\d{9}(?:\d{3})?$",
                    f"{column.name} is a 6-, 9- or 12-digit administrative division code."
                    if column.format == "region_code"
                    else f"{column.name} is a 9-digit township or 12-digit village code.",
                )
            )
        elif column.format == "cn_uscc":
            out.append(
                matches(column.name, USCC, f"{column.name} is an 18-character unified social credit code.")
            )
        if column.type == "enum":
            out.append(
                in_set(
                    column.name,
                    sorted(column.values),
                    f"{column.name} holds only the contract's codes ({', '.join(sorted(column.values))}).",
                )
            )
        if column.type == "date":
            low = date_bound(str(column.min)) if column.min not in (None, "period_end") else None
            # Only dates the contract bounds by the reporting month (facts that already happened) are checked
            # against today; a contract's service period may run years ahead.
            if column.max == "period_end":
                meaning = f"{column.name} is a plausible date: not before {column.min or 'records began'} and not in the future."
                out.append(between(column.name, meaning, low=low, high=TODAY))
            elif low is not None:
                out.append(between(column.name, f"{column.name} is not before {column.min}.", low=low))
        if column.type in ("integer", "decimal") and (column.min is not None or column.max is not None):
            bounds = " and ".join(
                p
                for p in (
                    f"at least {column.min}" if column.min is not None else "",
                    f"at most {column.max}" if column.max is not None else "",
                )
                if p
            )
            out.append(between(column.name, f"{column.name} is {bounds}.", low=column.min, high=column.max))
    for rule in contract.rules:
        if rule.code == "end_before_start":
            start, end = rule.columns
            out.append(
                x(
                    "expect_column_pair_values_a_to_be_greater_than_b",
                    "blocking",
                    f"{end} is never before {start} ({rule.meaning} otherwise).",
                    column_A=end,
                    column_B=start,
                    or_equal=True,
                    ignore_row_if="either_value_is_missing",
                )
            )
    out += [
        not_null("_source_file", "the landing file it came from"),
        not_null("_source_sha256", "the checksum of the file it came from"),
        matches("_source_sha256", HASH, "_source_sha256 is the SHA-256 of the source file."),
        not_null("_source_row", "its row number in the source file"),
    ]
    if contract.partitioned_by == "month":
        out += [
            not_null("_period_month", "the reporting month of its file"),
            between(
                "_period_month",
                "Reporting months lie between the first registry month (2008) and today.",
                low=date_bound("2008-01-01"),
                high=TODAY,
            ),
            matches(
                "_reporting_region",
                r"^\d{6}$",
                "_reporting_region is the 6-digit code of the sending region.",
            ),
        ]
    return out


def files_suite(contract: Contract) -> list[dict]:
    registry = contract.registry
    return [
        x(
            "expect_column_pair_values_to_be_equal",
            "blocking",
            f"For every current {registry} file, the clean rows recorded in audit.ingested_files equal its rows in "
            f"raw.{registry}, and no raw row comes from a superseded or unknown file.",
            column_A="raw_rows",
            column_B="rows_clean",
        ),
        x(
            "expect_column_values_to_be_in_set",
            "blocking",
            f"Every row of raw.{registry} comes from a file whose ingestion is recorded as current.",
            column="file_status",
            value_set=["current"],
        ),
        between(
            "quarantine_pct",
            f"No {registry} file had more than 20% of its rows quarantined: a high share points at a broken export.",
            severity="warning",
            high=20,
        ),
    ]


def quarantine_suite(contract: Contract) -> list[dict]:
    codes = "|".join(REASON_CODES)
    return [
        not_null("source_row", "the row number of the rejected source row"),
        matches(
            "reason_codes_text",
            rf"^(?:{codes})(?:,(?:{codes}))*$",
            "Every quarantined row carries only reason codes the ingest documents.",
            severity="warning",
        ),
    ]


def reference_suites() -> dict[str, list[dict]]:
    gazetteer_cols = ["adcode", "name", "level", "parent_adcode"]
    catalogue_cols = ["code", "category", "unit", "name_zh", "name_en", "description"]
    # the columns the report loader writes, from the loader itself (one list, not two to keep in step)
    documents_cols = [*DOCUMENT_COLUMNS, *PROVENANCE_COLUMNS]
    facts_cols = [*FACT_COLUMNS, *PROVENANCE_COLUMNS]
    return {
        "raw.gazetteer": [
            columns_exactly(gazetteer_cols, "of the shipped gazetteer"),
            x(
                "expect_table_row_count_to_be_between",
                "blocking",
                "The national gazetteer is loaded (over 3,000 province, city and county codes).",
                min_value=3000,
            ),
            not_null("adcode", "a division code"),
            unique(["adcode"], "a division code"),
            matches("adcode", r"^\d{6}$", "Gazetteer codes are 6-digit GB/T 2260 codes."),
            in_set("level", ["province", "city", "county"], "Gazetteer levels are province, city or county."),
            not_null("name", "a division name"),
        ],
        "raw.metric_catalogue": [
            columns_exactly(catalogue_cols, "of the metric catalogue"),
            not_null("code", "a metric code"),
            unique(["code"], "a metric code"),
            matches("code", r"^[a-z][a-z0-9_]*$", "Metric codes are snake_case identifiers."),
            not_null("unit", "a unit"),
        ],
        "raw.report_documents": [
            columns_exactly(documents_cols, "the report extractor writes"),
            not_null("doc", "a document name"),
            unique(["doc"], "a document name"),
            between("facts", "A document's fact count is never negative.", low=0),
            between(
                "publication_date",
                "Reports are published between 2008 and today.",
                severity="warning",
                low=date_bound("2008-01-01"),
                high=TODAY,
            ),
        ],
        "raw.report_facts": [
            columns_exactly(facts_cols, "the report extractor writes"),
            unique(["doc", "fact_index"], "a document and fact position"),
            not_null("metric", "a metric code"),
            in_set(
                "metric",
                {"$PARAMETER": "metric_codes"},
                "Every extracted figure names a metric of the catalogue.",
            ),
            x(
                "expect_column_values_to_be_between",
                "blocking",
                "Percentages extracted from reports lie between 0 and 100.",
                label="percent",
                column="value",
                min_value=0,
                max_value=100,
                row_condition='unit == "percent"',
                condition_parser="pandas",
            ),
            between("value", "Extracted figures are never negative.", low=0),
            between("confidence", "An extraction confidence lies between 0 and 1.", low=0, high=1),
            between(
                "year",
                "Report years lie between 2008 and 2035 (targets may look a decade ahead).",
                severity="warning",
                low=2008,
                high=2035,
            ),
            matches("adcode", DIVISION_CODE, "Resolved region codes are 6-, 9- or 12-digit division codes."),
        ],
    }


def all_suites() -> dict[str, list[dict]]:
    suites: dict[str, list[dict]] = {}
    for contract in contracts().values():
        suites[contract.raw_table] = raw_suite(contract)
        suites[f"{contract.raw_table}.files"] = files_suite(contract)
        suites[f"{contract.raw_table}.quarantine"] = quarantine_suite(contract)
    suites.update(reference_suites())
    suites.update(mart_suites())
    return suites


# ---- writing the project ---------------------------------------------------------------------------------
def suite_document(name: str, expectations: list[dict]) -> dict:
    spec = dataset(name)
    meta = {
        "great_expectations_version": GX_VERSION,
        "dagster_asset": "/".join(spec.asset_key),
        "data_asset": spec.data_asset,
    }
    return {
        "expectations": [{**e, "id": uid(name, str(i), e["type"])} for i, e in enumerate(expectations)],
        "id": uid("suite", name),
        "meta": meta,
        "name": name,
        "notes": spec.description or None,
    }


GX_YML_HEAD = """\
# Great Expectations 1.x file context of shegong. Generated by `python -m shegong.quality.authoring`
# (suites from the data contracts and shegong/quality/marts.py; datasets and their SQL in datasets.yml).
# Validation runs through shegong.quality (pandas engine on frames pulled from DuckDB via Arrow, chunked by
# partition for big tables); each run's Data Docs go to <warehouse>/validation/<run_id>/index.html.
config_version: 4.0
config_variables_file_path: uncommitted/config_variables.yml
plugins_directory:
analytics_enabled: false
progress_bars:
  globally: false
  metric_calculations: false
stores:
  expectations_store:
    class_name: ExpectationsStore
    store_backend:
      class_name: TupleFilesystemStoreBackend
      base_directory: expectations/
  validation_results_store:
    class_name: ValidationResultsStore
    store_backend:
      class_name: TupleFilesystemStoreBackend
      base_directory: uncommitted/validations/
  checkpoint_store:
    class_name: CheckpointStore
    store_backend:
      class_name: TupleFilesystemStoreBackend
      suppress_store_backend_id: true
      base_directory: checkpoints/
  validation_definition_store:
    class_name: ValidationDefinitionStore
    store_backend:
      class_name: TupleFilesystemStoreBackend
      base_directory: validation_definitions/
expectations_store_name: expectations_store
validation_results_store_name: validation_results_store
checkpoint_store_name: checkpoint_store
data_docs_sites:
  local_site:
    class_name: SiteBuilder
    show_how_to_buttons: false
    store_backend:
      class_name: TupleFilesystemStoreBackend
      base_directory: uncommitted/data_docs/local_site/
    site_index_builder:
      class_name: DefaultSiteIndexBuilder
"""


def write_project(root: Path = EXPECTATIONS_DIR) -> dict[str, int]:
    suites = all_suites()
    expectations_dir = root / "expectations"
    for folder in (expectations_dir, root / "validation_definitions", root / "checkpoints"):
        if folder.exists():
            for path in folder.rglob("*.json"):
                path.unlink()
        folder.mkdir(parents=True, exist_ok=True)
    assets: dict[str, dict] = {}
    definitions = []
    for name, expectations in sorted(suites.items()):
        path = expectations_dir.joinpath(*name.split(".")).with_suffix(".json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(suite_document(name, expectations), indent=2, ensure_ascii=False) + "\n")
        data_asset = dataset(name).data_asset
        assets[data_asset] = {
            "type": "dataframe",
            "id": uid("asset", data_asset),
            "batch_metadata": {},
            "batch_definitions": {BATCH_DEFINITION: {"id": uid("batch", data_asset), "partitioner": None}},
        }
        definition = {
            "data": {
                "asset": {"id": uid("asset", data_asset), "name": data_asset},
                "batch_definition": {"id": uid("batch", data_asset), "name": BATCH_DEFINITION},
                "datasource": {"id": uid("datasource", DATASOURCE), "name": DATASOURCE},
            },
            "id": uid("validation", name),
            "name": name,
            "suite": {"id": uid("suite", name), "name": name},
        }
        definitions.append(definition)
        (root / "validation_definitions" / f"{name}.json").write_text(json.dumps(definition, indent=2) + "\n")
    checkpoint = {
        "actions": [{"name": "update_data_docs", "site_names": [], "type": "update_data_docs"}],
        "id": uid("checkpoint", "warehouse"),
        "name": "warehouse",
        "result_format": "SUMMARY",
        "validation_definitions": [{"id": d["id"], "name": d["name"]} for d in definitions],
    }
    (root / "checkpoints" / "warehouse.json").write_text(json.dumps(checkpoint, indent=2) + "\n")
    datasources = {
        "fluent_datasources": {
            DATASOURCE: {
                "type": "pandas",
                "id": uid("datasource", DATASOURCE),
                "assets": dict(sorted(assets.items())),
            }
        },
        "data_context_id": uid("context", "shegong"),
    }
    (root / "great_expectations.yml").write_text(
        GX_YML_HEAD + yaml.safe_dump(datasources, sort_keys=False, allow_unicode=True)
    )
    (root / ".gitignore").write_text("uncommitted/\n")
    stale = root / "plugins"
    if stale.exists() and not any(stale.rglob("*.py")):
        shutil.rmtree(stale)
    return {
        "suites": len(suites),
        "expectations": sum(len(e) for e in suites.values()),
        "assets": len(assets),
    }


if __name__ == "__main__":
    print(write_project())
