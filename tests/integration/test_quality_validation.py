"""Great Expectations suites on a real build file: raw tables written by the real ingest from small CSVs,
validated with GX (pandas engine on Arrow frames), results in audit.audit_validation_results, Data Docs per run,
and the Dagster asset checks around them."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from shegong.contracts import contracts
from shegong.identifiers import complete_id_number, complete_uscc
from shegong.ingest.load import ingest_file
from shegong.ingest.pii import PiiProtector
from shegong.ingest.reference import load_gazetteer
from shegong.ingest.reports import load_metric_catalogue
from shegong.publish import blocking_failures
from shegong.quality import build_run_report, record_outcome, report_summary, run_suite, save_suite_result
from shegong.schema import ensure_build_schema

pytestmark = pytest.mark.integration

REGION = "320213"  # 梁溪区, in the shipped gazetteer
PROVIDER = complete_uscc("52320213MJ4141774")
EMPLOYER = complete_uscc("52320213MJ4160166")


def _person(n: int) -> str:
    return complete_id_number(f"110101{1980 + n % 10}{n % 12 + 1:02d}{n % 28 + 1:02d}{n:03d}")


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _workers(month: str, start: int, n: int) -> list[list[str]]:
    return [
        [
            "张三丰",
            _person(i),
            f"1380000{i:04d}",
            f"2020321000{i:07d}",
            "助理社会工作师",
            "2020-08-10",
            "2020-10-01",
            "有效",
            EMPLOYER,
            "梁溪区阳光社工服务社",
            "",
            "320213001",
        ]
        for i in range(start, start + n)
    ]


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    landing = tmp_path / "landing"
    header = [c.name for c in contracts()["workers"].columns]
    _write(landing / "workers" / f"{REGION}_2024-01_持证社工名册.csv", header, _workers("2024-01", 1, 6))
    _write(landing / "workers" / f"{REGION}_2024-02_持证社工名册.csv", header, _workers("2024-02", 3, 6))
    funding_header = [c.name for c in contracts()["funding"].columns]
    _write(
        landing / "funding" / f"{REGION}_2024-01_购买服务台账.csv",
        funding_header,
        [
            [
                f"{REGION}-2024-GM0100{i}",
                f"2024年社区服务项目{i}",
                "财政资金",
                REGION,
                PROVIDER,
                f"{1000 * i}.50",
                "2024-01-10",
                "2024-02-01",
                "2024-12-31",
            ]
            for i in range(1, 5)
        ]
        + [
            [
                "BAD-1",
                "缺金额项目",
                "财政资金",
                REGION,
                PROVIDER,
                "",
                "2024-01-10",
                "2024-02-01",
                "2024-12-31",
            ]
        ],
    )
    db = tmp_path / "warehouse" / "build" / "shegong_build.duckdb"
    db.parent.mkdir(parents=True)
    con = duckdb.connect(str(db))
    ensure_build_schema(con)
    load_gazetteer(con)
    load_metric_catalogue(con)
    protector = PiiProtector("test-key")
    for registry in ("workers", "funding"):
        for path in sorted((landing / registry).iterdir()):
            outcome = ingest_file(con, path, contracts()[registry], protector, landing)
            assert outcome.status == "ingested", outcome
    con.close()
    return db


def _resource(warehouse: Path, tmp_path: Path):
    """The Dagster resource over the fixture's build file, with the test's own warehouse folder."""
    from shegong.defs.resources import WarehouseResource

    return WarehouseResource(
        build_db=str(warehouse),
        landing_dir=str(tmp_path / "landing"),
        warehouse_dir=str(tmp_path / "warehouse"),
        pii_key="test-key",
    )


def _failed(outcome) -> set[tuple[str, str | None]]:
    return {(e.expectation, e.column) for e in outcome.failed}


def test_clean_raw_tables_pass(warehouse: Path) -> None:
    for suite in (
        "raw.workers",
        "raw.workers.files",
        "raw.workers.quarantine",
        "raw.funding",
        "raw.gazetteer",
    ):
        outcome = run_suite(warehouse, suite, run_id="clean")
        assert outcome.rows > 0 or suite.endswith(".quarantine")
        assert outcome.blocking_failed == [], (suite, _failed(outcome))
    # The funding file's row without an amount was quarantined: 1 of 5 rows = 20%, not above the threshold.
    assert run_suite(warehouse, "raw.funding.files").success


def test_duplicate_key_fails_the_blocking_uniqueness_expectation(warehouse: Path) -> None:
    con = duckdb.connect(str(warehouse))
    con.execute(
        "insert into raw.workers select * from raw.workers where certificate_no = '20203210000000004'"
    )
    con.close()
    outcome = run_suite(warehouse, "raw.workers", run_id="dup")
    assert ("expect_compound_columns_to_be_unique", "certificate_no,_period_month") in _failed(outcome)
    failed = next(e for e in outcome.failed if e.expectation == "expect_compound_columns_to_be_unique")
    assert failed.severity == "blocking" and failed.unexpected_count == 4  # two months × the row and its copy
    files = run_suite(warehouse, "raw.workers.files", run_id="dup")
    assert ("expect_column_pair_values_to_be_equal", "raw_rows,rows_clean") in _failed(files)


def test_negative_amount_and_malformed_code_fail_and_land_in_the_results_table(
    warehouse: Path, tmp_path: Path
) -> None:
    con = duckdb.connect(str(warehouse))
    con.execute(f"update raw.funding set amount_yuan = -5 where contract_no = '{REGION}-2024-GM01002'")
    # a phone number where a credit code belongs: the failing value is shown to auditors redacted
    con.execute(
        f"update raw.funding set provider_uscc = '13912345678' where contract_no = '{REGION}-2024-GM01003'"
    )
    con.close()
    run_id = "run-defects"
    outcomes = [run_suite(warehouse, s, run_id=run_id) for s in ("raw.funding", "raw.workers")]
    funding = outcomes[0]
    assert ("expect_column_values_to_be_between", "amount_yuan") in _failed(funding)
    assert ("expect_column_values_to_match_regex", "provider_uscc") in _failed(funding)
    assert outcomes[1].success

    con = duckdb.connect(str(warehouse))
    for outcome in outcomes:
        record_outcome(con, run_id, outcome)
    record_outcome(con, run_id, funding)  # a retried check replaces its rows, it does not add to them
    failures = blocking_failures(con, run_id)
    rows = con.execute(
        "select count(*), count(*) filter (where not success) from audit.audit_validation_results where run_id = ?",
        [run_id],
    ).fetchall()[0]
    observed = con.execute(
        "select string_agg(observed_value, ' ') from audit.audit_validation_results where run_id = ?",
        [run_id],
    ).fetchall()[0][0]
    con.close()
    assert ("raw.funding", "expect_column_values_to_be_between", "amount_yuan") in failures
    assert rows[0] == sum(len(o.expectations) for o in outcomes) and rows[1] == 2
    assert "13912345678" not in observed and "*******5678" in observed  # unexpected values are redacted

    warehouse_dir = tmp_path / "warehouse"
    for outcome in outcomes:
        save_suite_result(warehouse_dir, run_id, outcome)
    index = build_run_report(run_id, warehouse_dir)
    assert index == warehouse_dir / "validation" / run_id / "index.html" and index.exists()
    html = index.read_text(encoding="utf-8")
    assert "raw.funding" in html and "raw.workers" in html
    assert run_id in (warehouse_dir / "validation" / "latest" / "index.html").read_text(encoding="utf-8")
    pages = "".join(p.read_text(encoding="utf-8") for p in (index.parent / "validations").rglob("*.html"))
    assert "13912345678" not in pages  # the Data Docs show unexpected values redacted too
    assert "amount_yuan is at least 0" in pages

    summary = report_summary(warehouse, warehouse_dir)
    assert summary["run_id"] == run_id and summary["blocking_failed"] == 2
    assert summary["top_failures"][0]["severity"] == "blocking"
    assert summary["quarantine"]["funding"] == {"missing_required": 1}
    assert summary["report_path"] == str(index)


def test_chunked_validation_matches_whole(warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    con = duckdb.connect(str(warehouse))
    con.execute(
        "insert into raw.workers select * from raw.workers where certificate_no = '20203210000000005'"
    )
    con.execute("update raw.workers set gender = 'unknown' where certificate_no = '20203210000000001'")
    con.close()
    whole = run_suite(warehouse, "raw.workers")
    import shegong.quality.datasets as datasets

    original = datasets.dataset

    def small_chunks(suite, root=datasets.EXPECTATIONS_DIR):
        spec = original(suite, root)
        return datasets.Dataset(**{**spec.__dict__, "chunk_rows": 3})

    monkeypatch.setattr("shegong.quality.runner.dataset", small_chunks)
    chunked = run_suite(warehouse, "raw.workers")
    assert chunked.chunks == 2 and whole.chunks == 1
    assert [
        (e.expectation, e.column, e.success, e.unexpected_count, e.element_count)
        for e in chunked.expectations
    ] == [
        (e.expectation, e.column, e.success, e.unexpected_count, e.element_count) for e in whole.expectations
    ]


def test_a_runs_months_scope_the_partitioned_suites(warehouse: Path) -> None:
    """A run over some months validates only their partitions of a month-partitioned registry (the other months
    were validated when they were built); a suite without a partition column validates whole whatever the run."""
    january, february, march = dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 3, 1)
    con = duckdb.connect(str(warehouse))
    con.execute(
        "update raw.workers set gender = 'unknown' where _period_month = date '2024-01-01' "
        "and certificate_no = '20203210000000001'"
    )
    february_rows = con.execute(
        "select count(*) from raw.workers where _period_month = date '2024-02-01'"
    ).fetchone()[0]
    con.close()
    defect = ("expect_column_values_to_be_in_set", "gender")

    assert defect in _failed(run_suite(warehouse, "raw.workers"))  # whole table
    assert defect in _failed(run_suite(warehouse, "raw.workers", months={january}))
    scoped = run_suite(warehouse, "raw.workers", months={february})
    assert scoped.success and scoped.rows == february_rows and scoped.scope == {february}
    # A month with no rows: nothing to validate; only the non-blocking "has rows" expectation fails.
    empty = run_suite(warehouse, "raw.workers", months={march})
    assert empty.rows == 0 and empty.blocking_failed == []
    assert _failed(empty) == {("expect_table_row_count_to_be_between", None)}
    whole = run_suite(warehouse, "raw.funding", months={march})
    assert whole.scope is None and whole.rows == run_suite(warehouse, "raw.funding").rows > 0


def test_column_sliced_validation_matches_whole(warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A large table is validated in frames of the columns each group of expectations reads (and its schema on
    the columns alone): every verdict and observed value is the one of the whole frame."""
    con = duckdb.connect(str(warehouse))
    con.execute(
        "insert into raw.workers select * from raw.workers where certificate_no = '20203210000000005'"
    )
    con.execute("update raw.workers set gender = 'unknown' where certificate_no = '20203210000000001'")
    con.execute(
        "update raw.workers set employer_name = '电话13912345678' where certificate_no = '20203210000000002'"
    )
    con.execute("update raw.workers set registered_on = null where certificate_no = '20203210000000003'")
    con.close()
    whole = run_suite(warehouse, "raw.workers")
    monkeypatch.setattr("shegong.quality.runner.SLICE_ROWS", 0)
    sliced = run_suite(warehouse, "raw.workers")
    assert sliced.rows == whole.rows and not sliced.success
    assert [
        (e.expectation, e.column, e.success, e.observed_value, e.unexpected_count, e.element_count)
        for e in sliced.expectations
    ] == [
        (e.expectation, e.column, e.success, e.observed_value, e.unexpected_count, e.element_count)
        for e in whole.expectations
    ]


