"""Landing sensors and the daily schedule, evaluated with Dagster's test contexts on real landing folders."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import zoneinfo
from pathlib import Path

import dagster as dg
import pytest

from shegong.dagster_internals import partition_range_tags

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    from shegong_tools.generate import generate

    root = tmp_path_factory.mktemp("generated")
    generate(root, scale=50, seed=11, start_month="2024-01", months=12)
    return root


@pytest.fixture
def landing(tmp_path) -> Path:
    root = tmp_path / "landing"
    root.mkdir()
    return root


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def resources(landing: Path, tmp_path: Path) -> dict:
    from shegong.defs.resources import WarehouseResource

    return {
        "warehouse": WarehouseResource(
            build_db=str(tmp_path / "build.duckdb"),
            landing_dir=str(landing),
            warehouse_dir=str(tmp_path / "warehouse"),
            pii_key="test",
        )
    }


def sensor(name: str) -> dg.SensorDefinition:
    from shegong.defs.sensors import landing_sensors

    return next(s for s in landing_sensors if s.name == name)


def evaluate(sensor_def, instance, landing, tmp_path, cursor):
    """One tick as the daemon runs it: run requests resolved against the code location's job."""
    from shegong.definitions import defs as load_definitions

    # Used as a context manager, as the daemon does, so the instance it opens from the ref is closed again
    # (left open, it lingers as Dagster's current state storage and breaks later definitions loads).
    with (
        dg.build_sensor_context(
            instance=instance,
            instance_ref=instance.get_ref(),  # as in the daemon: partitions added by the tick resolve too
            cursor=cursor,
            resources=resources(landing, tmp_path),
            sensor_name=sensor_def.name,
            definitions=load_definitions(),
        ) as context,
        dg.partition_loading_context(dynamic_partitions_store=instance),  # as the sensor daemon does
    ):
        return sensor_def.evaluate_tick(context)


def land(generated: Path, landing: Path, registry: str, month: str) -> list[Path]:
    (landing / registry).mkdir(exist_ok=True)
    copied = []
    for path in sorted((generated / registry).glob(f"*_{month}_*")):
        copied.append(Path(shutil.copy2(path, landing / registry / path.name)))
    assert copied, f"the generator wrote no {registry} file for {month}"
    return copied


def month_range(request: dg.RunRequest) -> tuple[str, str]:
    assert request.partition_key_range is not None
    return request.partition_key_range.start, request.partition_key_range.end


REGISTRIES_SENSOR = "registries_landing_sensor"


def test_a_new_file_requests_one_run_for_exactly_its_month(generated, landing, instance, tmp_path):
    workers = sensor(REGISTRIES_SENSOR)
    first = land(generated, landing, "workers", "2024-01")[0]
    for extra in first.parent.iterdir():
        if extra != first:
            extra.unlink()

    tick = evaluate(workers, instance, landing, tmp_path, None)
    (request,) = tick.run_requests
    assert month_range(request) == ("2024-01-01", "2024-01-01")
    assert request.tags["shegong/trigger"] == "landing/workers"
    assert tick.cursor and first.name in json.loads(tick.cursor)["workers"]
    # The models downstream of the workers registry, and not the other registries or what only they feed.
    selected = {key.to_user_string() for key in request.asset_selection}
    assert {
        "raw/workers",
        "staging/stg_workers",
        "marts/fct_workforce_monthly",
        "warehouse/published",
    } <= selected
    assert not {"raw/stations", "raw/report_reviews", "staging/stg_stations", "marts/fct_funding"} & selected

    # Unchanged folder: a skip, not a second run.
    again = evaluate(workers, instance, landing, tmp_path, tick.cursor)
    assert again.run_requests == []
    assert "no new or changed registry files" in again.skip_message

    # A touch (same bytes, new mtime) is not a change of content.
    os.utime(first, ns=(first.stat().st_atime_ns, first.stat().st_mtime_ns + 10_000_000_000))
    touched = evaluate(workers, instance, landing, tmp_path, again.cursor)
    assert touched.run_requests == []

    # A second month's file: exactly that month.
    land(generated, landing, "workers", "2024-02")
    (both,) = evaluate(workers, instance, landing, tmp_path, touched.cursor).run_requests
    assert month_range(both) == ("2024-02-01", "2024-02-01")


