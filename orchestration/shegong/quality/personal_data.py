"""The personal-data guard: no resident ID number and no mobile number in clear in any text column of the build
warehouse (every schema of it is published), checked in SQL on DuckDB: one query per table, scanning all its
text columns with RE2 in one pass. A finding names the table, the column and how many values hold such a
number — never a value.

No Dagster here: the asset audit/personal_data_scan in `shegong.defs.quality` calls `scan_personal_data` and
`record_scan` and reports the blocking check.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

import duckdb

from shegong.fingerprints import table_fingerprints
from shegong.schema import replace_validation_rows

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
    values: int  # distinct non-null values scanned, summed over the columns
    findings: list[Finding]
    seconds: float
    scanned_at: dt.datetime = field(default_factory=dt.datetime.now)
    unchanged: int = 0  # tables not scanned again: clean at the last scan and unchanged since
    # schema.table → (rows, fingerprint) of every table found clean (scanned now, or unchanged since the last scan)
    clean_tables: dict[str, tuple[int, str]] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.findings


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def text_columns(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list[str]]:
    """(schema, table) → its text columns, for every base table of the connection's database."""
    rows = con.execute(
        """select c.schema_name, c.table_name, c.column_name, c.data_type
           from duckdb_columns() as c
           join duckdb_tables() as t
             on t.database_name = c.database_name and t.schema_name = c.schema_name
            and t.table_name = c.table_name
           where c.database_name = current_database() and not t.temporary
           order by c.schema_name, c.table_name, c.column_index"""
    ).fetchall()
    out: dict[tuple[str, str], list[str]] = {}
    for schema, table, column, data_type in rows:
        if any(kind in data_type for kind in _TEXT_TYPES):
            out.setdefault((schema, table), []).append(column)
    return out


def _texts(columns: list[str]) -> str:
    return ", ".join(f"cast({_quoted(c)} as varchar) as c{i}" for i, c in enumerate(columns))


def table_scan_sql(schema: str, table: str, columns: list[str]) -> str:
    """Per column of the table (by position): its distinct values and how many of them hold either number.
    Distinct values, because the regex costs far more than the hashing (keys, codes, names and file names
    repeat from row to row): half the time of a scan of every value at `medium`."""
    relation = f"{_quoted(schema)}.{_quoted(table)}"
    distinct = " union all ".join(
        f"select distinct {i} as position, cast({_quoted(c)} as varchar) as v from {relation}"
        for i, c in enumerate(columns)
    )
    return (
        f"select position, count(v), count(*) filter (where regexp_matches(v, {_literal(ANY_NUMBER)})) "
        f"from ({distinct}) group by position order by position"
    )


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


def clean_at_last_scan(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """schema.table → fingerprint of the tables the last scan found clean with today's patterns."""
    try:
        return dict(
            con.execute(f"select table_name, fingerprint from {SCANNED} where rules = ?", [RULES]).fetchall()
        )
    except duckdb.CatalogException:  # a file built before the scan kept its memory: everything is scanned
        return {}


def fingerprints_scanned_in_run(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, tuple[int, str]]:
    """schema.table → (rows, fingerprint) of every table run `run_id`'s scan found clean, as it was then."""
    try:
        rows = con.execute(
            f"select table_name, rows, fingerprint from {SCANNED} where run_id = ? and rows is not null",
            [run_id],
        ).fetchall()
    except duckdb.CatalogException:  # a file built before the scan kept its memory
        return {}
    return {table: (count, fingerprint) for table, count, fingerprint in rows}


def scan_personal_data(con: duckdb.DuckDBPyConnection) -> PersonalDataScan:
    """Every text column of every table of the connection's database, scanned for numbers in clear; a table the
    last scan found clean and that has not changed since (its fingerprint) is not scanned again."""
    started = dt.datetime.now()
    tables = text_columns(con)
    (database,) = con.execute("select current_database()").fetchall()[0]
    fingerprints = table_fingerprints(con, database, only=[f"{s}.{t}" for s, t in tables])
    known_clean = clean_at_last_scan(con)
    findings: list[Finding] = []
    clean: dict[str, tuple[int, str]] = {}
    values = unchanged = 0
    for (schema, table), columns in tables.items():
        name = f"{schema}.{table}"
        if known_clean.get(name) == fingerprints[name][1]:
            unchanged += 1
            clean[name] = fingerprints[name]
            continue
        counts = con.execute(table_scan_sql(schema, table, columns)).fetchall()
        values += sum(n for _, n, _ in counts)
        found = [columns[position] for position, _, hits in counts if hits]
        if not found:
            clean[name] = fingerprints[name]
            continue
        by_kind = iter(con.execute(kinds_sql(schema, table, found)).fetchall()[0])
        for column in found:
            for kind in KINDS:
                hits = next(by_kind)
                if hits:
                    findings.append(Finding(schema, table, column, kind, hits))
    return PersonalDataScan(
        tables=len(tables),
        columns=sum(len(c) for c in tables.values()),
        values=values,
        findings=findings,
        seconds=(dt.datetime.now() - started).total_seconds(),
        unchanged=unchanged,
        clean_tables=clean,
    )


def audit_rows(run_id: str, asset: str, scan: PersonalDataScan) -> list[tuple]:
    """Rows of audit.audit_validation_results: one for the scan as a whole, one per column found holding
    numbers (its count, never a value)."""
    summary = {
        "tables": scan.tables,
        "tables_unchanged_since_clean_scan": scan.unchanged,
        "text_columns": scan.columns,
        "distinct_values_scanned": scan.values,
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
    con.executemany(
        f"insert into {SCANNED} (table_name, fingerprint, rules, run_id, scanned_at, rows) values (?, ?, ?, ?, ?, ?)",
        [
            [table, fingerprint, RULES, run_id, scan.scanned_at, rows]
            for table, (rows, fingerprint) in scan.clean_tables.items()
        ],
    )
    return replace_validation_rows(con, run_id, SUITE, audit_rows(run_id, asset, scan))
