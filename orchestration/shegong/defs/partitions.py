"""Registries arrive by reporting month; reports are one partition per document."""

import datetime as dt
import os

import dagster as dg

DEFAULT_FIRST_MONTH = "2023-01"
# No registry reports a month before the national social-work qualification began (June 2008): a file named
# for one is misnamed, and must not stretch the partitions back to it (it is rejected as before the first).
EARLIEST_REPORTING_MONTH = "2008-06"


def months_from(first: dt.date, end: dt.date) -> frozenset[dt.date]:
    """The month starts from `first`'s month up to `end` (exclusive)."""
    months, month = set(), first.replace(day=1)
    while month < end:
        months.add(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return frozenset(months)


def first_landed_month() -> str | None:
    """The earliest reporting month among the landing folders' registry files (their names say it)."""
    from shegong.config import REGISTRIES, settings
    from shegong.ingest.batch import month_of
    from shegong.ingest.landing import landing_files

    landing = settings().landing_dir
    months = [
        month
        for registry in REGISTRIES
        for path in landing_files(landing / registry)
        if (month := month_of(path)) is not None and f"{month:%Y-%m}" >= EARLIEST_REPORTING_MONTH
    ]
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
