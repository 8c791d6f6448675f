"""Loading validated registry files into the build warehouse, with provenance on every row.

Tables (build DuckDB):
  raw.<registry>           clean rows, personal data already hashed/masked, plus _source_* provenance
  audit.ingested_files     one row per landing entry version seen: sha256, counts, first-seen time, status
                           current | superseded (a later re-send for its region and month came) | rejected
                           (cannot be ingested; `error` says why) | duplicate (the same content as
                           `duplicate_of`, landed again under another name: nothing of it is loaded)

Rows link to their file by `source_file` (its path under the landing root): two months' rosters can be
byte-identical, so content alone does not identify a file.
  audit.quarantined_rows   one row per rejected source row: file, row number, redacted raw values, reasons

For every current file, rows_in = rows_clean + rows_quarantined, and both sides are countable in the tables.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shegong.contracts import Contract
from shegong.ingest import pii
from shegong.ingest.fingerprints import key_fingerprints
from shegong.ingest.landing import entry_digest, entry_problem, unexpected_failure
from shegong.ingest.reading import FileRejected, RegistryFile, read_registry_file
from shegong.ingest.rows import ValidatedRows, redacted_cells, validate_rows

RAW_TYPES = {
    "string": "VARCHAR",
    "enum": "VARCHAR",
    "integer": "BIGINT",
    "decimal": "DECIMAL(18,2)",
    "date": "DATE",
}
PROVENANCE = (
    ("_source_file", "VARCHAR"),
    ("_source_sha256", "VARCHAR"),
    ("_source_row", "INTEGER"),
    ("_reporting_region", "VARCHAR"),
    ("_period_month", "DATE"),
    ("_ingested_at", "TIMESTAMP"),
)


def raw_columns(contract: Contract) -> list[tuple[str, str]]:
    """(name, SQL type) of the raw table: contract columns in their protected form, then provenance."""
    columns: list[tuple[str, str]] = []
    for column in contract.columns:
        for name in column.raw_columns:
            columns.append((name, "VARCHAR" if column.pii else RAW_TYPES[column.type]))
    return columns + list(PROVENANCE)


@dataclass(frozen=True)
class FileOutcome:
    source_file: str
    status: str  # ingested | unchanged | rejected | duplicate
    rows_in: int = 0
    rows_clean: int = 0
    rows_quarantined: int = 0
    superseded: tuple[str, ...] = ()
    error: str | None = None


def landing_name(path: Path, landing_root: Path | None) -> str:
    """Files are named by their path under the landing root, so provenance survives moving the root. The
    entry itself is not resolved: a symbolic link is named as the link, never as what it points at."""
    if landing_root is not None:
        try:
            return (path.parent.resolve() / path.name).relative_to(landing_root.resolve()).as_posix()
        except ValueError:
            pass
    return path.name


@dataclass
class PreparedFile:
    """A file read and contract-checked: everything its ingest decides without the warehouse."""

    path: Path
    source: RegistryFile | None = None
    checked: ValidatedRows | None = None
    fingerprints: np.ndarray | None = None  # key_fingerprints of the clean rows
    rejection: str | None = None  # why the whole file cannot be ingested


def prepare_file(
    path: Path,
    contract: Contract,
    protector: pii.PiiProtector,
    today: dt.date | None = None,
    first_month: dt.date | None = None,
) -> PreparedFile:
    """Read and check one file. Pure (no warehouse), so files can be prepared in worker processes. Whatever
    goes wrong with one file is that file's rejection, never an error of the batch."""
    try:
        problem = entry_problem(path)
        if problem is not None:
            raise FileRejected(path, *problem)
        source = read_registry_file(path, contract, today, first_month)
        checked = validate_rows(source, contract, protector)
        _check_rows_belong_to_region(path, source, checked, contract)
    except FileRejected as exc:
        return PreparedFile(path, rejection=pii.scrub_identifiers(str(exc)))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # a reader's bug or a native library's panic: this file's problem only
        return PreparedFile(path, rejection=unexpected_failure(path, exc))
    keys = checked.clean.select([_key_column(contract, k) for k in contract.primary_key])
    if contract.key_scope == "period":
        keys = keys.append_column("_period_month", _constant(source.period_month, pa.date32(), keys.num_rows))
    fingerprints = key_fingerprints(keys)
    return PreparedFile(path, source, checked, fingerprints)


