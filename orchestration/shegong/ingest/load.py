"""Loading validated registry files into the build warehouse, with provenance on every row.

Tables (build DuckDB):
  raw.<registry>           clean rows, personal data already hashed/masked, plus _source_* provenance
  audit.ingested_files     one row per file version seen: sha256, counts, status current | superseded | rejected

Rows link to their file by `source_file` (its path under the landing root): two months' rosters can be
byte-identical, so content alone does not identify a file.
  audit.quarantined_rows   one row per rejected source row: file, row number, redacted raw values, reasons

For every current file, rows_in = rows_clean + rows_quarantined, and both sides are countable in the tables.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from shegong.contracts import Contract, contracts
from shegong.ingest import pii
from shegong.ingest.reading import FileRejected, file_digest, read_registry_file
from shegong.ingest.rows import redacted_cells, validate_rows

RAW_TYPES = {
    "string": "VARCHAR",
    "enum": "VARCHAR",
    "integer": "BIGINT",
    "decimal": "DECIMAL(18,2)",
    "date": "DATE",
}
ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "DECIMAL(18,2)": pa.decimal128(18, 2),
    "DATE": pa.date32(),
}
PROVENANCE = (
    ("_source_file", "VARCHAR"),
    ("_source_sha256", "VARCHAR"),
    ("_source_row", "INTEGER"),
    ("_reporting_region", "VARCHAR"),
    ("_period_month", "DATE"),
    ("_ingested_at", "TIMESTAMP"),
)

AUDIT_DDL = """
create schema if not exists raw;
create schema if not exists audit;
create table if not exists audit.ingested_files (
    registry varchar not null,
    source_file varchar not null,
    source_sha256 varchar not null,
    size_bytes bigint,
    encoding varchar,
    reporting_region varchar,
    period_month date,
    header_row integer,
    rows_in integer,
    rows_clean integer,
    rows_quarantined integer,
    unknown_columns varchar[],
    missing_optional_columns varchar[],
    status varchar not null,          -- current | superseded | rejected
    error varchar,
    ingested_at timestamp not null,
    superseded_at timestamp,
    primary key (registry, source_file, source_sha256)
);
create table if not exists audit.quarantined_rows (
    registry varchar not null,
    source_file varchar not null,
    source_sha256 varchar not null,
    source_row integer not null,
    reporting_region varchar,
    period_month date,
    reason_codes varchar[] not null,
    reasons json not null,
    raw_values json not null,
    ingested_at timestamp not null
);
"""


def raw_columns(contract: Contract) -> list[tuple[str, str]]:
    """(name, SQL type) of the raw table: contract columns in their protected form, then provenance."""
    columns: list[tuple[str, str]] = []
    for column in contract.columns:
        for name in column.raw_columns:
            columns.append((name, "VARCHAR" if column.pii else RAW_TYPES[column.type]))
    return columns + list(PROVENANCE)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(AUDIT_DDL)
    for contract in contracts().values():
        ddl = ", ".join(f"{name} {kind}" for name, kind in raw_columns(contract))
        con.execute(f"create table if not exists {contract.raw_table} ({ddl})")


@dataclass(frozen=True)
class FileOutcome:
    source_file: str
    status: str  # ingested | unchanged | rejected
    rows_in: int = 0
    rows_clean: int = 0
    rows_quarantined: int = 0
    superseded: tuple[str, ...] = ()
    error: str | None = None


def landing_name(path: Path, landing_root: Path | None) -> str:
    """Files are named by their path under the landing root, so provenance survives moving the root."""
    if landing_root is not None:
        try:
            return path.resolve().relative_to(landing_root.resolve()).as_posix()
        except ValueError:
            pass
    return path.name


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    contract: Contract,
    protector: pii.PiiProtector,
    landing_root: Path | None = None,
    now: dt.datetime | None = None,
) -> FileOutcome:
    """Ingest one file in one transaction: a no-op when this content is already in; a re-send for the same
    region and month supersedes the earlier file; a whole-file failure records the reason and loads nothing."""
    now = now or dt.datetime.now()
    name = landing_name(path, landing_root)
    sha256, size = file_digest(path)
    seen = con.execute(
        """select status from audit.ingested_files
           where registry = ? and source_file = ? and source_sha256 = ? and status in ('current', 'rejected')""",
        [contract.registry, name, sha256],
    ).fetchall()
    if seen:
        return FileOutcome(name, "unchanged")
    try:
        source = read_registry_file(path, contract)
    except FileRejected as exc:
        _record_rejection(con, contract, name, sha256, size, str(exc), now)
        return FileOutcome(name, "rejected", error=str(exc))
    checked = validate_rows(source, contract, protector)

    con.execute("begin transaction")
    try:
        superseded = _supersede(con, contract, name, source.reporting_region, source.period_month, now)
        clean = _clean_table(
            contract, checked, name, sha256, source.reporting_region, source.period_month, now
        )
        duplicates = _cross_file_duplicates(con, contract, clean)
        quarantined = list(checked.quarantined)
        if duplicates:
            cells_by_row = dict(source.rows)
            for row_number, earlier_file, earlier_row in duplicates:
                quarantined.append(
                    {
                        "source_row": row_number,
                        "raw_values": redacted_cells(source.columns, cells_by_row[row_number], contract),
                        "reasons": [
                            {
                                "code": "duplicate_across_files",
                                "column": ",".join(contract.primary_key),
                                "detail": f"same key as {earlier_file} row {earlier_row}",
                            }
                        ],
                    }
                )
            dup_rows = pa.array(sorted(r for r, _, _ in duplicates), pa.int32())
            keep = pa.compute.invert(pa.compute.is_in(clean["_source_row"], value_set=dup_rows))
            clean = clean.filter(keep)
        con.register("incoming_clean", clean)
        con.execute(f"insert into {contract.raw_table} select * from incoming_clean")
        con.unregister("incoming_clean")
        _insert_quarantine(
            con, contract, name, sha256, source.reporting_region, source.period_month, quarantined, now
        )
        rows_in = len(source.rows)
        con.execute(
            """insert or replace into audit.ingested_files values
               (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'current', null, ?, null)""",
            [
                contract.registry,
                name,
                sha256,
                size,
                source.encoding,
                source.reporting_region,
                source.period_month,
                source.header_row,
                rows_in,
                clean.num_rows,
                len(quarantined),
                source.unknown_columns,
                source.missing_optional,
                now,
            ],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return FileOutcome(name, "ingested", rows_in, clean.num_rows, len(quarantined), tuple(superseded))


def _record_rejection(con, contract: Contract, name: str, sha256: str, size: int, error: str, now) -> None:
    con.execute(
        """insert or replace into audit.ingested_files
           (registry, source_file, source_sha256, size_bytes, status, error, ingested_at, rows_in, rows_clean,
            rows_quarantined)
           values (?, ?, ?, ?, 'rejected', ?, ?, 0, 0, 0)""",
        [contract.registry, name, sha256, size, error, now],
    )


def _supersede(con, contract: Contract, name: str, region, month, now) -> list[str]:
    """A corrected re-send replaces the earlier file for its region and month (or, unpartitioned, its name)."""
    if contract.partitioned_by == "month":
        earlier = con.execute(
            """select source_file, source_sha256 from audit.ingested_files
               where registry = ? and status = 'current'
                 and ((reporting_region = ? and period_month = ?) or source_file = ?)""",
            [contract.registry, region, month, name],
        ).fetchall()
    else:
        earlier = con.execute(
            """select source_file, source_sha256 from audit.ingested_files
               where registry = ? and status = 'current' and source_file = ?""",
            [contract.registry, name],
        ).fetchall()
    for file, sha in earlier:
        con.execute(f"delete from {contract.raw_table} where _source_file = ?", [file])
        con.execute(
            "delete from audit.quarantined_rows where registry = ? and source_file = ?",
            [contract.registry, file],
        )
        con.execute(
            """update audit.ingested_files set status = 'superseded', superseded_at = ?
               where registry = ? and source_file = ? and source_sha256 = ?""",
            [now, contract.registry, file, sha],
        )
    return [file for file, _ in earlier]


def _clean_table(contract: Contract, checked, name, sha256, region, month, now) -> pa.Table:
    arrays, fields = [], []
    n = len(checked.clean_rows)
    provenance = {
        "_source_file": [name] * n,
        "_source_sha256": [sha256] * n,
        "_source_row": checked.clean_rows,
        "_reporting_region": [region] * n,
        "_period_month": [month] * n,
        "_ingested_at": [now] * n,
    }
    for column, kind in raw_columns(contract):
        values = checked.clean[column] if column in checked.clean else provenance[column]
        arrow_type = ARROW_TYPES.get(kind) or {"INTEGER": pa.int32(), "TIMESTAMP": pa.timestamp("us")}[kind]
        arrays.append(pa.array(values, type=arrow_type))
        fields.append(pa.field(column, arrow_type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _cross_file_duplicates(con, contract: Contract, clean: pa.Table) -> list[tuple[int, str, int]]:
    """Rows whose key another current file already holds: in the same month (period scope) or ever (global)."""
    if clean.num_rows == 0:
        return []
    key_columns = [contract.by_name[k].raw_columns[0] for k in contract.primary_key]
    if contract.key_scope == "period":
        key_columns.append("_period_month")
    con.register("incoming_keys", clean.select([*key_columns, "_source_row"]))
    join = " and ".join(f"existing.{c} = incoming.{c}" for c in key_columns)
    rows = con.execute(
        f"""select incoming._source_row, min(existing._source_file), min(existing._source_row)
            from incoming_keys as incoming join {contract.raw_table} as existing on {join}
            group by incoming._source_row order by 1"""
    ).fetchall()
    con.unregister("incoming_keys")
    return rows


def _insert_quarantine(
    con, contract: Contract, name, sha256, region, month, quarantined: list[dict], now
) -> None:
    if not quarantined:
        return
    table = pa.table(
        {
            "registry": [contract.registry] * len(quarantined),
            "source_file": [name] * len(quarantined),
            "source_sha256": [sha256] * len(quarantined),
            "source_row": pa.array([q["source_row"] for q in quarantined], pa.int32()),
            "reporting_region": [region] * len(quarantined),
            "period_month": pa.array([month] * len(quarantined), pa.date32()),
            "reason_codes": [sorted({r["code"] for r in q["reasons"]}) for q in quarantined],
            "reasons": [json.dumps(q["reasons"], ensure_ascii=False) for q in quarantined],
            "raw_values": [json.dumps(q["raw_values"], ensure_ascii=False) for q in quarantined],
            "ingested_at": pa.array([now] * len(quarantined), pa.timestamp("us")),
        }
    )
    con.register("incoming_quarantine", table)
    con.execute("insert into audit.quarantined_rows select * from incoming_quarantine")
    con.unregister("incoming_quarantine")
