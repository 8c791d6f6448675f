"""Sensors on the landing folders: a new or changed file starts a run for exactly its partition."""

import json
from pathlib import Path

import dagster as dg

from shegong.config import REGISTRIES
from shegong.contracts import contract
from shegong.defs.jobs import report_extraction_job, warehouse_build_job
from shegong.defs.partitions import report_partitions
from shegong.defs.resources import WarehouseResource
from shegong.ingest.batch import landing_files, month_of
from shegong.ingest.reports import report_files


def file_signature(path: Path) -> str:
    """Cheap change signal: size and modification time (hashing every file each tick would not scale)."""
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def changed_files(files: list[Path], cursor: str | None) -> tuple[list[Path], dict[str, str]]:
    seen = json.loads(cursor) if cursor else {}
    current = {p.name: file_signature(p) for p in files}
    return [p for p in files if seen.get(p.name) != current[p.name]], current


def build_registry_sensor(registry: str) -> dg.SensorDefinition:
    partitioned = contract(registry).partitioned_by == "month"

    @dg.sensor(
        name=f"{registry}_landing_sensor",
        job=warehouse_build_job,
        minimum_interval_seconds=60,
        description=f"New or changed files in landing/{registry}/ start a build of their reporting month.",
        default_status=dg.DefaultSensorStatus.STOPPED,
    )
    def landing_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
        files = landing_files(warehouse.landing / registry)
        changed, signatures = changed_files(files, context.cursor)
        if not changed:
            return dg.SkipReason(f"no new or changed files in landing/{registry}/")
        requests, unnamed = {}, []
        for path in changed:
            month = month_of(path) if partitioned else None
            if partitioned and month is None:
                unnamed.append(path.name)
                continue
            key = month.strftime("%Y-%m-01") if month else None
            requests.setdefault(key, []).append(f"{path.name}@{signatures[path.name]}")
        for name in unnamed:
            # Reported once (the cursor remembers it), never wedging the sensor on the other files.
            context.log.error(
                f"sensor {registry}: {name} has no reporting region and month in its name; "
                "rename it like 320585_2024-03_持证社工名册.csv"
            )
        context.update_cursor(json.dumps(signatures))
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=f"{registry}|{key}|{'|'.join(sorted(names))}",
                    partition_key=key or latest_month_key(context),
                    tags={"shegong/trigger": f"landing/{registry}"},
                )
                for key, names in sorted(requests.items(), key=lambda kv: kv[0] or "")
            ]
        )

    return landing_sensor


def latest_month_key(context: dg.SensorEvaluationContext) -> str:
    """Unpartitioned reference files (regions) rebuild with the newest month."""
    return warehouse_build_job.partitions_def.get_last_partition_key(
        dynamic_partitions_store=context.instance
    )


@dg.sensor(
    name="reports_landing_sensor",
    job=report_extraction_job,
    minimum_interval_seconds=60,
    description="A new or changed report in landing/reports/ is extracted as its own partition.",
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def reports_landing_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    files = report_files(warehouse.landing / "reports")
    changed, signatures = changed_files(files, context.cursor)
    if not changed:
        return dg.SkipReason("no new or changed reports")
    known = set(context.instance.get_dynamic_partitions(report_partitions.name))
    new_docs = [p.name for p in changed if p.name not in known]
    context.update_cursor(json.dumps(signatures))
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_key=f"reports|{p.name}|{signatures[p.name]}", partition_key=p.name)
            for p in changed
        ],
        dynamic_partitions_requests=[report_partitions.build_add_request(new_docs)] if new_docs else [],
    )


landing_sensors = [*(build_registry_sensor(r) for r in REGISTRIES), reports_landing_sensor]
