"""The project's SQLite event log writes the batches Dagster hands it in one transaction per file: the same rows,
in both files, as Dagster's own SQLite storage writing the events one at a time; a batch that fails leaves
nothing behind. Real Dagster runs against real SQLite files."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

import dagster as dg
import pytest

from shegong.dagster_internals import ShegongSqliteEventLog, partition_range_tags

DOCUMENTS = [f"doc-{i:03d}.txt" for i in range(120)]
documents = dg.DynamicPartitionsDefinition(name="documents")


@dg.asset(
    partitions_def=documents,
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[dg.AssetCheckSpec("has_rows", asset="extracted")],
)
def extracted(context):
    yield dg.MaterializeResult(metadata={"documents": len(context.partition_keys)})
    yield dg.AssetCheckResult(check_name="has_rows", passed=True)


def _instance(home: Path, storage: str) -> dg.DagsterInstance:
    home.mkdir()
    if storage == "project":
        block = (
            "storage:\n  custom:\n    module: shegong.instance_storage\n    class: ShegongStorage\n"
            f"    config:\n      base_dir: {home / 'storage'}\n"
        )
    else:
        block = f"storage:\n  sqlite:\n    base_dir: {home / 'storage'}\n"
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n" + block, encoding="utf-8")
    return dg.DagsterInstance.from_config(str(home))


def _materialize(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    instance.add_dynamic_partitions(documents.name, DOCUMENTS)
    job = dg.Definitions(assets=[extracted]).resolve_implicit_global_asset_job_def()
    return job.execute_in_process(
        instance=instance, tags=partition_range_tags(DOCUMENTS[0], DOCUMENTS[-1]), raise_on_error=True
    )


def _rows(home: Path, shard: str) -> dict[str, list[tuple]]:
    """What a file holds, without ids, times and data versions (they differ from run to run)."""
    path = home / "storage" / "history" / "runs" / f"{shard}.db"
    queries = {
        "events": "select dagster_event_type, asset_key, partition, step_key from event_logs",
        "asset_keys": "select asset_key from asset_keys",
        "event_tags": "select asset_key, key, iif(key = 'dagster/data_version', null, value) from asset_event_tags",
        "check_executions": "select asset_key, check_name, partition, execution_status from asset_check_executions",
    }
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {row[0] for row in con.execute("select name from sqlite_master where type = 'table'")}
        return {
            name: sorted(con.execute(sql).fetchall(), key=repr)
            for name, sql in queries.items()
            if sql.split(" from ")[1].split()[0] in tables
        }
    finally:
        con.close()


@pytest.fixture
def no_postgres(monkeypatch):
    for name in ("SHEGONG_PG_URL", "DAGSTER_PG_HOST"):
        monkeypatch.delenv(name, raising=False)


def test_a_batched_run_stores_what_dagsters_storage_stores_one_event_at_a_time(
    tmp_path, monkeypatch, no_postgres
):
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")
    ours = _instance(tmp_path / "ours", "project")
    assert isinstance(ours.event_log_storage, ShegongSqliteEventLog)
    batches: list[int] = []
    store_batch = ours.event_log_storage.store_event_batch

    def counting(events):
        batches.append(len(events))
        store_batch(events)

    monkeypatch.setattr(ours.event_log_storage, "store_event_batch", counting)
    ours_run = _materialize(ours)

    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "0")  # Dagster's storage, event by event
    theirs = _instance(tmp_path / "theirs", "sqlite")
    assert type(theirs.event_log_storage).__name__ == "SqliteEventLogStorage"
    theirs_run = _materialize(theirs)

    # The run's 120 partition materializations came as one batch, and the run's planned events as another.
    assert len(DOCUMENTS) in batches and len(batches) >= 2, batches
    assert ours.get_materialized_partitions(extracted.key) == set(DOCUMENTS)
    assert ours.get_materialized_partitions(extracted.key) == theirs.get_materialized_partitions(
        extracted.key
    )
    index_ours, index_theirs = _rows(tmp_path / "ours", "index"), _rows(tmp_path / "theirs", "index")
    assert index_ours == index_theirs
    materialized = [e for e in index_ours["events"] if e[0] == "ASSET_MATERIALIZATION"]
    assert sorted(e[2] for e in materialized) == DOCUMENTS
    assert ("extracted", "has_rows", None, "SUCCEEDED") in [
        (key.strip('["]'), *rest) for key, *rest in index_ours["check_executions"]
    ]
    assert _rows(tmp_path / "ours", ours_run.run_id) == _rows(tmp_path / "theirs", theirs_run.run_id)
    # Read back through Dagster's API: the latest materialization is one of the run's partitions.
    latest = ours.get_latest_materialization_event(extracted.key)
    assert latest is not None and latest.run_id == ours_run.run_id


def test_a_batch_that_fails_leaves_neither_file_changed(tmp_path, monkeypatch, no_postgres):
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")
    instance = _instance(tmp_path / "home", "project")
    run = _materialize(instance)
    materializations = [
        record.event_log_entry
        for record in instance.get_records_for_run(run.run_id, limit=10_000).records
        if record.event_log_entry.dagster_event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
    ]
    before = _rows(tmp_path / "home", "index")
    copied = [event._replace(run_id="copied-run") for event in materializations[:5]]
    # The last event names a run whose file cannot be created: the batch fails after writing the others.
    unwritable = materializations[5]._replace(run_id="no-such-folder/run")
    storage = instance.event_log_storage
    with pytest.raises(Exception, match="unable to open database file"):
        storage.store_event_batch([*copied, unwritable])
    assert _rows(tmp_path / "home", "index") == before
    assert _rows(tmp_path / "home", "copied-run")["events"] == []
    # The storage is usable afterwards, by batch and event by event.
    storage.store_event_batch(copied)
    storage.store_event(copied[0])
    assert len(_rows(tmp_path / "home", "copied-run")["events"]) == 6


def test_the_event_log_starts_on_a_folder_of_its_own(tmp_path):
    """Started first on an empty folder, Dagster's initialisation indexes the new event log through `_connect`."""
    storage = ShegongSqliteEventLog(str(tmp_path / "events"))
    assert (tmp_path / "events" / "index.db").is_file()
    assert storage.get_asset_records() == []


