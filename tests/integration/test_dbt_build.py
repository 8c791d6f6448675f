"""Builds the dbt project on the hand-made fixture warehouse and checks the marts against hand-counted figures."""

from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from shegong.defs.dbt import dbt_month_window

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dbt_fixture as fx

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    """One fixture warehouse and one full `dbt build` (plus `dbt docs generate`) for the whole module."""
    work = tmp_path_factory.mktemp("dbt")
    db = fx.build_fixture_db(work / "shegong_build.duckdb")
    result = fx.run_dbt(["build"], db, work)
    assert result.success, f"dbt build failed: {result.exception}"
    failures = [r for r in result.result if str(r.status) not in ("success", "pass", "no-op")]
    assert not failures, [(r.node.unique_id, r.status, r.message) for r in failures]
    # The pipeline's runs leave dbt's unit tests out (shegong.defs.dbt.UNIT_TESTS_LEFT_OUT): this build runs them all.
    ran = {r.node.unique_id for r in result.result if r.node.resource_type == "unit_test"}
    manifest = json.loads((work / "target" / "manifest.json").read_text(encoding="utf-8"))
    assert ran and ran == set(manifest["unit_tests"])
    docs = fx.run_dbt(["docs", "generate"], db, work)
    assert docs.success, f"dbt docs generate failed: {docs.exception}"
    return db


@pytest.fixture()
def con(warehouse):
    connection = duckdb.connect(str(warehouse), read_only=True)
    yield connection
    connection.close()


def _work_dir(warehouse: Path) -> Path:
    return warehouse.parent


def test_workforce_counts_per_county_level_month(con):
    rows = con.execute(
        "select month_start, county_code, certificate_level, certified_workers from marts.fct_workforce_monthly"
    ).fetchall()
    got = {(str(m), c, lvl): n for m, c, lvl, n in rows}
    assert got == fx.EXPECTED_WORKFORCE


def test_workforce_total_equals_distinct_certified_people(con):
    # March: A, B, E, F (Tianhe), H (Baiyun), G (unlisted county), D (Sichuan); C is cancelled.
    total = con.execute(
        "select sum(certified_workers) from marts.fct_workforce_monthly where month_start = date '2024-03-01'"
    ).fetchone()[0]
    assert total == 7


def test_station_coverage(con):
    rows = con.execute(
        """select month_start, county_code, township_stations_operating, townships_total, township_coverage_rate,
                  village_rooms_operating, villages_total, village_coverage_rate
           from marts.fct_station_coverage"""
    ).fetchall()
    got = {(str(r[0]), r[1]): tuple(r[2:]) for r in rows}
    for key, expected in fx.EXPECTED_COVERAGE.items():
        assert got[key] == expected, key


def test_worker_scd2_versions(con):
    versions = con.execute(
        """select version_number, valid_from, valid_to, is_current, certificate_level, employer_uscc,
                  registration_status
           from marts.dim_worker where id_number_hash = ? order by version_number""",
        [fx.HB],
    ).fetchall()
    assert versions == [
        (1, dt.date(2024, 1, 1), dt.date(2024, 2, 1), False, "assistant", fx.U1, "active"),
        (2, dt.date(2024, 2, 1), dt.date(2024, 3, 1), False, "assistant", fx.U2, "active"),
        (3, dt.date(2024, 3, 1), dt.date(9999, 12, 31), True, "intermediate", fx.U2, "active"),
    ]
    statuses = con.execute(
        "select registration_status, is_certified from marts.dim_worker where id_number_hash = ? order by valid_from",
        [fx.HC],
    ).fetchall()
    assert statuses == [("active", True), ("suspended", True), ("cancelled", False)]
    # One current version per person, and no ID number anywhere: the key is the HMAC.
    assert con.execute(
        "select count(*), count(distinct id_number_hash) from marts.dim_worker where is_current"
    ).fetchone() == (8, 8)


def test_certificate_events(con):
    events = dict(
        con.execute(
            "select certificate_no || '@' || strftime(event_month, '%Y-%m'), event_type from marts.fct_certifications"
        ).fetchall()
    )
    assert events[f"{fx.CB1}@2024-02"] == "employer_changed"
    assert events[f"{fx.CC1}@2024-03"] == "status_cancelled"
    assert events[f"{fx.CF1}@2024-03"] == "re_registered"
    assert events[f"{fx.CB2}@2024-03"] == "first_registered"
    assert len(events) == len(fx.WORKERS)


