"""A batch (worker processes, many files to a transaction, keys kept in memory) gives what ingesting its files
one at a time gives, down to the failure of a file part-way."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from shegong.contracts import contract
from shegong.ingest import batch, load
from shegong.ingest.batch import ingest_registry
from shegong.ingest.landing import landing_files
from shegong.ingest.load import ingest_file
from shegong.ingest.pii import PiiProtector
from shegong.schema import ensure_build_schema
from tests.fixtures.registry_files import ID_A, ID_B, ID_C, WORKER_HEADER, worker_row, write_csv, write_xlsx

KEY = "batch-test-key"
TABLES = ("raw.workers", "audit.quarantined_rows", "audit.ingested_files")
TIMES = {"_ingested_at", "ingested_at", "superseded_at", "first_seen_at"}


def _worker(n: int, **overrides: str) -> list[str]:
    return worker_row(证书编号=f"2018320510000{n:04d}", **overrides)


def _landing(root: Path) -> None:
    folder = root / "workers"
    write_csv(
        folder / "320585_2024-03_a.csv",
        WORKER_HEADER,
        [_worker(1), _worker(2, 身份证号码=ID_B), _worker(2, 身份证号码=ID_B), _worker(3, 姓名="")],
        "gb18030",
        "太仓市持证社工名册",
    )
    # Another unit, same month, sorting first: certificate 1 in the files after it repeats its row.
    write_csv(folder / "320583_2024-03_b.csv", WORKER_HEADER, [_worker(1, 行政区划代码="320583"), _worker(4)])
    row = _worker(5, 身份证号码=ID_C)
    row[5] = dt.datetime(2018, 6, 30)
    write_xlsx(folder / "320585_2024-04_c.xlsx", WORKER_HEADER, [row, _worker(1), _worker(9, 姓名=""), row])
    (folder / "320585_2024-05_broken.csv").write_bytes(b"%PDF-1.4\x00")
    # A corrected re-send of the first file: it supersedes it.
    write_csv(folder / "320585_2024-03_a_更正.csv", WORKER_HEADER, [_worker(1), _worker(6, 证书等级="特级")])


def _one_at_a_time(con, root: Path) -> list[tuple]:
    return [
        _outcome(ingest_file(con, path, contract("workers"), PiiProtector(KEY), root))
        for path in landing_files(root / "workers")
    ]


def _batched(con, root: Path) -> list[tuple]:
    files = landing_files(root / "workers")
    outcome = ingest_registry(con, contract("workers"), files, PiiProtector(KEY), root)
    return [_outcome(f) for f in outcome.files]


def _outcome(outcome: load.FileOutcome) -> tuple:
    return (
        outcome.source_file,
        outcome.status,
        outcome.rows_in,
        outcome.rows_clean,
        outcome.rows_quarantined,
    )


def _differences(reference: Path, candidate: Path) -> dict[str, int]:
    con = duckdb.connect()
    con.execute(f"attach '{reference}' as reference (read_only)")
    con.execute(f"attach '{candidate}' as candidate (read_only)")
    out = {}
    for table in TABLES:
        columns = [
            c
            for (c,) in con.execute(
                """select column_name from duckdb_columns()
                   where database_name = 'reference' and schema_name || '.' || table_name = ? order by column_index""",
                [table],
            ).fetchall()
            if c not in TIMES
        ]
        listed = ", ".join(columns)
        out[table] = sum(
            con.execute(
                f"select count(*) from (select {listed} from {a}.{table} except all select {listed} from {b}.{table})"
            ).fetchone()[0]
            for a, b in (("reference", "candidate"), ("candidate", "reference"))
        )
    con.close()
    return out


def _database(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    ensure_build_schema(con)
    return con


@pytest.fixture(params=[500_000, 1], ids=["one transaction", "a transaction per file"])
def commit_rows(request, monkeypatch):
    monkeypatch.setattr(batch, "COMMIT_ROWS", request.param)


@pytest.mark.usefixtures("commit_rows")
def test_a_batch_equals_its_files_one_at_a_time(tmp_path):
    root = tmp_path / "landing"
    _landing(root)
    one, many = _database(tmp_path / "one.duckdb"), _database(tmp_path / "many.duckdb")
    first = _one_at_a_time(one, root)
    assert _batched(many, root) == first
    assert {status for _, status, *_ in first} == {"ingested", "rejected"}
    reasons = many.execute(
        "select distinct unnest(reason_codes) from audit.quarantined_rows order by 1"
    ).fetchall()
    assert [r for (r,) in reasons] == [
        "duplicate_across_files",
        "duplicate_in_file",
        "missing_required",
        "unknown_enum_value",
    ]
    statuses = many.execute(
        "select status, count(*) from audit.ingested_files group by 1 order by 1"
    ).fetchall()
    assert statuses == [("current", 3), ("rejected", 1), ("superseded", 1)]
    # Again: every file version was seen, so neither run takes any of them again.
    assert _batched(many, root) == _one_at_a_time(one, root)
    # A later month repeating keys already in the table, and a file changed under its name.
    write_csv(
        root / "workers" / "320585_2024-04_d.csv", WORKER_HEADER, [_worker(5, 身份证号码=ID_C), _worker(7)]
    )
    write_csv(
        root / "workers" / "320583_2024-03_b.csv", WORKER_HEADER, [_worker(4), _worker(8, 身份证号码=ID_A)]
    )
    assert _batched(many, root) == _one_at_a_time(one, root)
    one.close(), many.close()
    assert _differences(tmp_path / "one.duckdb", tmp_path / "many.duckdb") == dict.fromkeys(TABLES, 0)


@pytest.mark.usefixtures("commit_rows")
def test_a_file_failing_to_load_leaves_the_files_before_it_in(tmp_path, monkeypatch):
    root = tmp_path / "landing"
    _landing(root)
    files = landing_files(root / "workers")
    failing = "workers/320585_2024-03_a_更正.csv"  # the third in name order
    load_file = load.RegistryLoader.load

    def load_or_fail(self, prepared, name, *args):
        if name == failing:
            raise RuntimeError("disk full")
        return load_file(self, prepared, name, *args)

    monkeypatch.setattr(load.RegistryLoader, "load", load_or_fail)
    con = _database(tmp_path / "build.duckdb")
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_registry(con, contract("workers"), files, PiiProtector(KEY), root)
    loaded = con.execute("select source_file, status from audit.ingested_files order by 1").fetchall()
    assert [f.relative_to(root).as_posix() for f in files[:2]] == [f for f, _ in loaded]
    assert {status for _, status in loaded} == {"current"}
    assert con.execute("select count(distinct _source_file) from raw.workers").fetchall() == [(2,)]
