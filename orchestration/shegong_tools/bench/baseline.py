"""The baseline: the landing files → every mart, as fast as plain DuckDB does it, with no orchestration, no
quarantine and no validation. Four timed stages:

  read     the read floor: decode, parse and load every landing file into DuckDB as text (registry files into
           landed.<registry>, reports' text into landed.reports), no checks at all
  raw      type the cells and protect personal data in SQL, into the raw.* tables the dbt models read
           (a cell that does not parse is NULL; a row missing a required column once typed is dropped, as a NOT
           NULL column would; no other check, nothing is quarantined)
  reports  the reports' figures (the project's extractor: there is no other), the gazetteer, the metric
           catalogue and the analysts' review files
  models   the seeds, then every dbt model's own SQL, compiled once before the timing starts, executed in
           dependency order as `create table … as` in one connection: the same design as the dbt models
           (version/interval models, not month-per-row), without dbt, its tests or Dagster

DuckDB here reads neither GB18030 nor XLSX (no extension can be downloaded), so decoding is Python's codecs and
python-calamine, and parsing is Arrow's CSV reader: the fastest readers available to a hand-written build.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
from python_calamine import CalamineWorkbook

from shegong.config import DBT_PROJECT_DIR, REGISTRIES
from shegong.contracts import Column, Contract, contracts, normalize_header
from shegong.engines.compare import compare_duckdb_marts
from shegong.extraction import ReportReadError, read_report
from shegong.ingest.landing import landing_files
from shegong.ingest.reading import HEADER_SEARCH_ROWS, decode
from shegong.ingest.reference import load_gazetteer
from shegong.ingest.reports import ingest_reports, report_files, report_problem
from shegong.ingest.reviews import ingest_reviews, review_files
from shegong.schema import AUDIT_DDL, REPORT_DDL, REVIEW_DDL

READ = "read"
RAW = "raw"
REPORTS = "reports"
MODELS = "models"
STAGES = (READ, RAW, REPORTS, MODELS)

DELIMITERS = (",", "\t", ";", "|")
ROW = "_row"
FILE = "_file"
REGION = "_region"
MONTH = "_month"
# A fixed salt: the baseline protects personal data like the pipeline (a keyed SHA-256), not with its key.
HASH_SALT = "shegong-bench-baseline"
_PERIOD = re.compile(
    r"(?P<region>\d{6})[_\-\s]*(?:(?P<year>20\d{2})[-_年.]?(?P<month>1[0-2]|0?[1-9])(?!\d))?"
)


@dataclass
class BaselineOutcome:
    figures: dict[str, dict[str, float]] = field(default_factory=dict)
    mart_rows: dict[str, int] = field(default_factory=dict)
    model_seconds: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------- read (the read floor)


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


def header_position(rows: list[list[str]], contract: Contract) -> tuple[int, list[str | None]]:
    """(index, contract column per cell) of the top row naming most contract columns; cells naming none (a
    serial-number column) map to None. (-1, []) when no row names two."""
    best, names = -1, []
    for index, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        mapped = [contract.alias_index.get(normalize_header(c)) for c in cells]
        if sum(m is not None for m in mapped) > max(1, sum(n is not None for n in names)):
            best, names = index, mapped
    return best, names


def _first_rows(text: str) -> tuple[str, list[list[str]]]:
    """The delimiter and the top rows of a CSV text (the delimiter splitting the top lines into most cells)."""
    head = text[: 64 * 1024].splitlines()[:HEADER_SEARCH_ROWS]
    delimiter = max(DELIMITERS, key=lambda d: sum(line.count(d) for line in head))
    return delimiter, list(csv.reader(head, delimiter=delimiter))


def _unique(names: list[str | None]) -> list[str]:
    """Arrow's column names for a header: contract names where mapped (the first cell naming a column wins)."""
    seen: set[str] = set()
    out = []
    for position, name in enumerate(names):
        out.append(name if name and name not in seen else f"_unmapped_{position}")
        if name:
            seen.add(name)
    return out


