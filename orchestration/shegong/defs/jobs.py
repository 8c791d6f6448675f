"""Jobs: the monthly warehouse build (ingest → dbt → validate → publish) and report extraction."""

import dagster as dg

from shegong.defs.alerts import alert_on_failure
from shegong.defs.partitions import monthly_partitions, report_partitions

REPORTS_KEY = dg.AssetKey(["raw", "reports"])

warehouse_build_job = dg.define_asset_job(
    name="warehouse_build",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(REPORTS_KEY),
    partitions_def=monthly_partitions,
    description="Ingest the registries of the run's months, rebuild the marts, validate, publish.",
    hooks={alert_on_failure},
)

report_extraction_job = dg.define_asset_job(
    name="report_extraction",
    selection=dg.AssetSelection.assets(REPORTS_KEY),
    partitions_def=report_partitions,
    description="Extract the figures of the run's report documents.",
    hooks={alert_on_failure},
)