def _region_prefix(code: str) -> str:
    """The code prefix every division within a region shares: 320585 → 320585, 320500 → 3205, 320000 → 32."""
    prefix = code
    while prefix.endswith("00") and len(prefix) > 2:
        prefix = prefix[:-2]
    return prefix


def _check_rows_belong_to_region(path: Path, source: RegistryFile, checked, contract: Contract) -> None:
    """A file named for one region whose rows are all another's is misnamed (or mis-sent)."""
    region = source.reporting_region
    column = next((c for c in contract.columns if c.format in ("region_code", "division_code")), None)
    if region is None or column is None:
        return
    codes = checked.clean[column.name]
    if not len(codes):
        return
    prefix = _region_prefix(region)
    inside = pc.starts_with(pc.fill_null(codes, ""), prefix)
    if not pc.any(inside).as_py():
        elsewhere = pc.value_counts(codes).to_pylist()
        commonest = max(elsewhere, key=lambda item: item["counts"])["values"] if elsewhere else "?"
        raise FileRejected(
            path,
            f"named for region {region}, but none of its {len(codes):,} valid rows is in it "
            f"({column.name} is {commonest}, …)",
            "rename the file for the region it reports (or send the region's own file)",
        )


def _key_column(contract: Contract, name: str) -> str:
    return contract.by_name[name].raw_columns[0]


def _cross_file_key(contract: Contract) -> list[str]:
    """The raw columns two rows of different files must share to be duplicates: the primary key, and the
    month for registries keyed per period."""
    columns = [_key_column(contract, k) for k in contract.primary_key]
    return [*columns, "_period_month"] if contract.key_scope == "period" else columns


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    contract: Contract,
    protector: pii.PiiProtector,
    landing_root: Path | None = None,
    now: dt.datetime | None = None,
    prepare: Callable[[Path], PreparedFile] | None = None,
) -> FileOutcome:
    """Ingest one file in one transaction: a no-op when this content is already in; a re-send for the same
    region and month supersedes the earlier file; a whole-file failure records the reason and loads nothing.
    If loading the checked rows itself fails, the file is recorded as rejected with that error."""
    now = now or dt.datetime.now()
    name = landing_name(path, landing_root)
    sha256, size = entry_digest(path)
    con.execute("begin transaction")
    try:
        loader = RegistryLoader(con, contract, index_table=False)
        if loader.unchanged(name, sha256):
            outcome = FileOutcome(name, "unchanged")
        else:
            prepared = prepare(path) if prepare else prepare_file(path, contract, protector)
            outcome = loader.load(prepared, name, sha256, size, now)
            loader.flush()
        con.execute("commit")
    except (KeyboardInterrupt, SystemExit):
        con.execute("rollback")
        raise
    except Exception as exc:
        con.execute("rollback")
        reason = unexpected_failure(path, exc, "loading")
        con.execute("begin transaction")
        loader = RegistryLoader(con, contract, index_table=False)
        outcome = loader.load(PreparedFile(path, rejection=reason), name, sha256, size, now)
        loader.flush()
        con.execute("commit")
    return outcome


