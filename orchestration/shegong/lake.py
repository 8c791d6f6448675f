"""The open raw layer: what ingest accepted, quarantined and audited, as Parquet files under one lake root
(`SHEGONG_LAKE`, default `<SHEGONG_WAREHOUSE_DIR>/lake`) that every engine reads — Spark as external tables,
DuckDB with read_parquet — so one ingest serves both.

Layout (Hive-style partition folders; every file keeps all of its table's columns, so a reader needs no
partition discovery):

  raw/<registry>/month=YYYY-MM/*.parquet                      clean registry rows, by reporting month
  raw/<table>/*.parquet                                       gazetteer, metric catalogue, report documents/facts
  audit/quarantined_rows/registry=<r>/month=YYYY-MM/*.parquet  rejected rows with reason codes (redacted)
  audit/ingested_files/registry=<r>/month=YYYY-MM/*.parquet    every file version: sha256, counts, status

A table is rewritten whole into a sibling folder and swapped in by rename, so a reader lists either the previous
or the new files of a table, never a half-written one. JSON columns are written as text (Spark's Parquet reader
has no JSON type). Personal data is already hashed or masked in the build tables this is exported from.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

# Tables partitioned by reporting month (the monthly registries and the region code lists).
MONTHLY_RAW_TABLES = (
    "workers",
    "stations",
    "agencies",
    "funding",
    "training_sessions",
    "training_attendance",
    "regions",
)
WHOLE_RAW_TABLES = ("gazetteer", "metric_catalogue", "report_documents", "report_facts", "report_reviews")
AUDIT_TABLES = ("quarantined_rows", "ingested_files")
NO_MONTH = "none"  # partition of a rejected file whose month could not be read from its name


def lake_dir(warehouse_dir: Path, environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("SHEGONG_LAKE") or warehouse_dir / "lake").resolve()


@dataclass(frozen=True)
class LakeTable:
    layer: str  # raw | audit
    name: str

    def path(self, root: Path) -> Path:
        return root / self.layer / self.name


def lake_tables() -> list[LakeTable]:
    return [LakeTable("raw", t) for t in (*MONTHLY_RAW_TABLES, *WHOLE_RAW_TABLES)] + [
        LakeTable("audit", t) for t in AUDIT_TABLES
    ]


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple[str, str]]:
    return con.execute(
        """select column_name, data_type from information_schema.columns
           where table_schema = ? and table_name = ? order by ordinal_position""",
        [schema, table],
    ).fetchall()


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _select(columns: list[tuple[str, str]]) -> str:
    return ", ".join(
        f"cast({_quote(name)} as varchar) as {_quote(name)}" if data_type == "JSON" else _quote(name)
        for name, data_type in columns
    )


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def export_table(con: duckdb.DuckDBPyConnection, root: Path, table: LakeTable) -> int:
    """Write one build table to the lake (whole, then swapped in); the number of rows written."""
    columns = _columns(con, table.layer, table.name)
    if not columns:
        return 0
    names = {name for name, _ in columns}
    select = _select(columns)
    partitions: list[str] = []
    extra = ""
    if table.layer == "audit":
        extra = (
            f", coalesce(strftime(period_month, '%Y-%m'), '{NO_MONTH}') as month"
            ", registry as registry_partition"
        )
        partitions = ["registry_partition", "month"]
    elif "_period_month" in names:
        extra = f", coalesce(strftime(_period_month, '%Y-%m'), '{NO_MONTH}') as month"
        partitions = ["month"]
    source = f"{_quote(table.layer)}.{_quote(table.name)}"
    (rows,) = con.execute(f"select count(*) from {source}").fetchone()

    final = table.path(root)
    final.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:8]
    fresh = final.with_name(f".{final.name}.{token}.new")
    options = "format parquet, compression zstd"
    if partitions:
        options += f", partition_by ({', '.join(partitions)})"
        fresh.mkdir()
        target = fresh
    else:
        fresh.mkdir()
        target = fresh / "part-0.parquet"
    con.execute(f"copy (select {select}{extra} from {source}) to {_sql_path(target)} ({options})")
    if table.layer == "audit":  # registry=<r>: the folder name readers expect
        for folder in fresh.glob("registry_partition=*"):
            folder.rename(folder.with_name(folder.name.replace("registry_partition=", "registry=", 1)))

    retired = final.with_name(f".{final.name}.{token}.old")
    if final.exists():
        final.rename(retired)
    fresh.rename(final)
    shutil.rmtree(retired, ignore_errors=True)
    return rows


def export_tables(con: duckdb.DuckDBPyConnection, root: Path, names: list[str]) -> dict[str, int]:
    """Export the named build tables (`raw.workers`, `audit.quarantined_rows` …); rows per table."""
    wanted = {f"{t.layer}.{t.name}": t for t in lake_tables()}
    return {name: export_table(con, root, wanted[name]) for name in names}


def export_lake(con: duckdb.DuckDBPyConnection, root: Path) -> dict[str, int]:
    """Every lake table from the build warehouse."""
    return export_tables(con, root, [f"{t.layer}.{t.name}" for t in lake_tables()])


def parquet_glob(root: Path, table: LakeTable) -> str:
    """The files of a lake table, for DuckDB's read_parquet (partition folders are not columns)."""
    return str(table.path(root) / "**" / "*.parquet")
