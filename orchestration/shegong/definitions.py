"""The code location: a thin root that gathers the assets, checks, jobs and resources of each module."""

from __future__ import annotations

import dagster as dg

from shegong.config import export_build_db_env, settings
from shegong.defs.dbt import dbt_asset_defs, dbt_resource
from shegong.defs.jobs import report_extraction_job, warehouse_build_job
from shegong.defs.publish import published_warehouse
from shegong.defs.quality import quality_checks
from shegong.defs.registries import reference_data, registry_assets, registry_checks
from shegong.defs.reports import report_reviews, reports
from shegong.defs.resources import WarehouseResource
from shegong.defs.schedules import daily_warehouse_build
from shegong.defs.sensors import landing_sensors

export_build_db_env(settings())

defs = dg.Definitions(
    assets=[*registry_assets, reference_data, reports, report_reviews, *dbt_asset_defs, published_warehouse],
    asset_checks=[*registry_checks, *quality_checks],
    jobs=[warehouse_build_job, report_extraction_job],
    schedules=[daily_warehouse_build],
    sensors=landing_sensors,
    resources={"warehouse": WarehouseResource.from_environment(), "dbt": dbt_resource()},
    # DuckDB allows one writing process: every step of a run shares this process and the file.
    executor=dg.in_process_executor,
)
