"""Incremental dbt runs of the version models (int_certificate_versions, int_worker_versions) and of everything
rebuilt by month window or by key equal a `--full-refresh` build of the same raw layer, row for row (EXCEPT ALL
both ways): after a superseded month file that takes a record away, moves a certificate to another person and
adds a record changing an earlier open version; after a month whose run built only the version models, followed
by the next month; after a corrected file withdraws a certificate and a person no other record names; and after
every file of a month is re-sent with no record. Real dbt runs on a real DuckDB file ingested from tiny generated
landing files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import sys
from pathlib import Path

import duckdb
import pytest

from shegong.contracts import contract
from shegong.defs.dbt import dbt_month_window
from shegong.engines.compare import compare_duckdb_marts
from shegong.ingest.load import ingest_file
from shegong.ingest.pii import PiiProtector
from shegong.ingest.reading import decode
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


def withdrawing_resend(db: Path, landing: Path, month: str) -> tuple[Path, str]:
    """A corrected re-send of a workers CSV file of `month` without one record whose certificate and person no
    other record of the registry names: after it, neither is left. Returns the file and the certificate's
    number."""
    with duckdb.connect(str(db), read_only=True) as con:
        candidates = con.execute(
            """select any_value(source_file), certificate_no from staging.stg_workers
               where id_number_hash in (
                   select id_number_hash from staging.stg_workers group by id_number_hash having count(*) = 1
               )
               group by certificate_no
               having count(*) = 1 and any_value(period_month) = ? and any_value(source_file) like '%.csv'
               order by 2""",
            [f"{month}-01"],
        ).fetchall()
    for source_file, certificate_no in candidates:
        path = landing / source_file
        text, _ = decode(path, path.read_bytes())
        kept = [line for line in text.splitlines() if certificate_no not in line]
        corrected = path.with_name(path.stem + "_更正.csv")
        corrected.write_text("\n".join(kept) + "\n", encoding="utf-8-sig")
        return corrected, certificate_no
    raise AssertionError(f"no record of {month} names a certificate and a person found nowhere else")


def emptying_resends(landing: Path, month: str) -> list[Path]:
    """A corrected re-send of every workers file of `month` holding the header and no record: the month is left
    with no raw row (a region may re-send a month by mistake sent with records)."""
    files = sorted((landing / "workers").glob(f"*_{month}_*"))
    header = next(
        decode(path, path.read_bytes())[0].splitlines()[0]
        for path in sorted((landing / "workers").glob("*.csv"))
    )
    resends = []
    for path in files:
        resend = path.with_name(f"{path.name.split('_')[0]}_{month}_持证社工名册_更正.csv")
        resend.write_text(header + "\n", encoding="utf-8-sig")
        resends.append(resend)
    assert resends
    return resends


def run(db: Path, work: Path, window: dict[str, str] | None = None, *args: str) -> dict[str, str]:
    result = fx.run_dbt(["run", *SELECTION, *args], db, work, env=window)
    assert result.success, result.exception or [(r.node.name, r.message) for r in result.result]
    return {r.node.name: r.node.compiled_code for r in result.result}


def window(first: str, last: str) -> dict[str, str]:
    """The month window of an incremental run, as Dagster's monthly dbt step gives it to dbt."""
    return dbt_month_window(dt.date.fromisoformat(f"{first}-01"), dt.date.fromisoformat(f"{last}-01"))