def test_a_year_of_every_registry_landed_at_once_starts_one_run(generated, landing, instance, tmp_path):
    shutil.copytree(generated, landing, dirs_exist_ok=True)
    tick = evaluate(sensor(REGISTRIES_SENSOR), instance, landing, tmp_path, None)
    (request,) = tick.run_requests
    assert month_range(request) == ("2024-01-01", "2024-12-01")
    selected = {key.to_user_string() for key in request.asset_selection}
    assert {f"raw/{r}" for r in ("workers", "stations", "agencies", "funding", "regions")} <= selected
    assert "raw/reports" not in selected  # reports are extracted by their own sensor's runs

    # A corrected file of an old month: the run goes from that month to the newest one landed.
    corrected = next((landing / "stations").glob("*_2024-03_*"))
    corrected.write_bytes(corrected.read_bytes() + b"\n")
    (again,) = evaluate(sensor(REGISTRIES_SENSOR), instance, landing, tmp_path, tick.cursor).run_requests
    assert month_range(again) == ("2024-03-01", "2024-12-01")
    assert "raw/stations" in {k.to_user_string() for k in again.asset_selection}
    assert "raw/workers" not in {k.to_user_string() for k in again.asset_selection}


def test_a_changed_file_requests_a_new_run(generated, landing, instance, tmp_path):
    workers = sensor(REGISTRIES_SENSOR)
    path = land(generated, landing, "workers", "2024-01")[0]
    for extra in path.parent.iterdir():
        if extra != path:
            extra.unlink()
    first = evaluate(workers, instance, landing, tmp_path, None)
    (before,) = first.run_requests

    # A corrected re-send under the same name.
    path.write_bytes(path.read_bytes() + b"\n")
    second = evaluate(workers, instance, landing, tmp_path, first.cursor)
    (after,) = second.run_requests
    assert month_range(after) == month_range(before) == ("2024-01-01", "2024-01-01")
    assert after.run_key != before.run_key


def alerts(tmp_path: Path) -> list[dict]:
    folder = tmp_path / "warehouse" / "alerts"
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def test_a_badly_named_file_is_reported_and_does_not_wedge_the_sensor(
    generated, landing, instance, tmp_path, capsys
):
    stations = sensor(REGISTRIES_SENSOR)
    land(generated, landing, "stations", "2024-02")
    bad = landing / "stations" / "社工站室台账_最新版.csv"
    shutil.copy2(next((landing / "stations").iterdir()), bad)

    tick = evaluate(stations, instance, landing, tmp_path, None)
    (request,) = tick.run_requests
    assert month_range(request) == ("2024-02-01", "2024-02-01")
    # Reported in the tick's log and as an alert file.
    assert f"stations/{bad.name}" in capsys.readouterr().err
    (alert,) = alerts(tmp_path)
    assert alert["job"] == REGISTRIES_SENSOR
    assert alert["where"] == f"landing/stations/{bad.name}"
    assert "no reporting region and month" in alert["error"]
    assert alert["run_id"] is None
    # The cursor advanced past the bad file: the next tick neither re-reports it nor re-requests the others.
    assert bad.name in json.loads(tick.cursor)["stations"]
    again = evaluate(stations, instance, landing, tmp_path, tick.cursor)
    assert again.run_requests == [] and again.skip_message
    assert bad.name not in capsys.readouterr().err
    assert len(alerts(tmp_path)) == 1


