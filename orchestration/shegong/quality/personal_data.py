"""The personal-data guard: no resident ID number and no mobile number in clear in any text column of the build
warehouse (every schema of it is published), checked in SQL on DuckDB: one query per table, scanning all its
text columns with RE2 in one pass. A finding names the table, the column and how many values hold such a
number — never a value. What the last scan found clean and has not changed since (content fingerprints) is not
scanned again: a whole table, or, in a table with a reporting month, a month.

No Dagster here: the asset audit/personal_data_scan in `shegong.defs.quality` calls `scan_personal_data` and
`record_scan` and reports the blocking check.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb

from shegong.fingerprints import Shape, monthly_fingerprints, table_fingerprints, table_shapes
from shegong.schema import insert_rows, replace_validation_rows

# The numbers themselves (also the redaction of values shown to auditors, shegong.quality.runner.redact).
ID_NUMBER = r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
MOBILE = r"1[3-9]\d{9}"
# Unanchored (a number inside free text leaks as well), RE2 (DuckDB runs it): a number stands alone, not inside
# a longer number, a decimal or a hex digest (RE2 has no lookarounds: the bounding character is matched).
ALONE_BEFORE, ALONE_AFTER = r"(?:^|[^0-9A-Za-z.])", r"(?:[^0-9A-Za-z.]|$)"
KINDS = {
    "id_number": rf"{ALONE_BEFORE}{ID_NUMBER}{ALONE_AFTER}",
    "mobile_number": rf"{ALONE_BEFORE}{MOBILE}{ALONE_AFTER}",
}
# Every value takes one pattern for both kinds (one RE2 pass); the kinds are told apart only in the columns found.
ANY_NUMBER = rf"{ALONE_BEFORE}(?:{ID_NUMBER}|{MOBILE}){ALONE_AFTER}"
# Column types whose values are text (lists, maps and structs of text are scanned as their text form).
_TEXT_TYPES = ("VARCHAR", "JSON")

# What a clean result depends on besides the table's content: a table found clean is scanned again when these
# change (audit.personal_data_scanned records the digest).
RULES = hashlib.sha256("|".join([ANY_NUMBER, *KINDS.values(), *_TEXT_TYPES]).encode()).hexdigest()[:16]
SCANNED = "audit.personal_data_scanned"
# A table with one of these (a DATE column) is fingerprinted and scanned month by month: a run that lands one
# month scans that month's rows again, not every month before it.
MONTH_COLUMNS = ("_period_month", "period_month")
NO_MONTH = "none"

SUITE = "personal_data"
# The asset whose blocking check the scan is (shegong.defs.quality); the publish step depends on it.
SCAN_ASSET = ("audit", "personal_data_scan")
CHECK_NAME = "no_personal_numbers_in_clear"
MEANING = {
    "id_number": "No text value holds an 18-digit resident ID number: personal data is only ever stored hashed.",
    "mobile_number": "No text value holds an 11-digit mobile number: phone numbers are only ever stored hashed.",
}


@dataclass(frozen=True)
class Finding:
    schema: str
    table: str
    column: str
    kind: str  # a key of KINDS
    values: int  # how many rows of the column hold such a number

    @property
    def where(self) -> str:
        return f"{self.schema}.{self.table}.{self.column}"

    def line(self) -> str:
        return f"{self.where}: {self.values} value(s) hold a {self.kind.replace('_', ' ')} in clear"


@dataclass
class PersonalDataScan:
    tables: int
    columns: int
    values: int  # non-null values read (distinct ones, or every one: `column_reads`), over all columns
    findings: list[Finding]
    seconds: float
    scanned_at: dt.datetime = field(default_factory=dt.datetime.now)
    unchanged: int = 0  # tables not scanned again: clean at the last scan and unchanged since
    # schema.table → (rows, fingerprint) of every table found clean (scanned now, or unchanged since the last scan)
    clean_tables: dict[str, tuple[int, str]] = field(default_factory=dict)
    # schema.table → reporting month → fingerprint, for the clean tables scanned month by month
    clean_months: dict[str, dict[dt.date | None, str]] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.findings


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class ScannedTable:
    schema: str
    table: str
    columns: list[str]  # its text columns
    types: list[str]  # their types, in the same order
    month_column: str | None  # its reporting month (MONTH_COLUMNS), by which it is scanned month by month

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"


def text_tables(shapes: Mapping[str, Shape]) -> list[ScannedTable]:
    """The tables among `shapes` (`fingerprints.table_shapes`) that have text columns."""
    tables = []
    for name, shape in shapes.items():
        texts = [
            (column, data_type) for column, data_type in shape if any(k in data_type for k in _TEXT_TYPES)
        ]
        if not texts:
            continue
        month = next((c for c, data_type in shape if c in MONTH_COLUMNS and data_type == "DATE"), None)
        schema, table = name.split(".", 1)
        tables.append(ScannedTable(schema, table, [c for c, _ in texts], [t for _, t in texts], month))
    return tables


# How a column's values are read (`column_reads`).
SKIP, DISTINCT, EVERY = "skip", "distinct", "every"
# The shortest value either number can be found in: a mobile number's 11 digits.
SHORTEST_MATCH = 11
# A column of more distinct values than this share of its table's rows is read whole: finding its distinct values
# costs more than the regex it saves (a column of hashes: 0.18 s against 0.09 s a million rows at `large`).
MOSTLY_DISTINCT = 0.5


def column_reads(con: duckdb.DuckDBPyConnection, table: ScannedTable, rows: int) -> list[str]:
    """How to read each text column of the table, from the statistics DuckDB keeps of its stored values (read
    without scanning them): SKIP a VARCHAR column whose longest value is under SHORTEST_MATCH bytes (a byte
    count, never less than the characters: no value of it can hold either number; an empty table skips every
    column), EVERY value of a column of mostly distinct values, its DISTINCT values otherwise (and when DuckDB
    keeps no statistics for the column: lists, JSON)."""
    relation = f"{_quoted(table.schema)}.{_quoted(table.table)}"
    found = con.execute(
        f"select {', '.join(f'stats({_quoted(c)})' for c in table.columns)} from {relation} limit 1"
    ).fetchall()
    if not found:
        return [SKIP] * len(table.columns)
    reads = []
    for data_type, stats in zip(table.types, found[0], strict=True):
        longest = stats.get("max_string_length") if isinstance(stats, dict) else None
        unique = stats.get("approx_unique") if isinstance(stats, dict) else None
        if data_type == "VARCHAR" and isinstance(longest, int) and longest < SHORTEST_MATCH:
            reads.append(SKIP)
        elif isinstance(unique, int) and rows and unique > MOSTLY_DISTINCT * rows:
            reads.append(EVERY)
        else:
            reads.append(DISTINCT)
    return reads


def _texts(columns: list[str]) -> str:
    return ", ".join(f"cast({_quoted(c)} as varchar) as c{i}" for i, c in enumerate(columns))


def table_scan_sql(
    schema: str, table: str, columns: list[str], reads: list[str], where: str | None = None
) -> str | None:
    """Per column of the table (by position), read as `reads` says (`column_reads`): the values read and how many
    of them hold either number, over the rows `where` selects (all of them for None); None when no column is read.
    Distinct values where they repeat, because the regex costs far more than the hashing (codes, names and file
    names repeat from row to row): half the time of a scan of every value at `medium`."""
    relation = f"{_quoted(schema)}.{_quoted(table)}" + (f" where {where}" if where else "")
    branches = []
    for i, (column, read) in enumerate(zip(columns, reads, strict=True)):
        if read == SKIP:
            continue
        distinct = "distinct " if read == DISTINCT else ""
        values = f"select {distinct}cast({_quoted(column)} as varchar) as v from {relation}"
        branches.append(
            f"select {i} as position, count(v), count(*) filter (where regexp_matches(v, {_literal(ANY_NUMBER)})) "
            f"from ({values})"
        )
    if not branches:
        return None
    return " union all ".join(branches) + " order by position"


def kinds_sql(schema: str, table: str, columns: list[str]) -> str:
    """For the columns found holding numbers: the rows holding each kind (a value may hold both)."""
    counts = [
        f"count(*) filter (where regexp_matches(c{i}, {_literal(pattern)}))"
        for i in range(len(columns))
        for pattern in KINDS.values()
    ]
    return (
        f"select {', '.join(counts)} from (select {_texts(columns)} from {_quoted(schema)}.{_quoted(table)})"
    )


def clean_at_last_scan(
    con: duckdb.DuckDBPyConnection,
) -> tuple[dict[str, str], dict[str, dict[dt.date | None, str]]]:
    """What the last scan found clean with today's patterns: schema.table → fingerprint, and for the tables
    scanned month by month, schema.table → month → fingerprint."""
    try:
        rows = con.execute(
            f"select table_name, month, fingerprint from {SCANNED} where rules = ?", [RULES]
        ).fetchall()
    except duckdb.CatalogException:  # a file built before the scan kept its memory: everything is scanned
        return {}, {}
    tables: dict[str, str] = {}
    months: dict[str, dict[dt.date | None, str]] = {}
    for table, month, fingerprint in rows:
        if month is None:
            tables[table] = fingerprint
        else:
            months.setdefault(table, {})[_month_of(month)] = fingerprint
    return tables, months


def _month_key(month: dt.date | None) -> str:
    """How audit.personal_data_scanned.month names a month: its ISO date, or 'none' for rows without one."""
    return NO_MONTH if month is None else month.isoformat()


def _month_of(key: str) -> dt.date | None:
    return None if key == NO_MONTH else dt.date.fromisoformat(key)


def _in_months(column: str, months: list[dt.date | None]) -> str:
    """SQL: the rows of these months (None: the rows without a month)."""
    conditions = [f"{_quoted(column)} is null"] if None in months else []
    dated = [m for m in months if m is not None]
    if dated:
        conditions.append(
            f"{_quoted(column)} in ({', '.join(f'date {_literal(m.isoformat())}' for m in dated)})"
        )
    return "(" + " or ".join(conditions) + ")"


def fingerprints_scanned_in_run(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, tuple[int, str]]:
    """schema.table → (rows, fingerprint) of every table run `run_id`'s scan found clean, as it was then."""
    try:
        rows = con.execute(
            f"select table_name, rows, fingerprint from {SCANNED} "
            "where run_id = ? and month is null and rows is not null",
            [run_id],
        ).fetchall()
    except duckdb.CatalogException:  # a file built before the scan kept its memory
        return {}
    return {table: (count, fingerprint) for table, count, fingerprint in rows}


