"""Registries arrive by reporting month; reports are one partition per document."""

import os

import dagster as dg

DEFAULT_FIRST_MONTH = "2023-01"


def first_landed_month() -> str | None:
    """The earliest reporting month among the landing folders' registry files (their names say it)."""
    from shegong.config import REGISTRIES, settings
    from shegong.ingest.batch import landing_files, month_of

    landing = settings().landing_dir
    months = [m for r in REGISTRIES for p in landing_files(landing / r) if (m := month_of(p)) is not None]
    return f"{min(months):%Y-%m}" if months else None


# The first monthly partition: SHEGONG_FIRST_MONTH (2023-01 or 2023-01-01) when set; otherwise the first month
# landed when the definitions load (so the UI shows no "missing" months before the data starts), or 2023-01
# while the landing folders are empty. A file for an earlier month is then reported by the landing sensor.
FIRST_MONTH = (os.environ.get("SHEGONG_FIRST_MONTH") or first_landed_month() or DEFAULT_FIRST_MONTH)[
    :7
] + "-01"

# Months in China time, like the daily schedule: the month a 05:30 run on the 1st belongs to is the new one.
# end_offset=1: the current (still open) month is a partition too, for files landed before it ends.
monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date=FIRST_MONTH, end_offset=1, timezone="Asia/Shanghai"
)
report_partitions = dg.DynamicPartitionsDefinition(name="reports")
