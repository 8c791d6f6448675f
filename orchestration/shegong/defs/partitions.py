"""Registries arrive by reporting month; reports are one partition per document."""

import os

import dagster as dg

# The first month the registries cover; SHEGONG_FIRST_MONTH moves it for older archives.
FIRST_MONTH = os.environ.get("SHEGONG_FIRST_MONTH", "2023-01-01")

monthly_partitions = dg.MonthlyPartitionsDefinition(start_date=FIRST_MONTH, end_offset=1)
report_partitions = dg.DynamicPartitionsDefinition(name="reports")
