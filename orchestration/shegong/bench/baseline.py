"""The baseline: the landing files → the main marts in one hand-written DuckDB script (baseline.sql), with no
orchestration, quarantine or validation — what the engine alone costs.

DuckDB here reads neither GB18030 nor XLSX (no extensions can be downloaded), so the driver first transcodes
GB18030 CSV to UTF-8 and XLSX to CSV (python-calamine) into a scratch folder; that is part of the baseline's
cost and is timed as its own stage.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from shegong.config import DBT_PROJECT_DIR, REGISTRIES
from shegong.contracts import contracts, normalize_header
from shegong.ingest.landing import landing_files

SQL_PATH = Path(__file__).with_name("baseline.sql")
TRANSCODE = "transcode"
SQL = "sql"


@dataclass
class BaselineOutcome:
    figures: dict[str, dict[str, float]] = field(default_factory=dict)
    mart_rows: dict[str, int] = field(default_factory=dict)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def transcode(path: Path, scratch: Path) -> Path:
    """A file DuckDB can read: the file itself when it is UTF-8 CSV, else a UTF-8 CSV copy in `scratch`."""
    if path.suffix.lower() == ".xlsx":
        from python_calamine import CalamineWorkbook

        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=False)
        target = scratch / (path.name + ".csv")
        with target.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerows([_cell(v) for v in row] for row in rows)
        return target
    data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        return path
    try:
        data.decode("utf-8")
        return path
    except UnicodeDecodeError:
        pass
    target = scratch / path.name
    target.write_text(data.decode("gb18030", errors="replace"), encoding="utf-8")
    return target


def _sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def _contract_tables(con: duckdb.DuckDBPyConnection) -> None:
    aliases: dict[str, list] = {"registry": [], "alias": [], "column_name": []}
    enums: dict[str, list] = {"registry": [], "column_name": [], "spelling": [], "code": []}
    for contract in contracts().values():
        for column in contract.columns:
            for alias in {*column.aliases, *(normalize_header(a) for a in column.aliases)}:
                aliases["registry"].append(contract.registry)
                aliases["alias"].append(alias)
                aliases["column_name"].append(column.name)
            for code, spellings in (column.values or {}).items():
                for spelling in {normalize_header(s) for s in (code, *spellings)}:
                    enums["registry"].append(contract.registry)
                    enums["column_name"].append(column.name)
                    enums["spelling"].append(spelling)
                    enums["code"].append(code)
    con.register("aliases_arrow", pa.table(aliases))
    con.register("enums_arrow", pa.table(enums))
    con.execute("create or replace temp table aliases as select * from aliases_arrow")
    con.execute("create or replace temp table enums as select * from enums_arrow")


def run_baseline(
    landing: Path, scratch: Path, on_stage: Callable[[str], None] | None = None
) -> BaselineOutcome:
    outcome = BaselineOutcome()
    scratch.mkdir(parents=True, exist_ok=True)
    readable: dict[str, list[Path]] = {}
    size = files = transcoded = 0
    for registry in REGISTRIES:
        folder = scratch / registry
        folder.mkdir(exist_ok=True)
        readable[registry] = []
        for path in landing_files(landing / registry):
            target = transcode(path, folder)
            readable[registry].append(target)
            size += path.stat().st_size
            files += 1
            transcoded += target != path
        if not readable[registry]:
            raise ValueError(f"baseline: no {registry} files in {landing / registry}")
    outcome.figures[TRANSCODE] = {"rows": files, "bytes": size, "files": files, "transcoded": transcoded}

    if on_stage:
        on_stage(SQL)
    sql = SQL_PATH.read_text(encoding="utf-8").replace("__SEEDS__", str(DBT_PROJECT_DIR / "seeds"))
    for registry, paths in readable.items():
        sql = sql.replace(f"__FILES_{registry.upper()}__", _sql_list(paths))
    database = scratch / "baseline.duckdb"
    database.unlink(missing_ok=True)
    con = duckdb.connect(str(database))
    try:
        _contract_tables(con)
        con.execute(sql)
        (rows_read,) = con.execute("select count(*) from rows_text").fetchall()[0]
        for (name,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
        ).fetchall():
            outcome.mart_rows[name] = con.execute(f"select count(*) from marts.{name}").fetchall()[0][0]
    finally:
        con.close()
    outcome.figures[SQL] = {"rows": rows_read, "bytes": size}
    return outcome
