"""Write-audit-publish: a validated build becomes the files BI tools and auditors open, atomically.

A publication is
- `shegong.duckdb`: a copy of the build file written in an older DuckDB storage format (default `v1.0.0`, which
  DuckDB 1.1 to 2.x, the node client Evidence uses and the JDBC drivers of DBeaver/Metabase read; the build file
  itself is in the engine's newest format), with table and column comments from the dbt docs and a `marts_zh`
  schema of views whose table and column names are the Chinese labels of each model's yml;
- `exports/<version>/`: Parquet files of every mart and of the audit tables auditors use, with `manifest.json`
  (tables, row counts, schema, sha256), and `exports/current`, a symlink to the newest version.

Everything is written under temporary names beside its final place and renamed into place only when complete,
so a reader sees the previous complete publication or the new one, never a half-written file or a lock.

A publication is a byte copy of the build file. The build file is written in the publication's storage version
from the start (`shegong.config.duckdb_config`), so publishing copies the file, then adds the documentation,
the labelled views and `audit.published_tables`: 2-5 s for 1.7 GB at `large`, where rewriting it table by
table in another storage version took 30-40 s. A build file in another storage version (made before this, or
first opened by dbt) is converted once, in place and atomically, then copied.

Each table's fingerprint (its columns and types, its row count and an order-independent sum of its row hashes)
is recorded in the published file (`audit.published_tables`, with the run that last changed the table) and in
the exports manifest; the Parquet files of tables whose fingerprint did not change are hard links to the
previous version's files. The run's personal-data scan has just fingerprinted every table but the audit tables
as they are published: those fingerprints are taken over, not computed again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import duckdb

from shegong.config import (
    DEFAULT_DUCKDB_MEMORY_LIMIT,
    DEFAULT_STORAGE_VERSION,
    PARQUET_OPTIONS,
    storage_version_error,
)
from shegong.fingerprints import table_fingerprints
from shegong.quality.personal_data import fingerprints_scanned_in_run
from shegong.schema import insert_rows

LABELLED_SCHEMA = "marts_zh"
# What auditors read beside the marts; exported to Parquet with them.
AUDIT_TABLES = {
    "audit.ingested_files": "Every landed file version: sha256, status (current | superseded | rejected), the "
    "reason a file was rejected (error) and its row accounting (rows_in = rows_clean + rows_quarantined).",
    "audit.quarantined_rows": "Rows that failed their contract: reason codes, reasons and the raw values with "
    "personal data redacted, traced to file and row.",
    "audit.audit_validation_results": "Every Great Expectations expectation of every run: severity, success, "
    "observed value, unexpected rows and what a failure means.",
    "audit.publications": "Every publication of this warehouse: run, time, rows per mart, checks.",
}
# Only in the published file: what each table held when published, and by which run it was last written.
PUBLISHED_TABLES = "audit.published_tables"
PUBLISHED_TABLES_DESCRIPTION = (
    "Every table of this file as published: rows, a content fingerprint (columns, types, rows and an "
    "order-independent sum of row hashes) and the run that last changed it (the first run that published it with "
    "this fingerprint)."
)
KEPT_EXPORT_VERSIONS = 3  # a reader that resolved `current` a moment ago still finds its folder


class PublishBlocked(RuntimeError):
    """Blocking expectations failed: the published warehouse stays as it was."""


class PublishError(RuntimeError):
    """The publication could not be written (bad setting, unreadable dbt manifest): nothing was replaced."""


class EnginePublication(Protocol):
    """The engine's own published copy (on Spark, the views of `<prefix>_published`), made from the marts this
    run validated: prepared out of readers' sight, swapped in together with the published file, or discarded."""

    def prepare(self) -> None: ...

    def swap(self) -> None: ...

    def discard(self) -> None: ...


@dataclass(frozen=True)
class Publication:
    run_id: str
    published_at: dt.datetime
    path: Path
    rows_by_table: dict[str, int]
    exports: Path | None = None  # the version folder of the Parquet exports
    storage_version: str = DEFAULT_STORAGE_VERSION
    # The build file's storage version, when this publication converted it to the published one.
    build_converted_from: str | None = None