def test_data_docs_render_once_per_run(warehouse: Path, tmp_path: Path) -> None:
    """Saving a suite's result rewrites the run's index but renders no GX page unless the suite blocks the run;
    the publish step's build_run_report renders them all. A suite's results never take those of the suites
    named below it (raw.workers.files) with them."""
    warehouse_dir, run_id = tmp_path / "warehouse", "run-docs"
    con = duckdb.connect(str(warehouse))
    con.execute(f"update raw.funding set amount_yuan = -5 where contract_no = '{REGION}-2024-GM01002'")
    con.close()
    root = warehouse_dir / "validation" / run_id
    for suite in ("raw.workers.files", "raw.workers", "raw.funding"):
        index = save_suite_result(warehouse_dir, run_id, run_suite(warehouse, suite, run_id=run_id))
        assert index == root / "index.html" and index.exists()
    pages = {p.relative_to(root / "validations").parts[:-3] for p in root.glob("validations/**/*.html")}
    assert pages == {("raw", "funding")}  # blocked: rendered at once
    html = index.read_text(encoding="utf-8")
    assert all(suite in html for suite in ("raw.workers.files", "raw.workers", "raw.funding"))
    build_run_report(run_id, warehouse_dir)
    pages = {p.relative_to(root / "validations").parts[:-3] for p in root.glob("validations/**/*.html")}
    assert pages == {("raw", "workers", "files"), ("raw", "workers"), ("raw", "funding")}
    assert (root / "gx_index.html").exists() and "details</a>" in index.read_text(encoding="utf-8")