def scan_personal_data(con: duckdb.DuckDBPyConnection) -> PersonalDataScan:
    """Every text column of every table of the connection's database, scanned for numbers in clear; a table the
    last scan found clean and that has not changed since (its fingerprint) is not scanned again, and of a table
    with a reporting month only the months that changed since are."""
    started = dt.datetime.now()
    (database,) = con.execute("select current_database()").fetchall()[0]
    shapes = table_shapes(con, database)
    tables = text_tables(shapes)
    fingerprints = table_fingerprints(con, database, only=[t.name for t in tables if t.month_column is None])
    month_fingerprints: dict[str, dict[dt.date | None, tuple[int, str]]] = {}
    for t in tables:
        if t.month_column is not None:
            fingerprints[t.name], month_fingerprints[t.name] = monthly_fingerprints(
                con, database, t.name, shapes[t.name], t.month_column
            )
    known_clean, known_clean_months = clean_at_last_scan(con)
    findings: list[Finding] = []
    clean: dict[str, tuple[int, str]] = {}
    clean_months: dict[str, dict[dt.date | None, str]] = {}
    values = unchanged = 0
    for t in tables:
        months = {
            month: fingerprint for month, (_, fingerprint) in month_fingerprints.get(t.name, {}).items()
        }
        if known_clean.get(t.name) == fingerprints[t.name][1]:
            unchanged += 1
            clean[t.name], clean_months[t.name] = fingerprints[t.name], months
            continue
        where = None
        if t.month_column is not None:
            before = known_clean_months.get(t.name, {})
            changed = [month for month, fingerprint in months.items() if before.get(month) != fingerprint]
            where = _in_months(t.month_column, changed) if changed else "false"  # an emptied table
        sql = table_scan_sql(
            t.schema, t.table, t.columns, column_reads(con, t, fingerprints[t.name][0]), where
        )
        counts = con.execute(sql).fetchall() if sql is not None else []
        values += sum(n for _, n, _ in counts)
        found = [t.columns[position] for position, _, hits in counts if hits]
        if not found:
            clean[t.name], clean_months[t.name] = fingerprints[t.name], months
            continue
        by_kind = iter(con.execute(kinds_sql(t.schema, t.table, found)).fetchall()[0])
        for column in found:
            for kind in KINDS:
                hits = next(by_kind)
                if hits:
                    findings.append(Finding(t.schema, t.table, column, kind, hits))
    return PersonalDataScan(
        tables=len(tables),
        columns=sum(len(t.columns) for t in tables),
        values=values,
        findings=findings,
        seconds=(dt.datetime.now() - started).total_seconds(),
        unchanged=unchanged,
        clean_tables=clean,
        clean_months={table: months for table, months in clean_months.items() if months},
    )