def versions(db: Path) -> set[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return set(con.execute("select * from intermediate.int_certificate_versions").fetchall())


def rebuilt_by_latest_run(db: Path, table: str, key: str) -> tuple[int, int]:
    """(keys with a row written by the newest dbt run, all keys) of `table`."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            f"""select count(distinct {key}) filter (where built_at = (select max(built_at) from {table})),
                       count(distinct {key})
                from {table}"""
        ).fetchone()


def differences_from(db: Path, full: Path) -> dict[str, tuple[int, int]]:
    """Every staging and intermediate model and mart of `db` against the same table of `full`: (rows only in
    db's, rows only in full's)."""
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute(f"attach '{full}' as full_build (read_only)")
        return {
            f"{schema}.{table}": diff
            for schema in ("staging", "intermediate", "marts")
            for table, diff in compare_duckdb_marts(con, "full_build", schema).items()
        }


def test_incremental_versions_equal_a_full_refresh(tmp_path):
    generated = tmp_path / "generated"
    generate(generated, scale=120, seed=7, start_month="2024-01", months=5)
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

    # A corrected February file supersedes the first: the run's window is February to the newest month.
    before_correction = versions(db)
    with duckdb.connect(str(db)) as con:
        ingest(con, landing, [corrected_resend(landing, "2024-02", "2024-01")])
        (superseded,) = con.execute(
            "select count(*) from audit.ingested_files where status = 'superseded'"
        ).fetchone()
    assert superseded == 1
    compiled = run(db, tmp_path, window("2024-02", "2024-03"))
    assert "not exists" in compiled["int_certificate_versions"]
    assert "not exists" in compiled["int_worker_versions"]
    assert "_ingested_at >" in compiled["stg_workers"]
    assert "built_at >" in compiled["dim_worker"]
    assert "built_at >" in compiled["fct_certifications"]
    assert versions(db) != before_correction

    # A month whose run built only the version models, then the next month's run: the marts rebuilt by key
    # catch up with both builds of the version models, and rebuild only the persons and certificates touched.
    with duckdb.connect(str(db)) as con:
        ingest(con, landing, land(generated, landing, ["_2024-04_"]))
    result = fx.run_dbt(
        ["run", "--select", "+int_worker_versions"], db, tmp_path, env=window("2024-04", "2024-04")
    )
    assert result.success, result.exception
    with duckdb.connect(str(db)) as con:
        ingest(con, landing, land(generated, landing, ["_2024-05_"]))
    run(db, tmp_path, window("2024-05", "2024-05"))
    rebuilt_persons, persons = rebuilt_by_latest_run(db, "marts.dim_worker", "id_number_hash")
    rebuilt_certificates, certificates = rebuilt_by_latest_run(
        db, "marts.fct_certifications", "certificate_no"
    )
    assert persons > 50
    assert 0 < rebuilt_persons < persons
    assert 0 < rebuilt_certificates < certificates

    # A corrected January file withdraws a record whose certificate and person no other record names: both
    # leave the marts rebuilt by key.
    corrected, withdrawn = withdrawing_resend(db, landing, "2024-01")
    with duckdb.connect(str(db)) as con:
        ingest(con, landing, [corrected])
    run(db, tmp_path, window("2024-01", "2024-05"))
    with duckdb.connect(str(db), read_only=True) as con:
        left = con.execute(
            "select count(*) from marts.fct_certifications where certificate_no = ?", [withdrawn]
        ).fetchone()
    assert left == (0,)

    # Every region re-sends May with no record: the staging models restaged by month keep no row of it.
    with duckdb.connect(str(db)) as con:
        ingest(con, landing, emptying_resends(landing, "2024-05"))
    run(db, tmp_path, window("2024-05", "2024-05"))
    with duckdb.connect(str(db), read_only=True) as con:
        may = con.execute(
            "select count(*) from staging.stg_workers where period_month = '2024-05-01'"
        ).fetchone()
    assert may == (0,)

    full = fx.copy_db(db, tmp_path / "full.duckdb")
    run(full, tmp_path, None, "--full-refresh")
    rebuilt_by_key = {
        "staging.stg_workers",
        "intermediate.int_certificate_versions",
        "intermediate.int_worker_versions",
        "marts.dim_worker",
        "marts.fct_certifications",
    }
    assert {table: diff for table, diff in differences_from(db, full).items() if table in rebuilt_by_key} == {
        table: (0, 0) for table in rebuilt_by_key
    }

    # The monthly marts rebuild the months of the run's window only: the pipeline's next window covers a month
    # whose run did not build them. Then every model equals the full refresh.
    run(db, tmp_path, window("2024-04", "2024-05"))
    differences = differences_from(db, full)
    assert {"marts.fct_workforce_monthly", "marts.fct_training_attendance"} <= set(differences)
    assert {table: diff for table, diff in differences.items() if diff != (0, 0)} == {}