class RegistryLoader:
    """Loads prepared files of one registry, in order, inside the caller's transaction, with the effect of
    loading each on its own (ingest_file's contract). It keeps in memory what loading a file asks of the
    warehouse, read once inside the transaction: the registry's file records (is this content new, which
    file does it supersede) and the keys of the rows it loads (is a row a duplicate of another file's). Its
    writes wait in Arrow until `flush`, or until a statement needs the tables up to date."""

    PENDING_ROWS = 250_000  # rows held before writing them, which bounds the memory the waiting rows take

    def __init__(self, con: duckdb.DuckDBPyConnection, contract: Contract, index_table: bool = True):
        """`index_table`: fingerprint the raw table's keys once, which pays off over many files; without, every
        file's keys are looked up in the table."""
        self.con = con
        self.contract = contract
        # (file, sha256) → [status, reporting region, period month], in the table's order
        self.files: dict[tuple[str, str], list] = {
            (file, sha): [status, region, month]
            for file, sha, status, region, month in con.execute(
                """select source_file, source_sha256, status, reporting_region, period_month
                   from audit.ingested_files where registry = ?""",
                [contract.registry],
            ).fetchall()
        }
        self._by_content: dict[str, list[tuple[str, str]]] = {}
        for file, sha in self.files:
            self._by_content.setdefault(sha, []).append((file, sha))
        self.keys = _KeyIndex(con, contract, index_table)
        self._raw: list[pa.Table] = []
        self._quarantine: list[pa.Table] = []
        self._records: list[dict] = []
        self._pending = 0

    def unchanged(self, name: str, sha256: str) -> bool:
        """This version of this file was seen before (whatever became of it): a rerun never takes it again."""
        return (name, sha256) in self.files

    def duplicate_of(self, sha256: str, region, month) -> str | None:
        """The earlier file with this very content for the same region and month (for an unpartitioned
        registry, with this content), loaded or superseded since: a re-send of it under another name."""
        for key in self._by_content.get(sha256, ()):
            status, file_region, file_month = self.files[key]
            if status in ("current", "superseded") and (file_region, file_month) == (region, month):
                return key[0]
        return None

    def load(
        self, prepared: PreparedFile, name: str, sha256: str, size: int, now: dt.datetime
    ) -> FileOutcome:
        contract = self.contract
        if prepared.rejection is not None:
            self._record(
                name,
                sha256,
                now,
                {
                    "size_bytes": size,
                    "status": "rejected",
                    "error": prepared.rejection,
                    "rows_in": 0,
                    "rows_clean": 0,
                    "rows_quarantined": 0,
                },
            )
            return FileOutcome(name, "rejected", error=prepared.rejection)
        source, checked = prepared.source, prepared.checked
        region, month = source.reporting_region, source.period_month
        earlier = self.duplicate_of(sha256, region, month)
        if earlier is not None:
            self._record(
                name,
                sha256,
                now,
                {
                    "size_bytes": size,
                    "encoding": source.encoding,
                    "reporting_region": region,
                    "period_month": month,
                    "status": "duplicate",
                    "duplicate_of": earlier,
                    "rows_in": 0,
                    "rows_clean": 0,
                    "rows_quarantined": 0,
                },
            )
            return FileOutcome(
                name, "duplicate", error=f"{name}: the same content as {earlier}, already loaded"
            )
        superseded = self._supersede(name, region, month, now)
        clean = _clean_table(checked, source, name, sha256, now)
        fingerprints = prepared.fingerprints
        duplicates = self._cross_file_duplicates(clean, fingerprints)
        quarantined = list(checked.quarantined)
        if duplicates:
            for row_number, earlier_file, earlier_row in duplicates:
                position = int(np.searchsorted(source.row_numbers, row_number))
                quarantined.append(
                    {
                        "source_row": row_number,
                        "raw_values": redacted_cells(source.columns, source.row_cells(position), contract),
                        "reasons": [
                            {
                                "code": "duplicate_across_files",
                                "column": ",".join(contract.primary_key),
                                "detail": f"same key as {earlier_file} row {earlier_row}",
                            }
                        ],
                    }
                )
            keep = ~np.isin(clean["_source_row"].to_numpy(), [r for r, _, _ in duplicates])
            clean = clean.filter(pa.array(keep))
            fingerprints = fingerprints[keep]
        self.keys.add(name, clean, fingerprints)
        self._raw.append(clean)
        if quarantined:
            self._quarantine.append(
                _quarantine_table(contract, name, sha256, region, month, quarantined, now)
            )
        self._record(
            name,
            sha256,
            now,
            {
                "size_bytes": size,
                "encoding": source.encoding,
                "reporting_region": region,
                "period_month": month,
                "header_row": source.header_row,
                "rows_in": source.num_rows,
                "rows_clean": clean.num_rows,
                "rows_quarantined": len(quarantined),
                "unknown_columns": [pii.scrub_identifiers(c) for c in source.unknown_columns],
                "missing_optional_columns": source.missing_optional,
                "status": "current",
            },
        )
        self._pending += clean.num_rows + len(quarantined)
        if self._pending >= self.PENDING_ROWS:
            self.flush()
        return FileOutcome(
            name, "ingested", source.num_rows, clean.num_rows, len(quarantined), tuple(superseded)
        )

    def flush(self) -> None:
        """Write the rows loaded so far."""
        for table, pending in (
            (self.contract.raw_table, self._raw),
            ("audit.quarantined_rows", self._quarantine),
            (
                "audit.ingested_files",
                [pa.Table.from_pylist(self._records, _FILE_RECORD)] if self._records else [],
            ),
        ):
            if pending:
                self.con.register("incoming_rows", pa.concat_tables(pending))
                self.con.execute(f"insert into {table} select * from incoming_rows")
                self.con.unregister("incoming_rows")
        self._raw, self._quarantine, self._records, self._pending = [], [], [], 0

    def _record(self, name: str, sha256: str, now: dt.datetime, values: dict) -> None:
        """A file version's row in audit.ingested_files, first seen (and recorded) `now`."""
        record = {
            "registry": self.contract.registry,
            "source_file": name,
            "source_sha256": sha256,
            "ingested_at": now,
            "first_seen_at": now,
            **values,
        }
        self._records.append(record)
        self.files[(name, sha256)] = [
            values["status"],
            values.get("reporting_region"),
            values.get("period_month"),
        ]
        self._by_content.setdefault(sha256, []).append((name, sha256))

    def _supersede(self, name: str, region, month, now) -> list[str]:
        """A corrected re-send replaces the earlier file for its region and month (or, unpartitioned, its name)."""
        partitioned = self.contract.partitioned_by == "month"
        earlier = [
            (file, sha)
            for (file, sha), (status, file_region, file_month) in self.files.items()
            if status == "current"
            and (
                file == name
                # SQL's =: a null on either side matches nothing
                or (
                    partitioned
                    and None not in (region, month, file_region, file_month)
                    and (file_region, file_month) == (region, month)
                )
            )
        ]
        if earlier:
            self.flush()
        for file, sha in earlier:
            self.con.execute(f"delete from {self.contract.raw_table} where _source_file = ?", [file])
            self.con.execute(
                "delete from audit.quarantined_rows where registry = ? and source_file = ?",
                [self.contract.registry, file],
            )
            self.con.execute(
                """update audit.ingested_files set status = 'superseded', superseded_at = ?
                   where registry = ? and source_file = ? and source_sha256 = ?""",
                [now, self.contract.registry, file, sha],
            )
            self.files[(file, sha)][0] = "superseded"
            self.keys.forget(file)
        return [file for file, _ in earlier]

    def _cross_file_duplicates(self, clean: pa.Table, fingerprints: np.ndarray) -> list[tuple[int, str, int]]:
        """Rows whose key another current file already holds: in the same month (period scope) or ever (global),
        with the least file name and the least row number holding it, as the table would answer."""
        in_table, matches = self.keys.candidates(fingerprints)
        found: dict[int, tuple[str, int]] = {}
        if in_table.any():  # keys of rows loaded before this loader: the table answers for them
            self.flush()
            for row, file, earlier_row in _duplicates_in_table(
                self.con, self.contract, clean.filter(in_table)
            ):
                found[row] = (file, earlier_row)
        key = _cross_file_key(self.contract)
        for position, holders in matches.items():
            values = [clean[c][position].as_py() for c in key]
            # A row the table answered for is done; a null key part matches nothing, as with SQL's =.
            if in_table[position] or None in values:
                continue
            same = [(file, earlier_row) for file, keys, earlier_row in holders if keys == values]
            if same:
                found[clean["_source_row"][position].as_py()] = (
                    min(f for f, _ in same),
                    min(r for _, r in same),
                )
        return [(row, *found[row]) for row in sorted(found)]


