"""The project's dagster.yaml: it loads with dagster 1.13, keeps SQLite under DAGSTER_HOME by default, queues
one run at a time, limits the warehouse_writer pool to one step, and a killed in-process run gives its slot
back to the next run."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import dagster as dg
import pytest

from shegong.dagster_internals import InstigatorType, SqliteRunStorage, TickStatus

pytestmark = pytest.mark.integration

PROJECT = Path(__file__).parents[2]
PG_VARS = ("SHEGONG_PG_URL", "DAGSTER_PG_HOST")


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    for var in PG_VARS:
        monkeypatch.delenv(var, raising=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # storage must not follow the working directory
    return home


def test_the_instance_loads_with_sqlite_under_dagster_home(home, tmp_path):
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        assert isinstance(instance.run_storage, SqliteRunStorage)
        assert (home / "storage" / "history" / "runs.db").exists()
        assert (home / "storage" / "schedules" / "schedules.db").exists()
        assert not (tmp_path / "elsewhere" / "storage").exists()
        assert not instance.telemetry_enabled

        coordinator = instance.run_coordinator
        assert type(coordinator).__name__ == "QueuedRunCoordinator"
        config = instance.get_concurrency_config()
        assert config.run_queue_config.max_concurrent_runs == 1
        assert config.pool_config.default_pool_limit == 1
        assert instance.event_log_storage.supports_global_concurrency_limits

        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] == 60
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 1
        assert not instance.run_retries_retry_on_asset_or_op_failure

        retention = instance.get_tick_retention_settings(InstigatorType.SENSOR)
        assert retention[TickStatus.SKIPPED] == 7
        assert retention[TickStatus.SUCCESS] == -1
    finally:
        instance.dispose()


def test_the_warehouse_writer_pool_admits_one_step_across_runs(home):
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        storage = instance.event_log_storage
        storage.initialize_concurrency_limit_to_default("warehouse_writer")
        first = storage.claim_concurrency_slot("warehouse_writer", "run-a", "raw__workers")
        second = storage.claim_concurrency_slot("warehouse_writer", "run-b", "raw__stations")
        assert first.is_claimed and not second.is_claimed
        storage.free_concurrency_slot_for_step("run-a", "raw__workers")
        assert storage.claim_concurrency_slot("warehouse_writer", "run-b", "raw__stations").is_claimed
    finally:
        instance.dispose()


def test_postgres_is_chosen_by_environment(home, monkeypatch):
    from shegong.instance_storage import postgres_url

    assert postgres_url({}) is None
    # SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3; dagster-postgres installs psycopg2.
    assert (
        postgres_url({"SHEGONG_PG_URL": "postgresql://a:b@db:5432/x"})
        == "postgresql+psycopg2://a:b@db:5432/x"
    )
    assert postgres_url({"SHEGONG_PG_URL": "postgres://a@db/x"}) == "postgresql+psycopg2://a@db/x"
    assert postgres_url({"SHEGONG_PG_URL": "postgresql+psycopg2://a@db/x"}) == "postgresql+psycopg2://a@db/x"
    assert (
        postgres_url({"DAGSTER_PG_HOST": "db", "DAGSTER_PG_USERNAME": "dag", "DAGSTER_PG_PASSWORD": "p@ss"})
        == "postgresql+psycopg2://dag:p%40ss@db:5432/dagster"
    )
    monkeypatch.setenv("SHEGONG_PG_URL", "postgresql://dagster@127.0.0.1:1/dagster")
    if importlib.util.find_spec("dagster_postgres") is None:
        with pytest.raises(RuntimeError, match="dagster-postgres is not installed"):
            dg.DagsterInstance.from_config(str(home))
    else:  # installed: it really tries PostgreSQL (nothing listens on port 1)
        with pytest.raises(Exception, match=r"(?i)connect|refused"):
            dg.DagsterInstance.from_config(str(home))


def test_a_killed_in_process_run_releases_its_slot(home):
    from shegong.defs.jobs import HOST_TAG, PID_TAG, in_process_run_tags, release_abandoned_runs

    dead = subprocess.Popen(["true"])
    dead.wait()
    instance = dg.DagsterInstance.from_config(str(home))
    try:

        @dg.op
        def noop():
            return None

        @dg.job
        def killed_job():
            noop()

        tags = {**in_process_run_tags(), PID_TAG: str(dead.pid)}
        killed = instance.create_run_for_job(killed_job, tags=tags)
        instance.handle_run_event(
            killed.run_id,
            dg.DagsterEvent(dg.DagsterEventType.RUN_START.value, job_name="killed_job"),
        )
        alive = instance.create_run_for_job(killed_job, tags=in_process_run_tags())
        instance.handle_run_event(
            alive.run_id, dg.DagsterEvent(dg.DagsterEventType.RUN_START.value, job_name="killed_job")
        )
        storage = instance.event_log_storage
        storage.initialize_concurrency_limit_to_default("warehouse_writer")
        assert storage.claim_concurrency_slot("warehouse_writer", killed.run_id, "raw__workers").is_claimed

        assert release_abandoned_runs(instance) == [killed.run_id]
        assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(alive.run_id).status == dg.DagsterRunStatus.STARTED
        assert alive.tags[HOST_TAG] == killed.tags[HOST_TAG]
        assert storage.claim_concurrency_slot("warehouse_writer", "next-run", "raw__workers").is_claimed
    finally:
        instance.dispose()
