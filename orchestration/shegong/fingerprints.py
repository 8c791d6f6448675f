"""Content fingerprints of DuckDB tables: what lets a step skip a table it already handled in the same state
(the publication copies only changed tables, the personal-data scan skips tables it found clean as they are, the
lake rewrites only the month partitions that changed)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection, Mapping

import duckdb

Shape = list[tuple[str, str]]  # (column, type) in column order


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_shapes(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, Shape]:
    """`schema.table` → its columns and types, for every base table of an attached database."""
    shapes: dict[str, Shape] = {}
    for schema, table, column, data_type in con.execute(
        """select c.schema_name, c.table_name, c.column_name, c.data_type
           from duckdb_columns() as c
           join duckdb_tables() as t
             on t.database_name = c.database_name and t.schema_name = c.schema_name
            and t.table_name = c.table_name
           where c.database_name = ? and not t.temporary
           order by c.schema_name, c.table_name, c.column_index""",
        [database],
    ).fetchall():
        shapes.setdefault(f"{schema}.{table}", []).append((column, data_type))
    return shapes


def table_fingerprints(
    con: duckdb.DuckDBPyConnection,
    database: str,
    only: Collection[str] | None = None,
    known: Mapping[str, tuple[int, str]] | None = None,
) -> dict[str, tuple[int, str]]:
    """`schema.table` → (rows, fingerprint) of every base table of an attached database (or of those named in
    `only`). The fingerprint covers the column names and types, the row count and the sum of the rows' hashes
    (order-independent; a duplicated row counts twice), so any change of content or shape changes it. `known`:
    fingerprints already taken of some of these tables as they are, used instead of hashing them again."""
    shapes = table_shapes(con, database)
    known = known or {}
    fingerprints = {}
    for name in sorted(shapes if only is None else set(shapes) & set(only)):
        if name in known:
            fingerprints[name] = known[name]
            continue
        ((rows, hash_sum),) = partition_hash_sums(con, _relation(database, name), shapes[name]).values()
        fingerprints[name] = (rows, fingerprint_digest(shapes[name], rows, hash_sum))
    return fingerprints


def monthly_fingerprints(
    con: duckdb.DuckDBPyConnection, database: str, table: str, shape: Shape, month_column: str
) -> tuple[tuple[int, str], dict[dt.date | None, tuple[int, str]]]:
    """A table's (rows, fingerprint) — the same as `table_fingerprints` gives — and each of its months'
    (`month_column`'s values, None for rows without one), in one pass: the sums of row hashes add up."""
    months = partition_hash_sums(con, _relation(database, table), shape, _quoted(month_column))
    rows, hash_sum = sum(r for r, _ in months.values()), sum(h for _, h in months.values())
    return (rows, fingerprint_digest(shape, rows, hash_sum)), {
        month: (count, fingerprint_digest(shape, count, month_sum))
        for month, (count, month_sum) in months.items()
    }


def partition_hash_sums(
    con: duckdb.DuckDBPyConnection, relation: str, shape: Shape, partition: str | None = None
) -> dict[object, tuple[int, int]]:
    """Value of the SQL expression `partition` → (rows, sum of row hashes) of the relation's rows with that value;
    without one, {None: …} for the whole relation (also when it has no rows). A row's hash is hash(c1, c2, …)
    over its columns in order: 2.5× faster than hashing the row as a struct (hash(t))."""
    sums = f"count(*), coalesce(sum(hash({', '.join(_quoted(c) for c, _ in shape)})::hugeint), 0)"
    if partition is None:
        ((rows, hash_sum),) = con.execute(f"select {sums} from {relation}").fetchall()
        return {None: (rows, int(hash_sum))}
    return {
        key: (rows, int(hash_sum))
        for key, rows, hash_sum in con.execute(
            f"select {partition}, {sums} from {relation} group by all"
        ).fetchall()
    }


def fingerprint_digest(shape: Shape, rows: int, hash_sum: int) -> str:
    """The fingerprint of rows with these (column, type) pairs, this count and this sum of row hashes."""
    described = ", ".join(f"{column} {data_type}" for column, data_type in shape)
    return hashlib.sha256(f"{described}|{rows}|{hash_sum}".encode()).hexdigest()[:32]


def _relation(database: str, table: str) -> str:
    schema, name = table.split(".", 1)
    return f"{_quoted(database)}.{_quoted(schema)}.{_quoted(name)}"