def audit_rows(run_id: str, asset: str, scan: PersonalDataScan) -> list[tuple]:
    """Rows of audit.audit_validation_results: one for the scan as a whole, one per column found holding
    numbers (its count, never a value)."""
    summary = {
        "tables": scan.tables,
        "tables_unchanged_since_clean_scan": scan.unchanged,
        "text_columns": scan.columns,
        "values_scanned": scan.values,
    }
    rows = [
        (
            run_id,
            scan.scanned_at,
            SUITE,
            asset,
            CHECK_NAME,
            None,
            "blocking",
            scan.clean,
            json.dumps({**summary, "values_with_findings": sum(f.values for f in scan.findings)}),
            # Counted in columns: the values scanned grow with the audit trail every run adds.
            len(scan.findings),
            scan.columns,
            "No text column of any published table holds a resident ID number or a mobile number in clear.",
        )
    ]
    for f in scan.findings:
        rows.append(
            (
                run_id,
                scan.scanned_at,
                SUITE,
                asset,
                f"no_{f.kind}",
                f.where,
                "blocking",
                False,
                f"{f.values} value(s) withheld",
                f.values,
                None,
                MEANING[f.kind],
            )
        )
    return rows


def record_scan(con: duckdb.DuckDBPyConnection, run_id: str, asset: str, scan: PersonalDataScan) -> int:
    """Append the scan's rows to audit.audit_validation_results (a re-run of the check replaces its rows), and
    remember the tables it found clean (audit.personal_data_scanned) for the next scan."""
    con.execute(f"delete from {SCANNED}")
    columns = "table_name, fingerprint, rules, run_id, scanned_at, rows, month"
    insert_rows(
        con,
        SCANNED,
        [
            [table, fingerprint, RULES, run_id, scan.scanned_at, rows, None]
            for table, (rows, fingerprint) in scan.clean_tables.items()
        ]
        + [
            [table, fingerprint, RULES, run_id, scan.scanned_at, None, _month_key(month)]
            for table, months in scan.clean_months.items()
            for month, fingerprint in months.items()
        ],
        columns,
    )
    return replace_validation_rows(con, run_id, SUITE, audit_rows(run_id, asset, scan))
