"""Spark tables into DuckDB: the cross-engine comparison reads Spark's marts through it, and a Spark build is
mirrored into the build DuckDB file after dbt so the same Great Expectations suites, asset checks and
write-audit-publish step run on what Spark built.

Spark sends every value as text (exact for decimals, dates and timestamps; doubles in Java's shortest round-trip
form) and DuckDB casts it to the column's type."""

from __future__ import annotations

import re

import duckdb
import pyarrow as pa

from shegong.engines.spark import SparkEndpoint, connect

FETCH_ROWS = 50_000
# Spark SQL type → DuckDB type; decimal(p,s) keeps its precision and scale.
SPARK_TO_DUCKDB = {
    "string": "VARCHAR",
    "int": "INTEGER",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "timestamp_ntz": "TIMESTAMP",
}


def duckdb_type(spark_type: str) -> str:
    spark_type = spark_type.strip().lower()
    if re.fullmatch(r"decimal\(\d+,\s*\d+\)", spark_type):
        return spark_type.upper()
    if spark_type.startswith("varchar") or spark_type.startswith("char"):
        return "VARCHAR"
    if spark_type.startswith("array<"):
        return f"{duckdb_type(spark_type[6:-1])}[]"
    if spark_type not in SPARK_TO_DUCKDB:
        raise ValueError(f"no DuckDB type for Spark type {spark_type!r}: add it to SPARK_TO_DUCKDB")
    return SPARK_TO_DUCKDB[spark_type]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def spark_columns(endpoint: SparkEndpoint, spark_table: str) -> list[tuple[str, str]]:
    """(column, DuckDB type) of a Spark table, in the table's order (partition columns listed once)."""
    hive = connect(endpoint)
    try:
        cursor = hive.cursor()
        cursor.execute(f"describe {spark_table}")
        columns: list[tuple[str, str]] = []
        for name, data_type, _ in cursor.fetchall():
            if not name or name.startswith("#"):
                break  # the partition section repeats partition columns
            columns.append((name, duckdb_type(data_type)))
        return columns
    finally:
        hive.close()


def spark_table_into_duckdb(
    con: duckdb.DuckDBPyConnection,
    endpoint: SparkEndpoint,
    spark_table: str,
    columns: list[tuple[str, str]],
    into: str,
    temporary: bool = True,
) -> int:
    """Copy a Spark table into DuckDB table `into` (a temp table unless `temporary` is false; `into` is
    quoted by the caller when qualified) with the given DuckDB column types; rows copied."""
    select = ", ".join(
        f"cast(`{name}` as string) as `{name}`" if not data_type.endswith("[]") else f"to_json(`{name}`)"
        for name, data_type in columns
    )
    hive = connect(endpoint)
    try:
        cursor = hive.cursor()
        cursor.arraysize = FETCH_ROWS
        cursor.execute(f"select {select} from {spark_table}")
        rows = cursor.fetchall()
    finally:
        hive.close()
    names = [name for name, _ in columns]
    arrow = pa.table({name: pa.array([r[i] for r in rows], pa.string()) for i, name in enumerate(names)})
    casts = ", ".join(
        f"cast({_quote(n)} as {t}) as {_quote(n)}"
        if not t.endswith("[]")
        else f"cast(cast({_quote(n)} as json) as {t}) as {_quote(n)}"
        for n, t in columns
    )
    con.register("spark_rows", arrow)
    try:
        kind = "temp table" if temporary else "table"
        target = _quote(into) if temporary else into
        con.execute(f"create or replace {kind} {target} as select {casts} from spark_rows")
    finally:
        con.unregister("spark_rows")
    return len(rows)


def mirror_layers(
    con: duckdb.DuckDBPyConnection, endpoint: SparkEndpoint, layers: tuple[str, ...]
) -> dict[str, int]:
    """Every table of `<prefix>_<layer>` on Spark into schema `<layer>` of the DuckDB file; rows per table."""
    copied: dict[str, int] = {}
    hive = connect(endpoint)
    try:
        cursor = hive.cursor()
        listing = {}
        for layer in layers:
            cursor.execute(f"show tables in {endpoint.database(layer)}")
            listing[layer] = [row[1] for row in cursor.fetchall() if not row[2]]  # not temporary views
    finally:
        hive.close()
    for layer, tables in listing.items():
        con.execute(f"create schema if not exists {_quote(layer)}")
        for table in tables:
            spark_table = f"{endpoint.database(layer)}.{table}"
            columns = spark_columns(endpoint, spark_table)
            copied[f"{layer}.{table}"] = spark_table_into_duckdb(
                con, endpoint, spark_table, columns, f"{_quote(layer)}.{_quote(table)}", temporary=False
            )
    return copied