def test_a_bad_file_alone_skips_with_a_reason(landing, instance, tmp_path):
    folder = landing / "workers"
    folder.mkdir()
    (folder / "名册.csv").write_text("姓名\n张三\n", encoding="utf-8")
    tick = evaluate(sensor(REGISTRIES_SENSOR), instance, landing, tmp_path, None)
    assert tick.run_requests == []
    assert "no new or changed registry files with a valid reporting month" in tick.skip_message
    assert "名册.csv" in json.loads(tick.cursor)["workers"]


def test_reference_files_request_the_newest_month(generated, landing, instance, tmp_path):
    from shegong.defs.partitions import monthly_partitions

    folder = landing / "regions"
    folder.mkdir()
    source = next((generated / "regions").iterdir())
    shutil.copy2(source, folder / source.name)
    tick = evaluate(sensor(REGISTRIES_SENSOR), instance, landing, tmp_path, None)
    (request,) = tick.run_requests
    newest = monthly_partitions.get_last_partition_key()
    assert month_range(request) == (newest, newest)


def test_reports_sensor_adds_a_partition_and_a_run_per_new_document(generated, landing, instance, tmp_path):
    reports = sensor("reports_landing_sensor")
    folder = landing / "reports"
    folder.mkdir()
    docs = sorted((generated / "reports").iterdir())[:3]
    for doc in docs[:2]:
        shutil.copy2(doc, folder / doc.name)

    tick = evaluate(reports, instance, landing, tmp_path, None)
    assert sorted(r.partition_key for r in tick.run_requests) == sorted(d.name for d in docs[:2])
    (add,) = tick.dynamic_partitions_requests
    assert add.partitions_def_name == "reports"
    assert sorted(add.partition_keys) == sorted(d.name for d in docs[:2])
    instance.add_dynamic_partitions("reports", list(add.partition_keys))  # what the daemon does

    shutil.copy2(docs[2], folder / docs[2].name)
    (folder / docs[0].name).write_bytes((folder / docs[0].name).read_bytes() + b"\n")
    second = evaluate(reports, instance, landing, tmp_path, tick.cursor)
    assert sorted(r.partition_key for r in second.run_requests) == sorted([docs[0].name, docs[2].name])
    (add,) = second.dynamic_partitions_requests
    assert list(add.partition_keys) == [docs[2].name]  # only the document not yet known

    third = evaluate(reports, instance, landing, tmp_path, second.cursor)
    assert third.run_requests == [] and not third.dynamic_partitions_requests

    # a sidecar landing beside a report (its publication date) is a change of that report, not a report
    sidecar = folder / (docs[1].stem + ".meta.json")
    sidecar.write_text('{"url": "http://example.org/r", "published": "2024-03-02"}', encoding="utf-8")
    fourth = evaluate(reports, instance, landing, tmp_path, third.cursor)
    assert [r.partition_key for r in fourth.run_requests] == [docs[1].name]
    assert evaluate(reports, instance, landing, tmp_path, fourth.cursor).run_requests == []


SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("when", "first", "last"),
    [
        (dt.datetime(2024, 4, 6, 5, 30, tzinfo=SHANGHAI), "2024-03-01", "2024-04-01"),
        (dt.datetime(2024, 1, 1, 5, 30, tzinfo=SHANGHAI), "2023-12-01", "2024-01-01"),
        (dt.datetime(2023, 1, 15, 5, 30, tzinfo=SHANGHAI), "2023-01-01", "2023-01-01"),
    ],
)
def test_the_daily_schedule_requests_the_previous_and_current_month(when, first, last):
    from shegong.definitions import defs as load_definitions
    from shegong.defs.schedules import daily_warehouse_build

    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=when,
            repository_def=load_definitions().get_repository_def(),
        )
        data = daily_warehouse_build.evaluate_tick(context)
    (request,) = data.run_requests
    assert partition_range_tags(first, last).items() <= request.tags.items()
    assert request.run_key == f"daily|{when:%Y-%m-%d}"
    assert request.partition_key is None
    assert request.partition_key_range == dg.PartitionKeyRange(first, last)