def read_registry_text(path: Path, contract: Contract) -> pa.Table:
    """One landing file as a table of text cells named by contract column, plus each row's number (its line in
    an XLSX sheet, its order among the data rows of a CSV); empty when no header is found (the pipeline rejects
    such a file)."""
    if path.suffix.lower() == ".xlsx":
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=False)
        rows = [[_cell(v) for v in row] for row in sheet]
        index, names = header_position(rows, contract)
        if index < 0:
            return pa.table({})
        body = [(number, r) for number, r in enumerate(rows[index + 1 :], start=index + 2) if any(r)]
        columns = {
            name: pa.array([r[i] if i < len(r) else "" for _, r in body], pa.string())
            for i, name in enumerate(_unique(names))
            if not name.startswith("_unmapped_")
        }
        columns[ROW] = pa.array([number for number, _ in body], pa.int32())
        return pa.table(columns)
    text, _ = decode(path, path.read_bytes())
    delimiter, top = _first_rows(text.lstrip("\ufeff"))
    index, names = header_position(top, contract)
    if index < 0:
        return pa.table({})
    column_names = _unique(names)
    table = pacsv.read_csv(
        io.BytesIO(text.lstrip("\ufeff").encode("utf-8")),
        read_options=pacsv.ReadOptions(skip_rows=index + 1, column_names=column_names),
        # A footer or title line with another number of cells is not a data row.
        parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=lambda row: "skip"),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(column_names, pa.string()),
            include_columns=[n for n in column_names if not n.startswith("_unmapped_")],
            strings_can_be_null=False,
        ),
    )
    return table.append_column(ROW, pa.array(range(index + 2, index + 2 + table.num_rows), pa.int32()))


def file_period(path: Path) -> tuple[str | None, dt.date | None]:
    """Reporting region and month from a landing file's name (no month for the division-code lists)."""
    match = _PERIOD.search(path.stem)
    if not match:
        return None, None
    month = dt.date(int(match["year"]), int(match["month"]), 1) if match["year"] else None
    return match["region"], month


def _with_provenance(table: pa.Table, path: Path, landing: Path) -> pa.Table:
    region, month = file_period(path)
    n = table.num_rows
    return (
        table.append_column(FILE, pa.array([path.relative_to(landing).as_posix()] * n, pa.string()))
        .append_column(REGION, pa.array([region] * n, pa.string()))
        .append_column(MONTH, pa.array([month] * n, pa.date32()))
    )


def read_landing(con: duckdb.DuckDBPyConnection, landing: Path) -> dict[str, float]:
    """The read floor: every registry file into landed.<registry> (text cells) and every report's text into
    landed.reports. Figures: files, rows loaded, bytes read."""
    con.execute("create schema if not exists landed")
    files = rows = size = 0
    for registry in REGISTRIES:
        contract = contracts()[registry]
        tables = []
        for path in landing_files(landing / registry):
            tables.append(_with_provenance(read_registry_text(path, contract), path, landing))
            files += 1
            size += path.stat().st_size
        if not tables:
            raise ValueError(f"baseline: no {registry} files in {landing / registry}")
        read = [t for t in tables if t.num_rows]
        if not read:
            raise ValueError(
                f"baseline: no {registry} file in {landing / registry} has a header row and data"
            )
        landed = pa.concat_tables(read, promote_options="default")
        con.register("landed_arrow", landed)
        con.execute(f"create or replace table landed.{registry} as select * from landed_arrow")
        con.unregister("landed_arrow")
        rows += landed.num_rows
    reports: dict[str, list] = {FILE: [], "text": []}
    for path in report_files(landing / "reports"):
        if report_problem(path) is not None:
            continue
        try:
            text = read_report(path)
        except ReportReadError:
            continue
        reports[FILE].append(path.relative_to(landing).as_posix())
        reports["text"].append(text)
        files += 1
        size += path.stat().st_size
    con.register(
        "landed_arrow", pa.table(reports, schema=pa.schema([(FILE, pa.string()), ("text", pa.string())]))
    )
    con.execute("create or replace table landed.reports as select * from landed_arrow")
    con.unregister("landed_arrow")
    return {"files": files, "rows": rows + len(reports[FILE]), "bytes": size}


# ---------------------------------------------------------------- raw (typing and personal data in SQL)

