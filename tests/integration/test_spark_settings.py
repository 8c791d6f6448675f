"""Engine selection, the Spark endpoint from the environment and its one-line failures (no Java, nothing
listening), the Spark → DuckDB type mapping, and the Parquet lake written from a real DuckDB build file and read
back by DuckDB. No Spark server needed: these fail before one would be used."""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path

import duckdb
import pytest

from shegong.engines import EngineConfigError, dbt_target, engine
from shegong.engines.mirror import duckdb_type
from shegong.engines.spark import (
    SparkEndpoint,
    SparkUnavailable,
    connect,
    endpoint_from_environment,
    java_executable,
    start_local_server,
)
from shegong.lake import LakeTable, export_lake, parquet_glob

pytestmark = pytest.mark.integration


def test_engine_defaults_to_duckdb_and_names_what_to_set():
    assert engine({}) == "duckdb" and dbt_target({}) == "dev"
    assert (
        engine({"SHEGONG_ENGINE": " Spark "}) == "spark"
        and dbt_target({"SHEGONG_ENGINE": "spark"}) == "spark"
    )
    with pytest.raises(EngineConfigError, match=r"SHEGONG_ENGINE='trino' is not an engine: .*duckdb, spark"):
        engine({"SHEGONG_ENGINE": "trino"})


def test_the_endpoint_comes_from_the_environment():
    assert endpoint_from_environment({}) is None  # shegong starts a local server
    endpoint = endpoint_from_environment(
        {
            "SHEGONG_SPARK_HOST": "kyuubi.internal",
            "SHEGONG_SPARK_PORT": "10009",
            "SHEGONG_SPARK_AUTH": "ldap",
            "SHEGONG_SPARK_USER": "etl",
            "SHEGONG_SPARK_PASSWORD": "pw",
            "SHEGONG_SPARK_DATABASE": "civil",
        }
    )
    assert endpoint == SparkEndpoint("kyuubi.internal", 10009, "etl", "LDAP", "pw", "civil")
    assert endpoint.database("marts") == "civil_marts"
    assert endpoint.environment()["SHEGONG_SPARK_PORT"] == "10009"
    with pytest.raises(EngineConfigError, match="SHEGONG_SPARK_PORT='ten' is not a port number"):
        endpoint_from_environment({"SHEGONG_SPARK_HOST": "h", "SHEGONG_SPARK_PORT": "ten"})
    with pytest.raises(EngineConfigError, match="SHEGONG_SPARK_AUTH='BASIC'"):
        endpoint_from_environment({"SHEGONG_SPARK_HOST": "h", "SHEGONG_SPARK_AUTH": "basic"})


def test_an_unreachable_endpoint_is_one_line_naming_it():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SparkUnavailable) as failure:
        connect(SparkEndpoint("127.0.0.1", port))
    message = str(failure.value)
    assert len(message.splitlines()) == 1
    assert f"cannot reach the Spark Thrift endpoint 127.0.0.1:{port}" in message
    assert "SHEGONG_SPARK_HOST" in message and "shegong spark start" in message


def test_missing_java_is_one_line_saying_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no java here
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(
        SparkUnavailable, match=r"Java not found .*openjdk-17-jre-headless.*SHEGONG_SPARK_HOST"
    ):
        java_executable()
    with pytest.raises(SparkUnavailable, match="Java not found"):
        start_local_server(tmp_path / "spark")
    assert not (tmp_path / "spark" / "thrift.json").exists()  # nothing was started


def test_spark_types_map_to_the_duckdb_types_of_the_build():
    assert duckdb_type("string") == "VARCHAR"
    assert duckdb_type("decimal(18,2)") == "DECIMAL(18,2)"
    assert duckdb_type("timestamp_ntz") == "TIMESTAMP"
    assert duckdb_type("array<string>") == "VARCHAR[]"
    assert duckdb_type("bigint") == "BIGINT" and duckdb_type("int") == "INTEGER"
    with pytest.raises(ValueError, match="no DuckDB type for Spark type 'map<string,int>'"):
        duckdb_type("map<string,int>")


