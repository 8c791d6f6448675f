"""Registries arrive by reporting month; reports are one partition per document."""

import os

import dagster as dg

# The first month the registries cover; SHEGONG_FIRST_MONTH moves it for older archives.
# Accepts 2023-01 (as documented) or 2023-01-01.
FIRST_MONTH = os.environ.get("SHEGONG_FIRST_MONTH", "2023-01-01")[:7] + "-01"

# Months in China time, like the daily schedule: the month a 05:30 run on the 1st belongs to is the new one.
# end_offset=1: the current (still open) month is a partition too, for files landed before it ends.
monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date=FIRST_MONTH, end_offset=1, timezone="Asia/Shanghai"
)
report_partitions = dg.DynamicPartitionsDefinition(name="reports")
