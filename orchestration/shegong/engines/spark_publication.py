"""Write-audit-publish on the Spark side: readers of `<prefix>_published` never see a half-built or failed build.

dbt builds in `<prefix>_marts` (and the other layer databases) in place — the incremental marts of the next run
read what the last one left there — so those databases are the build, the "write" of write-audit-publish, and a
reader querying them sees a rebuild as it happens. Readers query `<prefix>_published` instead: one view per mart,
each over a table of a snapshot database `<prefix>_snapshot_<version>`.

Once every blocking check of the run has passed (the same checks that guard `warehouse/shegong.duckdb`),
`prepare` copies each validated mart into a new snapshot database, which no view points at yet, and checks that
every copy holds the rows that were validated; `swap` then repoints the views — each `create or replace view`
is one metastore update, done back to back for all marts — and records the run in the `publication` view. The
previous snapshot is kept for queries still reading it; older ones are dropped. A run that fails anywhere before
the swap leaves the published views on the previous snapshot (`discard` drops the unfinished one).

Spark (Parquet tables, no Delta/Iceberg here) has no multi-table transaction: a query that joins two marts at
the very moment of the swap may read one from each snapshot. `publication.snapshot` names the snapshot each
view reads, for a reader that must be sure.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from dataclasses import dataclass, field

from shegong.engines.spark import SparkEndpoint, SparkUnavailable, execute, first_line
from shegong.publish import PublishError

PUBLISHED_LAYER = "published"
SNAPSHOT_LAYER = "snapshot"
PUBLICATION_VIEW = "publication"


class SparkPublishError(PublishError):
    """The Spark publication could not be prepared or swapped: the published views are as they were."""


def snapshot_database(endpoint: SparkEndpoint, run_id: str, now: dt.datetime) -> str:
    """`<prefix>_snapshot_<yyyymmddThhmmssffffff>_<run>`: sortable by time, unique per publication (two of one run
    can fall in the same second, and `prepare` drops a snapshot of the same name), a valid Spark name."""
    run = re.sub(r"[^0-9a-z]", "", run_id.lower())[:8]
    return f"{endpoint.database(SNAPSHOT_LAYER)}_{now:%Y%m%dt%H%M%S%f}_{run}"


def _string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass
class SparkPublication:
    """The Spark side of one publication: the marts validated in this run (name → rows) become the snapshot
    `<prefix>_published` reads."""

    endpoint: SparkEndpoint
    run_id: str
    validated_rows: dict[str, int]  # mart table name (no schema) → rows the checks saw
    now: dt.datetime = field(default_factory=dt.datetime.now)

    @property
    def snapshot(self) -> str:
        return snapshot_database(self.endpoint, self.run_id, self.now)

    @property
    def published(self) -> str:
        return self.endpoint.database(PUBLISHED_LAYER)

    def _run(self, statements: list[str], step: str) -> list[list[tuple]]:
        try:
            return execute(self.endpoint, statements)
        except SparkUnavailable as exc:
            raise SparkPublishError(
                f"{step}: {exc}; the published views in {self.published} are unchanged"
            ) from None
        except Exception as exc:  # a Spark error on one statement: name the step and the endpoint
            raise SparkPublishError(
                f"{step} on the Spark Thrift endpoint {self.endpoint.address} failed ({first_line(exc)[:300]}): the published "
                f"views in {self.published} are unchanged; rerun `shegong run`"
            ) from None

    def prepare(self) -> None:
        """Copy every validated mart into the new snapshot database and check its rows; nothing reads it yet."""
        marts = self.endpoint.database("marts")
        tables = sorted(self.validated_rows)
        copies = [
            f"create table {self.snapshot}.{table} using parquet as select * from {marts}.{table}"
            for table in tables
        ]
        counts = [f"select count(*) from {self.snapshot}.{table}" for table in tables]
        results = self._run(
            [
                f"drop database if exists {self.snapshot} cascade",
                f"create database {self.snapshot}",
                *copies,
                *counts,
            ],
            f"copying the validated marts into {self.snapshot}",
        )
        counted = [rows[0][0] for rows in results[2 + len(copies) :]]
        changed = [
            f"{table} (validated {self.validated_rows[table]}, now {n})"
            for table, n in zip(tables, counted, strict=True)
            if n != self.validated_rows[table]
        ]
        if changed:
            self.discard()
            raise SparkPublishError(
                f"the Spark marts changed after they were validated: {', '.join(changed)} — another writer on "
                f"{marts}? The published views in {self.published} are unchanged; rerun `shegong run`"
            )

    def swap(self) -> None:
        """Point every published view at the snapshot, drop views of marts that are gone, record the run, then
        drop every snapshot but this one and the one the views read until now."""
        existing = self._published_tables()
        previous = self._current_snapshot(existing)
        gone = {row[1] for row in existing if not row[2]} - set(self.validated_rows) - {PUBLICATION_VIEW}
        published_at = self.now.isoformat(sep=" ", timespec="seconds")
        statements = [
            f"create or replace view {self.published}.{table} as select * from {self.snapshot}.{table}"
            for table in sorted(self.validated_rows)
        ]
        statements.append(
            f"create or replace view {self.published}.{PUBLICATION_VIEW} as select "
            f"{_string(self.run_id)} as run_id, timestamp {_string(published_at)} as published_at, "
            f"{_string(self.snapshot)} as snapshot"
        )
        statements += [f"drop view if exists {self.published}.{table}" for table in sorted(gone)]
        self._run(statements, f"pointing {self.published} at {self.snapshot}")
        self._drop_snapshots(keep={self.snapshot, previous})

    def _published_tables(self) -> list[tuple]:
        """`show tables` of the published database (created empty before the first Spark publication)."""
        (_, tables) = self._run(
            [f"create database if not exists {self.published}", f"show tables in {self.published}"],
            f"listing {self.published}",
        )
        return tables

    def _current_snapshot(self, tables: list[tuple]) -> str | None:
        """The snapshot the published views read now (None before the first Spark publication)."""
        if PUBLICATION_VIEW not in {row[1] for row in tables}:
            return None
        (rows,) = self._run(
            [f"select snapshot from {self.published}.{PUBLICATION_VIEW}"], f"reading {self.published}"
        )
        return rows[0][0] if rows else None

    def discard(self) -> None:
        """Drop the unfinished snapshot (the published views never pointed at it)."""
        # Best effort: a leftover snapshot is dropped by the next swap.
        with contextlib.suppress(SparkPublishError):
            self._run([f"drop database if exists {self.snapshot} cascade"], f"dropping {self.snapshot}")

    def _drop_snapshots(self, keep: set[str | None]) -> None:
        prefix = self.endpoint.database(SNAPSHOT_LAYER) + "_"
        (databases,) = self._run(["show databases"], "listing snapshots")
        old = sorted(name for (name, *_) in databases if name.startswith(prefix) and name not in keep)
        if old:
            self._run([f"drop database if exists {name} cascade" for name in old], "dropping old snapshots")