RAW_MACROS = rf"""
create or replace macro cell(v) as nullif(trim(v), '');
create or replace macro to_date(v) as cast(coalesce(
    try_strptime(regexp_replace(trim(v), '^(\d{{4}})[-/.年](\d{{1,2}})[-/.月](\d{{1,2}})日?([ T].*)?$', '\1-\2-\3'),
        '%Y-%m-%d'),
    try_strptime(trim(v), '%Y%m%d')
) as date);
create or replace macro to_decimal(v) as try_cast(regexp_replace(v, '[,元¥ ]', '', 'g') as decimal(18, 2));
create or replace macro to_integer(v) as try_cast(try_cast(regexp_replace(v, '[, ]', '', 'g') as decimal(18, 2))
    as bigint);
create or replace macro keyed_hash(kind, v) as sha256('{HASH_SALT}:' || kind || ':' || v);
create or replace macro enum_key(v) as lower(regexp_replace(v, '[\s*#:：]', '', 'g'));
"""


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def column_sql(column: Column) -> list[str]:
    """The raw layer's expressions for one contract column, in the order of its raw columns."""
    v = f"cell({column.name})"
    if column.pii == "id_number":
        return [
            f"keyed_hash('id_number', upper({v})) as {column.name}_hash",
            f"(try_cast(substr({v}, 7, 4) as integer) // 5 * 5)::varchar || '-' || "
            f"(try_cast(substr({v}, 7, 4) as integer) // 5 * 5 + 4)::varchar as birth_year_band",
            f"case try_cast(substr({v}, 17, 1) as integer) % 2 when 1 then 'male' when 0 then 'female' end as gender",
        ]
    if column.pii == "phone":
        return [f"keyed_hash('phone', regexp_replace({v}, '\\D', '', 'g')) as {column.name}_hash"]
    if column.pii == "name":
        return [f"left({v}, 1) || repeat('*', greatest(length({v}) - 1, 1)) as {column.name}_masked"]
    if column.type == "enum":
        cases = " ".join(
            f"when {_sql_text(normalize_header(s))} then {_sql_text(code)}"
            for code, spellings in column.values.items()
            for s in dict.fromkeys((code, *spellings))
        )
        return [f"case enum_key({v}) {cases} end as {column.name}"]
    typed = {"date": "to_date", "decimal": "to_decimal", "integer": "to_integer"}.get(column.type)
    return [f"{typed}({v}) as {column.name}" if typed else f"{v} as {column.name}"]


def raw_table_sql(contract: Contract, landed_columns: set[str]) -> str:
    """raw.<registry> from landed.<registry>: the pipeline's raw columns and provenance; a row whose required
    columns are not all there once typed is dropped (a NOT NULL column, the least any typed table has)."""
    from_clause = f"landed.{contract.registry}"
    missing = [c.name for c in contract.columns if c.name not in landed_columns]
    if missing:  # a column no file of the registry has: null, as the pipeline loads an absent optional column
        nulls = ", ".join(f"null::varchar as {name}" for name in missing)
        from_clause = f"(select *, {nulls} from landed.{contract.registry})"
    expressions = [e for column in contract.columns for e in column_sql(column)]
    required = " and ".join(f"{c.raw_columns[0]} is not null" for c in contract.columns if c.required)
    return f"""create or replace table {contract.raw_table} as
select * from (
    select {", ".join(expressions)},
        {FILE} as _source_file, null::varchar as _source_sha256, {ROW} as _source_row,
        {REGION} as _reporting_region, {MONTH} as _period_month, localtimestamp as _ingested_at
    from {from_clause}
)
where {required}"""


