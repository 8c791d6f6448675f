"""A failure hook on every job: a failed step writes an alert file naming the asset and the error.

The hook runs once a step has finally failed (a step retried by its retry policy alerts only when its last
attempt fails). The alert goes to the run's log (ERROR) and to <warehouse>/alerts/<time>_<run>_<step>.json.
"""

from pathlib import Path

import dagster as dg

from shegong.alerts import write_alert

MAX_ASSETS_NAMED = 20


def assets_of_step(context: dg.HookContext) -> list[str]:
    """The assets (and checks) the failed step materializes; empty when Dagster does not say."""
    try:
        step_context = context._step_execution_context  # no public accessor in dagster 1.13
        layer = step_context.job_def.asset_layer
        keys = layer.get_selected_entity_keys_for_node(step_context.step.node_handle)
    except Exception:
        return []
    return sorted(key.to_user_string() for key in keys)


def describe(error: BaseException | None) -> str:
    """The user's own error, not Dagster's wrapper around it."""
    while error is not None and isinstance(error, dg.DagsterUserCodeExecutionError) and error.__cause__:
        error = error.__cause__
    if error is None:
        return "step failed"
    if isinstance(error, dg.Failure) and error.description:
        return f"Failure: {error.description}"
    return f"{type(error).__name__}: {error}"


@dg.failure_hook(required_resource_keys={"warehouse"})
def alert_on_failure(context: dg.HookContext) -> None:
    message = describe(context.op_exception)
    assets = assets_of_step(context)
    named = ", ".join(assets[:3]) + (f" … ({len(assets)} in all)" if len(assets) > 3 else "")
    where = f"asset {named} (step {context.step_key})" if assets else f"step {context.step_key}"
    try:
        path = write_alert(
            Path(context.resources.warehouse.warehouse_dir) / "alerts",
            run_id=context.run_id,
            job=context.job_name,
            where=where,
            error=message,
            assets=assets[:MAX_ASSETS_NAMED],
        )
        written = f"written to {path}"
    except OSError as exc:  # the alert must not hide the failure it reports
        written = f"alert file not written: {exc}"
    context.log.error(f"ALERT {context.job_name} {where}: {message.splitlines()[0]} ({written})")
