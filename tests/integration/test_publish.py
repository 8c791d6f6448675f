"""Write-audit-publish through the real CLI in an isolated warehouse: a clean run publishes with its warnings
on record; a planted blocking defect stops publishing, names the expectation and leaves the published file
byte-identical; a BI reader holding the published file open through both runs never sees an error."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.integration

SHEGONG = str(Path(sys.executable).parent / "shegong")
READER = Path(__file__).parents[1] / "fixtures" / "bi_reader.py"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    from shegong_tools.generate import generate

    root = tmp_path_factory.mktemp("wap")
    generate(root / "landing", scale=800, seed=11, months=3)
    environment = dict(os.environ)
    environment.update(
        SHEGONG_LANDING=str(root / "landing"),
        SHEGONG_WAREHOUSE_DIR=str(root / "warehouse"),
        SHEGONG_DUCKDB=str(root / "warehouse" / "build" / "shegong_build.duckdb"),
        DAGSTER_HOME=str(root / "dagster_home"),
    )
    (root / "dagster_home").mkdir()
    (root / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return environment


def shegong_run(env: dict[str, str], *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([SHEGONG, "run", *options], env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def first_run(env):
    result = shegong_run(env)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def test_a_clean_run_publishes_and_records_its_warnings(env, first_run):
    warehouse = Path(env["SHEGONG_WAREHOUSE_DIR"])
    con = duckdb.connect(str(warehouse / "shegong.duckdb"), read_only=True)
    try:
        (run_id,) = con.execute("select run_id from audit.publications").fetchall()[0]
        by_severity = dict(
            con.execute(
                """select severity || ':' || success, count(*) from audit.audit_validation_results
                   where run_id = ? group by 1""",
                [run_id],
            ).fetchall()
        )
        warned = con.execute(
            """select suite, expectation from audit.audit_validation_results
               where run_id = ? and severity = 'warning' and not success""",
            [run_id],
        ).fetchall()
    finally:
        con.close()
    assert by_severity.get("blocking:false") is None
    assert by_severity["blocking:true"] > 100
    assert warned, "the sample data has stale registries and small files: warnings are expected on record"
    report = (warehouse / "validation" / run_id / "index.html").read_text(encoding="utf-8")
    assert warned[0][0] in report


def test_a_blocking_defect_stops_publishing_and_readers_keep_working(env, first_run, tmp_path):
    warehouse = Path(env["SHEGONG_WAREHOUSE_DIR"])
    published = warehouse / "shegong.duckdb"
    before = sha256(published)

    # Plant what ingest would never let through: a negative contract amount in the raw layer.
    con = duckdb.connect(env["SHEGONG_DUCKDB"])
    try:
        con.execute(
            """insert into raw.funding select * replace (-1000.00 as amount_yuan, 'PLANTED-1' as contract_no)
               from raw.funding limit 1"""
        )
    finally:
        con.close()

    stop = tmp_path / "stop"
    readers = {
        mode: subprocess.Popen(
            [sys.executable, str(READER), mode, str(published), str(stop)], stdout=subprocess.PIPE, text=True
        )
        for mode in ("hold", "reconnect")
    }
    try:
        time.sleep(0.5)
        # The defect is planted in the warehouse, not landed: no file is new, so only a full rebuild looks again.
        blocked = shegong_run(env, "--full-refresh")
        assert blocked.returncode != 0
        assert "blocked by: raw.funding: expect_column_values_to_be_between on amount_yuan" in blocked.stderr
        assert sha256(published) == before

        con = duckdb.connect(env["SHEGONG_DUCKDB"])
        try:
            con.execute("delete from raw.funding where contract_no = 'PLANTED-1'")
        finally:
            con.close()
        fixed = shegong_run(env, "--full-refresh")
        assert fixed.returncode == 0, fixed.stderr[-2000:]
        assert sha256(published) != before
        time.sleep(0.5)
    finally:
        stop.touch()
        seen = {mode: json.loads(reader.communicate(timeout=60)[0]) for mode, reader in readers.items()}
    for mode, summary in seen.items():
        assert summary["errors"] == [], mode
        assert summary["queries"] > 20, mode
    # The open dashboard keeps the version it opened; a reconnecting one sees the old, then the new, nothing between.
    assert seen["hold"]["publications_seen"] == [1]
    assert seen["reconnect"]["publications_seen"] == [1, 2]


CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.fixture
def browser(tmp_path):
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        if os.environ.get("CI"):
            pytest.fail("CI must have Debian's chromium and chromium-driver (.ci/run installs them)")
        pytest.skip("headless Chromium not installed: apt-get install chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    # The machine has no network: keep Chromium from reaching for one.
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'chromium'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.mark.browser
def test_the_validation_report_renders_suites_and_results_in_a_browser(env, first_run, browser):
    from selenium.webdriver.common.by import By

    warehouse = Path(env["SHEGONG_WAREHOUSE_DIR"])
    run_id = (warehouse / "validation" / "latest" / "RUN_ID").read_text().strip()
    browser.get((warehouse / "validation" / "latest" / "index.html").as_uri())  # redirects to the run
    body = browser.find_element(By.TAG_NAME, "body").text
    assert run_id in body
    assert "Published at" in body and str(warehouse / "shegong.duckdb") in body
    for suite in ("raw.workers", "raw.funding", "marts.fct_workforce_monthly.month_over_month"):
        assert suite in body
    # the marts' invariants are dbt tests, listed among the run's checks with their meaning
    assert "documented_columns_dim_worker_" in body and "every column the model's documentation" in body
    warnings = browser.find_elements(By.CSS_SELECTOR, "tr.warning")
    assert warnings, "the failing warnings are listed"
    details = browser.find_element(By.XPATH, "//summary[b[text()='raw.funding']]//a[text()='details']")
    details.click()
    page = browser.find_element(By.TAG_NAME, "body").text
    assert "Expectation Validation Result" in page and "raw.funding" in page
    assert "Blocking:" in page  # each expectation carries its severity and meaning
