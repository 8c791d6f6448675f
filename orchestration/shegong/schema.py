"""The build file's own tables — raw registry tables, report and review tables, file audits, quarantine,
validation results, the personal-data scan's memory and publications — declared in one place and created (or migrated in place) once per run,
by the warehouse resource's first writing connection (`shegong.defs.resources`), or by whoever builds a file
outside a run (tests, tools) through `ensure_build_schema`. dbt owns every other schema."""

from __future__ import annotations

import duckdb

from shegong.contracts import contracts
from shegong.ingest.load import raw_columns

AUDIT_DDL = """
create schema if not exists raw;
create schema if not exists audit;
create table if not exists audit.ingested_files (
    registry varchar not null,
    source_file varchar not null,
    source_sha256 varchar not null,
    size_bytes bigint,
    encoding varchar,
    reporting_region varchar,
    period_month date,
    header_row integer,
    rows_in integer,
    rows_clean integer,
    rows_quarantined integer,
    unknown_columns varchar[],
    missing_optional_columns varchar[],
    status varchar not null,          -- current | superseded | rejected | duplicate
    error varchar,
    ingested_at timestamp not null,
    superseded_at timestamp,
    first_seen_at timestamp,
    duplicate_of varchar,
    primary key (registry, source_file, source_sha256)
);
-- Warehouses built before these columns existed.
alter table audit.ingested_files add column if not exists first_seen_at timestamp;
alter table audit.ingested_files add column if not exists duplicate_of varchar;
create table if not exists audit.quarantined_rows (
    registry varchar not null,
    source_file varchar not null,
    source_sha256 varchar not null,
    source_row integer not null,
    reporting_region varchar,
    period_month date,
    reason_codes varchar[] not null,
    reasons json not null,
    raw_values json not null,
    ingested_at timestamp not null
);
"""

REPORT_DDL = """
create schema if not exists raw;
create table if not exists raw.report_documents (
    doc varchar primary key,
    title varchar,
    published varchar,
    publication_date date,
    language varchar,
    main_region varchar,
    main_adcode varchar,
    facts integer,
    stats json,
    url varchar,
    published_source varchar,
    publisher varchar,
    quality json,
    quality_score double,
    _source_file varchar,
    _source_sha256 varchar,
    _ingested_at timestamp
);
create table if not exists raw.report_facts (
    doc varchar not null,
    fact_index integer not null,
    metric varchar not null,
    value double not null,
    unit varchar,
    qualifier varchar,
    is_target boolean,
    region varchar,
    adcode varchar,
    year integer,
    quote varchar,
    fact_key varchar,
    confidence double,
    _source_file varchar,
    _source_sha256 varchar,
    _ingested_at timestamp
);
"""
# columns added after the first release: a warehouse built before them gains them in place
ADDED_COLUMNS = {
    "raw.report_documents": (
        ("url", "varchar"),
        ("published_source", "varchar"),
        ("publisher", "varchar"),
        ("quality", "json"),
        ("quality_score", "double"),
    ),
    "raw.report_facts": (("fact_key", "varchar"), ("confidence", "double")),
    # The publication reuses the run's scan's fingerprints, rows included (shegong.publish).
    "audit.personal_data_scanned": (("rows", "bigint"), ("month", "varchar")),
}

REVIEW_DDL = """
create schema if not exists raw;
create table if not exists raw.report_reviews (
    review_id varchar not null,
    document varchar not null,
    fact_key varchar,
    quote varchar,
    action varchar not null,
    metric varchar,
    value double,
    region varchar,
    adcode varchar,
    year integer,
    reviewer_masked varchar not null,
    reason varchar not null,
    reviewed_at timestamp not null,
    _source_file varchar not null,
    _source_sha256 varchar not null,
    _source_row integer not null,
    _ingested_at timestamp not null
);
"""

PUBLICATIONS_DDL = """
create schema if not exists audit;
create table if not exists audit.publications (
    run_id varchar not null,
    published_at timestamp not null,
    rows_by_table json,
    checks_passed integer,
    checks_failed_warning integer,
    engine varchar                      -- duckdb | spark: the engine that built what was published
);
-- Warehouses published before the column existed (their publications were all built by DuckDB).
alter table audit.publications add column if not exists engine varchar;
"""

VALIDATION_DDL = """
create schema if not exists audit;
create table if not exists audit.audit_validation_results (
    run_id varchar not null,
    validated_at timestamp not null,
    suite varchar not null,
    asset varchar not null,
    expectation varchar not null,
    column_name varchar,
    severity varchar not null,          -- blocking | warning
    success boolean not null,
    observed_value varchar,
    unexpected_count bigint,
    element_count bigint,
    meaning varchar
);
"""

# The personal-data scan's memory (shegong.quality.personal_data): the tables its last scan found clean, as they
# were then, so the next scan skips a table that has not changed since (same fingerprint, same patterns).
PERSONAL_DATA_SCANNED_DDL = """
create schema if not exists audit;
create table if not exists audit.personal_data_scanned (
    table_name varchar not null,        -- schema.table
    fingerprint varchar not null,       -- shegong.fingerprints: the table's content when it was scanned clean
    rules varchar not null,             -- digest of the patterns and column types it was scanned with
    run_id varchar not null,
    scanned_at timestamp not null,
    rows bigint,                        -- the table's rows then (files built before it: added, empty)
    -- Null: the row is the whole table's. Else the row is one month's of a table scanned month by month
    -- (shegong.quality.personal_data.MONTH_COLUMNS): YYYY-MM-DD, or 'none' for its rows without a month.
    month varchar
);
"""


def ensure_build_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create what is missing and add columns added since a file was first built; idempotent."""
    con.execute(AUDIT_DDL)
    for contract in contracts().values():
        ddl = ", ".join(f"{name} {kind}" for name, kind in raw_columns(contract))
        con.execute(f"create table if not exists {contract.raw_table} ({ddl})")
    con.execute(REPORT_DDL)
    con.execute(REVIEW_DDL)  # dbt reads reviews beside the reports, even before the first review lands
    con.execute(VALIDATION_DDL)
    con.execute(PERSONAL_DATA_SCANNED_DDL)
    con.execute(PUBLICATIONS_DDL)
    for table, columns in ADDED_COLUMNS.items():
        for name, kind in columns:
            con.execute(f"alter table {table} add column if not exists {name} {kind}")


def replace_validation_rows(
    con: duckdb.DuckDBPyConnection, run_id: str, suite: str, rows: list[tuple]
) -> int:
    """A check's rows in audit.audit_validation_results for this run, replacing those of an earlier attempt."""
    con.execute("delete from audit.audit_validation_results where run_id = ? and suite = ?", [run_id, suite])
    return insert_rows(con, "audit.audit_validation_results", rows)


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list, columns: str | None = None) -> int:
    """`rows` (sequences of values, in the order of `columns`, or of the table's columns) into `table` in one
    statement. Not executemany: outside a transaction it commits row by row, 1.4 ms a row on the build file
    (0.36 s for a `small` full build's ~240 validation rows, 0.23 s for the scan's ~260 clean tables and months;
    0.10 s and 0.04 s in one statement)."""
    if not rows:
        return 0
    row = "(" + ", ".join("?" * len(rows[0])) + ")"
    target = f"{table} ({columns})" if columns else table
    con.execute(
        f"insert into {target} values {', '.join([row] * len(rows))}",
        [value for values in rows for value in values],
    )
    return len(rows)