def test_dagster_checks_report_severity_metadata_and_results(warehouse: Path, tmp_path: Path) -> None:
    from shegong.defs.quality import quality_checks

    con = duckdb.connect(str(warehouse))
    con.execute(f"update raw.funding set amount_yuan = -5 where contract_no = '{REGION}-2024-GM01002'")
    con.close()

    raw_keys = [dg.AssetKey(["raw", "funding"]), dg.AssetKey(["raw", "workers"])]
    (raw_checks,) = [c for c in quality_checks if c.node_def.name == "gx_raw"]
    selected = {k for k in raw_checks.check_keys if k.asset_key in raw_keys}

    @dg.multi_asset(specs=[dg.AssetSpec(key) for key in raw_keys])
    def raw_stub():
        yield dg.MaterializeResult(asset_key=["raw", "funding"])
        yield dg.MaterializeResult(asset_key=["raw", "workers"])

    resource = _resource(warehouse, tmp_path)
    # the raw suites run in one step; a run selecting two raw assets runs only their suites
    result = dg.materialize(
        [raw_stub, raw_checks],
        selection=dg.AssetSelection.assets(*raw_keys) | dg.AssetSelection.checks(*selected),
        resources={"warehouse": resource},
        raise_on_error=False,
    )
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {k.name for k in selected}
    assert {"gx_raw__funding", "gx_raw__workers", "gx_raw__workers__files"} <= set(evaluations)
    funding = evaluations["gx_raw__funding"]
    assert not funding.passed and funding.severity == dg.AssetCheckSeverity.ERROR
    assert funding.metadata["blocking_failed"].value == 1
    assert "amount_yuan" in funding.metadata["failing_expectations"].value
    assert evaluations["gx_raw__workers"].passed
    report = Path(funding.metadata["data_docs"].value)
    assert report == tmp_path / "warehouse" / "validation" / result.run_id / "index.html" and report.exists()
    con = duckdb.connect(str(warehouse), read_only=True)
    suites = {
        r[0]
        for r in con.execute(
            "select distinct suite from audit.audit_validation_results where run_id = ?", [result.run_id]
        ).fetchall()
    }
    con.close()
    assert {"raw.funding", "raw.workers", "raw.funding.files", "raw.workers.quarantine"} <= suites
    _ = dt  # dates are implicit in the CSVs


