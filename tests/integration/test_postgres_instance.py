"""The project's dagster.yaml on a real PostgreSQL 15 server that this test run starts and stops by pid: a bare
`postgresql://` URL works (the storage names psycopg2), a project asset materializes with its run, events and
concurrency pool in PostgreSQL, and a second instance reads that history back; a wrong password is refused
with one line naming the server."""

from __future__ import annotations

import os
import shutil
import subprocess

import dagster as dg
import pytest

from tests.integration.postgres_server import PostgresServer, start_postgres

pytestmark = pytest.mark.integration

PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PASSWORD = "s3cret pass/word"  # characters a URL must escape


@pytest.fixture(scope="module")
def postgres() -> PostgresServer:
    server = start_postgres(password=PASSWORD)
    try:
        yield server
    finally:
        server.stop()
    assert not server.running(), f"PostgreSQL (pid {server.pid}) still running after stop"


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(os.path.join(PROJECT, "dagster.yaml"), home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    for var in ("SHEGONG_PG_URL", "DAGSTER_PG_HOST"):
        monkeypatch.delenv(var, raising=False)
    return home


def test_a_materialization_and_its_history_live_in_postgres(postgres, home, monkeypatch):
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage

    from shegong.defs.registries import reference_data
    from shegong.defs.resources import WarehouseResource

    database = postgres.create_database("dagster_history")
    monkeypatch.setenv("SHEGONG_PG_URL", postgres.url(database))  # bare postgresql:// as operators write it
    assert postgres.url(database).startswith("postgresql://")

    instance = dg.DagsterInstance.from_config(str(home))
    try:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert not (home / "storage" / "history" / "runs.db").exists()  # nothing fell back to SQLite
        result = dg.materialize(
            [reference_data],
            instance=instance,
            resources={"warehouse": WarehouseResource.from_environment()},
            tags={"shegong/test": "postgres"},
        )
        assert result.success
        run_id = result.run_id
        gazetteer_rows = result.asset_materializations_for_node("reference_data")[0].metadata["rows"].value
        assert gazetteer_rows > 3000  # provinces, cities and counties of the national gazetteer
    finally:
        instance.dispose()

    # A new instance (as the webserver or daemon would open) reads the history from the server.
    reader = dg.DagsterInstance.from_config(str(home))
    try:
        run = reader.get_run_by_id(run_id)
        assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
        assert run.tags["shegong/test"] == "postgres"
        event = reader.get_latest_materialization_event(dg.AssetKey(["raw", "gazetteer"]))
        assert event is not None and event.run_id == run_id
        assert event.asset_materialization.metadata["rows"].value == gazetteer_rows
        kinds = {e.dagster_event.event_type for e in reader.all_logs(run_id) if e.dagster_event}
        event_type = dg.DagsterEventType
        assert {
            event_type.RUN_START,
            event_type.STEP_SUCCESS,
            event_type.ASSET_MATERIALIZATION,
            event_type.RUN_SUCCESS,
        } <= kinds
        # The warehouse_writer pool (created by the run, limit 1 from dagster.yaml) lives in the same server, so
        # runs on any host share one slot.
        storage = reader.event_log_storage
        assert storage.get_concurrency_info("warehouse_writer").slot_count == 1
        assert storage.claim_concurrency_slot("warehouse_writer", "run-a", "step").is_claimed
        assert not storage.claim_concurrency_slot("warehouse_writer", "run-b", "step").is_claimed
    finally:
        reader.dispose()

    # And PostgreSQL itself holds it: the run row, read with psql.
    rows = postgres.psql(database, f"select status from runs where run_id = '{run_id}'")
    assert rows == ["SUCCESS"]


def test_a_refused_password_names_the_server(postgres, home, monkeypatch):
    database = postgres.create_database("dagster_refused")
    monkeypatch.setenv("SHEGONG_PG_URL", postgres.url(database, password="wrong"))
    with pytest.raises(RuntimeError) as failure:
        dg.DagsterInstance.from_config(str(home))
    message = str(failure.value)
    assert len(message.splitlines()) == 1
    assert f"127.0.0.1:{postgres.port}/{database}" in message and "password" in message
    assert "wrong" not in message  # the credential is never echoed
    assert "SHEGONG_PG_URL" in message


def test_the_server_was_started_by_this_run(postgres):
    # Stopped by pid at the end (the fixture asserts it): the pid is the postmaster of the private data dir.
    out = subprocess.run(["ps", "-o", "args=", "-p", str(postgres.pid)], capture_output=True, text=True)
    assert str(postgres.data_dir) in out.stdout
