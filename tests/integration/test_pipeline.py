"""The whole product on generated sample data: generate → ingest → dbt → validate → publish, in-process."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import duckdb
import pytest
from stdnum.cn import ric

pytestmark = pytest.mark.integration

ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")


@pytest.fixture(scope="session")
def landing() -> Path:
    from shegong_tools.generate import generate

    root = Path(os.environ["SHEGONG_LANDING"])
    generate(root, scale="small", seed=7)
    return root


@pytest.fixture(scope="session")
def pipeline_run(landing):
    from shegong.pipeline import run_pipeline

    return run_pipeline()


@pytest.fixture(scope="session")
def published(pipeline_run) -> duckdb.DuckDBPyConnection:
    path = Path(os.environ["SHEGONG_WAREHOUSE_DIR"]) / "shegong.duckdb"
    con = duckdb.connect(str(path), read_only=True)
    yield con
    con.close()


def test_the_run_publishes_every_mart(pipeline_run, published):
    assert pipeline_run.success, pipeline_run.failures
    assert not pipeline_run.failures
    marts = published.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
    ).fetchall()
    names = {m for (m,) in marts}
    assert {
        "dim_region",
        "dim_worker",
        "fct_workforce_monthly",
        "fct_funding",
        "fct_indicator_reconciliation",
    } <= names
    landed_reviews = published.execute(
        "select count(*) from audit.ingested_files where registry = 'report_reviews'"
    ).fetchall()[0][0]
    for name in names:
        (rows,) = published.execute(f"select count(*) from marts.{name}").fetchall()[0]
        if name == "fct_report_reviews" and not landed_reviews:
            assert rows == 0  # no analyst has landed a review file in the sample data
            continue
        assert rows > 0, f"marts.{name} is empty"
    (publications,) = published.execute("select count(*) from audit.publications").fetchall()[0]
    assert publications == 1


def test_rows_in_equal_clean_plus_quarantined_for_every_file(published):
    registries = [
        r
        for (r,) in published.execute(
            "select distinct registry from audit.ingested_files where registry != 'reports'"
        ).fetchall()
    ]
    assert len(registries) == 7
    for registry in registries:
        broken = published.execute(
            f"""select f.source_file, f.rows_in, count(distinct c._source_row), count(distinct q.source_row)
                from audit.ingested_files f
                left join raw.{registry} c on c._source_file = f.source_file
                left join audit.quarantined_rows q on q.source_file = f.source_file
                where f.registry = ? and f.status = 'current'
                group by 1, 2
                having f.rows_in != count(distinct c._source_row) + count(distinct q.source_row)""",
            [registry],
        ).fetchall()
        assert broken == [], registry


def test_every_planted_defect_is_quarantined_with_its_reason(landing, published):
    manifest = json.loads((landing / "generation_manifest.json").read_text(encoding="utf-8"))
    planted = {(d["path"], d["row"]): d["reason"] for d in manifest["defects"]}
    quarantined = {
        (path, row): set(codes)
        for path, row, codes in published.execute(
            "select source_file, source_row, reason_codes from audit.quarantined_rows"
        ).fetchall()
    }
    missing = {k: v for k, v in planted.items() if k not in quarantined or v not in quarantined[k]}
    assert missing == {}
    unexpected = set(quarantined) - set(planted)
    assert unexpected == set()


def test_no_published_table_holds_an_id_number_or_phone_in_clear(published):
    columns = published.execute(
        """select table_schema, table_name, column_name from information_schema.columns
           where data_type in ('VARCHAR', 'JSON') order by 1, 2, 3"""
    ).fetchall()
    assert len(columns) > 50
    leaks = []
    for schema, table, column in columns:
        values = published.execute(
            f'select distinct "{column}" from "{schema}"."{table}" where "{column}" is not null'
        ).fetchall()
        for (value,) in values:
            text = str(value)
            ids = [m for m in ID_NUMBER.findall(text) if ric.is_valid(m)]
            if ids or MOBILE.search(text):
                leaks.append(f"{schema}.{table}.{column}: {text[:40]}")
                break
    assert leaks == []


def test_reconciliation_flags_exactly_the_planted_discrepancies(landing, published):
    manifest = json.loads((landing / "generation_manifest.json").read_text(encoding="utf-8"))
    stated = {(r["doc"], r["metric"], round(float(r["value"]), 2)): r for r in manifest["reports"]}
    rows = published.execute(
        "select doc, metric_code, reported_value, reconciliation_status from marts.fct_indicator_reconciliation"
    ).fetchall()
    found = {(doc, metric, round(float(value), 2)): status for doc, metric, value, status in rows}
    assert set(stated) <= set(found), "stated figures the pipeline did not extract"
    flagged = {key for key, status in found.items() if status in ("over_reported", "under_reported")}
    planted = {key for key, figure in stated.items() if figure["planted"]}
    assert len(planted) >= 2
    assert flagged == planted
    assert {found[key] for key in set(stated) - planted} == {"consistent"}


def test_workforce_counts_per_region_and_level_equal_the_registrys_valid_rows(landing, published):
    """The generator computed, from the rows it knows are clean, how many certified workers each reported
    region had at each as-of month; fct_workforce_monthly must agree for every region, level and month."""
    manifest = json.loads((landing / "generation_manifest.json").read_text(encoding="utf-8"))
    levels = {
        "certified_assistant": "assistant",
        "certified_intermediate": "intermediate",
        "certified_senior": "senior",
    }
    truths = {
        (r["adcode"], r["as_of"], r["metric"]): r["registry_value"]
        for r in manifest["reports"]
        if r["metric"] in (*levels, "certified_social_workers")
    }
    assert len(truths) > 10
    for (adcode, as_of, metric), expected in sorted(truths.items()):
        prefix = adcode[:2] if adcode.endswith("0000") else adcode[:4] if adcode.endswith("00") else adcode
        level_filter = "and certificate_level = ?" if metric in levels else ""
        params = [f"{as_of}-01", f"{prefix}%"] + ([levels[metric]] if metric in levels else [])
        (counted,) = published.execute(
            f"""select coalesce(sum(certified_workers), 0) from marts.fct_workforce_monthly
                where month_start = cast(? as date) and county_code like ? {level_filter}""",
            params,
        ).fetchall()[0]
        assert counted == expected, (adcode, as_of, metric)