@dataclass(frozen=True)
class Relation:
    """A table's documentation from the dbt manifest: its description, its columns' and their Chinese labels."""

    schema: str
    name: str
    description: str
    label_zh: str | None
    columns: dict[str, tuple[str, str | None]]  # column → (description, label_zh)


def blocking_failures(con: duckdb.DuckDBPyConnection, run_id: str) -> list[tuple[str, str, str]]:
    """(suite, expectation, column) of every blocking expectation that failed in this run (read-only safe)."""
    (exists,) = con.execute(
        """select count(*) from information_schema.tables
           where table_schema = 'audit' and table_name = 'audit_validation_results'"""
    ).fetchall()[0]
    if not exists:
        return []
    return con.execute(
        """select suite, expectation, coalesce(column_name, '') from audit.audit_validation_results
           where run_id = ? and severity = 'blocking' and not success order by 1, 2, 3""",
        [run_id],
    ).fetchall()


def mart_row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = con.execute(
        """select table_schema || '.' || table_name from information_schema.tables
           where table_schema = 'marts' and table_type = 'BASE TABLE' order by 1"""
    ).fetchall()
    return {name: con.execute(f"select count(*) from {name}").fetchall()[0][0] for (name,) in tables}


def dbt_relations(manifest_path: Path) -> list[Relation]:
    """Every model, seed and source of the dbt manifest with its documentation (doc blocks already rendered)."""
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PublishError(
            f"cannot read the dbt manifest {manifest_path} ({exc}): run `shegong prepare` and publish again"
        ) from None
    nodes = [
        n for n in manifest.get("nodes", {}).values() if n["resource_type"] in ("model", "seed", "snapshot")
    ]
    nodes += list(manifest.get("sources", {}).values())
    relations = []
    for node in nodes:
        name = node.get("alias") or node.get("identifier") or node["name"]
        columns = {
            column_name: (column.get("description") or "", _label(column))
            for column_name, column in (node.get("columns") or {}).items()
        }
        relations.append(Relation(node["schema"], name, node.get("description") or "", _label(node), columns))
    return sorted(relations, key=lambda r: (r.schema, r.name))


def _label(node: dict) -> str | None:
    meta = (node.get("config") or {}).get("meta") or node.get("meta") or {}
    return meta.get("label_zh")


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def comment_statements(relations: list[Relation], present: set[tuple[str, str, str]]) -> list[str]:
    """COMMENT ON statements for the documented tables and columns that exist (`present`: (schema, table,
    column) with column '' for the table itself)."""
    statements = []
    for r in relations:
        if (r.schema, r.name, "") not in present:
            continue
        table = f"{_identifier(r.schema)}.{_identifier(r.name)}"
        label = f"{r.label_zh} — " if r.label_zh else ""
        if r.description or label:
            statements.append(f"comment on table {table} is {_sql_string(label + r.description.strip())}")
        for column, (description, column_label) in r.columns.items():
            if (r.schema, r.name, column) in present and (description or column_label):
                text = (f"{column_label} — " if column_label else "") + description.strip()
                statements.append(f"comment on column {table}.{_identifier(column)} is {_sql_string(text)}")
    return statements


def labelled_view_statements(
    relations: list[Relation], present: set[tuple[str, str, str]], schema: str = "marts"
) -> list[str]:
    """The `marts_zh` views: one per labelled mart, named by its Chinese label, each column named by its label
    (or kept when unlabelled). Table references carry no catalog, so the views resolve in whatever name a
    client attaches the file under."""
    statements = [f"create schema if not exists {LABELLED_SCHEMA}"]
    for r in relations:
        if r.schema != schema or not r.label_zh or (r.schema, r.name, "") not in present:
            continue
        columns = [c for (s, t, c) in sorted(present) if (s, t) == (r.schema, r.name) and c]
        order = _column_order(present, r)
        labels: dict[str, str] = {}
        for column in sorted(columns, key=order.__getitem__):
            label = r.columns.get(column, ("", None))[1] or column
            if label in labels.values():
                raise PublishError(
                    f"dbt model {r.name}: columns {column} and "
                    f"{next(c for c, lab in labels.items() if lab == label)} share the Chinese label {label!r} "
                    f"in {r.name}.yml: give each column its own meta.label_zh"
                )
            labels[column] = label
        select = ", ".join(f"{_identifier(c)} as {_identifier(label)}" for c, label in labels.items())
        view = f"{LABELLED_SCHEMA}.{_identifier(r.label_zh)}"
        statements.append(
            f"create or replace view {view} as select {select} from {_identifier(r.schema)}.{_identifier(r.name)}"
        )
        statements.append(
            f"comment on view {view} is {_sql_string(f'{r.schema}.{r.name}: {r.description.strip()}')}"
        )
    return statements


