"""The daily rebuild: ingest whatever arrived for the current month, rebuild the marts, validate, publish."""

import dagster as dg

from shegong.defs.jobs import warehouse_build_job
from shegong.defs.partitions import monthly_partitions


@dg.schedule(
    name="daily_warehouse_build",
    cron_schedule="30 5 * * *",
    execution_timezone="Asia/Shanghai",
    job=warehouse_build_job,
    description="Every day at 05:30 China time: the current month's partition is re-ingested (unchanged files "
    "are no-ops), the marts rebuilt, validated and published.",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def daily_warehouse_build(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    month = context.scheduled_execution_time.strftime("%Y-%m-01")
    if month not in monthly_partitions.get_partition_keys(current_time=context.scheduled_execution_time):
        month = monthly_partitions.get_last_partition_key(current_time=context.scheduled_execution_time)
    return dg.RunRequest(run_key=f"daily|{context.scheduled_execution_time:%Y-%m-%d}", partition_key=month)
