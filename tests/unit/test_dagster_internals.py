"""The canary for Dagster's private APIs, all confined to `shegong.dagster_internals`: each is used here the way
the project uses it, so a Dagster upgrade that moves or changes one fails here, naming it, before it fails a run.
And nothing else in the project imports `dagster._…`."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from shegong import dagster_internals
from shegong.config import DBT_PROJECT_DIR
from shegong.dagster_internals import (
    ConfigurableClass,
    ConfigurableClassData,
    DagsterSqliteStorage,
    DagsterStorage,
    InstigatorType,
    TickStatus,
    VenvDbtCliResource,
    partition_range_tags,
    without_current_state_storage,
)

ROOT = Path(__file__).parents[2]
PRIVATE_IMPORT = re.compile(r"^\s*(from|import)\s+dagster\._", re.MULTILINE)


def test_no_module_but_the_one_imports_dagster_private_apis():
    offenders = [
        str(path.relative_to(ROOT))
        for folder in (ROOT / "orchestration", ROOT / "tests")
        for path in folder.rglob("*.py")
        if path.name != "dagster_internals.py" and PRIVATE_IMPORT.search(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, f"import Dagster's private APIs through shegong.dagster_internals: {offenders}"


def test_the_partition_range_tags_run_one_run_over_the_range():
    months = dg.MonthlyPartitionsDefinition(start_date="2024-01-01", end_offset=0)
    seen = []

    @dg.asset(partitions_def=months)
    def monthly(context) -> None:
        seen.append(context.partition_key_range)

    job = dg.Definitions(assets=[monthly]).resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(tags=partition_range_tags("2024-02-01", "2024-05-01"))
    assert result.success
    assert seen == [dg.PartitionKeyRange("2024-02-01", "2024-05-01")]


def test_the_storage_classes_shegong_storage_builds_on(tmp_path):
    storage = DagsterSqliteStorage.from_local(str(tmp_path))
    assert isinstance(storage, DagsterStorage) and isinstance(storage, ConfigurableClass)
    data = ConfigurableClassData("shegong.instance_storage", "ShegongStorage", "{}\n")
    assert (data.module_name, data.class_name) == ("shegong.instance_storage", "ShegongStorage")
    assert storage.run_storage is not None and storage.event_log_storage is not None


def test_the_tick_retention_keys_and_the_state_storage_reset():
    assert InstigatorType.SENSOR.value == "SENSOR" and TickStatus.SKIPPED.value == "SKIPPED"
    outer = dagster_internals._current_storage.get(None)
    with without_current_state_storage():
        assert dagster_internals._current_storage.get(None) is None
    assert dagster_internals._current_storage.get(None) is outer


def test_the_dbt_resource_neither_probes_dbt_nor_builds_an_adapter_in_the_step_process(tmp_path, monkeypatch):
    """dagster-dbt's `cli()` still asks the executable for its version and builds an in-process dbt adapter
    before starting dbt; the project's resource answers the version from the venv's dbt-core package (the
    executable's own) and skips the adapter, and dbt runs and succeeds all the same."""
    monkeypatch.setenv("SHEGONG_DUCKDB", str(tmp_path / "build.duckdb"))
    resource = {
        "project_dir": str(DBT_PROJECT_DIR),
        "profiles_dir": str(DBT_PROJECT_DIR),
        "dbt_executable": str(Path(sys.executable).parent / "dbt"),
    }
    theirs, ours = DbtCliResource(**resource), VenvDbtCliResource(**resource)
    assert ours._cli_version == theirs._cli_version  # theirs runs `dbt --version`
    theirs_invocation = theirs.cli(["--version"], target_path=tmp_path / "theirs")
    ours_invocation = ours.cli(["--version"], target_path=tmp_path / "ours")
    assert theirs_invocation.wait().is_successful() and ours_invocation.wait().is_successful()
    assert theirs_invocation.adapter is not None, "dagster-dbt no longer builds an adapter: drop the override"
    assert ours_invocation.adapter is None
