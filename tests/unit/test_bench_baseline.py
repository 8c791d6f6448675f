"""The benchmark's baseline: the read floor loads every data row of real generated landing files, the raw
layer it builds has the pipeline's raw columns and protects personal data, and the dbt nodes run in an order
where each follows what it reads."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from shegong.config import REGISTRIES
from shegong.contracts import contract
from shegong.ingest.load import raw_columns
from shegong_tools.bench.baseline import (
    RAW_MACROS,
    build_order,
    build_raw,
    header_position,
    raw_table_sql,
    read_landing,
)
from shegong_tools.generate import generate


@pytest.fixture(scope="module")
def landed(tmp_path_factory):
    """A tiny generated landing (2 months, 50 workers) read into DuckDB by the read floor."""
    landing = tmp_path_factory.mktemp("landing")
    generate(landing, scale=50, seed=7, start_month="2024-01", months=2)
    con = duckdb.connect()
    figures = read_landing(con, landing)
    yield landing, con, figures
    con.close()


def test_read_floor_loads_every_data_row_of_every_file(landed):
    landing, con, figures = landed
    manifest = json.loads((landing / "generation_manifest.json").read_text(encoding="utf-8"))
    formats = {f["format"] for f in manifest["files"]} | {f["encoding"] for f in manifest["files"]}
    assert {"csv", "xlsx", "gb18030"} <= formats  # the decoders the floor must pay for are all exercised
    for written in manifest["files"]:
        loaded = con.execute(
            f"select count(*) from landed.{written['registry']} where _file = ?", [written["path"]]
        ).fetchone()[0]
        assert loaded == written["rows"], written["path"]
    reports = sorted(p for p in (landing / "reports").iterdir() if p.is_file())
    assert con.execute("select count(*) from landed.reports").fetchone()[0] == len(reports)
    registry_files = sum(1 for r in REGISTRIES for p in (landing / r).iterdir() if p.is_file())
    assert figures["files"] == registry_files + len(reports)
    assert figures["rows"] == sum(f["rows"] for f in manifest["files"]) + len(reports)
    assert figures["bytes"] == sum(
        p.stat().st_size for r in (*REGISTRIES, "reports") for p in (landing / r).iterdir() if p.is_file()
    )


def test_raw_layer_has_the_pipelines_raw_columns_and_no_clear_personal_data(landed):
    _, con, _ = landed
    build_raw(con)
    for registry in REGISTRIES:
        described = con.execute(f"describe raw.{registry}").fetchall()
        expected = raw_columns(contract(registry))
        assert [(name, kind) for name, kind, *_ in described] == expected, registry
        personal = [c.name for c in contract(registry).columns if c.pii]
        for name, kind in expected:
            if not personal or kind != "VARCHAR":
                continue
            clear = " union ".join(f"select {p} as v from landed.{registry}" for p in personal)
            leaked = con.execute(
                f"select count(*) from raw.{registry} where {name} in (select v from ({clear}) where v <> '')"
            ).fetchone()[0]
            assert leaked == 0, (registry, name)
    hash_length, genders = con.execute(
        "select min(length(id_number_hash)), list(distinct gender order by gender) from raw.workers"
    ).fetchone()
    assert hash_length == 64 and set(genders) <= {"female", "male", None}


def test_raw_typing_reads_the_departments_spellings_and_drops_rows_missing_a_required_column():
    con = duckdb.connect()
    con.execute("create schema landed; create schema raw")
    con.execute(RAW_MACROS)
    con.execute(
        """create table landed.workers as select * from (values
            ('张三', '110101199003071234', '13800138000', 'C1', '助理社工师', '2024/3/5', '2024年3月5日',
             '在册', '', '', '', '110101', 'workers/a.csv', 3, '110101', date '2024-03-01'),
            ('李四', '110101199003071242', '', 'C2', 'senior', '20240305', '2024.3.5 08:00',
             'cancelled', '', '', '', '110101', 'workers/a.csv', 4, '110101', date '2024-03-01'),
            ('王五', '110101199003071250', '', 'C3', '中级', '2024-03-05', '2024-02-30',
             '有效', '', '', '', '110101', 'workers/a.csv', 5, '110101', date '2024-03-01'),
            ('赵六', '110101199003071269', '', 'C4', '特级', '2024-03-05', '2024-03-05',
             '有效', '', '', '', '110101', 'workers/a.csv', 6, '110101', date '2024-03-01'),
            ('合计', '', '', '', '', '', '', '', '', '', '', '', 'workers/a.csv', 7, '110101', date '2024-03-01')
        ) as t(worker_name, id_number, phone, certificate_no, certificate_level, certified_on, registered_on,
               registration_status, employer_uscc, employer_name, station_code, region_code, _file, _row, _region,
               _month)"""
    )
    columns = {r[0] for r in con.execute("describe landed.workers").fetchall()}
    con.execute(raw_table_sql(contract("workers"), columns))
    rows = con.execute(
        """select certificate_no, worker_name_masked, birth_year_band, gender, certificate_level, certified_on,
                  registered_on, registration_status, employer_uscc, phone_hash is null, _source_row
           from raw.workers order by certificate_no"""
    ).fetchall()
    march_5 = dt.date(2024, 3, 5)
    assert rows == [
        ("C1", "张*", "1990-1994", "male", "assistant", march_5, march_5, "active", None, False, 3),
        ("C2", "李*", "1990-1994", "female", "senior", march_5, march_5, "cancelled", None, True, 4),
    ]  # C3 (no such date), C4 (no such level) and the total line lack a required column once typed


def test_header_position_skips_title_lines_and_unmapped_columns():
    rows = [["南京市持证社会工作者名册"], ["序号", "姓名", "证书编号", "备注"], ["1", "张三", "C1", ""]]
    index, names = header_position(rows, contract("workers"))
    assert (index, names) == (1, [None, "worker_name", "certificate_no", None])
    assert header_position([["a", "b"], ["c"]], contract("workers")) == (-1, [])


def test_build_order_puts_every_node_after_what_it_reads(tmp_path):
    seed_file = tmp_path / "seeds" / "levels.csv"
    seed_file.parent.mkdir()
    seed_file.write_text("certificate_level,level_rank\nassistant,1\n", encoding="utf-8")
    manifest = {
        "nodes": {
            "model.p.mart": {
                "resource_type": "model",
                "relation_name": '"db"."marts"."mart"',
                "compiled_code": "select * from staging.stg",
                "depends_on": {"nodes": ["model.p.stg", "seed.p.levels"]},
                "config": {"enabled": True},
            },
            "model.p.stg": {
                "resource_type": "model",
                "relation_name": '"db"."staging"."stg"',
                "compiled_code": "select 1 as x",
                "depends_on": {"nodes": []},
                "config": {"enabled": True},
            },
            "seed.p.levels": {
                "resource_type": "seed",
                "relation_name": '"db"."reference"."levels"',
                "root_path": str(tmp_path),
                "original_file_path": "seeds/levels.csv",
                "config": {"column_types": {"certificate_level": "string", "level_rank": "integer"}},
            },
            "test.p.not_null": {"resource_type": "test", "depends_on": {"nodes": ["model.p.mart"]}},
        }
    }
    order = build_order(manifest)
    ids = [n.unique_id for n in order]
    assert set(ids) == {"model.p.mart", "model.p.stg", "seed.p.levels"}
    assert ids.index("model.p.mart") > max(ids.index("model.p.stg"), ids.index("seed.p.levels"))
    seed = next(n for n in order if n.kind == "seed")
    con = duckdb.connect()
    assert con.execute(seed.sql).fetchall() == [("assistant", 1)]
    assert [t for _, t, *_ in con.execute(f"describe {seed.sql}").fetchall()] == ["VARCHAR", "INTEGER"]
    manifest["nodes"]["model.p.stg"]["compiled_code"] = None
    with pytest.raises(ValueError, match=r"model\.p\.stg has no compiled SQL"):
        build_order(manifest)
