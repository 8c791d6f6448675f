"""A failure hook on every job: a failed step writes an alert file naming the asset and the error."""

from pathlib import Path

import dagster as dg

from shegong.alerts import write_alert


@dg.failure_hook(required_resource_keys={"warehouse"})
def alert_on_failure(context: dg.HookContext) -> None:
    error = context.op_exception
    message = f"{type(error).__name__}: {error}" if error else "step failed"
    # Asset steps are named after their asset key (raw__workers → raw/workers), so the step names the asset.
    where = f"step {context.step_key}"
    path = write_alert(
        Path(context.resources.warehouse.warehouse_dir) / "alerts",
        run_id=context.run_id,
        job=context.job_name,
        where=where,
        error=message,
    )
    context.log.error(f"ALERT {context.job_name} {where}: {message.splitlines()[0]} (written to {path})")
