"""Hostile files landed beside a generated landing, through the real CLI: the run publishes the good data,
names every file it set aside with its reason, and no person's ID number, phone or the PII key is left in
clear in the build file, the published file, Dagster's run storage, the logs or the validation pages. Two runs
at once: the second says so and leaves; production refuses the public key; the development key is announced."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from shegong.identifiers import complete_id_number
from tests.fixtures.registry_files import WORKER_HEADER, write_xlsx
from tests.integration.test_hostile_files import _set_cell, csv_text, identifiers_in, roster

pytestmark = pytest.mark.integration

SHEGONG = str(Path(sys.executable).parent / "shegong")
SECRET_KEY = "hostile-test-secret-9f8e7d6c5b4a"
PLANTED_MOBILE = "13987654321"
PLANTED_ID = complete_id_number("32058319880808123")


def land_hostile_files(landing: Path) -> dict[str, str]:
    """Hostile files in the workers folder; the reason each must be set aside with."""
    workers = landing / "workers"
    stray = write_xlsx(workers / "320585_2024-02_stray.xlsx", WORKER_HEADER, roster(2, 5000))
    _set_cell(stray, "XFD1048576", "1")
    rows = roster(40, 6000)
    rows[5][WORKER_HEADER.index("工作单位")] = '"德颐社工'
    (workers / "320500_2024-02_quote.csv").write_bytes(csv_text(WORKER_HEADER, rows).encode("gb18030"))
    extra_header = [*WORKER_HEADER, "紧急联系人", "紧急联系电话", "家庭住址", "证件号码"]
    extra_rows = [
        [
            *row,
            "王五",
            f"+86 {PLANTED_MOBILE[:3]}-{PLANTED_MOBILE[3:7]}-{PLANTED_MOBILE[7:]}",
            "人民路1号",
            PLANTED_ID,
        ]
        for row in roster(5, 7000)
    ]
    extra_rows[0][WORKER_HEADER.index("证书编号")] = "not-a-number"
    (workers / "320000_2024-02_extra.csv").write_bytes(csv_text(extra_header, extra_rows).encode())
    (workers / "320585_2024-02_old.xls").write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    (workers / ".hidden.csv").write_text("x")
    (workers / "320585_2099-01_future.csv").write_bytes(csv_text(WORKER_HEADER, roster(2, 8000)).encode())
    outside = landing.parent / "outside.csv"
    outside.write_text("secret")
    (workers / "320585_2024-02_link.csv").symlink_to(outside)
    return {
        "320585_2024-02_stray.xlsx": "max_columns",
        "320585_2024-02_old.xls": "Excel 97-2003 workbook",
        ".hidden.csv": "hidden file",
        "320585_2099-01_future.csv": "has not begun",
        "320585_2024-02_link.csv": "symbolic link",
    }


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    from shegong_tools.generate import generate

    root = tmp_path_factory.mktemp("hostile")
    generate(root / "landing", scale=600, seed=5, months=3)
    environment = dict(os.environ)
    environment.update(
        SHEGONG_LANDING=str(root / "landing"),
        SHEGONG_WAREHOUSE_DIR=str(root / "warehouse"),
        SHEGONG_DUCKDB=str(root / "warehouse" / "build" / "shegong_build.duckdb"),
        DAGSTER_HOME=str(root / "dagster_home"),
        SHEGONG_PII_KEY=SECRET_KEY,
        SHEGONG_FIRST_MONTH="2024-01",
    )
    environment.pop("SHEGONG_ENV", None)
    (root / "dagster_home").mkdir()
    (root / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return environment


@pytest.fixture(scope="module")
def hostile_run(env):
    expected = land_hostile_files(Path(env["SHEGONG_LANDING"]))
    first = subprocess.Popen(
        [SHEGONG, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lock = Path(env["SHEGONG_WAREHOUSE_DIR"]) / ".run.lock"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (lock.exists() and lock.read_text().startswith("pid")):
        time.sleep(0.2)
    second = subprocess.run([SHEGONG, "run"], env=env, capture_output=True, text=True, timeout=120)
    stdout, stderr = first.communicate(timeout=900)
    return expected, first.returncode, stdout, stderr, second


def test_the_run_publishes_and_names_every_file_it_set_aside(env, hostile_run):
    expected, returncode, stdout, stderr, _ = hostile_run
    assert returncode == 0, stderr[-3000:]
    assert (Path(env["SHEGONG_WAREHOUSE_DIR"]) / "shegong.duckdb").exists()
    for name, reason in expected.items():
        line = next((line for line in stdout.splitlines() if name in line), None)
        assert line is not None and "rejected" in line and reason in line, (name, stdout[-3000:])
    assert "development key" not in stderr
    report = subprocess.run([SHEGONG, "report"], env=env, capture_output=True, text=True, timeout=120)
    for name in expected:
        assert name in report.stdout


def test_good_rows_of_a_broken_file_are_published_and_the_broken_record_quarantined(env, hostile_run):
    con = duckdb.connect(str(Path(env["SHEGONG_WAREHOUSE_DIR"]) / "shegong.duckdb"), read_only=True)
    try:
        files = dict(
            con.execute(
                "select source_file, (rows_in, rows_clean, rows_quarantined) from audit.ingested_files"
            ).fetchall()
        )
        reasons = con.execute(
            "select reason_codes from audit.quarantined_rows where source_file = 'workers/320500_2024-02_quote.csv'"
        ).fetchall()
    finally:
        con.close()
    assert files["workers/320500_2024-02_quote.csv"] == (40, 39, 1)
    assert reasons == [(["unterminated_quote"],)]


def test_no_person_or_key_is_left_in_clear_anywhere(env, hostile_run):
    warehouse = Path(env["SHEGONG_WAREHOUSE_DIR"])
    for database in (warehouse / "shegong.duckdb", Path(env["SHEGONG_DUCKDB"])):
        con = duckdb.connect(str(database), read_only=True)
        try:
            assert identifiers_in(con) == [], database
        finally:
            con.close()
    # Run and event storage, compute logs, run logs, validation pages: the key and the planted values.
    needles = [SECRET_KEY.encode(), PLANTED_MOBILE.encode(), PLANTED_ID.encode(), "王五".encode()]
    for folder in (Path(env["DAGSTER_HOME"]), warehouse / "logs", warehouse / "validation"):
        for path in folder.rglob("*"):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                for needle in needles:
                    assert needle not in data, f"{needle!r} in {path}"


def test_a_second_run_at_once_says_so_and_leaves(hostile_run):
    second = hostile_run[4]
    assert second.returncode != 0
    assert "another shegong run is using" in second.stderr and "pid" in second.stderr


def test_production_refuses_the_public_key_before_touching_anything(env, tmp_path):
    production = {**env, "SHEGONG_ENV": "production", "SHEGONG_WAREHOUSE_DIR": str(tmp_path / "w")}
    production.pop("SHEGONG_PII_KEY")
    result = subprocess.run([SHEGONG, "run"], env=production, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "SHEGONG_ENV=production but SHEGONG_PII_KEY is unset" in result.stderr
    assert not (tmp_path / "w").exists()


def test_a_run_on_the_development_key_says_so(env, hostile_run, tmp_path):
    development = {**env}
    development.pop("SHEGONG_PII_KEY")
    for name in ("SHEGONG_WAREHOUSE_DIR", "DAGSTER_HOME"):
        development[name] = str(tmp_path / name)
    development["SHEGONG_DUCKDB"] = str(tmp_path / "build.duckdb")
    (tmp_path / "DAGSTER_HOME").mkdir()
    shutil.copy(Path(env["DAGSTER_HOME"]) / "dagster.yaml", tmp_path / "DAGSTER_HOME")
    result = subprocess.run([SHEGONG, "run"], env=development, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    assert re.search(r"warning: personal data hashed with the public\s+development key", result.stderr)
