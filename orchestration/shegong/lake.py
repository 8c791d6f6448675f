"""The open raw layer: what ingest accepted, quarantined and audited, as Parquet files under one lake root
(`SHEGONG_LAKE`, default `<SHEGONG_WAREHOUSE_DIR>/lake`) that every engine reads — Spark as external tables,
DuckDB with read_parquet — so one ingest serves both.

Layout (Hive-style partition folders; every file keeps all of its table's columns, so a reader needs no
partition discovery):

  raw/<registry>/month=YYYY-MM/*.parquet                      clean registry rows, by reporting month
  raw/<table>/*.parquet                                       gazetteer, metric catalogue, report documents/facts
  audit/quarantined_rows/registry=<r>/month=YYYY-MM/*.parquet  rejected rows with reason codes (redacted)
  audit/ingested_files/registry=<r>/month=YYYY-MM/*.parquet    every file version: sha256, counts, status

A table is written into a sibling folder and swapped in by rename, so a reader lists either the previous or the
new files of a table, never a half-written one. In a partitioned table only the partitions whose rows changed are
written again; the new folder hard-links the files of the others, and `_partitions.json` (which Spark and a
`*.parquet` glob skip) records the fingerprint of every partition's rows. JSON columns are written as text
(Spark's Parquet reader has no JSON type). Personal data is already hashed or masked in the build tables this is
exported from.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from shegong.config import PARQUET_OPTIONS
from shegong.fingerprints import fingerprint_digest, partition_hash_sums

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
PARTITION_MANIFEST = "_partitions.json"
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
    """Write one build table to the lake (a new folder swapped in whole); the number of rows it holds. A
    partitioned table rewrites only the partitions whose rows changed since the folder it replaces: the others'
    files are hard links to that folder's (an incremental run lands one month of a years-long registry)."""
    columns = _columns(con, table.layer, table.name)
    if not columns:
        return 0
    names = [name for name, _ in columns]
    source = f"{_quote(table.layer)}.{_quote(table.name)}"
    final = table.path(root)
    final.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:8]
    fresh = final.with_name(f".{final.name}.{token}.new")
    fresh.mkdir()
    try:
        if table.layer == "audit" or "_period_month" in names:
            rows = _export_partitions(con, source, table, columns, final, fresh)
        else:
            (rows,) = con.execute(f"select count(*) from {source}").fetchone()
            con.execute(
                f"copy (select {_select(columns)} from {source}) to {_sql_path(fresh / 'part-0.parquet')} "
                f"({PARQUET_OPTIONS})"
            )
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    retired = final.with_name(f".{final.name}.{token}.old")
    if final.exists():
        final.rename(retired)
    fresh.rename(final)
    shutil.rmtree(retired, ignore_errors=True)
    return rows


def _export_partitions(
    con: duckdb.DuckDBPyConnection,
    source: str,
    table: LakeTable,
    columns: list[tuple[str, str]],
    final: Path,
    fresh: Path,
) -> int:
    """Fill `fresh` with the table's partition folders: the changed ones written, the unchanged ones linked from
    `final`; the rows of the table."""
    if table.layer == "audit":
        month_column = "period_month"
        # `registry` stays a column of the files: DuckDB drops a partition column from them, so the folders are
        # written under another name and renamed.
        partition_columns = ", registry as registry_partition"
        partition_by = ["registry_partition", "month"]
        folder = f"'registry=' || registry || '/month=' || {_month('period_month')}"
    else:
        month_column = "_period_month"
        partition_columns = ""
        partition_by = ["month"]
        folder = f"'month=' || {_month(month_column)}"
    select = _select(columns)
    # What the files of a partition hold depends on the rows and on how they are written: a change of either
    # rewrites the partition.
    written_as = [*columns, ("written as", f"{select} | {PARQUET_OPTIONS}")]
    current = {
        name: (rows, fingerprint_digest(written_as, rows, hash_sum))
        for name, (rows, hash_sum) in partition_hash_sums(con, source, columns, folder).items()
    }
    previous = _written_partitions(final)
    changed = sorted(name for name, (_, fingerprint) in current.items() if previous.get(name) != fingerprint)
    if changed:
        con.execute(
            f"""copy (select {select}, {_month(month_column)} as month{partition_columns} from {source}
                      where {folder} in (select unnest(?::varchar[])))
                to {_sql_path(fresh)} ({PARQUET_OPTIONS}, partition_by ({", ".join(partition_by)}))""",
            [changed],
        )
        for written in fresh.glob("registry_partition=*"):
            written.rename(written.with_name(written.name.replace("registry_partition=", "registry=", 1)))
    for name in current.keys() - set(changed):
        (fresh / name).mkdir(parents=True)
        for file in (final / name).glob("*.parquet"):
            try:
                os.link(file, fresh / name / file.name)
            except OSError:  # a file system without hard links
                shutil.copy2(file, fresh / name / file.name)
    manifest = {name: fingerprint for name, (_, fingerprint) in current.items()}
    (fresh / PARTITION_MANIFEST).write_text(json.dumps(manifest, indent=0, sort_keys=True), encoding="utf-8")
    return sum(rows for rows, _ in current.values())


def _month(column: str) -> str:
    return f"coalesce(strftime({_quote(column)}, '%Y-%m'), '{NO_MONTH}')"


def _written_partitions(folder: Path) -> dict[str, str]:
    """Partition folder → fingerprint of its rows, from a lake table's manifest, for the partitions whose files
    are there; empty for a table written before manifests (everything is written again)."""
    try:
        manifest = json.loads((folder / PARTITION_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {
        name: fingerprint for name, fingerprint in manifest.items() if any((folder / name).glob("*.parquet"))
    }


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