def build_raw(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    con.execute("create schema if not exists raw")
    con.execute(RAW_MACROS)
    rows = 0
    for registry in REGISTRIES:
        contract = contracts()[registry]
        landed = {r[0] for r in con.execute(f"describe landed.{registry}").fetchall()}
        con.execute(raw_table_sql(contract, landed))
        rows += con.execute(f"select count(*) from {contract.raw_table}").fetchone()[0]
    return {"rows": rows}


# ---------------------------------------------------------------- extract (reports and reference data)


def extract_reports(con: duckdb.DuckDBPyConnection, landing: Path) -> dict[str, float]:
    # The report and review loaders record their files in audit.*; ingest_reports loads the metric catalogue.
    for ddl in (AUDIT_DDL, REPORT_DDL, REVIEW_DDL):
        con.execute(ddl)
    load_gazetteer(con)
    folder = landing / "reports"
    outcomes = ingest_reports(con, report_files(folder), landing)
    ingest_reviews(con, review_files(folder / "review"), landing)
    return {"rows": len(outcomes), "facts": sum(o.facts for o in outcomes)}


# ---------------------------------------------------------------- models (the dbt models' own SQL)


@dataclass(frozen=True)
class Node:
    unique_id: str
    relation: str
    kind: str  # model | seed
    sql: str  # the compiled select (model) or the seed's read_csv select


def _seed_select(node: Mapping) -> str:
    path = Path(node["root_path"]) / node["original_file_path"]
    types = node.get("config", {}).get("column_types") or {}
    duck = {"string": "varchar", "integer": "integer", "boolean": "boolean"}
    columns = ", ".join(f"{_sql_text(k)}: {_sql_text(duck.get(v, v))}" for k, v in types.items())
    options = f", columns = {{{columns}}}" if columns else ""
    return f"select * from read_csv({_sql_text(str(path))}, header = true{options})"


def build_order(manifest: Mapping) -> list[Node]:
    """Seeds and models of a compiled manifest in an order where every node follows what it reads."""
    nodes = {
        uid: n
        for uid, n in manifest["nodes"].items()
        if n["resource_type"] in ("model", "seed") and n.get("config", {}).get("enabled", True)
    }
    graph = {
        uid: [d for d in n.get("depends_on", {}).get("nodes", []) if d in nodes] for uid, n in nodes.items()
    }
    out = []
    for uid in TopologicalSorter(graph).static_order():
        node = nodes[uid]
        if node["resource_type"] == "model" and not node.get("compiled_code"):
            raise ValueError(f"baseline: {uid} has no compiled SQL; compile the dbt project first")
        sql = node["compiled_code"] if node["resource_type"] == "model" else _seed_select(node)
        out.append(Node(uid, node["relation_name"], node["resource_type"], sql))
    return out


def compile_models(database: Path, target: Path) -> list[Node]:
    """`dbt compile` against the baseline's (empty) database file, so every relation is named in it; not timed:
    an expert's script is written before it runs."""
    env = dict(os.environ, SHEGONG_DUCKDB=str(database))
    dbt = Path(sys.executable).with_name("dbt")
    done = subprocess.run(
        [str(dbt), "compile", "--profiles-dir", ".", "--target-path", str(target), "--quiet"],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        tail = " | ".join((done.stdout + done.stderr).strip().splitlines()[-3:])
        raise RuntimeError(f"baseline: dbt compile failed (exit {done.returncode}): {tail}")
    return build_order(json.loads((target / "manifest.json").read_text(encoding="utf-8")))


def build_models(
    con: duckdb.DuckDBPyConnection, nodes: list[Node], seconds: dict[str, float]
) -> dict[str, float]:
    rows = 0
    for node in nodes:
        schema = node.relation.split(".")[-2]
        started = time.perf_counter()
        con.execute(f"create schema if not exists {schema}")
        con.execute(f"create or replace table {node.relation} as {node.sql}")
        seconds[node.unique_id.split(".")[-1]] = time.perf_counter() - started
    for (count,) in con.execute(
        "select estimated_size from duckdb_tables() where schema_name in ('staging', 'intermediate', 'marts')"
    ).fetchall():
        rows += count
    return {"rows": rows}


def models_on_build_raw(build_db: Path, folder: Path, nodes: list[Node]) -> dict[str, list[int]]:
    """The models stage run on the pipeline's own raw layer (copied from `build_db`), each of the build's marts
    compared with it by EXCEPT ALL both ways: mart → [rows only in the build's, rows only in the baseline's].
    Not timed: it shows that the baseline builds the same marts from the same raw rows."""
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "baseline.duckdb"  # the catalog name the nodes were compiled against
    database.unlink(missing_ok=True)
    con = duckdb.connect(str(database))
    try:
        con.execute(f"attach {_sql_text(str(build_db))} as built (read_only)")
        con.execute("create schema raw")
        tables = "select table_name from duckdb_tables() where database_name = 'built' and schema_name = ?"
        for (table,) in con.execute(tables, ["raw"]).fetchall():
            con.execute(f"create table raw.{table} as select * from built.raw.{table}")
        build_models(con, nodes, {})
        differences = {
            mart: [only_built, only_baseline]
            for mart, (only_baseline, only_built) in sorted(compare_duckdb_marts(con, "built").items())
        }
    finally:
        con.close()
    database.unlink(missing_ok=True)
    return differences


# ---------------------------------------------------------------- the whole baseline


def run_baseline(
    landing: Path,
    scratch: Path,
    nodes: list[Node],
    on_stage: Callable[[str], None] | None = None,
) -> BaselineOutcome:
    """Build every mart from `landing` in scratch/baseline.duckdb (which `nodes` were compiled against)."""
    outcome = BaselineOutcome()
    database = scratch / "baseline.duckdb"
    database.unlink(missing_ok=True)
    con = duckdb.connect(str(database))
    try:
        for stage, step in (
            (READ, lambda: read_landing(con, landing)),
            (RAW, lambda: build_raw(con)),
            (REPORTS, lambda: extract_reports(con, landing)),
            (MODELS, lambda: build_models(con, nodes, outcome.model_seconds)),
        ):
            if on_stage:
                on_stage(stage)
            outcome.figures[stage] = step()
        for (name,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
        ).fetchall():
            outcome.mart_rows[name] = con.execute(f"select count(*) from marts.{name}").fetchone()[0]
    finally:
        con.close()
    return outcome
