"""The failure hook's alert files and the registries' freshness checks, on real (small) in-process runs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import pytest

pytestmark = pytest.mark.integration

WORKERS = dg.AssetKey(["raw", "workers"])


def warehouse(root: Path, landing: Path, build_db: Path | None = None):
    from shegong.defs.resources import WarehouseResource

    return WarehouseResource(
        build_db=str(build_db or root / "build" / "build.duckdb"),
        landing_dir=str(landing),
        warehouse_dir=str(root / "warehouse"),
        pii_key="test",
    )


def definitions_with(resource) -> dg.Definitions:
    """The code location's assets, checks and jobs (hooks and all), bound to a warehouse of the test's own."""
    from shegong.definitions import defs as load_definitions
    from shegong.defs.dbt import dbt_resource

    defs = load_definitions()
    return dg.Definitions(
        assets=defs.assets,
        asset_checks=defs.asset_checks,
        jobs=defs.jobs,
        resources={"warehouse": resource, "dbt": dbt_resource()},
        executor=dg.in_process_executor,
    )


def run_workers(resource, partition_key: str, logs: list[str] | None = None) -> dg.ExecuteInProcessResult:
    """The warehouse_build job, as deployed (hooks and all), for the workers registry alone."""
    with dg.instance_for_test() as instance:
        # Resolved while this instance is current: Dagster keeps a weak global to the instance last entered.
        job = definitions_with(resource).resolve_job_def("warehouse_build")
        result = job.execute_in_process(
            instance=instance, partition_key=partition_key, asset_selection=[WORKERS], raise_on_error=False
        )
        if logs is not None:
            logs.extend(f"{e.level} {e.user_message}" for e in instance.all_logs(result.run_id))
    return result


def generate_months(landing: Path, start_month: str, months: int) -> None:
    from shegong_tools.generate import generate

    generate(landing, scale=150, seed=5, start_month=start_month, months=months)


def test_a_failed_step_writes_an_alert_naming_the_asset_and_the_error(tmp_path):
    landing = tmp_path / "landing"
    generate_months(landing, "2024-01", 1)
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the build folder should be")
    resource = warehouse(tmp_path, landing, build_db=blocker / "build.duckdb")

    logs: list[str] = []
    result = run_workers(resource, "2024-01-01", logs)

    assert not result.success
    (alert_file,) = (tmp_path / "warehouse" / "alerts").glob("*.json")
    alert = json.loads(alert_file.read_text(encoding="utf-8"))
    assert alert["run_id"] == result.run_id
    assert alert["job"] == "warehouse_build"
    assert alert["assets"] == ["raw/workers"]
    assert alert["where"] == "asset raw/workers (step raw__workers)"
    assert alert["error"].startswith(("FileExistsError", "NotADirectoryError"))
    assert str(blocker) in alert["error"]
    assert dt.datetime.fromisoformat(alert["at"])
    # The same alert is in the run's log, at ERROR.
    assert any(line.startswith("40 ALERT warehouse_build asset raw/workers") for line in logs), logs


def freshness(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    (evaluation,) = [
        e
        for e in result.get_asset_check_evaluations()
        if e.asset_key == WORKERS and e.check_name.startswith("arrived_within_")
    ]
    return evaluation


def test_freshness_warns_for_a_stale_registry_and_passes_for_a_fresh_one(tmp_path):
    from shegong.contracts import contract

    allowed = contract("workers").freshness_days
    assert allowed == 45

    stale_landing = tmp_path / "stale" / "landing"
    generate_months(stale_landing, "2024-01", 1)
    stale = run_workers(warehouse(tmp_path / "stale", stale_landing), "2024-01-01")
    assert stale.success  # a warning, not a failed run
    evaluation = freshness(stale)
    assert evaluation.check_name == f"arrived_within_{allowed}_days"
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.WARN
    assert evaluation.metadata["newest_period_end"].value == "2024-01-31"
    assert evaluation.metadata["age_days"].value == (dt.date.today() - dt.date(2024, 1, 31)).days

    # The previous month, just closed: within the rhythm.
    last_month = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    fresh_landing = tmp_path / "fresh" / "landing"
    generate_months(fresh_landing, f"{last_month:%Y-%m}", 1)
    fresh = run_workers(warehouse(tmp_path / "fresh", fresh_landing), last_month.isoformat())
    assert fresh.success
    evaluation = freshness(fresh)
    assert evaluation.passed, evaluation.metadata
    assert evaluation.metadata["age_days"].value <= allowed
