"""Frames for GX's pandas engine, pulled from DuckDB through Arrow, in chunks for big tables.

Column types are chosen for the GX metrics that run on them (measured on a million rows):
  strings   → pandas' Arrow-backed `str` dtype: regex and set checks run in Arrow compute;
  decimals  → float64, integers → int64 (float64 when nullable): `between` is vectorised only for numpy numbers
              (an ArrowDtype decimal goes through a Python `map`, ~0.6 s per million rows);
  dates     → datetime64[ns], clamped to 1678-01-01 … 2262-01-01 (the ns range; an SCD2 '9999-12-31' stays the
              largest date of the frame): GX compares them vectorised against 'YYYY-MM-DD 00:00:00' bounds;
  anything else (lists, structs) stays ArrowDtype.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

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
    if params:
        return arrow_to_frame(con.execute(sql, params).to_arrow_table())
    return arrow_to_frame(con.sql(sql).to_arrow_table())


def plan_chunks(
    con: duckdb.DuckDBPyConnection, sql: str, partition_column: str | None, chunk_rows: int
) -> list[list] | None:
    """Partition values grouped into chunks of at most ~chunk_rows rows (one value never splits), or None when
    the frame is small enough (or has no partition column) to validate in one piece."""
    if not partition_column:
        return None
    counts = con.execute(
        f'select "{partition_column}" as v, count(*) from ({sql}) group by 1 order by 1 nulls first'
    ).fetchall()
    if sum(n for _, n in counts) <= chunk_rows:
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


def chunk_frames(
    con: duckdb.DuckDBPyConnection, sql: str, partition_column: str | None, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    """The frame of `sql`, whole or one chunk of partition values at a time."""
    chunks = plan_chunks(con, sql, partition_column, chunk_rows)
    if chunks is None:
        yield pull(con, sql)
        return
    for values in chunks:
        present = [v for v in values if v is not None]
        conditions = []
        if present:
            conditions.append(f'"{partition_column}" in (select unnest(?))')
        if len(present) < len(values):
            conditions.append(f'"{partition_column}" is null')
        where = " or ".join(conditions)
        yield pull(con, f"select * from ({sql}) where {where}", [present] if present else [])
