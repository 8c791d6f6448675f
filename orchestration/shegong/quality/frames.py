"""Frames for GX's pandas engine, pulled from DuckDB through Arrow: whole, or only some columns, or in chunks of
partitions for big tables; and the frame of a dataset's columns without its rows.

Column types are chosen for the GX metrics that run on them (measured on a million rows):
  strings   → pandas' Arrow-backed `str` dtype: regex and set checks run in Arrow compute (pandas falls back to
              Python's `re` for `\\d` on non-ASCII text; the suites' regexes read ASCII codes), a missing value
              reads NaN in GX's results;
  decimals  → float64, integers → int64 (float64 when nullable): `between` is vectorised only for numpy numbers
              (an ArrowDtype decimal goes through a Python `map`, ~0.6 s per million rows);
  dates     → datetime64[ns], clamped to 1678-01-01 … 2262-01-01 (the ns range; an SCD2 '9999-12-31' stays the
              largest date of the frame): GX compares them vectorised against 'YYYY-MM-DD 00:00:00' bounds;
  anything else (lists, structs) stays ArrowDtype.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_LOW = dt.date(1678, 1, 1)
_HIGH = dt.date(2262, 1, 1)
_STR = pd.StringDtype("pyarrow", na_value=np.nan)


def _column(array: pa.ChunkedArray) -> pd.Series:
    kind = array.type
    if pa.types.is_dictionary(kind):
        array = array.cast(kind.value_type)
        kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return pd.Series(pd.array(array.cast(pa.large_string()), dtype=_STR))
    if pa.types.is_decimal(kind) or pa.types.is_floating(kind):
        return pd.Series(pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False))
    if pa.types.is_integer(kind):
        if array.null_count == 0:
            return pd.Series(pc.cast(array, pa.int64()).to_numpy(zero_copy_only=False))
        return pd.Series(pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False))
    if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        if pa.types.is_timestamp(kind):
            array = pc.cast(array, pa.timestamp("us"))
            low, high = (
                pa.scalar(dt.datetime.combine(_LOW, dt.time()), pa.timestamp("us")),
                pa.scalar(dt.datetime.combine(_HIGH, dt.time()), pa.timestamp("us")),
            )
        else:
            array = pc.cast(array, pa.date32())
            low, high = pa.scalar(_LOW, pa.date32()), pa.scalar(_HIGH, pa.date32())
        clamped = pc.min_element_wise(pc.max_element_wise(array, low), high)
        return pd.Series(pc.cast(clamped, pa.timestamp("ns")).to_numpy(zero_copy_only=False))
    if pa.types.is_boolean(kind) and array.null_count == 0:
        return pd.Series(array.to_numpy(zero_copy_only=False))
    return pd.Series(pd.arrays.ArrowExtensionArray(array))


def arrow_to_frame(table: pa.Table) -> pd.DataFrame:
    return pd.DataFrame({name: _column(table.column(name)) for name in table.column_names}, copy=False)


def pull(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    """The whole result of `sql` as a validation frame (fully fetched: nothing stays pending)."""
    return arrow_to_frame(con.sql(sql, params=params or None).to_arrow_table())


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def schema_frame(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """The frame of `sql` without its rows: its columns, in order, with the types of a full pull."""
    return pull(con, f"select * from ({sql}) limit 0")


def count_rows(con: duckdb.DuckDBPyConnection, sql: str, partition_column: str | None) -> list[tuple]:
    """(partition value, rows) in partition order, or one (None, rows) without a partition column."""
    if not partition_column:
        return [(None, con.execute(f"select count(*) from ({sql})").fetchall()[0][0])]
    return con.execute(
        f"select {_quote(partition_column)} as v, count(*) from ({sql}) group by 1 order by 1 nulls first"
    ).fetchall()


def plan_chunks(counts: list[tuple], partition_column: str | None, chunk_rows: int) -> list[list] | None:
    """Partition values grouped into chunks of at most ~chunk_rows rows (one value never splits), or None when
    the frame is small enough (or has no partition column) to validate in one piece."""
    if not partition_column or sum(n for _, n in counts) <= chunk_rows:
        return None
    chunks: list[list] = []
    current: list = []
    size = 0
    for value, n in counts:
        if current and size + n > chunk_rows:
            chunks.append(current)
            current, size = [], 0
        current.append(value)
        size += n
    if current:
        chunks.append(current)
    return chunks


def chunk_frame(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    partition_column: str | None,
    values: list | None,
    columns: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """The frame of `sql` (only `columns`, when given): whole, or the rows of one chunk of partition values (an
    empty chunk: no rows)."""
    select = "*" if columns is None else ", ".join(map(_quote, columns))
    if values is None:
        return pull(con, f"select {select} from ({sql})" if columns is not None else sql)
    present = [v for v in values if v is not None]
    conditions = []
    if present:
        conditions.append(f"{_quote(partition_column)} in (select unnest(?))")
    if len(present) < len(values):
        conditions.append(f"{_quote(partition_column)} is null")
    where = " or ".join(conditions) or "false"  # no values: none of the rows (a run's months with none)
    return pull(con, f"select {select} from ({sql}) where {where}", [present] if present else [])
