"""Sensors on the landing folders. New or changed registry files start one run over their months (a partition
range) of the models downstream of their registries, however many months and registries landed at once; a new
or changed report starts its extraction.

The cursor remembers, per file name, its size, modification time and SHA-256. Size and mtime are the cheap
change signal; only a file whose size or mtime moved is hashed, and only a file whose content changed starts
a run (a `touch` or a copy of the same bytes does not). The run key is derived from the files and their content
hashes, so a re-evaluated tick never starts the same run twice and a corrected re-send always starts a new one.
The registry sensor keeps one such record per registry folder.

A file that fails the sensor's file-level check (a registry file whose name gives no reporting region and
month) is logged as an error, recorded in the cursor so it is reported once per version, and never holds back
the other files of the tick. Ingestion applies the full file checks (format, encoding, headers) and records
rejected files in audit.ingested_files.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from shegong.alerts import write_alert
from shegong.config import REGISTRIES
from shegong.contracts import contract
from shegong.dagster_internals import partition_range_tags
from shegong.defs.jobs import build_assets_downstream_of, report_extraction_job, warehouse_build_job
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
    files: list[Path], seen: dict | None, digest=entry_digest, signature=_signature
) -> tuple[list[Change], dict[str, list]]:
    """Files whose content is new or changed since the cursor's record of the folder (`seen`: name → [size,
    mtime, sha256]), and the record of the folder as it is now. `digest` / `signature` say what a file's
    content is (a report's includes its sidecar)."""
    seen = seen or {}
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


REGISTRIES_SENSOR = "registries_landing_sensor"


@dg.sensor(
    name=REGISTRIES_SENSOR,
    job=warehouse_build_job,
    minimum_interval_seconds=60,
    description=(
        "New or changed files in the registry landing folders start ONE build over their reporting months "
        "(one partition range) of the models downstream of the registries that changed."
    ),
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def registries_landing_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    seen: dict = json.loads(context.cursor) if context.cursor else {}
    cursor: dict[str, dict] = {}
    valid = set(monthly_partitions.get_partition_keys())
    months: set[str] = set()  # partition keys of the changed files
    landed: set[str] = set()  # partition keys of every registry file landed
    changed_registries: dict[str, list[Change]] = {}
    for registry in REGISTRIES:
        files = landing_files(warehouse.landing / registry)
        changed, cursor[registry] = scan(files, seen.get(registry))
        partitioned = contract(registry).partitioned_by == "month"
        landed |= {k for p in files if partitioned and (k := _partition_key(p)) in valid}
        placed = []
        for change in changed:
            key = _partition_key(change.path)
            if not partitioned:
                placed.append(change)  # an unpartitioned registry (regions): built with the other changes
                continue
            where = f"landing/{registry}/{change.path.name}"
            if key is None:
                report_bad_file(
                    context,
                    warehouse,
                    REGISTRIES_SENSOR,
                    where,
                    "the name gives no reporting region and month, so the file belongs to no partition and was "
                    "not ingested; rename it like 320585_2024-03_持证社工名册.csv",
                )
            elif key not in valid:
                report_bad_file(
                    context,
                    warehouse,
                    REGISTRIES_SENSOR,
                    where,
                    f"reporting month {key[:7]} is outside the partitions {min(valid)[:7]}.."
                    f"{max(valid)[:7]}; set SHEGONG_FIRST_MONTH for older archives",
                )
            else:
                months.add(key)
                placed.append(change)
        if placed:
            changed_registries[registry] = placed
    state = json.dumps(cursor, sort_keys=True)
    if not changed_registries:
        return dg.SensorResult(
            skip_reason=dg.SkipReason("no new or changed registry files with a valid reporting month"),
            cursor=state,
        )
    # From the first changed month to the newest landed one: a month's workers can change the versions in
    # force in every later month. Reference files alone (regions) rebuild the newest month.
    newest = max(landed | months) if landed | months else monthly_partitions.get_last_partition_key()
    first = min(months) if months else newest
    files = sorted(f"{r}/{c.path.name}@{c.sha256[:12]}" for r, cs in changed_registries.items() for c in cs)
    digest = hashlib.sha256("|".join(files).encode("utf-8")).hexdigest()[:16]
    sources = [dg.AssetKey(["raw", registry]) for registry in changed_registries]
    request = dg.RunRequest(
        run_key=f"registries|{first[:7]}..{newest[:7]}|{len(files)} files|{digest}",
        asset_selection=build_assets_downstream_of(context.repository_def, sources),
        tags={
            **partition_range_tags(first, newest),
            TRIGGER_TAG: "landing/" + ",".join(changed_registries),
        },
    )
    context.log.info(f"{len(files)} new or changed registry file(s): one run over {first[:7]}..{newest[:7]}")
    return dg.SensorResult(run_requests=[request], cursor=state)


def _partition_key(path: Path) -> str | None:
    month = month_of(path)
    return month.strftime("%Y-%m-01") if month is not None else None


def report_bad_file(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, name: str, where: str, error: str
) -> None:
    """Reported once per file version (the cursor then remembers it): the tick's log and an alert file."""
    context.log.error(f"sensor {name}: {where}: {error}")
    write_alert(Path(warehouse.warehouse_dir) / "alerts", run_id=None, job=name, where=where, error=error)


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
        json.loads(context.cursor) if context.cursor else None,
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


landing_sensors = [registries_landing_sensor, reports_landing_sensor]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(sensors=landing_sensors)
