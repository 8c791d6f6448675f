"""One real `shegong run` shared by the BI and auditor tests (test_bi_*.py): a small sample landing plus hostile
files — markup payloads in registry cells and in a report sentence, an unreadable file, a file mostly
quarantined — published through the real CLI into a folder of its own.

Also: throwaway environments with other clients (older DuckDB releases, duckdb-engine, the DuckDB CLI,
@duckdb/node-api), cached under the system temp folder keyed by version so reruns are quick; they never touch
the project's own .venv.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

SHEGONG = str(Path(sys.executable).parent / "shegong")
SCRIPT_PAYLOAD = "<script>window.__pwned=1</script>"
IMG_PAYLOAD = "<img src=x onerror=window.__pwned=2>"
CLIENTS_CACHE = Path(tempfile.gettempdir()) / "shegong-bi-clients"
UNREADABLE_FILE = "320281_2024-02_损坏名册.csv"


def _plant_hostile_files(landing: Path) -> str:
    """Returns the name of the mostly-quarantined workers file."""
    from shegong.contracts import contract, normalize_header

    aliases = contract("workers").alias_index
    workers = landing / "workers"
    for source in sorted(workers.glob("*.csv")):
        raw = source.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("gb18030")
        rows = list(csv.reader(io.StringIO(text)))
        columns = [aliases.get(normalize_header(h)) for h in rows[0]]
        if {"registration_status", "employer_name"} <= set(columns) and len(rows) > 20:
            break
    header, body = rows[0], rows[1:]
    status = columns.index("registration_status")
    employer = columns.index("employer_name")
    # A corrected re-send of another region-month: a new file whose every other row carries a payload in an
    # enumerated column (quarantined with its raw value) and in a free-text column.
    hostile = []
    for i, row in enumerate(body[:20]):
        row = list(row)
        if i % 2 == 0:
            row[status] = IMG_PAYLOAD
            row[employer] = SCRIPT_PAYLOAD
        hostile.append(row)
    region, month = source.name.split("_")[:2]
    name = f"{region}_{month}_名册补报.csv"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *hostile])
    source.unlink()  # the hostile file replaces it for that region and month
    (workers / name).write_text(buffer.getvalue(), encoding="utf-8")
    (workers / UNREADABLE_FILE).write_bytes(b"\x00\x01PK\x03\x04 not a spreadsheet " + bytes(range(256)) * 4)
    # Before the clause's subject, so the figure is still extracted and the payload is in its quote.
    cue = "全区持证社会工作者"
    report = next(
        p for p in sorted((landing / "reports").glob("*.txt")) if cue in p.read_text(encoding="utf-8")
    )
    text = report.read_text(encoding="utf-8")
    report.write_text(text.replace(cue, SCRIPT_PAYLOAD + IMG_PAYLOAD + cue, 1), encoding="utf-8")
    return name


def hostile_published_warehouse() -> dict[str, str]:
    """The environment of the published hostile run; fails the calling test when that run did not publish."""
    environment = _hostile_run()
    assert "_failed" not in environment, environment.get("_failed")
    return environment


@functools.cache
def _hostile_run() -> dict[str, str]:
    """The environment of a published run (SHEGONG_* paths); its stdout/stderr under key `_stdout`/`_stderr`."""
    from shegong_tools.generate import generate
    from shegong_tools.generate.calendar import last_complete_month, start_month_ending

    root = Path(tempfile.mkdtemp(prefix="shegong-bi-"))
    # As `shegong generate` does by default: the data ends at the last complete month (no stale registries).
    last = last_complete_month(dt.date.today())
    generate(root / "landing", scale=400, seed=5, months=2, start_month=start_month_ending(last, 2))
    hostile_file = _plant_hostile_files(root / "landing")
    environment = dict(os.environ)
    environment.update(
        SHEGONG_LANDING=str(root / "landing"),
        SHEGONG_WAREHOUSE_DIR=str(root / "warehouse"),
        SHEGONG_DUCKDB=str(root / "warehouse" / "build" / "shegong_build.duckdb"),
        DAGSTER_HOME=str(root / "dagster_home"),
    )
    (root / "dagster_home").mkdir()
    (root / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    result = subprocess.run([SHEGONG, "run"], env=environment, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:  # cached as a failure too: later tests must not run the pipeline again
        environment["_failed"] = result.stderr[-3000:]
        return environment
    environment.update(_stdout=result.stdout, _stderr=result.stderr, _hostile_file=hostile_file)

    return environment


def python_env(name: str, requirements: list[str]) -> Path:
    """A throwaway virtualenv (python3.11 -m venv) with `requirements`; returns its bin folder."""
    folder = CLIENTS_CACHE / name
    done = folder / ".installed"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
        subprocess.run(
            [str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             *requirements],
            check=True, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        done.touch()
    return folder / "bin"


def node_client(version: str) -> Path:
    """A throwaway npm folder with @duckdb/node-api@version; returns the folder."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have Debian's nodejs and npm (.ci/run installs them)")
        pytest.skip("node/npm not installed: apt-get install nodejs npm")
    folder = CLIENTS_CACHE / f"node-api-{version}"
    done = folder / ".installed"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        (folder / "package.json").write_text(
            '{"name": "shegong-bi-node", "private": true, "type": "module"}\n'
        )
        subprocess.run(
            ["npm", "install", "--silent", "--no-audit", "--no-fund", f"@duckdb/node-api@{version}"],
            cwd=folder, check=True, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        done.touch()
    return folder
