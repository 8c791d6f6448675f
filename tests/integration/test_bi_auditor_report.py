"""The auditor pages of a real run, offline, in headless Chromium: the verdict names the published files; every
check of the run is listed with severity and meaning; rejected files and the files behind warnings are named;
the reconciliation and history pages render; Great Expectations' pages load their vendored assets. Markup
planted in registry cells and in a report sentence is shown as text, never run, and no request leaves the
machine (Chromium's network log is read for every page)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from tests.integration.bi_warehouse import (
    IMG_PAYLOAD,
    SCRIPT_PAYLOAD,
    UNREADABLE_FILE,
    hostile_published_warehouse,
)

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return hostile_published_warehouse()


@pytest.fixture(scope="module")
def run_folder(env) -> Path:
    validation = Path(env["SHEGONG_WAREHOUSE_DIR"]) / "validation"
    return validation / (validation / "latest" / "RUN_ID").read_text().strip()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        if os.environ.get("CI"):
            pytest.fail("CI must have Debian's chromium and chromium-driver (.ci/run installs them)")
        pytest.skip("headless Chromium not installed: apt-get install chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
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
        "--window-size=1400,1000",
        # Any host name resolves nowhere: a page that reached for the network fails, and the log shows it.
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def visit(browser, page: Path) -> dict:
    """Load a page; return its text, the URLs it requested and a screenshot's colour count."""
    from selenium.webdriver.common.by import By

    browser.get_log("performance")  # drop earlier pages' entries
    browser.get(page.as_uri())
    text = browser.find_element(By.TAG_NAME, "body").text
    requests = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requests.append(message["params"]["request"]["url"])
    png = base64.b64decode(browser.get_screenshot_as_base64())
    pwned = browser.execute_script("return window.__pwned === undefined ? null : window.__pwned")
    planted = browser.execute_script(
        "return document.querySelectorAll('img[src=\"x\"]').length"
        " + [...document.scripts].filter(s => s.text.includes('__pwned')).length"
    )
    return {"text": text, "requests": requests, "png": png, "pwned": pwned, "planted_images": planted}


@pytest.fixture(scope="module")
def blank_png(browser) -> bytes:
    browser.get("about:blank")
    return base64.b64decode(browser.get_screenshot_as_base64())


def assert_offline_and_safe(seen: dict, page: Path, blank: bytes) -> None:
    remote = [u for u in seen["requests"] if not u.startswith(("file://", "data:", "about:", "blob:"))]
    assert remote == [], f"{page.name} reached for the network: {remote[:5]}"
    assert seen["pwned"] is None, f"a planted payload ran on {page.name}"
    assert seen["planted_images"] == 0, f"a planted <img> became an element on {page.name}"
    # A blank page's screenshot compresses to almost nothing; text, tables and charts do not.
    assert seen["png"][:8] == b"\x89PNG\r\n\x1a\n"
    assert len(seen["png"]) > 5 * len(blank), f"{page.name} rendered blank"


def test_the_index_says_published_lists_every_check_and_names_files(env, run_folder, browser, blank_png):
    seen = visit(browser, run_folder / "index.html")
    assert_offline_and_safe(seen, run_folder / "index.html", blank_png)
    text = seen["text"]
    assert "Published at" in text and str(Path(env["SHEGONG_WAREHOUSE_DIR"]) / "shegong.duckdb") in text
    assert "storage v1.0.0" in text
    # every kind of check: GX suites, dbt tests, registry checks, the personal-data scan
    for check in (
        "rows_in_equal_clean_plus_quarantined",
        "no_rejected_files",
        "unique_",
        "gx_raw__workers",
        "no_personal_numbers_in_clear",
    ):
        assert check in text, check
    assert "dbt test: the column's values are unique" in text
    assert UNREADABLE_FILE in text and "binary content" in text
    assert env["_hostile_file"] in text  # the file behind the quarantine-share warning
    assert SCRIPT_PAYLOAD in text and IMG_PAYLOAD in text  # shown as text (quarantined raw values)
    source = (run_folder / "index.html").read_text(encoding="utf-8")
    assert SCRIPT_PAYLOAD not in source and "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in source
    # observed values are filled in for failing expectations
    assert "rows (" in text


def test_the_reconciliation_page_shows_figures_quotes_and_documents(env, run_folder, browser, blank_png):
    seen = visit(browser, run_folder / "reconciliation.html")
    assert_offline_and_safe(seen, run_folder / "reconciliation.html", blank_png)
    text = seen["text"]
    for header in ("region", "reported", "registry", "difference", "status", "quote", "document"):
        assert header in text
    assert "over_reported" in text or "under_reported" in text
    assert SCRIPT_PAYLOAD + IMG_PAYLOAD in text  # the planted report sentence, as text
    source = (run_folder / "reconciliation.html").read_text(encoding="utf-8")
    assert IMG_PAYLOAD not in source


