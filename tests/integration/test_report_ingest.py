"""Reports through the real extractor into a real DuckDB file, written as one batch."""

from __future__ import annotations

import datetime as dt
import os
import signal

import duckdb
import pytest

from shegong.ingest import pool, reports
from shegong.ingest.reports import ingest_reports
from shegong.schema import ensure_build_schema

REPORT_2023 = (
    "某市民政局2023年工作总结\n截至2023年底，全市持证社会工作者达到1200人，建成乡镇(街道)社工站35个。\n"
)
REPORT_2023_CORRECTED = "某市民政局2023年工作总结\n截至2023年底，全市持证社会工作者达到1250人。\n"


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "build.duckdb"))
    ensure_build_schema(connection)
    yield connection
    connection.close()


def facts(con, doc: str) -> list[tuple]:
    return con.execute(
        "select metric, value from raw.report_facts where doc = ? order by fact_index", [doc]
    ).fetchall()


def files(con) -> list[tuple]:
    return con.execute(
        "select source_file, status, rows_in, error is not null from audit.ingested_files "
        "where registry = 'reports' order by source_file"
    ).fetchall()


def test_a_batch_writes_every_document_and_rejects_unreadable_files(con, tmp_path):
    landing = tmp_path / "landing"
    (landing / "reports").mkdir(parents=True)
    good = landing / "reports" / "city_2023.txt"
    good.write_text(REPORT_2023, encoding="utf-8")
    other = landing / "reports" / "county_2023.txt"
    other.write_text(REPORT_2023.replace("全市", "全县").replace("1200", "300"), encoding="gb18030")
    empty = landing / "reports" / "empty.txt"
    empty.write_bytes(b"")

    outcomes = ingest_reports(con, [good, other, empty], landing)

    assert [(o.doc, o.status) for o in outcomes] == [
        ("city_2023.txt", "extracted"),
        ("county_2023.txt", "extracted"),
        ("empty.txt", "rejected"),
    ]
    assert ("certified_social_workers", 1200.0) in facts(con, "city_2023.txt")
    assert ("certified_social_workers", 300.0) in facts(con, "county_2023.txt")
    documents = con.execute("select doc, facts from raw.report_documents order by doc").fetchall()
    assert documents == [("city_2023.txt", len(facts(con, "city_2023.txt"))), ("county_2023.txt", 2)]
    assert files(con) == [
        ("reports/city_2023.txt", "current", len(facts(con, "city_2023.txt")), False),
        ("reports/county_2023.txt", "current", 2, False),
        ("reports/empty.txt", "rejected", 0, True),
    ]


def test_a_large_batch_extracted_by_the_worker_processes_writes_the_same_rows(tmp_path, monkeypatch):
    """From POOLED_REPORTS reports on, the worker processes extract them: documents, facts and file records come
    out as an in-process extraction writes them, in the landing's order, rejected files included."""
    landing = tmp_path / "landing"
    (landing / "reports").mkdir(parents=True)
    paths = []
    for i in range(8):
        path = landing / "reports" / f"county_{i}.txt"
        text = REPORT_2023.replace("全市", "全县").replace("1200", str(100 + i))
        path.write_text(text, encoding="gb18030" if i % 2 else "utf-8")
        paths.append(path)
    (landing / "reports" / "empty.txt").write_bytes(b"")
    (landing / "reports" / "scan.pdf").write_bytes(b"%PDF-1.4")
    paths[3:3] = [landing / "reports" / "empty.txt", landing / "reports" / "scan.pdf"]
    now = dt.datetime(2024, 6, 1, 9, 0)

    def ingested(pooled_from: int, name: str) -> tuple[list, list, list, list]:
        monkeypatch.setattr(reports, "POOLED_REPORTS", pooled_from)
        with duckdb.connect(str(tmp_path / name)) as c:
            ensure_build_schema(c)
            outcomes = ingest_reports(c, paths, landing, now=now)
            return (
                [(o.doc, o.status, o.facts, o.error) for o in outcomes],
                c.execute(
                    "select * exclude (stats, quality) from raw.report_documents order by doc"
                ).fetchall(),
                c.execute("select * from raw.report_facts order by doc, fact_index").fetchall(),
                c.execute(
                    "select * from audit.ingested_files where registry = 'reports' order by source_file"
                ).fetchall(),
            )

    pool._close_idle_pool()  # the workers an earlier test left idling
    in_process = ingested(len(paths) + 1, "in_process.duckdb")
    assert pool._pool is None  # no worker started for a small batch
    pooled = ingested(len(paths), "pooled.duckdb")
    assert pool._pool is not None  # the workers extracted it (and idle a moment before they stop)
    assert pooled == in_process
    statuses = [status for _, status, _, _ in pooled[0]]
    assert statuses.count("extracted") == 8 and statuses.count("rejected") == 2
    assert [doc for doc, _, _, _ in pooled[0]][3:5] == ["empty.txt", "scan.pdf"]


def test_workers_dying_mid_batch_cost_no_report_and_leave_a_working_pool(tmp_path, monkeypatch):
    """The worker processes killed while they extract a batch: the reports they had not returned are extracted
    here, every one as an in-process extraction gives it, and the shared pool is replaced for the registries'
    ingest that follows."""
    folder = tmp_path / "reports"
    folder.mkdir()
    paths = []
    for i in range(400):
        path = folder / f"county_{i:03d}.txt"
        # Long enough (~5 KB) that most of the batch is still being extracted when the workers die.
        path.write_text(REPORT_2023.replace("1200", str(1000 + i)) * 40, encoding="utf-8")
        paths.append(path)
    monkeypatch.setattr(reports, "POOLED_REPORTS", 2)
    expected = [reports.extract_report(path) for path in paths]

    extracted = reports.extract_reports(paths)
    results = [next(extracted)]  # the batch is submitted and the first report back
    broken = pool._pool
    for pid in list(broken._processes):
        os.kill(pid, signal.SIGKILL)
    results += list(extracted)

    assert results == expected
    assert pool._pool is not broken  # replaced: the next user gets workers that run
    with pool.worker_pool() as workers:
        assert workers.submit(os.getpid).result(timeout=60) != os.getpid()


