"""Incremental dbt runs of the version models (int_certificate_versions, int_worker_versions) and of everything
rebuilt by month window equal a `--full-refresh` build of the same raw layer, row for row (EXCEPT ALL both
ways): after a new month, and after a superseded month file that takes a record away, moves a certificate to
another person and adds a record changing an earlier open version. Real dbt runs on a real DuckDB file ingested
from tiny generated landing files."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
from pathlib import Path

import duckdb
import pytest

from shegong.contracts import contract
from shegong.engines.compare import compare_duckdb_marts
from shegong.ingest.load import ingest_file
from shegong.ingest.pii import PiiProtector
from shegong.ingest.reference import load_gazetteer
from shegong.ingest.reports import load_metric_catalogue
from shegong.schema import ensure_build_schema
from shegong_tools.generate import generate

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dbt_fixture as fx

pytestmark = pytest.mark.integration

# The models rebuilt by month window, everything downstream of them, and their ancestors.
SELECTION = ["--select", "@tag:month_window"]
CORRECTED_REGION = "320583"


def ingest(con: duckdb.DuckDBPyConnection, landing: Path, paths: list[Path]) -> None:
    for path in paths:
        outcome = ingest_file(con, path, contract(path.parent.name), PiiProtector("test-key"), landing)
        assert outcome.status == "ingested", outcome


def land(generated: Path, landing: Path, names: list[str]) -> list[Path]:
    """Copy the generated registry files whose names contain one of `names` into the landing folder."""
    landed = []
    for path in sorted(generated.glob("*/*")):
        if path.parent.name != "reports" and any(name in path.name for name in names):
            target = landing / path.parent.name / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            landed.append(target)
    assert landed
    return landed


def corrected_resend(landing: Path, month: str, earlier_month: str) -> Path:
    """A corrected re-send of a region's workers file for `month`: its last record dropped, its first record's
    certificate moved to a person of the region's `earlier_month` file, and a new record (status of the dropped
    one) of a certificate last reported in `earlier_month`."""
    original = next((landing / "workers").glob(f"{CORRECTED_REGION}_{month}_*.csv"))
    earlier = next((landing / "workers").glob(f"{CORRECTED_REGION}_{earlier_month}_*.csv"))
    header, *rows = [r for r in csv.reader(io.StringIO(original.read_text(encoding="utf-8-sig"))) if r]
    _, *earlier_rows = [r for r in csv.reader(io.StringIO(earlier.read_text(encoding="utf-8-sig"))) if r]
    id_column = next(i for i, name in enumerate(header) if "身份" in name)
    status_column = next(i for i, name in enumerate(header) if "状态" in name)
    certificate_column = next(i for i, name in enumerate(header) if "证书" in name and "号" in name)
    assert len(rows) >= 2, "the generated file is too small to correct"
    dropped = rows.pop()
    rows[0][id_column] = next(r[id_column] for r in earlier_rows if r[id_column] != rows[0][id_column])
    reported = {r[certificate_column] for r in rows} | {dropped[certificate_column]}
    added = next(r for r in earlier_rows if r[certificate_column] not in reported)
    added[status_column] = (
        dropped[status_column] if dropped[status_column] != added[status_column] else "暂停"
    )
    rows.append(added)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    corrected = original.with_name(original.stem + "_更正.csv")
    corrected.write_text(out.getvalue(), encoding="utf-8-sig")
    return corrected


def run(db: Path, work: Path, *args: str) -> dict[str, str]:
    result = fx.run_dbt(["run", *SELECTION, *args], db, work)
    assert result.success, result.exception or [(r.node.name, r.message) for r in result.result]
    return {r.node.name: r.node.compiled_code for r in result.result}


def window(first: str, last: str) -> tuple[str, str]:
    return "--vars", json.dumps({"min_month": f"{first}-01", "max_month": f"{last}-01"})


def versions(db: Path) -> set[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return set(con.execute("select * from intermediate.int_certificate_versions").fetchall())


def test_incremental_versions_equal_a_full_refresh(tmp_path):
    generated = tmp_path / "generated"
    generate(generated, scale=120, seed=7, start_month="2024-01", months=4)
    landing = tmp_path / "landing"
    db = tmp_path / "build.duckdb"
    con = duckdb.connect(str(db))
    ensure_build_schema(con)
    load_gazetteer(con)
    load_metric_catalogue(con)
    ingest(con, landing, land(generated, landing, ["_2024-01_", "_2024-02_", "_2024-03_", "统计用区划代码"]))
    con.close()
    assert fx.run_dbt(["seed"], db, tmp_path).success
    run(db, tmp_path)

    # A new month: only the certificates and persons it touches are rebuilt (the incremental branch compiled).
    with duckdb.connect(str(db)) as con:
        ingest(con, landing, land(generated, landing, ["_2024-04_"]))
    compiled = run(db, tmp_path, *window("2024-04", "2024-04"))
    assert "not exists" in compiled["int_certificate_versions"]
    assert "not exists" in compiled["int_worker_versions"]
    before_correction = versions(db)

    # A corrected February file supersedes the first: the run's window is February to the newest month.
    with duckdb.connect(str(db)) as con:
        ingest(con, landing, [corrected_resend(landing, "2024-02", "2024-01")])
        (superseded,) = con.execute(
            "select count(*) from audit.ingested_files where status = 'superseded'"
        ).fetchone()
    assert superseded == 1
    run(db, tmp_path, *window("2024-02", "2024-04"))
    assert versions(db) != before_correction

    full = fx.copy_db(db, tmp_path / "full.duckdb")
    run(full, tmp_path, "--full-refresh")
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute(f"attach '{full}' as full_build (read_only)")
        differences = {
            f"{schema}.{table}": diff
            for schema in ("intermediate", "marts")
            for table, diff in compare_duckdb_marts(con, "full_build", schema).items()
        }
        (persons,) = con.execute("select count(distinct id_number_hash) from marts.dim_worker").fetchone()
    assert persons > 50
    assert {"intermediate.int_worker_versions", "marts.dim_worker", "marts.fct_workforce_monthly"} <= set(
        differences
    )
    assert {table: diff for table, diff in differences.items() if diff != (0, 0)} == {}
