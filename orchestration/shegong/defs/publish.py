"""The publish step: the last asset of a build, after every model and its blocking checks."""

from pathlib import Path

import dagster as dg

from shegong.config import settings
from shegong.defs.dbt import dbt_asset_defs, dbt_project
from shegong.defs.registries import reference_data, registry_assets
from shegong.defs.resources import WarehouseResource
from shegong.publish import PublishBlocked, PublishError, publish
from shegong.quality import build_run_report

PUBLISHED_KEY = dg.AssetKey(["warehouse", "published"])


@dg.asset(
    key=PUBLISHED_KEY,
    group_name="publish",
    kinds={"duckdb"},
    # Everything the build job makes: a failed upstream step skips publishing.
    deps=[key for assets in (*registry_assets, reference_data, *dbt_asset_defs) for key in assets.keys],
    description=(
        "warehouse/shegong.duckdb, the file BI tools open (DuckDB storage v1.0.0 by default, documented, with "
        "Chinese-labelled views in marts_zh), and Parquet exports under warehouse/exports/current: replaced "
        "atomically once every blocking check of the run has passed; a failed run leaves the previous version."
    ),
    pool="warehouse_writer",
)
def published_warehouse(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    # The run's Data Docs are rendered here, once, from the results every check stored, whether or not the run
    # publishes.
    report = build_run_report(context.run_id, warehouse.warehouse_dir)
    current = settings()
    try:
        publication = publish(
            Path(warehouse.build_db),
            warehouse.published_db,
            context.run_id,
            storage_version=current.publish_storage_version,
            dbt_manifest=dbt_project.manifest_path,
            exports_dir=Path(warehouse.warehouse_dir) / "exports",
        )
    except (PublishBlocked, PublishError) as exc:
        raise dg.Failure(description=f"asset warehouse/published: {exc} ({report})") from None
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