class _KeyIndex:
    """The keys of a registry's current rows, to find a file's cross-file duplicates without scanning the raw
    table for every file: fingerprints of the rows the table held before (a match sends the row to the table),
    and the key values of the rows loaded since (a match is checked against them here)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, contract: Contract, index_table: bool):
        self.key = _cross_file_key(contract)
        self._con = con
        self._table = contract.raw_table
        self._index_table = index_table
        self.loaded: list[tuple[str, pa.Table, np.ndarray]] = []  # (file, key columns, source rows)
        self.fingerprints: list[np.ndarray] = []  # sorted runs of the loaded rows' fingerprints
        self.owners: list[np.ndarray] = []  # for each, the row's file slot << 32 | its position in the file
        self.gone: set[int] = set()  # slots of files superseded since

    def candidates(
        self, fingerprints: np.ndarray
    ) -> tuple[np.ndarray, dict[int, list[tuple[str, list, int]]]]:
        """Which rows may repeat a key of the rows in the table, and for each row that may repeat a loaded row's
        key, the (file, key values, source row) of those rows."""
        # Sorted probes walk each run front to back instead of jumping about it.
        order = np.argsort(fingerprints)
        probes = fingerprints[order]
        in_table = np.ones(len(fingerprints), bool)
        if self._index_table:
            in_table[order] = _contains(self._in_table, probes)
        matches: dict[int, list[tuple[str, list, int]]] = {}
        for run, owners in zip(self.fingerprints, self.owners, strict=True):
            first = np.searchsorted(run, probes)
            for probe in np.flatnonzero(run[np.minimum(first, len(run) - 1)] == probes).tolist():
                position = int(order[probe])
                last = int(np.searchsorted(run, probes[probe], "right"))
                for owner in owners[first[probe] : last].tolist():
                    slot, row = divmod(owner, 1 << 32)
                    file, keys, source_rows = self.loaded[slot]
                    if slot not in self.gone:
                        values = [keys[c][row].as_py() for c in self.key]
                        matches.setdefault(position, []).append((file, values, int(source_rows[row])))
        return in_table, matches

    @functools.cached_property
    def _in_table(self) -> np.ndarray:
        """Sorted fingerprints of the rows the table held before the loader's first file (read then, so that a
        batch of unchanged files does not read them). Rows since deleted only send rows to the table."""
        rows = self._con.sql(f"select {', '.join(self.key)} from {self._table}").to_arrow_reader()
        return np.sort(np.concatenate([np.zeros(0, np.uint64), *map(key_fingerprints, rows)]))

    def add(self, file: str, clean: pa.Table, fingerprints: np.ndarray) -> None:
        slot = len(self.loaded)
        # A copy: the rows may live in a prepared file's mapped spool, which it would keep alive.
        keys = clean.select(self.key).take(np.arange(clean.num_rows))
        self.loaded.append((file, keys, clean["_source_row"].to_numpy()))
        if not len(fingerprints):
            return
        order = np.argsort(fingerprints, kind="stable")
        run = fingerprints[order]
        owners = (np.uint64(slot) << np.uint64(32)) + order.astype(np.uint64)
        # Runs merge when a newer one is as long as the one before: log(n) runs, each row merged log(n) times.
        while self.fingerprints and len(self.fingerprints[-1]) <= len(run):
            merged = np.concatenate([self.fingerprints.pop(), run])
            merged_owners = np.concatenate([self.owners.pop(), owners])
            order = np.argsort(merged, kind="stable")
            run, owners = merged[order], merged_owners[order]
        self.fingerprints.append(run)
        self.owners.append(owners)

    def forget(self, file: str) -> None:
        """A superseded file's rows left the table."""
        self.gone.update(slot for slot, (name, _, _) in enumerate(self.loaded) if name == file)