def test_re_extracting_replaces_a_documents_facts_and_a_rejected_resend_keeps_them(con, tmp_path):
    landing = tmp_path / "landing"
    (landing / "reports").mkdir(parents=True)
    report = landing / "reports" / "city_2023.txt"
    report.write_text(REPORT_2023, encoding="utf-8")
    ingest_reports(con, [report], landing)
    assert ("certified_social_workers", 1200.0) in facts(con, "city_2023.txt")

    report.write_text(REPORT_2023_CORRECTED, encoding="utf-8")
    ingest_reports(con, [report], landing)
    assert facts(con, "city_2023.txt") == [("certified_social_workers", 1250.0)]
    assert files(con) == [("reports/city_2023.txt", "current", 1, False)]

    report.write_bytes(b"")
    (outcome,) = ingest_reports(con, [report], landing)
    assert outcome.status == "rejected" and "empty" in outcome.error
    assert facts(con, "city_2023.txt") == [("certified_social_workers", 1250.0)]
    statuses = {status for _, status, _, _ in files(con)}
    assert statuses == {"current", "rejected"}


def _reports_warehouse(tmp_path, reports: dict[str, str]):
    """A warehouse resource over a landing folder holding `reports` (file name → text) and a fresh build file."""
    from shegong.defs.resources import WarehouseResource

    landing = tmp_path / "landing"
    (landing / "reports").mkdir(parents=True)
    for name, text in reports.items():
        (landing / "reports" / name).write_text(text, encoding="utf-8")
    return WarehouseResource(
        build_db=str(tmp_path / "build.duckdb"),
        warehouse_dir=str(tmp_path / "warehouse"),
        landing_dir=str(landing),
        pii_key="test-key",
    )


def test_each_report_partition_carries_its_own_extraction_figures(tmp_path):
    """The Dagster asset on a real landing folder and DuckDB file: each document's materialization says how its
    extraction went."""
    import dagster as dg

    from shegong.dagster_internals import partition_range_tags
    from shegong.defs.reports import reports

    warehouse = _reports_warehouse(
        tmp_path, {"city_2023.txt": REPORT_2023, "undated.txt": "示例简报\n全县持证社工达300人。\n"}
    )
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("reports", ["city_2023.txt", "undated.txt"])
        result = dg.materialize(
            [reports],
            instance=instance,
            resources={"warehouse": warehouse},
            partition_key="city_2023.txt",
        )
        assert result.success
        (event,) = result.get_asset_materialization_events()
        metadata = event.materialization.metadata
        assert metadata["status"].value == "extracted" and metadata["facts"].value >= 1
        assert 0 < metadata["extraction_quality"].value <= 1
        again = dg.materialize(
            [reports], instance=instance, resources={"warehouse": warehouse}, partition_key="undated.txt"
        )
        (event,) = again.get_asset_materialization_events()
        undated = event.materialization.metadata
        assert "no_publication_date" in undated["issues"].value
        assert undated["facts"].value != metadata["facts"].value
        # A run over both documents gives each partition its own figures, not the run's.
        both = dg.materialize(
            [reports],
            instance=instance,
            resources={"warehouse": warehouse},
            tags=partition_range_tags("city_2023.txt", "undated.txt"),
        )
        by_doc = {
            e.materialization.partition: e.materialization.metadata
            for e in both.get_asset_materialization_events()
        }
        assert set(by_doc) == {"city_2023.txt", "undated.txt"}
        for doc, alone in (("city_2023.txt", metadata), ("undated.txt", undated)):
            own = {k: v.value for k, v in by_doc[doc].items() if not k.startswith("run_")}
            assert own == {k: v.value for k, v in alone.items() if not k.startswith("run_")}
            assert by_doc[doc]["run_documents_extracted"].value == 2
        assert metadata["run_documents_extracted"].value == 1


def test_a_run_over_many_reports_gives_every_partition_the_runs_totals(tmp_path):
    """Past PER_DOCUMENT_METADATA_LIMIT documents (a full re-extraction), the partitions carry the run's totals
    only: Dagster looks the partitions up again for every per-partition call."""
    import dagster as dg

    from shegong.dagster_internals import partition_range_tags
    from shegong.defs.reports import PER_DOCUMENT_METADATA_LIMIT, reports

    docs = [f"county_{i:03d}.txt" for i in range(PER_DOCUMENT_METADATA_LIMIT + 1)]
    warehouse = _reports_warehouse(
        tmp_path, {doc: f"示例简报\n全县持证社工达{300 + i}人。\n" for i, doc in enumerate(docs)}
    )
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("reports", docs)
        result = dg.materialize(
            [reports],
            instance=instance,
            resources={"warehouse": warehouse},
            tags=partition_range_tags(docs[0], docs[-1]),
        )
        events = result.get_asset_materialization_events()
        assert sorted(e.materialization.partition for e in events) == docs
        for event in events:
            metadata = {k: v.value for k, v in event.materialization.metadata.items()}
            assert metadata["run_documents_extracted"] == len(docs) and metadata["run_facts"] == len(docs)
            assert "status" not in metadata