def _folders(table: Path) -> list[str]:
    return sorted(p.name for p in table.iterdir() if p.is_dir())


def _files(folder: Path) -> set[tuple[str, int]]:
    """The partition's Parquet files by name and inode: a file written again is a new inode."""
    return {(p.name, p.stat().st_ino) for p in folder.glob("*.parquet")}


def _differing_rows(con: duckdb.DuckDBPyConnection, table: str, files: str) -> int:
    lake = f"read_parquet('{files}', hive_partitioning = false)"
    return con.execute(
        f"""select (select count(*) from (select * from {table} except all select * from {lake}))
                 + (select count(*) from (select * from {lake} except all select * from {table}))"""
    ).fetchone()[0]


def test_the_lake_holds_the_build_tables_by_registry_and_month(tmp_path):
    from shegong.schema import ensure_build_schema

    build = tmp_path / "build.duckdb"
    con = duckdb.connect(str(build))
    ensure_build_schema(con)
    columns = [c for (c,) in con.execute("select column_name from (describe raw.workers)").fetchall()]
    values = {c: None for c in columns}
    rows = []
    for month, n in ((dt.date(2024, 1, 1), 2), (dt.date(2024, 2, 1), 3)):
        for i in range(n):
            rows.append(
                {**values, "certificate_no": f"2024{i:013d}", "_period_month": month, "_source_row": i}
            )
    for row in rows:
        con.execute(
            f"insert into raw.workers ({', '.join(row)}) values ({', '.join('?' for _ in row)})",
            list(row.values()),
        )
    con.execute(
        """insert into audit.quarantined_rows (registry, source_file, source_sha256, source_row, period_month,
           reason_codes, reasons, raw_values, ingested_at) values ('workers', 'w.csv', 'abc', 7,
           date '2024-02-01', ['bad_id'], '{"id_number": "checksum"}', '{"id_number": "1101**********"}',
           timestamp '2024-03-05 08:00:00')"""
    )
    lake = tmp_path / "lake"
    written = export_lake(con, lake)
    assert written["raw.workers"] == 5 and written["audit.quarantined_rows"] == 1
    workers = lake / "raw" / "workers"
    assert _folders(workers) == ["month=2024-01", "month=2024-02"]
    assert (lake / "audit" / "quarantined_rows" / "registry=workers" / "month=2024-02").is_dir()

    files = parquet_glob(lake, LakeTable("raw", "workers"))
    assert _differing_rows(con, "raw.workers", files) == 0
    quarantined = parquet_glob(lake, LakeTable("audit", "quarantined_rows"))
    reasons, codes = con.execute(
        f"select reasons, reason_codes from read_parquet('{quarantined}', hive_partitioning = false)"
    ).fetchone()
    assert reasons == '{"id_number": "checksum"}' and codes == ["bad_id"]  # JSON as text, lists as lists

    # A month whose rows are unchanged keeps its files (hard links into the new folder); a changed month is
    # written again; the table is the build table's, row for row.
    january, february = (_files(workers / f"month=2024-{m}") for m in ("01", "02"))
    con.execute("update raw.workers set worker_name_masked = '张*' where _period_month = date '2024-02-01'")
    export_lake(con, lake)
    assert _files(workers / "month=2024-01") == january
    assert _files(workers / "month=2024-02").isdisjoint(february)
    assert _differing_rows(con, "raw.workers", files) == 0
    # Everything unchanged: nothing is written again.
    before = {folder: _files(workers / folder) for folder in _folders(workers)}
    export_lake(con, lake)
    assert {folder: _files(workers / folder) for folder in _folders(workers)} == before

    # A month that is gone leaves no folder behind.
    con.execute("delete from raw.workers where _period_month = date '2024-01-01'")
    export_lake(con, lake)
    assert _folders(workers) == ["month=2024-02"]
    assert _differing_rows(con, "raw.workers", files) == 0
    assert not [p for p in (lake / "raw").iterdir() if p.name.startswith(".")]  # no swap leftovers
    con.close()
    assert Path(build).exists()