def test_the_history_page_draws_its_charts_inline(run_folder, browser, blank_png):
    seen = visit(browser, run_folder / "history.html")
    assert_offline_and_safe(seen, run_folder / "history.html", blank_png)
    charts = browser.find_elements("css selector", "svg.chart")
    assert len(charts) >= 3
    assert "Quarantined rows of workers by month and reason" in seen["text"]
    assert "Reported figure vs registry figure" in seen["text"]


def test_great_expectations_pages_render_styled_from_vendored_assets(run_folder, browser, blank_png):
    pages = sorted((run_folder / "validations").rglob("*.html"))
    assert pages
    for page in (pages[0], run_folder / "gx_index.html"):
        source = page.read_text(encoding="utf-8")
        assert "cdn.jsdelivr.net" not in source and "bootstrapcdn" not in source and "unpkg.com" not in source
        seen = visit(browser, page)
        assert_offline_and_safe(seen, page, blank_png)
        # bootstrap's stylesheet applied: the body font is bootstrap's, not the browser default (Times)
        font = browser.execute_script("return getComputedStyle(document.body).fontFamily")
        assert "Times" not in font and "apple-system" in font, font


def test_a_blocked_run_names_its_blocking_checks_and_escapes_them():
    """The verdict of a run that did not publish (pure page rendering; the real blocked run is in
    test_publish.py): the blocking expectation and the blocking Dagster check are named, markup is text."""
    from shegong.quality.report import auditor_index_html

    sections = [
        {
            "suite": "raw.funding",
            "page": None,
            "expectations": [
                {"type": "expect_column_values_to_be_between", "column": "amount_yuan", "severity": "blocking",
                 "meaning": "Amounts are not negative.", "success": False, "observed": SCRIPT_PAYLOAD,
                 "unexpected": 1},
            ],
        }
    ]  # fmt: skip
    checks = [
        {"asset": "raw/workers", "check": "rows_in_equal_clean_plus_quarantined", "passed": False,
         "severity": "blocking", "description": IMG_PAYLOAD, "details": ""},
    ]  # fmt: skip
    page = auditor_index_html("run-1", sections, checks=checks, outcome={"blocked": "publish blocked"})
    assert "Blocked — not published: 2 blocking check(s) failed" in page
    assert "raw.funding: expect_column_values_to_be_between on amount_yuan" in page
    assert "raw/workers: rows_in_equal_clean_plus_quarantined" in page
    assert SCRIPT_PAYLOAD not in page and IMG_PAYLOAD not in page
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page and "&lt;img src=x onerror" in page
    unpublished = auditor_index_html(
        "run-2", [], checks=[], outcome={"blocked": "step dbt_tables: dbt failed"}
    )
    assert "Not published: step dbt_tables: dbt failed." in unpublished


def test_markup_among_great_expectations_unexpected_values_is_text_on_its_pages(
    env, browser, blank_png, tmp_path
):
    """GX writes unexpected values into its pages as markup; the report hands its renderer escaped copies."""
    import shutil

    import duckdb

    from shegong.quality import build_run_report, run_suite, save_suite_result

    build = tmp_path / "build.duckdb"
    shutil.copyfile(env["SHEGONG_DUCKDB"], build)
    con = duckdb.connect(str(build))
    # What ingest never lets through, planted in the raw table: markup in two enumerated columns.
    con.execute(
        "update raw.workers set certificate_level = ?, registration_status = ? "
        "where rowid in (select rowid from raw.workers limit 3)",
        [IMG_PAYLOAD, SCRIPT_PAYLOAD],
    )
    con.close()
    warehouse_dir = tmp_path / "warehouse"
    outcome = run_suite(build, "raw.workers", run_id="run-markup")
    assert not outcome.success
    save_suite_result(warehouse_dir, "run-markup", outcome)
    build_run_report("run-markup", warehouse_dir)
    (page,) = (warehouse_dir / "validation" / "run-markup" / "validations" / "raw" / "workers").rglob(
        "*.html"
    )
    source = page.read_text(encoding="utf-8")
    assert SCRIPT_PAYLOAD not in source and IMG_PAYLOAD not in source
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in source
    seen = visit(browser, page)
    assert_offline_and_safe(seen, page, blank_png)
    shown = browser.execute_script("return document.body.textContent")  # collapsed sections included
    assert SCRIPT_PAYLOAD in shown and IMG_PAYLOAD in shown
