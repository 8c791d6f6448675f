"""The publish step: the last asset of a build, after every model and its blocking checks."""

from pathlib import Path

import dagster as dg

from shegong.config import settings
from shegong.defs.dbt import dbt_asset_defs, dbt_project
from shegong.defs.registries import reference_data, registry_assets
from shegong.defs.resources import WarehouseResource
from shegong.engines import engine
from shegong.publish import EnginePublication, PublishBlocked, PublishError, publish
from shegong.quality import build_run_report
from shegong.quality.personal_data import SCAN_ASSET

PUBLISHED_KEY = dg.AssetKey(["warehouse", "published"])


@dg.asset(
    key=PUBLISHED_KEY,
    group_name="publish",
    kinds={"duckdb"},
    # Everything the build job makes, and the personal-data scan of all of it: a failed upstream step or a
    # failed blocking check skips publishing.
    deps=[
        *(key for assets in (*registry_assets, reference_data, *dbt_asset_defs) for key in assets.keys),
        dg.AssetKey(list(SCAN_ASSET)),
    ],
    description=(
        "warehouse/shegong.duckdb, the file BI tools open (DuckDB storage v1.0.0 by default, documented, with "
        "Chinese-labelled views in marts_zh), and Parquet exports under warehouse/exports/current: replaced "
        "atomically once every blocking check of the run has passed; a failed run leaves the previous version. "
        "On Spark, the views of <prefix>_published move to a snapshot of the validated marts at the same time."
    ),
    pool="warehouse_writer",
)
def published_warehouse(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    # The run's report (GX's Data Docs rendered once, and our own pages) is written after the publish attempt,
    # so it says whether the run was published, and by what it was blocked.
    current = settings()
    build_db = Path(warehouse.build_db)
    checks = run_checks(context)
    try:
        publication = publish(
            build_db,
            warehouse.published_db,
            context.run_id,
            storage_version=current.publish_storage_version,
            dbt_manifest=dbt_project.manifest_path,
            exports_dir=Path(warehouse.warehouse_dir) / "exports",
            engine_publication=spark_publication(context.run_id) if engine() == "spark" else None,
            engine=engine(),
            memory_limit=current.duckdb_memory_limit,
        )
    except (PublishBlocked, PublishError) as exc:
        report = build_run_report(
            context.run_id, warehouse.warehouse_dir, checks, build_db, outcome={"blocked": str(exc)}
        )
        raise dg.Failure(description=f"asset warehouse/published: {exc} ({report})") from None
    if publication.build_converted_from:
        context.log.info(
            f"asset warehouse/published: the build file was in storage {publication.build_converted_from}; "
            f"converted once to {publication.storage_version}, so later publications copy it as it is"
        )
    report = build_run_report(
        context.run_id,
        warehouse.warehouse_dir,
        checks,
        build_db,
        outcome={
            "published": {
                "path": str(publication.path),
                "exports": str(publication.exports),
                "storage_version": publication.storage_version,
                "published_at": publication.published_at.isoformat(timespec="seconds"),
            }
        },
    )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(publication.path)),
            "storage_version": publication.storage_version,
            "parquet_exports": dg.MetadataValue.path(str(publication.exports)),
            "validation_report": dg.MetadataValue.path(str(report)),
            "published_at": publication.published_at.isoformat(timespec="seconds"),
            "rows_by_mart": dg.MetadataValue.json(publication.rows_by_table),
            "total_mart_rows": sum(publication.rows_by_table.values()),
        }
    )


def spark_publication(run_id: str):
    """On Spark, the same publication also swaps `<prefix>_published`'s views to a snapshot of the validated marts
    (shegong/engines/spark_publication.py)."""
    from shegong.engines.spark import required_endpoint
    from shegong.engines.spark_publication import SparkPublication

    endpoint = required_endpoint()

    def side(validated_rows: dict[str, int], now) -> EnginePublication:
        return SparkPublication(endpoint, run_id, validated_rows, now)

    return side


def run_checks(context: dg.AssetExecutionContext) -> list[dict]:
    """Every asset check evaluated so far in this run (dbt tests, registry checks, GX suites)."""
    records = context.instance.get_records_for_run(
        context.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=100_000
    ).records
    return check_rows([r.event_log_entry.dagster_event.event_specific_data for r in records])


def check_description(defs: dg.Definitions, key: dg.AssetCheckKey) -> str | None:
    """A check's description from its definition (dbt tests have none)."""
    graph = defs.resolve_asset_graph()
    spec = graph.get_check_spec(key) if key in graph.asset_check_keys else None
    return spec.description if spec is not None else None


def check_rows(evaluations: list) -> list[dict]:
    """Asset check evaluations as the auditor page lists them, with each check's description."""
    from shegong.definitions import defs as load_definitions  # the definitions import this module

    defs = load_definitions()
    checks = []
    for evaluation in evaluations:
        key = evaluation.asset_check_key
        details = "; ".join(
            f"{name}: {value.value if hasattr(value, 'value') else value}"
            for name, value in (evaluation.metadata or {}).items()
        )
        checks.append(
            {
                "asset": key.asset_key.to_user_string(),
                "check": key.name,
                "passed": evaluation.passed,
                "severity": "blocking" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "warning",
                "description": check_description(defs, key),
                "details": details[:500],
            }
        )
    return checks


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[published_warehouse])