def test_a_monthly_run_validates_its_months_of_a_monthly_registry(warehouse: Path, tmp_path: Path) -> None:
    """The suites' Dagster check in a run over one month (the partition key reaches the check step)."""
    from shegong.defs.quality import quality_checks

    workers = dg.AssetKey(["raw", "workers"])
    (raw_checks,) = [c for c in quality_checks if c.node_def.name == "gx_raw"]

    @dg.asset(
        key=workers, partitions_def=dg.MonthlyPartitionsDefinition(start_date="2024-01-01", end_offset=1)
    )
    def raw_workers_stub() -> None:
        return None

    resource = _resource(warehouse, tmp_path)
    result = dg.materialize(
        [raw_workers_stub, raw_checks],
        resources={"warehouse": resource},
        partition_key="2024-02-01",
    )
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    evaluation = evaluations["gx_raw__workers"]
    con = duckdb.connect(str(warehouse), read_only=True)
    february, total = con.execute(
        "select count(*) filter (where _period_month = date '2024-02-01'), count(*) from raw.workers"
    ).fetchone()
    con.close()
    assert evaluation.passed and evaluation.metadata["partitions_validated"].value == 1
    assert evaluation.metadata["rows_validated"].value == february < total


def test_personal_data_in_clear_fails_the_blocking_check_and_blocks_publishing(
    warehouse: Path, tmp_path: Path
) -> None:
    """One SQL check over every text column of the build: a clear mobile number planted in a mart-like table
    fails it (naming table, column and count, never the value), the publish step downstream is skipped, and
    the publish itself refuses the run from the audit trail; once removed, the check passes and publishes."""
    from shegong.defs.quality import build_personal_data_scan
    from shegong.publish import PublishBlocked, publish

    planted = "13912345678"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema marts")
    con.execute("create table marts.contact_notes as select certificate_no, employer_name from raw.workers")
    con.execute(
        f"""update marts.contact_notes set employer_name = '阳光社工服务社 联系电话{planted}'
            where certificate_no = '20203210000000002'"""
    )
    con.close()
    resource = _resource(warehouse, tmp_path)
    published_db = tmp_path / "warehouse" / "shegong.duckdb"

    scan = build_personal_data_scan(upstream=[])

    @dg.asset(key=["warehouse", "published"], deps=[scan])
    def published(context) -> None:  # unannotated: annotations are strings in this module
        publish(warehouse, published_db, context.run_id)

    blocked = dg.materialize([scan, published], resources={"warehouse": resource}, raise_on_error=False)
    (evaluation,) = blocked.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    findings = evaluation.metadata["findings"].value
    assert "marts.contact_notes.employer_name: 1 value(s) hold a mobile number in clear" in findings
    assert planted not in findings
    materialized = {e.asset_key for e in blocked.get_asset_materialization_events()}
    assert dg.AssetKey(["warehouse", "published"]) not in materialized and not published_db.exists()
    started = {e.step_key for e in blocked.all_events if e.event_type_value == "STEP_START"}
    assert "warehouse__published" not in started  # Dagster stops at the blocking check: publish never starts
    with pytest.raises(
        PublishBlocked,
        match=re.escape("personal_data: no_mobile_number on marts.contact_notes.employer_name"),
    ):
        publish(warehouse, published_db, blocked.run_id)
    con = duckdb.connect(str(warehouse), read_only=True)
    recorded = con.execute(
        "select string_agg(concat_ws(' ', column_name, observed_value, meaning), ' ') "
        "from audit.audit_validation_results where run_id = ?",
        [blocked.run_id],
    ).fetchall()[0][0]
    con.close()
    assert "marts.contact_notes.employer_name" in recorded and planted not in recorded

    con = duckdb.connect(str(warehouse))
    con.execute(
        "update marts.contact_notes set employer_name = '阳光社工服务社' where employer_name like '%联系电话%'"
    )
    con.close()
    clean = dg.materialize([scan, published], resources={"warehouse": resource})
    assert clean.get_asset_check_evaluations()[0].passed and published_db.exists()
