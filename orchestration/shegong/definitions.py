"""The code location: a thin root that gathers the assets, checks, jobs and resources of each module."""

from __future__ import annotations

import warnings

import dagster as dg

from shegong.config import export_build_db_env, settings
from shegong.defs.dbt import dbt_asset_defs, dbt_resource
from shegong.defs.jobs import report_extraction_job, warehouse_build_job
from shegong.defs.publish import published_warehouse
from shegong.defs.registries import reference_data, registry_assets, registry_checks
from shegong.defs.reports import reports
from shegong.defs.resources import WarehouseResource

export_build_db_env(settings())
# backfill_policy and pool are beta in dagster 1.13; both are what this project relies on, deliberately.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

defs = dg.Definitions(
    assets=[*registry_assets, reference_data, reports, *dbt_asset_defs, published_warehouse],
    asset_checks=[*registry_checks],
    jobs=[warehouse_build_job, report_extraction_job],
    resources={"warehouse": WarehouseResource.from_environment(), "dbt": dbt_resource()},
    # DuckDB allows one writing process: every step of a run shares this process and the file.
    executor=dg.in_process_executor,
)