def test_reconciliation_statuses(con):
    rows = con.execute(
        """select r.doc, r.fact_index, r.reconciliation_status, r.registry_value
           from marts.fct_indicator_reconciliation as r order by r.doc, r.fact_index"""
    ).fetchall()
    got = {(doc, idx): (status, value) for doc, idx, status, value in rows}
    for doc in {f[0] for f in fx.FACTS}:
        facts = [f for f in fx.FACTS if f[0] == doc]
        for index, fact in enumerate(facts):
            status, value = got[(doc, index)]
            assert status == fact[9], (doc, index, fact[1])
            assert value == (None if fact[10] is None else pytest.approx(fact[10])), (doc, index, fact[1])
    statuses = {s for s, _ in got.values()}
    assert statuses == {"consistent", "over_reported", "under_reported", "not_comparable"}


def test_reported_indicators_keep_evidence(con):
    missing = con.execute(
        """select count(*) from marts.fct_reported_indicators
           where doc is null or quote is null or source_file is null"""
    ).fetchone()[0]
    assert missing == 0
    assert con.execute("select count(*) from marts.fct_reported_indicators").fetchone()[0] == len(fx.FACTS)


def test_continuing_education_shortfall(con):
    rows = con.execute(
        """select certificate_no, strftime(registered_on, '%Y-%m-%d'), hours_credited, hours_required,
                  shortfall_hours
           from marts.fct_continuing_education"""
    ).fetchall()
    got = {(c, r): (credited, required, short) for c, r, credited, required, short in rows}
    for key, (credited, required, short) in fx.EXPECTED_CE.items():
        assert got[key] == (Decimal(credited), Decimal(required), Decimal(short)), key


def test_due_for_reregistration_list(con):
    rows = con.execute(
        """select id_number_hash, certificate_no, strftime(period_end_on, '%Y-%m-%d'), hours_credited,
                  hours_required, shortfall_hours, worker_name_masked, certificate_level, region_code,
                  employer_name, due_quarter_start, due_quarter_end
           from marts.fct_reregistration_due"""
    ).fetchall()
    got = {r[0]: (r[1], r[2], int(r[3]), int(r[4]), int(r[5])) for r in rows}
    assert got == fx.EXPECTED_DUE
    for row in rows:
        assert row[6].endswith("*") and row[7] and row[8] and row[9]
        assert (row[10], row[11]) == (dt.date(2024, 4, 1), dt.date(2024, 6, 30))


def test_region_dimension_flags_unlisted_codes(con):
    rows = dict(
        con.execute(
            "select region_code, is_unlisted from marts.dim_region where region_code in "
            "('449901', '440106099', '440106', '440106001', '440106001001')"
        ).fetchall()
    )
    assert rows == {
        "449901": True,
        "440106099": True,
        "440106": False,
        "440106001": False,
        "440106001001": False,
    }
    village = con.execute(
        """select province_name, city_name, county_name, township_name, village_name, parent_code
           from marts.dim_region where region_code = '440106001001'"""
    ).fetchone()
    assert village == ("广东省", "广州市", "天河区", "五山街道", "华工社区", "440106001")


def test_every_registry_fact_traces_to_source_row(con):
    for table in ("fct_certifications", "fct_funding", "fct_training_attendance"):
        missing = con.execute(
            f"select count(*) from marts.{table} where source_file is null or source_row is null"
        ).fetchone()[0]
        assert missing == 0, table


def test_docs_describe_every_mart_column(warehouse):
    target = _work_dir(warehouse) / "target"
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    marts = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["schema"] == "marts"
    }
    assert len(marts) >= 17
    for uid, node in marts.items():
        assert node["description"].strip(), uid
        columns = catalog["nodes"][uid]["columns"]
        documented = {name.lower(): col["description"] for name, col in node["columns"].items()}
        for name in columns:
            assert documented.get(name.lower(), "").strip(), f"{uid}.{name} undocumented"


def test_incremental_backfill_rebuilds_only_the_window(warehouse, tmp_path):
    db = fx.copy_db(warehouse, tmp_path / "backfill.duckdb")
    with duckdb.connect(str(db)) as c:
        c.execute("delete from marts.fct_workforce_monthly where month_start = date '2024-02-01'")
        c.execute(
            "update marts.fct_workforce_monthly set certified_workers = 99 where month_start = date '2024-01-01'"
        )
    february = dbt_month_window(dt.date(2024, 2, 1), dt.date(2024, 2, 1))
    result = fx.run_dbt(["run", "-s", "fct_workforce_monthly"], db, tmp_path, env=february)
    assert result.success
    with duckdb.connect(str(db), read_only=True) as c:
        feb = c.execute(
            "select count(*), sum(certified_workers) from marts.fct_workforce_monthly "
            "where month_start = date '2024-02-01'"
        ).fetchone()
        jan = c.execute(
            "select min(certified_workers) from marts.fct_workforce_monthly where month_start = date '2024-01-01'"
        ).fetchone()[0]
    assert feb == (4, 7)  # February rebuilt from the registry
    assert jan == 99  # January, outside the window, untouched