def test_the_event_log_keeps_an_engine_for_the_most_recent_files_only(tmp_path, monkeypatch, no_postgres):
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "0")
    instance = _instance(tmp_path / "home", "project")
    storage = instance.event_log_storage
    monkeypatch.setattr(storage, "ENGINES_KEPT", 2)
    runs = [_materialize(instance).run_id for _ in range(3)]
    assert len(storage._engines) == 2 and runs[0] not in storage._engines
    # Every run's events read back, the evicted file's through a new engine.
    for run_id in runs:
        assert len(instance.get_records_for_run(run_id, limit=10_000).records) > len(DOCUMENTS)
    storage.dispose()
    assert storage._engines is None


def test_the_event_log_remembers_the_index_tables_it_found(tmp_path):
    """Dagster asks whether an index table exists before storing nearly every event. A table found is not asked
    for again (tables are only ever added), a missing one is: created later, it is found."""
    storage = ShegongSqliteEventLog(str(tmp_path / "events"))
    index = sqlite3.connect(tmp_path / "events" / "index.db")
    try:
        assert storage.has_table("asset_event_tags")
        index.execute("alter table asset_event_tags rename to asset_event_tags_moved")
        index.commit()
        assert storage.has_table("asset_event_tags")  # remembered, not asked again
        assert not storage.has_table("added_later")
        index.execute("create table added_later (id integer)")
        index.commit()
        assert storage.has_table("added_later")
        assert not ShegongSqliteEventLog(str(tmp_path / "events")).has_table("asset_event_tags")
    finally:
        index.close()


def test_the_event_log_commits_without_waiting_for_the_disk_and_forgets_wiped_files(tmp_path, no_postgres):
    """Kept connections to files in WAL mode, at synchronous = NORMAL (1; Dagster's connections are at FULL, 2).
    After a wipe (which deletes the run files) a run's events go to a new file, not to a deleted one."""
    instance = _instance(tmp_path / "home", "project")
    storage = instance.event_log_storage
    first = _materialize(instance).run_id
    with storage._connect(first) as connection:
        assert connection.exec_driver_sql("pragma synchronous").scalar() == 1
        assert connection.exec_driver_sql("pragma journal_mode").scalar() == "wal"
    instance.wipe()
    runs = tmp_path / "home" / "storage" / "history" / "runs"
    assert not (runs / f"{first}.db").exists()
    # An event of that run stored after the wipe is in a file again, not in the deleted one.
    storage.store_event(
        dg.EventLogEntry(
            error_info=None,
            level=logging.INFO,
            user_message="after the wipe",
            run_id=first,
            timestamp=time.time(),
        )
    )
    assert [r.event_log_entry.user_message for r in instance.get_records_for_run(first).records] == [
        "after the wipe"
    ]
    assert (runs / f"{first}.db").is_file()
