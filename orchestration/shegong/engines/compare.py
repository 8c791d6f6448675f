"""Are the marts of two engines the same? Every mart of a Spark build pulled into DuckDB, typed as the DuckDB
build's own table, and compared with EXCEPT ALL both ways (rows, duplicates counted, columns matched by name).
Columns that say when a row was written (BUILD_TIME_COLUMNS), not what it holds, are left out of the comparison.

Used by the cross-engine proof test and by `shegong bench --engine spark` to show the two builds agree."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from shegong.engines.mirror import spark_table_into_duckdb
from shegong.engines.spark import SparkEndpoint

# Written with the dbt invocation's start time (macro build_started_at): two builds of the same rows differ there.
BUILD_TIME_COLUMNS = frozenset({"built_at"})


@dataclass(frozen=True)
class MartDifference:
    table: str
    only_in_duckdb: int
    only_in_spark: int
    rows_duckdb: int
    rows_spark: int


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def duckdb_marts(con: duckdb.DuckDBPyConnection, schema: str = "marts") -> dict[str, list[tuple[str, str]]]:
    """Each table of `schema` in the current database → its compared columns (name, type), in table order."""
    rows = con.execute(
        """select table_name, column_name, data_type from duckdb_columns()
           where schema_name = ? and database_name = current_database() order by table_name, column_index""",
        [schema],
    ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        columns = tables.setdefault(table, [])
        if column not in BUILD_TIME_COLUMNS:
            columns.append((column, data_type))
    return tables


def except_all_both_ways(con: duckdb.DuckDBPyConnection, ours: str, theirs: str) -> tuple[int, int]:
    """Rows of query `ours` missing from `theirs`, and the other way round (duplicates counted)."""
    (only_ours,) = con.execute(f"select count(*) from ({ours} except all {theirs})").fetchone()
    (only_theirs,) = con.execute(f"select count(*) from ({theirs} except all {ours})").fetchone()
    return only_ours, only_theirs


def compare_duckdb_marts(
    con: duckdb.DuckDBPyConnection, other: str, schema: str = "marts"
) -> dict[str, tuple[int, int]]:
    """Every mart of `con` against the same table of the DuckDB database attached as `other`: (rows only in
    ours, rows only in theirs), columns matched by name. A mart missing on the other side fails the query."""
    results = {}
    for table, columns in duckdb_marts(con, schema).items():
        names = ", ".join(_quote(n) for n, _ in columns)
        ours = f"select {names} from {_quote(schema)}.{_quote(table)}"
        theirs = f"select {names} from {_quote(other)}.{_quote(schema)}.{_quote(table)}"
        results[table] = except_all_both_ways(con, ours, theirs)
    return results


def compare_marts(
    con: duckdb.DuckDBPyConnection, endpoint: SparkEndpoint, spark_database: str, schema: str = "marts"
) -> list[MartDifference]:
    """One entry per mart of the DuckDB build (in `con`), counting rows found on one side only."""
    results = []
    for table, columns in duckdb_marts(con, schema).items():
        copy = f"spark_{table}"
        rows_spark = spark_table_into_duckdb(con, endpoint, f"{spark_database}.{table}", columns, copy)
        names = ", ".join(_quote(n) for n, _ in columns)
        ours = f"select {names} from {_quote(schema)}.{_quote(table)}"
        theirs = f"select {names} from {_quote(copy)}"
        only_duck, only_spark = except_all_both_ways(con, ours, theirs)
        (rows_duck,) = con.execute(f"select count(*) from {_quote(schema)}.{_quote(table)}").fetchone()
        con.execute(f"drop table {_quote(copy)}")
        results.append(MartDifference(table, only_duck, only_spark, rows_duck, rows_spark))
    return results
