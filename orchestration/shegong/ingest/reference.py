"""Reference data the project ships: the national gazetteer and the report metric catalogue."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from shegong import gazetteer


def load_gazetteer(con: duckdb.DuckDBPyConnection) -> int:
    """Replace raw.gazetteer with the shipped province/city/county codes; returns the row count."""
    regions = sorted(gazetteer.regions().values(), key=lambda r: r.adcode)
    table = pa.table(
        {
            "adcode": [r.adcode for r in regions],
            "name": [r.name for r in regions],
            "level": [r.level for r in regions],
            "parent_adcode": [r.parent for r in regions],
        }
    )
    con.execute("create schema if not exists raw")
    con.register("incoming_gazetteer", table)
    con.execute("create or replace table raw.gazetteer as select * from incoming_gazetteer")
    con.unregister("incoming_gazetteer")
    return table.num_rows
