"""Sensors on the landing folders: a new or changed file starts a run for exactly its partition.

The cursor remembers, per file name, its size, modification time and SHA-256. Size and mtime are the cheap
change signal; only a file whose size or mtime moved is hashed, and only a file whose content changed starts
a run (a `touch` or a copy of the same bytes does not). The run key names the file and its content hash, so a
re-evaluated tick never starts the same run twice and a corrected re-send always starts a new one.

A file that fails the sensor's file-level check (a registry file whose name gives no reporting region and
month) is logged as an error, recorded in the cursor so it is reported once per version, and never holds back
the other files of the tick. Ingestion applies the full file checks (format, encoding, headers) and records
rejected files in audit.ingested_files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from shegong.alerts import write_alert
from shegong.config import REGISTRIES
from shegong.contracts import contract
from shegong.defs.jobs import report_extraction_job, warehouse_build_job
from shegong.defs.partitions import monthly_partitions, report_partitions
from shegong.defs.resources import WarehouseResource
from shegong.ingest.batch import month_of
from shegong.ingest.landing import entry_digest, landing_files
from shegong.ingest.reports import report_digest, report_files, report_signature

TRIGGER_TAG = "shegong/trigger"


@dataclass(frozen=True)
class Change:
    path: Path
    sha256: str


def _signature(path: Path) -> tuple[int, int]:
    stat = path.lstat()  # a link is judged as a link: ingestion records it, never follows it
    return stat.st_size, stat.st_mtime_ns


def scan(
    files: list[Path], cursor: str | None, digest=entry_digest, signature=_signature
) -> tuple[list[Change], dict[str, list]]:
    """Files whose content is new or changed since the cursor, and the cursor for the folder as it is now.
    `digest` / `signature` say what a file's content is (a report's includes its sidecar)."""
    seen: dict = json.loads(cursor) if cursor else {}
    current: dict[str, list] = {}
    changed: list[Change] = []
    for path in files:
        try:
            size, mtime = signature(path)
            before = seen.get(path.name)
            if isinstance(before, list) and before[:2] == [size, mtime]:
                current[path.name] = before
                continue
            sha256, _ = digest(path)  # entry_digest never opens a pipe, a folder or what a link points at
        except FileNotFoundError:  # removed between listing and reading: the next tick sees it gone
            continue
        current[path.name] = [size, mtime, sha256]
        if not (isinstance(before, list) and len(before) == 3 and before[2] == sha256):
            changed.append(Change(path, sha256))
    return changed, current


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
        changed, cursor = scan(landing_files(warehouse.landing / registry), context.cursor)
        if not changed:
            return dg.SensorResult(
                skip_reason=dg.SkipReason(f"no new or changed files in landing/{registry}/"),
                cursor=json.dumps(cursor, sort_keys=True),
            )
        by_partition: dict[str, list[Change]] = {}
        unnamed: list[str] = []
        for change in changed:
            if partitioned:
                month = month_of(change.path)
                if month is None:
                    unnamed.append(change.path.name)
                    continue
                key = month.strftime("%Y-%m-01")
            else:
                # Unpartitioned reference files (regions) rebuild with the newest month.
                key = latest_month_key(context)
            by_partition.setdefault(key, []).append(change)
        for name in unnamed:
            report_bad_file(
                context,
                warehouse,
                f"{registry}_landing_sensor",
                f"landing/{registry}/{name}",
                "the name gives no reporting region and month, so the file belongs to no partition and was not "
                "ingested; rename it like 320585_2024-03_持证社工名册.csv",
            )
        valid = set(monthly_partitions.get_partition_keys())
        requests = []
        for key, changes in sorted(by_partition.items()):
            if key not in valid:
                for change in changes:
                    report_bad_file(
                        context,
                        warehouse,
                        f"{registry}_landing_sensor",
                        f"landing/{registry}/{change.path.name}",
                        f"reporting month {key[:7]} is outside the partitions {min(valid)[:7]}.."
                        f"{max(valid)[:7]}; set SHEGONG_FIRST_MONTH for older archives",
                    )
                continue
            files = sorted(f"{c.path.name}@{c.sha256[:12]}" for c in changes)
            requests.append(
                dg.RunRequest(
                    run_key=f"{registry}|{key}|{'|'.join(files)}",
                    partition_key=key,
                    tags={TRIGGER_TAG: f"landing/{registry}"},
                )
            )
        skip = None
        if not requests:
            skip = dg.SkipReason(
                f"landing/{registry}/: {len(changed)} changed file(s), none with a valid reporting month"
            )
        return dg.SensorResult(
            run_requests=requests, skip_reason=skip, cursor=json.dumps(cursor, sort_keys=True)
        )

    return landing_sensor


def report_bad_file(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, name: str, where: str, error: str
) -> None:
    """Reported once per file version (the cursor then remembers it): the tick's log and an alert file."""
    context.log.error(f"sensor {name}: {where}: {error}")
    write_alert(Path(warehouse.warehouse_dir) / "alerts", run_id=None, job=name, where=where, error=error)


def latest_month_key(context: dg.SensorEvaluationContext) -> str:
    return monthly_partitions.get_last_partition_key()


@dg.sensor(
    name="reports_landing_sensor",
    job=report_extraction_job,
    minimum_interval_seconds=60,
    description="A new or changed report in landing/reports/ is extracted as its own partition.",
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def reports_landing_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    changed, cursor = scan(
        report_files(warehouse.landing / "reports"),
        context.cursor,
        digest=report_digest,
        signature=report_signature,
    )
    if not changed:
        return dg.SensorResult(
            skip_reason=dg.SkipReason("no new or changed reports in landing/reports/"),
            cursor=json.dumps(cursor, sort_keys=True),
        )
    known = set(context.instance.get_dynamic_partitions(report_partitions.name))
    new_docs = sorted({c.path.name for c in changed} - known)
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"reports|{c.path.name}@{c.sha256[:12]}",
                partition_key=c.path.name,
                tags={TRIGGER_TAG: "landing/reports"},
            )
            for c in changed
        ],
        dynamic_partitions_requests=[report_partitions.build_add_request(new_docs)] if new_docs else [],
        cursor=json.dumps(cursor, sort_keys=True),
    )


landing_sensors = [*(build_registry_sensor(r) for r in REGISTRIES), reports_landing_sensor]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(sensors=landing_sensors)
