"""Jobs: the monthly warehouse build (ingest → dbt → validate → publish) and report extraction; recovery of
in-process runs whose process died."""

import os
import socket
from pathlib import Path

import dagster as dg

from shegong.defs.alerts import alert_on_failure
from shegong.defs.partitions import monthly_partitions, report_partitions

REPORTS_KEY = dg.AssetKey(["raw", "reports"])

BUILD_SELECTION = dg.AssetSelection.all() - dg.AssetSelection.assets(REPORTS_KEY)

warehouse_build_job = dg.define_asset_job(
    name="warehouse_build",
    selection=BUILD_SELECTION,
    partitions_def=monthly_partitions,
    description=(
        "Ingest the registries of the run's months, rebuild the marts, validate, publish. A run of a subset "
        "(the assets downstream of what changed) rebuilds only those models; set the dbt steps' config "
        "full_refresh: true to rebuild every model from scratch (dbt build --full-refresh)."
    ),
    hooks={alert_on_failure},
)


def build_assets_downstream_of(
    defs: dg.Definitions | dg.RepositoryDefinition, sources: list[dg.AssetKey]
) -> list[dg.AssetKey]:
    """The build job's assets from `sources` down to the published warehouse: what a change of those raw
    tables rebuilds (their checks come with them)."""
    graph = defs.resolve_asset_graph() if isinstance(defs, dg.Definitions) else defs.asset_graph
    return sorted(
        (dg.AssetSelection.assets(*sources).downstream() & BUILD_SELECTION).resolve(graph),
        key=lambda key: key.to_user_string(),
    )


report_extraction_job = dg.define_asset_job(
    name="report_extraction",
    selection=dg.AssetSelection.assets(REPORTS_KEY),
    partitions_def=report_partitions,
    description="Extract the figures of the run's report documents.",
    hooks={alert_on_failure},
)


# In-process runs (`shegong run`, tests) say which process runs them, so a later run can tell a run that is
# still going from one whose process was killed: such a run would hold its warehouse_writer pool slot forever
# and every later run would wait for it (Dagster's run monitoring only watches runs the daemon launched).
PID_TAG = "shegong/pid"
HOST_TAG = "shegong/host"
ACTIVE_STATUSES = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def in_process_run_tags() -> dict[str, str]:
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():  # a recycled pid is some other program
        return b"python" in cmdline.read_bytes() or b"shegong" in cmdline.read_bytes()
    return True


def release_abandoned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the in-process runs of this host whose process is gone, and give back the pool slots of every
    run that has ended. Returns the run ids marked failed."""
    host = socket.gethostname()
    abandoned = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=ACTIVE_STATUSES)):
        pid = run.tags.get(PID_TAG)
        if not pid or run.tags.get(HOST_TAG) != host or _alive(int(pid)):
            continue
        instance.report_run_failed(
            run,
            f"run abandoned: its process {pid} on {host} ended without finishing it (killed or crashed); "
            "marked failed by the next run, its warehouse_writer slots released",
        )
        abandoned.append(run.run_id)
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        for run_id in storage.get_concurrency_run_ids():
            run = instance.get_run_by_id(run_id)
            if run is None or run.is_finished:
                storage.free_concurrency_slots_for_run(run_id)
    return abandoned


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(jobs=[warehouse_build_job, report_extraction_job])