def _column_order(present: set[tuple[str, str, str]], relation: Relation) -> dict[str, int]:
    """Column → position: the dbt yml's order (which follows the model's select list), then by name."""
    names = list(relation.columns) + sorted(
        c
        for (s, t, c) in present
        if (s, t) == (relation.schema, relation.name) and c and c not in relation.columns
    )
    return {name: i for i, name in enumerate(names)}


def _catalog(con: duckdb.DuckDBPyConnection, database: str) -> set[tuple[str, str, str]]:
    rows = con.execute(
        """select schema_name, table_name, '' from duckdb_tables() where database_name = ?
           union all
           select schema_name, table_name, column_name from duckdb_columns() where database_name = ?""",
        [database, database],
    ).fetchall()
    return {tuple(r) for r in rows}


def _instance(memory_limit: str, spill_beside: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB instance of the publication's own, within the pipeline's memory cap: copying a large
    build otherwise buffers gigabytes; beyond the cap DuckDB spills to a folder beside what it writes."""
    return duckdb.connect(
        config={"memory_limit": memory_limit, "temp_directory": str(spill_beside / ".publish-spill")}
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class TableState:
    """A table as published: its rows, its content fingerprint and the run that last wrote it."""

    rows: int
    fingerprint: str
    written_by_run: str


def published_table_states(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, TableState]:
    """The tables of a previous publication at `path` as it recorded them; empty when there is none (a missing or
    unreadable file, or one published before fingerprints were recorded)."""
    if not path.is_file():
        return {}
    try:
        con.execute(f"attach {_sql_string(str(path))} as previous (read_only)")
    except duckdb.Error:
        return {}
    try:
        return {
            table: TableState(rows, fingerprint, run)
            for table, rows, fingerprint, run in con.execute(
                f"select table_name, rows, fingerprint, written_by_run from previous.{PUBLISHED_TABLES}"
            ).fetchall()
        }
    except duckdb.Error:
        return {}
    finally:
        con.execute("detach previous")


def storage_tag(con: duckdb.DuckDBPyConnection, database: str) -> str:
    """The storage version DuckDB tags an attached file with: the oldest release line that reads it ('v1.0.0+'
    for a file written as v1.0.0 or v1.1.3, 'v1.3.0+' for v1.3.2)."""
    (tag,) = con.execute(
        "select tags['storage_version'] from duckdb_databases() where database_name = ?", [database]
    ).fetchall()[0]
    return tag or ""


def convert_build_file(build_db: Path, storage_version: str, memory_limit: str) -> str | None:
    """Rewrite the build file in `storage_version` when it is in another storage format, atomically (the
    converted copy is renamed over it); the format it was in, or None when it already matched. The caller has
    checkpointed and closed the file, so it has no write-ahead log that would outlive the rename."""
    con = _instance(memory_limit, build_db.parent)
    converting = build_db.with_name(f".{build_db.name}.converting")
    try:
        converting.unlink(missing_ok=True)
        con.execute(f"attach {_sql_string(str(build_db))} as build (read_only)")
        # An empty file in the wanted version says which tag that version gets (several versions share one).
        con.execute(
            f"attach {_sql_string(str(converting))} as converted (storage_version {_sql_string(storage_version)})"
        )
        found = storage_tag(con, "build")
        if found == storage_tag(con, "converted"):
            return None
        con.execute("copy from database build to converted")
        con.execute("checkpoint converted")
        con.execute("detach converted")
        con.execute("detach build")
        _fsync(converting)
        os.replace(converting, build_db)
        _fsync(build_db.parent)
        return found
    finally:
        con.close()
        converting.unlink(missing_ok=True)


def write_published_copy(
    build_db: Path,
    target: Path,
    relations: list[Relation],
    run_id: str,
    previous: Path | None = None,
    memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT,
    fingerprinted: dict[str, tuple[int, str]] | None = None,
) -> dict[str, TableState]:
    """The build file copied byte for byte into `target`, documented and labelled; the state of every table it
    holds, each table keeping the run that last changed it in the `previous` publication when its fingerprint is
    unchanged. `fingerprinted`: (rows, fingerprint) of tables known to be as they are in the build file, not
    computed again. The build file is checkpointed, closed and in the publication's storage version
    (`publish`)."""
    log = build_db.with_name(f"{build_db.name}.wal")
    if log.exists() and log.stat().st_size > 0:  # a copy of the file alone would miss what the log holds
        raise PublishError(
            f"{build_db} has writes not checkpointed into it ({log}): is another process writing it?"
        )
    shutil.copyfile(build_db, target)
    con = _instance(memory_limit, target.parent)
    try:
        base = published_table_states(con, previous) if previous is not None else {}
        con.execute(f"attach {_sql_string(str(target))} as published")
        states = {}
        for table, (rows, fingerprint) in table_fingerprints(con, "published", known=fingerprinted).items():
            kept = base.get(table)
            unchanged = kept is not None and kept.fingerprint == fingerprint
            states[table] = kept if unchanged else TableState(rows, fingerprint, run_id)
        con.execute("use published")
        # One transaction for the hundreds of catalog changes below: one each took 0.43 s at `large`, 0.13 s.
        con.execute("begin transaction")
        _record_table_states(con, states)
        present = _catalog(con, "published")
        for statement in comment_statements(relations, present) + labelled_view_statements(
            relations, present
        ):
            con.execute(statement)
        for table, description in {**AUDIT_TABLES, PUBLISHED_TABLES: PUBLISHED_TABLES_DESCRIPTION}.items():
            schema, name = table.split(".")
            if (schema, name, "") in present:
                con.execute(f"comment on table {table} is {_sql_string(description)}")
        con.execute("commit")
        con.execute("checkpoint")
    finally:
        con.close()
    _fsync(target)
    return states


def _record_table_states(con: duckdb.DuckDBPyConnection, states: dict[str, TableState]) -> None:
    con.execute(
        f"""create or replace table {PUBLISHED_TABLES} (
                table_name varchar primary key, rows bigint not null, fingerprint varchar not null,
                written_by_run varchar not null)"""
    )
    insert_rows(
        con,
        PUBLISHED_TABLES,
        [[table, s.rows, s.fingerprint, s.written_by_run] for table, s in sorted(states.items())],
    )


def write_exports(
    published_copy: Path,
    folder: Path,
    run_id: str,
    published_at: dt.datetime,
    storage_version: str,
    states: dict[str, TableState],
    previous: Path | None = None,
    memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT,
) -> dict:
    """Parquet files of every mart and audit table of the published copy, and their manifest. A table whose
    fingerprint (`states`) is the one the `previous` version folder's manifest records is hard-linked from
    there, not written again."""
    reusable = _previous_exports(previous)
    con = _instance(memory_limit, folder.parent)
    # The files are hashed on a thread of their own while DuckDB writes the next table (both release the GIL): the
    # published copy's 1.5 GB at `large` alone took 1.5 s after the exports.
    hashing = ThreadPoolExecutor(1, thread_name_prefix="shegong-export-sha256")
    copy_sha256 = hashing.submit(_sha256, published_copy)
    try:
        con.execute(f"attach {_sql_string(str(published_copy))} as published (read_only)")
        tables = con.execute(
            """select schema_name, table_name, comment from duckdb_tables()
               where database_name = 'published' and (schema_name = 'marts'
                     or schema_name || '.' || table_name in (select unnest(?)))
               order by 1, 2""",
            [list(AUDIT_TABLES)],
        ).fetchall()
        entries = []
        for schema, name, comment in tables:
            table = f"{schema}.{name}"
            relative = Path(schema) / f"{name}.parquet"
            (folder / schema).mkdir(parents=True, exist_ok=True)
            state = states[table]
            kept = reusable.get(table)
            if kept is not None and kept["fingerprint"] == state.fingerprint:
                try:
                    os.link(previous / kept["file"], folder / relative)
                except OSError:  # a file system without hard links
                    shutil.copy2(previous / kept["file"], folder / relative)
                written = {k: kept[k] for k in ("rows", "bytes", "sha256")}
            else:
                source = f"published.{_identifier(schema)}.{_identifier(name)}"
                con.execute(
                    f"copy (select * from {source}) to {_sql_string(str(folder / relative))} ({PARQUET_OPTIONS})"
                )
                written = {
                    "rows": state.rows,
                    "bytes": (folder / relative).stat().st_size,
                    "sha256": hashing.submit(_sha256, folder / relative),
                }
            columns = con.execute(
                """select column_name, data_type, comment from duckdb_columns()
                   where database_name = 'published' and schema_name = ? and table_name = ?
                   order by column_index""",
                [schema, name],
            ).fetchall()
            entries.append(
                {
                    "table": table,
                    "file": relative.as_posix(),
                    **written,
                    "fingerprint": state.fingerprint,
                    "description": comment or "",
                    "columns": [{"name": c, "type": t, "description": d or ""} for c, t, d in columns],
                }
            )
        for entry in entries:
            if isinstance(entry["sha256"], Future):
                entry["sha256"] = entry["sha256"].result()
        manifest = {
            "run_id": run_id,
            "published_at": published_at.isoformat(timespec="seconds"),
            "duckdb": {
                "file": "shegong.duckdb",
                "storage_version": storage_version,
                "bytes": published_copy.stat().st_size,
                "sha256": copy_sha256.result(),
            },
            "tables": entries,
        }
    finally:
        con.close()
        hashing.shutdown(cancel_futures=True)
    (folder / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    for path in folder.rglob("*"):
        if path.is_file():
            _fsync(path)
    return manifest


def _previous_exports(folder: Path | None) -> dict[str, dict]:
    """Table → manifest entry of the previous version folder, for the entries whose file is still there."""
    if folder is None:
        return {}
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {
        entry["table"]: entry
        for entry in manifest.get("tables", [])
        if "fingerprint" in entry and (folder / entry["file"]).is_file()
    }


def publish(
    build_db: Path,
    published_db: Path,
    run_id: str,
    now: dt.datetime | None = None,
    storage_version: str = DEFAULT_STORAGE_VERSION,
    dbt_manifest: Path | None = None,
    exports_dir: Path | None = None,
    engine_publication: Callable[[dict[str, int], dt.datetime], EnginePublication] | None = None,
    engine: str = "duckdb",
    memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT,
) -> Publication:
    """Record the publication in the build file, write the published copy (and Parquet exports) beside their
    final places, then rename them into place. `engine_publication`, given the validated rows of every mart
    (table name → rows) and the publication time, is the engine's side of the same publication: prepared first,
    swapped last, discarded if anything before the swap fails. `engine` (duckdb | spark) is recorded with the
    publication: a run on another engine rebuilds everything (shegong.changes). `memory_limit` caps the DuckDB
    instances that write the copy and the exports (SHEGONG_DUCKDB_MEMORY_LIMIT).

    Raises PublishBlocked naming the failing blocking expectations of this run, if any; PublishError when the
    copy cannot be written. Either way the published files stay as they were.
    """
    now = now or dt.datetime.now()
    problem = storage_version_error(storage_version)
    if problem is not None:
        raise PublishError(problem)
    relations = dbt_relations(dbt_manifest) if dbt_manifest is not None else []
    con = duckdb.connect(str(build_db))
    try:
        failures = blocking_failures(con, run_id)
        if failures:
            named = "; ".join(
                f"{suite}: {exp}" + (f" on {col}" if col else "") for suite, exp, col in failures[:10]
            )
            raise PublishBlocked(
                f"publish blocked: {len(failures)} blocking expectation(s) failed in run {run_id}: {named}"
                f"{' …' if len(failures) > 10 else ''} — the published warehouse is unchanged; see the validation report"
            )
        rows = mart_row_counts(con)
        # The run's personal-data scan fingerprinted every table it found clean, just before this step. Within a
        # run only audit tables are written after the scan (validation results, the scan's own record, the
        # publication below): every other table is as the scan found it, and is not hashed a second time.
        scanned = {
            table: state
            for table, state in fingerprints_scanned_in_run(con, run_id).items()
            if not table.startswith("audit.")
        }
        passed, warned = con.execute(
            """select count(*) filter (where success), count(*) filter (where not success)
               from audit.audit_validation_results where run_id = ?""",
            [run_id],
        ).fetchall()[0]
        con.execute(
            """insert into audit.publications
                   (run_id, published_at, rows_by_table, checks_passed, checks_failed_warning, engine)
               values (?, ?, ?, ?, ?, ?)""",
            [run_id, now, json.dumps(rows), passed, warned, engine],
        )
        con.execute("checkpoint")
    finally:
        con.close()

    published_db.parent.mkdir(parents=True, exist_ok=True)
    staging = published_db.with_name(f".{published_db.name}.{run_id}.tmp")
    # To the microsecond: two publications of one run can fall in the same second (a re-publish of a build).
    version = f"{now:%Y%m%dT%H%M%S%f}-{run_id[:8]}"
    staging_exports = exports_dir / f".{version}.tmp" if exports_dir is not None else None
    engine_side = (
        engine_publication({name.split(".", 1)[1]: n for name, n in rows.items()}, now)
        if engine_publication is not None
        else None
    )
    swapped = False
    try:
        staging.unlink(missing_ok=True)
        if engine_side is not None:
            engine_side.prepare()
        converted_from = convert_build_file(build_db, storage_version, memory_limit)
        states = write_published_copy(
            build_db,
            staging,
            relations,
            run_id,
            previous=published_db,
            memory_limit=memory_limit,
            fingerprinted=scanned,
        )
        if staging_exports is not None:
            shutil.rmtree(staging_exports, ignore_errors=True)
            write_exports(
                staging,
                staging_exports,
                run_id,
                now,
                storage_version,
                states,
                _current_exports(exports_dir),
                memory_limit,
            )
            os.replace(staging_exports, exports_dir / version)
        if engine_side is not None:
            engine_side.swap()
            swapped = True
        os.replace(staging, published_db)
        _fsync(published_db.parent)
    except BaseException:
        if engine_side is not None and not swapped:
            engine_side.discard()
        raise
    finally:
        staging.unlink(missing_ok=True)
        if staging_exports is not None:
            shutil.rmtree(staging_exports, ignore_errors=True)
    if exports_dir is not None:
        _point_current(exports_dir, version)
        _prune_exports(exports_dir, keep=KEPT_EXPORT_VERSIONS)
    return Publication(
        run_id,
        now,
        published_db,
        rows,
        exports_dir / version if exports_dir else None,
        storage_version,
        converted_from,
    )


def _current_exports(exports_dir: Path) -> Path | None:
    link = exports_dir / "current"
    return link.resolve() if link.is_dir() else None


def _point_current(exports_dir: Path, version: str) -> None:
    """`current` → the version folder, swapped by renaming a new symlink over the old one (atomic)."""
    link = exports_dir / ".current.tmp"
    link.unlink(missing_ok=True)
    link.symlink_to(version, target_is_directory=True)
    os.replace(link, exports_dir / "current")
    _fsync(exports_dir)


def _prune_exports(exports_dir: Path, keep: int) -> None:
    current = (exports_dir / "current").resolve().name
    versions = sorted(
        p for p in exports_dir.iterdir() if p.is_dir() and not p.is_symlink() and p.name[0] != "."
    )
    for old in versions[:-keep]:
        if old.name != current:
            shutil.rmtree(old, ignore_errors=True)