def _contains(sorted_values: np.ndarray, values: np.ndarray) -> np.ndarray:
    if not len(sorted_values):
        return np.zeros(len(values), bool)
    at = np.minimum(np.searchsorted(sorted_values, values), len(sorted_values) - 1)
    return sorted_values[at] == values


def _clean_table(checked: ValidatedRows, source: RegistryFile, name: str, sha256: str, now) -> pa.Table:
    """The clean rows with their provenance, in the raw table's column order."""
    n = checked.clean.num_rows
    provenance = {
        "_source_file": _constant(name, pa.string(), n),
        "_source_sha256": _constant(sha256, pa.string(), n),
        "_source_row": pa.array(source.row_numbers[checked.clean_positions], pa.int32()),
        "_reporting_region": _constant(source.reporting_region, pa.string(), n),
        "_period_month": _constant(source.period_month, pa.date32(), n),
        "_ingested_at": _constant(now, pa.timestamp("us"), n),
    }
    return pa.table({**{c: checked.clean[c] for c in checked.clean.column_names}, **provenance})


def _duplicates_in_table(con, contract: Contract, clean: pa.Table) -> list[tuple[int, str, int]]:
    """(row, least file, least row) of the rows whose key a row in the raw table holds."""
    if clean.num_rows == 0:
        return []
    key_columns = _cross_file_key(contract)
    con.register("incoming_keys", clean.select([*key_columns, "_source_row"]))
    join = " and ".join(f"existing.{c} = incoming.{c}" for c in key_columns)
    rows = con.execute(
        f"""select incoming._source_row, min(existing._source_file), min(existing._source_row)
            from incoming_keys as incoming join {contract.raw_table} as existing on {join}
            group by incoming._source_row order by 1"""
    ).fetchall()
    con.unregister("incoming_keys")
    return rows


