"""The daily rebuild: ingest what arrived for the open reporting months, rebuild the marts, validate, publish.

Registry files for a month arrive during the following month, so each day's run covers the previous and the
current month (one run over the two-month partition range): files already ingested are no-ops (same name and
SHA-256), new or corrected ones are ingested, the incremental marts rebuild those two months, every other
model is rebuilt, and the warehouse is validated and published.
"""

import datetime as dt

import dagster as dg

from shegong.dagster_internals import partition_range_tags
from shegong.defs.jobs import warehouse_build_job
from shegong.defs.partitions import monthly_partitions

SCHEDULE_TIMEZONE = "Asia/Shanghai"


def daily_months(scheduled: dt.datetime, keys: list[str]) -> tuple[str, str]:
    """(first, last) partition key of the day's run: the previous and the current month, within the partitions."""
    current = scheduled.date().replace(day=1)
    previous = (current - dt.timedelta(days=1)).replace(day=1)
    wanted = [k for k in (previous.isoformat(), current.isoformat()) if k in keys]
    if not wanted:  # before the first partition or past the last one: the nearest partition
        wanted = [keys[0] if current.isoformat() < keys[0] else keys[-1]]
    return wanted[0], wanted[-1]


@dg.schedule(
    name="daily_warehouse_build",
    cron_schedule="30 5 * * *",
    execution_timezone=SCHEDULE_TIMEZONE,
    job=warehouse_build_job,
    description="Every day at 05:30 China time: the previous and the current month are re-ingested (unchanged "
    "files are no-ops), the marts rebuilt, validated and published.",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def daily_warehouse_build(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    scheduled = context.scheduled_execution_time
    keys = monthly_partitions.get_partition_keys(current_time=scheduled)
    first, last = daily_months(scheduled, keys)
    return dg.RunRequest(
        run_key=f"daily|{scheduled:%Y-%m-%d}",
        tags={
            **partition_range_tags(first, last),
            "shegong/trigger": "schedule/daily_warehouse_build",
        },
    )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(schedules=[daily_warehouse_build])