def test_model_invariants_block_a_stale_or_lossy_mart(warehouse, tmp_path):
    """The layer and recency invariants fail (severity error, so the build blocks) on the kind of damage a
    partial build can do: monthly marts that missed the last month, a fact table that lost rows."""
    db = fx.copy_db(warehouse, tmp_path / "damaged.duckdb")
    with duckdb.connect(str(db)) as c:
        (last_month,) = c.execute("select max(month_start) from intermediate.int_months").fetchone()
        c.execute("delete from marts.fct_station_coverage where month_start = ?", [last_month])
        c.execute("delete from marts.fct_workforce_monthly where month_start = ?", [last_month])
        (last_attendance,) = c.execute(
            "select max(period_month) from staging.stg_training_attendance"
        ).fetchone()
        c.execute("delete from marts.fct_training_attendance where period_month = ?", [last_attendance])
        c.execute(
            "delete from marts.fct_certifications where certification_event_id = "
            "(select min(certification_event_id) from marts.fct_certifications)"
        )
    marts = ["fct_station_coverage", "fct_workforce_monthly", "fct_training_attendance", "fct_certifications"]
    result = fx.run_dbt(["test", "-s", *marts, "--exclude", "test_type:unit"], db, tmp_path)
    failed = sorted(
        (r.node.attached_node.split(".")[-1], r.node.test_metadata.name, r.node.config.severity)
        for r in result.result
        if str(r.status) == "fail"
    )
    assert failed == [
        ("fct_certifications", "row_count_matches", "error"),
        ("fct_station_coverage", "is_current", "error"),
        ("fct_training_attendance", "is_current", "error"),
        ("fct_workforce_monthly", "is_current", "error"),
    ]


def test_code_formats_block_a_mart_with_a_malformed_code(warehouse, tmp_path):
    """A published code out of its format (a truncated division code, a garbled credit code, an ID number where
    its keyed hash belongs) fails the mart's code_formats test, severity error: the build blocks."""
    db = fx.copy_db(warehouse, tmp_path / "damaged.duckdb")
    with duckdb.connect(str(db)) as c:
        c.execute(
            "update marts.dim_worker set region_code = '32010' "
            "where worker_sk = (select min(worker_sk) from marts.dim_worker)"
        )
        c.execute(
            "update marts.fct_funding set provider_uscc = 'NOT-A-CREDIT-CODE' "
            "where contract_no = (select min(contract_no) from marts.fct_funding)"
        )
        c.execute(
            "update marts.fct_training_attendance set id_number_hash = '110101199003070014' "
            "where attendance_id = (select min(attendance_id) from marts.fct_training_attendance)"
        )
        c.execute("update marts.fct_certifications set county_code = null")  # nulls are not_null's to judge
    result = fx.run_dbt(["test", "--select", "test_name:code_formats"], db, tmp_path)
    outcomes = {
        r.node.attached_node.split(".")[-1]: (str(r.status), r.failures, r.node.config.severity)
        for r in result.result
    }
    failed = {mart: outcome for mart, outcome in outcomes.items() if outcome[0] != "pass"}
    assert failed == {
        "dim_worker": ("fail", 1, "error"),
        "fct_funding": ("fail", 1, "error"),
        "fct_training_attendance": ("fail", 1, "error"),
    }
    # Every other mart with codes passed, fct_certifications with its null county codes among them.
    assert len(outcomes) == 14 and outcomes["fct_certifications"] == ("pass", 0, "error")


def test_documented_columns_block_a_mart_missing_one(warehouse, tmp_path):
    """A mart built without columns its documentation describes (the published interface BI reports select)
    fails its documented_columns test, severity error, one failing row per missing column; a column beyond the
    documented ones passes."""
    db = fx.copy_db(warehouse, tmp_path / "reshaped.duckdb")
    with duckdb.connect(str(db)) as c:
        c.execute("alter table marts.fct_funding drop column provider_uscc")
        c.execute("alter table marts.dim_region drop column region_name")
        c.execute("alter table marts.dim_region drop column county_code")
        c.execute("alter table marts.dim_worker add column undocumented_extra integer")
    result = fx.run_dbt(["test", "--select", "test_name:documented_columns"], db, tmp_path)
    outcomes = {
        r.node.attached_node.split(".")[-1]: (str(r.status), r.failures, r.node.config.severity)
        for r in result.result
    }
    failed = {mart: outcome for mart, outcome in outcomes.items() if outcome[0] != "pass"}
    assert failed == {"fct_funding": ("fail", 1, "error"), "dim_region": ("fail", 2, "error")}
    assert len(outcomes) == 19 and outcomes["dim_worker"] == ("pass", 0, "error")