_FILE_RECORD = pa.schema(
    [
        ("registry", pa.string()),
        ("source_file", pa.string()),
        ("source_sha256", pa.string()),
        ("size_bytes", pa.int64()),
        ("encoding", pa.string()),
        ("reporting_region", pa.string()),
        ("period_month", pa.date32()),
        ("header_row", pa.int32()),
        ("rows_in", pa.int32()),
        ("rows_clean", pa.int32()),
        ("rows_quarantined", pa.int32()),
        ("unknown_columns", pa.list_(pa.string())),
        ("missing_optional_columns", pa.list_(pa.string())),
        ("status", pa.string()),
        ("error", pa.string()),
        ("ingested_at", pa.timestamp("us")),
        ("superseded_at", pa.timestamp("us")),
        ("first_seen_at", pa.timestamp("us")),
        ("duplicate_of", pa.string()),
    ]
)


def _quarantine_table(
    contract: Contract, name, sha256, region, month, quarantined: list[dict], now
) -> pa.Table:
    n = len(quarantined)
    return pa.table(
        {
            "registry": _constant(contract.registry, pa.string(), n),
            "source_file": _constant(name, pa.string(), n),
            "source_sha256": _constant(sha256, pa.string(), n),
            "source_row": pa.array([q["source_row"] for q in quarantined], pa.int32()),
            "reporting_region": _constant(region, pa.string(), n),
            "period_month": _constant(month, pa.date32(), n),
            "reason_codes": pa.array(
                [sorted({r["code"] for r in q["reasons"]}) for q in quarantined], pa.list_(pa.string())
            ),
            "reasons": pa.array(
                [json.dumps(q["reasons"], ensure_ascii=False) for q in quarantined], pa.string()
            ),
            "raw_values": pa.array(
                [json.dumps(q["raw_values"], ensure_ascii=False) for q in quarantined], pa.string()
            ),
            "ingested_at": _constant(now, pa.timestamp("us"), n),
        }
    )


def _constant(value, kind: pa.DataType, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, kind), n)
