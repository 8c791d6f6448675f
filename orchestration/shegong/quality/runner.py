"""Running a suite on its dataset: pull the frame(s) from the build file, validate each with GX's pandas engine,
aggregate the results per expectation, and turn them into rows of audit.audit_validation_results.

A small dataset is validated as one frame (in chunks of partitions when it has them). A large one is validated
in batches of the expectations that read the same columns, each on a frame of just those columns (see
`plan_batches`): GX copies the whole frame for every expectation on a column with missing values, and a frame of
a few columns keeps memory at a few hundred MB where the whole table takes gigabytes.

No Dagster here: the asset checks in `shegong.defs.quality` call `run_suite`, `record_outcome` and
`shegong.quality.report.save_suite_result`.
"""

from __future__ import annotations

import datetime as dt
import json
import queue
import re
import time
from collections.abc import Collection, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from shegong.quality.context import WORKERS, batch_definition, load_suites, validation_context
from shegong.quality.datasets import Dataset, builtin_parameters, dataset
from shegong.quality.frames import chunk_frame, count_rows, plan_chunks, schema_frame
from shegong.quality.personal_data import ID_NUMBER, MOBILE
from shegong.schema import replace_validation_rows

RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 5}
# Aggregating chunk results: these are right when every chunk passes (map expectations count per row; a column's
# min/max over the table is within bounds iff it is in every chunk). Row counts are summed and re-judged.
MAP_PREFIXES = ("expect_column_values_", "expect_column_pair_values_", "expect_multicolumn_values_")
CHUNK_SAFE = {
    "expect_table_columns_to_match_set",
    "expect_table_columns_to_match_ordered_list",
    "expect_column_to_exist",
    "expect_column_min_to_be_between",
    "expect_column_max_to_be_between",
    "expect_compound_columns_to_be_unique",
    "expect_select_column_values_to_be_unique_within_record",
    "expect_table_row_count_to_be_between",
    "expect_table_row_count_to_equal",
}
UNIQUENESS = {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}
# Expectations on the table's columns (names, order, count) read no rows; row counts read no column.
SCHEMA = {
    "expect_table_columns_to_match_set",
    "expect_table_columns_to_match_ordered_list",
    "expect_table_column_count_to_equal",
    "expect_table_column_count_to_be_between",
    "expect_column_to_exist",
}
ROW_COUNTS = {"expect_table_row_count_to_be_between", "expect_table_row_count_to_equal"}
# Above this many rows a suite is validated column group by column group (below, one frame costs less than the
# ~10 ms GX spends per extra batch).
SLICE_ROWS = 100_000

# Personal data must never reach a report: unexpected values shown to auditors are masked when they look like
# an ID number or a mobile number.
_REDACT = re.compile(rf"(?<!\d)(?:{ID_NUMBER}|{MOBILE})(?!\d)")


def redact(value: object) -> object:
    if isinstance(value, str):
        return _REDACT.sub(lambda m: "*" * (len(m.group(0)) - 4) + m.group(0)[-4:], value)
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation of one suite in one run, aggregated over the chunks: one audit row."""

    suite: str
    asset: str
    expectation: str
    column: str | None
    severity: str
    success: bool
    observed_value: str | None
    unexpected_count: int | None
    element_count: int | None
    meaning: str
    error: str | None = None

    def as_row(self, run_id: str, validated_at: dt.datetime) -> tuple:
        return (
            run_id,
            validated_at,
            self.suite,
            self.asset,
            self.expectation,
            self.column,
            self.severity,
            self.success,
            self.observed_value,
            self.unexpected_count,
            self.element_count,
            self.meaning,
        )


@dataclass
class SuiteOutcome:
    suite: str
    dataset: Dataset
    expectations: list[ExpectationOutcome]
    result: object  # the aggregated ExpectationSuiteValidationResult (for Data Docs)
    rows: int
    chunks: int
    seconds: float
    validated_at: dt.datetime = field(default_factory=dt.datetime.now)
    scope: frozenset[dt.date] | None = None  # the partitions validated; None: the whole dataset

    @property
    def success(self) -> bool:
        return all(e.success for e in self.expectations)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [e for e in self.expectations if not e.success]

    @property
    def blocking_failed(self) -> list[ExpectationOutcome]:
        return [e for e in self.failed if e.severity == "blocking"]


def column_of(kwargs: Mapping) -> str | None:
    for key in ("column", "column_A"):
        if kwargs.get(key):
            return kwargs[key] if key == "column" else f"{kwargs['column_A']},{kwargs['column_B']}"
    if kwargs.get("column_list"):
        return ",".join(kwargs["column_list"])
    return None


def expectation_name(config: Mapping) -> str:
    """The GX expectation type, qualified by meta.label when a suite holds the same type on a column twice."""
    label = (config.get("meta") or {}).get("label")
    return f"{config['type']}:{label}" if label else config["type"]


def _fmt(value: object) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return str(redact(text))[:500]


def _judge_row_count(kind: str, kwargs: Mapping, rows: int) -> bool:
    if kind == "expect_table_row_count_to_equal":
        return rows == kwargs.get("value")
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    return (low is None or rows >= low) and (high is None or rows <= high)


def aggregate(per_expectation: list[list[dict]], configs: list, parameters: Mapping) -> list[dict]:
    """Per expectation (position in the suite), the results of its batches folded into one: success when every
    batch succeeds (row counts are summed and re-judged), unexpected and element counts summed, the observed
    values combined (min of minima, max of maxima, first otherwise), the first few unexpected values kept.

    `per_expectation` holds, per expectation in suite order, a list of dicts {success, result, exception}: one
    per chunk of rows it was validated on."""
    folded = []
    for config, parts in zip(configs, per_expectation, strict=True):
        kind = config["type"]
        errors = [p["exception"] for p in parts if p.get("exception")]
        results = [p.get("result") or {} for p in parts]
        merged: dict = {}
        if any("element_count" in r for r in results):
            merged["element_count"] = sum(r.get("element_count") or 0 for r in results)
        if any("unexpected_count" in r for r in results):
            merged["unexpected_count"] = sum(r.get("unexpected_count") or 0 for r in results)
            nonnull = merged.get("element_count", 0) - sum(r.get("missing_count") or 0 for r in results)
            merged["unexpected_percent"] = 100.0 * merged["unexpected_count"] / nonnull if nonnull else 0.0
            merged["partial_unexpected_list"] = [
                v for r in results for v in (r.get("partial_unexpected_list") or [])
            ][: RESULT_FORMAT["partial_unexpected_count"]]
            if any("missing_count" in r for r in results):
                merged["missing_count"] = sum(r.get("missing_count") or 0 for r in results)
        observed = [r["observed_value"] for r in results if r.get("observed_value") is not None]
        success = all(p["success"] for p in parts) and not errors
        if kind in ("expect_table_row_count_to_equal", "expect_table_row_count_to_be_between"):
            total = sum(int(v) for v in observed)
            merged["observed_value"] = total
            resolved = {
                k: (parameters.get(v["$PARAMETER"]) if isinstance(v, dict) and "$PARAMETER" in v else v)
                for k, v in config["kwargs"].items()
            }
            success = not errors and _judge_row_count(kind, resolved, total)
        elif observed:
            if kind == "expect_column_min_to_be_between":
                merged["observed_value"] = min(observed)
            elif kind == "expect_column_max_to_be_between":
                merged["observed_value"] = max(observed)
            else:
                merged["observed_value"] = observed[0]
        folded.append({"success": success, "result": merged, "exception": errors[0] if errors else None})
    return folded


def _parameters(con: duckdb.DuckDBPyConnection, spec: Dataset, today: dt.date | None) -> dict:
    """Built-in parameters, then datasets.yml's: one value, or a list of the distinct values of one column."""
    values: dict[str, object] = dict(builtin_parameters(today))
    for name, sql in spec.parameters.items():
        rows = con.execute(sql).fetchall()
        if len(rows) == 1 and len(rows[0]) == 1:
            values[name] = rows[0][0]
        else:
            values[name] = sorted({r[0] for r in rows if r[0] is not None}, key=str)
    return values


def _chunk_result(suite_result, configs: list[dict]) -> list[dict]:
    """A chunk's results in suite order (GX returns them in its own order): matched by expectation id."""
    by_id = {}
    for r in suite_result.results:
        info = r.exception_info or {}
        if "raised_exception" not in info:  # {metric id: info} when a metric failed to resolve
            raised = [v for v in info.values() if isinstance(v, dict) and v.get("raised_exception")]
            info = raised[0] if raised else {}
        by_id[r.expectation_config.id] = {
            "success": bool(r.success),
            "result": dict(r.result or {}),
            "exception": info.get("exception_message") if info.get("raised_exception") else None,
        }
    missing = {"success": False, "result": {}, "exception": "GX returned no result for this expectation"}
    return [by_id.get(c.get("id"), missing) for c in configs]


def validate_frame(frame, suite, data_asset: str, parameters: Mapping) -> list[dict]:
    """One frame validated with the suite (or a suite of some of its expectations): results in its order."""
    with validation_context() as context:
        batch = batch_definition(context, data_asset).get_batch(batch_parameters={"dataframe": frame})
        try:
            result = batch.validate(
                suite, expectation_parameters=dict(parameters), result_format=RESULT_FORMAT
            )
        finally:
            _release(batch)
    return _chunk_result(result, suite_configs(suite))


def validate_frames(
    frames: Iterable, suite, data_asset: str, parameters: Mapping
) -> tuple[list[list], int, int]:
    """Validate each frame with the suite; returns (per-chunk results in suite order, rows, chunks)."""
    chunks, rows = [], 0
    for frame in frames:
        rows += len(frame)
        chunks.append(validate_frame(frame, suite, data_asset, parameters))
    return chunks, rows, len(chunks)


def _release(batch) -> None:
    """Every frame of an asset is validated by the datasource's one execution engine under one batch id, and the
    engine keeps every metric it resolved (a boolean array per expectation and row) and the last frame: dropped
    after each validation, or they pile up to gigabytes over a run (and a metric of an earlier frame, filed under
    the same batch id, must not be taken for one of this frame)."""
    engine = batch.data.execution_engine
    engine._metric_cache.clear()
    engine.batch_manager.batch_data_cache.pop(batch.id, None)
    engine.batch_manager.reset_batch_cache()


@dataclass(frozen=True)
class Batch:
    """Expectations of a suite validated together: their positions in the suite, and the columns of the frame
    (None: every column). A schema batch is validated on the dataset's columns without rows."""

    positions: tuple[int, ...]
    columns: tuple[str, ...] | None = None
    schema: bool = False


def columns_read(config: Mapping, columns: list[str]) -> frozenset[str] | None:
    """The dataset's columns an expectation reads: None when it reads only the schema, an empty set when it
    reads only the number of rows. A column the dataset lacks is left out (GX reports it missing all the same);
    a row condition reads every column it names."""
    kind, kwargs = config["type"], config["kwargs"]
    if kind in SCHEMA:
        return None
    named = {kwargs.get(k) for k in ("column", "column_A", "column_B")} | set(kwargs.get("column_list") or [])
    condition = kwargs.get("row_condition") or ""
    named |= {c for c in columns if re.search(rf"(?<!\w){re.escape(c)}(?!\w)", condition)}
    read = frozenset(c for c in columns if c in named)
    if read or kind in ROW_COUNTS:
        return read
    return None if named - {None} else frozenset(columns)  # only missing columns | a table-level unknown


def plan_batches(configs: list[dict], columns: list[str], rows: int | None) -> list[Batch]:
    """One batch of the whole suite on the whole frame for a small dataset (or one of unknown size). For a large
    one: a batch per set of columns the expectations read (a set inside another's joins it), the row counts
    riding with the first, and the schema expectations on the columns without rows."""
    if rows is None or rows <= SLICE_ROWS:
        return [Batch(tuple(range(len(configs))))]
    schema: list[int] = []
    counts: list[int] = []
    groups: dict[frozenset[str], list[int]] = {}
    for position, config in enumerate(configs):
        read = columns_read(config, columns)
        if read is None:
            schema.append(position)
        elif not read:
            counts.append(position)
        else:
            groups.setdefault(read, []).append(position)
    for read in sorted(groups, key=len):
        wider = [other for other in groups if read < other]
        if wider:
            groups[min(wider, key=len)] += groups.pop(read)
    batches = [
        Batch(tuple(sorted(positions)), tuple(c for c in columns if c in read))
        for read, positions in groups.items()
    ]
    if counts:
        first = batches[0] if batches else Batch((), tuple(columns[:1]))
        batches[:1] = [Batch(tuple(sorted(first.positions + tuple(counts))), first.columns)]
    if schema:
        batches.append(Batch(tuple(schema), schema=True))
    return batches


def _sub_suite(suite, positions: tuple[int, ...]):
    """The suite itself, or a suite of some of its expectations (ids kept: results are matched by id)."""
    from great_expectations.core.expectation_suite import ExpectationSuite

    configurations = suite.expectation_configurations
    if len(positions) == len(configurations):
        return suite
    return ExpectationSuite(name=suite.name, expectations=[configurations[p] for p in positions])


def _validate_batches(
    con: duckdb.DuckDBPyConnection,
    spec: Dataset,
    suite,
    parameters: Mapping,
    schema,
    chunks: list[list] | None,
    rows: int | None,
) -> tuple[list[list[dict]], int]:
    """The suite's batches (`plan_batches`), each on its frame or chunks of frames, WORKERS frames at a time:
    GX's own work holds the GIL, but Arrow's regex, set and hash kernels and DuckDB's pulls do not. Returns, per
    expectation, its results in chunk order, and the rows validated."""
    configs = suite_configs(suite)
    plan = plan_batches(configs, list(schema.columns), rows)
    suites = {batch: _sub_suite(suite, batch.positions) for batch in plan}
    jobs = [(b, values) for b in plan for values in ([None] if b.schema or not chunks else chunks)]
    cursors: queue.SimpleQueue = queue.SimpleQueue()  # a DuckDB connection serves one thread at a time
    for _ in range(min(WORKERS, len(jobs))):
        cursors.put(con.cursor())

    def validate(batch: Batch, values: list | None) -> tuple[int, list[dict]]:
        if batch.schema:
            frame = schema
        else:
            cursor = cursors.get()
            try:
                frame = chunk_frame(cursor, spec.sql, spec.partition_column, values, batch.columns)
            finally:
                cursors.put(cursor)
        return len(frame), validate_frame(frame, suites[batch], spec.data_asset, parameters)

    per_expectation: list[list[dict]] = [[] for _ in configs]
    try:
        with ThreadPoolExecutor(WORKERS) as pool:
            # Batches with the most expectations first, so that no long one starts last.
            futures: list = [None] * len(jobs)
            for i in sorted(range(len(jobs)), key=lambda i: -len(jobs[i][0].positions)):
                futures[i] = pool.submit(validate, *jobs[i])
            try:
                for (batch, _), future in zip(jobs, futures, strict=True):
                    validated, results = future.result()
                    rows = validated if rows is None and not batch.schema else rows
                    for position, part in zip(batch.positions, results, strict=True):
                        per_expectation[position].append(part)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
    finally:
        while not cursors.empty():
            cursors.get().close()
    return per_expectation, rows or 0


def _description(config: Mapping) -> str:
    meta = config.get("meta") or {}
    return f"{meta.get('severity', 'warning').capitalize()}: {meta.get('meaning', '')}"


def _compact_kwargs(kwargs: Mapping) -> dict:
    """Key sets substituted from suite parameters can hold thousands of values: keep the report readable."""
    out = {}
    for key, value in kwargs.items():
        if isinstance(value, list) and len(value) > 20:
            value = [*value[:20], f"… {len(value) - 20} more"]
        out[key] = value
    return out


def build_suite_result(suite_name: str, configs: list[dict], folded: list[dict], meta: dict):
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    results = []
    for config, outcome in zip(configs, folded, strict=True):
        expectation = ExpectationConfiguration(
            type=config["type"],
            kwargs=_compact_kwargs(config["kwargs"]),
            meta=config.get("meta") or {},
            description=_description(config),
            severity=config.get("severity", "critical"),
            id=config.get("id"),
        )
        exception = {
            "raised_exception": bool(outcome["exception"]),
            "exception_message": outcome["exception"],
            "exception_traceback": None,
        }
        results.append(
            ExpectationValidationResult(
                success=outcome["success"],
                expectation_config=expectation,
                result=redact(outcome["result"]),
                exception_info=exception,
            )
        )
    passed = sum(1 for r in results if r.success)
    return ExpectationSuiteValidationResult(
        success=passed == len(results),
        results=results,
        suite_name=suite_name,
        statistics={
            "evaluated_expectations": len(results),
            "successful_expectations": passed,
            "unsuccessful_expectations": len(results) - passed,
            "success_percent": 100.0 * passed / len(results) if results else None,
        },
        meta=meta,
    )


def outcomes_of(
    suite_name: str, asset: str, configs: list[dict], folded: list[dict]
) -> list[ExpectationOutcome]:
    out = []
    for config, outcome in zip(configs, folded, strict=True):
        meta = config.get("meta") or {}
        result = outcome["result"]
        observed = result.get("observed_value")
        if observed is None and "unexpected_count" in result:
            observed = {
                "unexpected_count": result["unexpected_count"],
                "unexpected_percent": round(result.get("unexpected_percent") or 0.0, 4),
                "partial_unexpected_list": result.get("partial_unexpected_list") or [],
            }
        if outcome["exception"]:
            observed = {"error": outcome["exception"]}
        out.append(
            ExpectationOutcome(
                suite=suite_name,
                asset=asset,
                expectation=expectation_name(config),
                column=column_of(config["kwargs"]),
                severity=meta.get("severity", "warning"),
                success=outcome["success"],
                observed_value=_fmt(observed),
                unexpected_count=result.get("unexpected_count"),
                element_count=result.get("element_count"),
                meaning=meta.get("meaning", ""),
                error=outcome["exception"],
            )
        )
    return out


def suite_configs(suite) -> list[dict]:
    return [c.to_json_dict() for c in suite.expectation_configurations]


def run_suite(
    build_db: Path | str,
    suite_name: str,
    *,
    run_id: str = "adhoc",
    today: dt.date | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    months: Collection[dt.date] | None = None,
) -> SuiteOutcome:
    """Validate one suite against the build warehouse, opened read-only (or on the connection given). With
    `months`, a suite whose dataset has a partition column validates only the rows of those partitions (a
    run's months); every other suite, or no `months`, validates its whole dataset."""
    started = time.perf_counter()
    suite = load_suites()[suite_name]
    spec = dataset(suite_name)
    configs = suite_configs(suite)
    own = con is None
    connection = con or duckdb.connect(str(build_db), read_only=True)
    try:
        parameters = _parameters(connection, spec, today)
        schema = schema_frame(connection, spec.sql)
        # A table's rows are counted first (DuckDB knows them without a scan) to plan the batches; a derived
        # dataset is computed by its query, so it validates whole (a column slice would compute it again).
        counts = None
        if spec.partition_column or not spec.derived:
            counts = count_rows(connection, spec.sql, spec.partition_column)
        scope = frozenset(months) if months is not None and spec.partition_column else None
        if scope is not None:
            counts = [(value, n) for value, n in counts if value in scope]
        rows = sum(n for _, n in counts) if counts is not None else None
        chunks = plan_chunks(counts, spec.partition_column, spec.chunk_rows) if counts else None
        if scope is not None and chunks is None:
            chunks = [[value for value, _ in counts]]  # one chunk of the run's partitions (maybe none)
        per_expectation, rows = _validate_batches(connection, spec, suite, parameters, schema, chunks, rows)
    finally:
        if own:
            connection.close()
    count = len(chunks) if chunks else 1
    folded = aggregate(per_expectation, configs, parameters)
    asset = ".".join(spec.asset_key)
    validated_at = dt.datetime.now()
    meta = {
        "run_id": {"run_name": run_id, "run_time": validated_at.astimezone(dt.UTC).isoformat()},
        "validation_time": validated_at.astimezone(dt.UTC).isoformat(),
        "active_batch_definition": {
            "datasource_name": "warehouse",
            "data_connector_name": "fluent",
            "data_asset_name": spec.data_asset,
            "batch_identifiers": {"rows": rows, "chunks": count},
        },
        "batch_spec": {
            "data_asset_name": spec.data_asset,
            "sql": spec.sql,
            "partition_column": spec.partition_column,
            "partitions": "all" if scope is None else sorted(str(value) for value in scope),
            "chunks": count,
        },
        "batch_markers": {"rows": rows},
        "dagster_asset": asset,
    }
    result = build_suite_result(suite_name, configs, folded, meta)
    return SuiteOutcome(
        suite=suite_name,
        dataset=spec,
        expectations=outcomes_of(suite_name, asset, configs, folded),
        result=result,
        rows=rows,
        chunks=count,
        scope=scope,
        seconds=time.perf_counter() - started,
        validated_at=validated_at,
    )


def record_outcome(con: duckdb.DuckDBPyConnection, run_id: str, outcome: SuiteOutcome) -> int:
    """Append the suite's rows to audit.audit_validation_results (a re-run of a check replaces its rows)."""
    rows = [e.as_row(run_id, outcome.validated_at) for e in outcome.expectations]
    return replace_validation_rows(con, run_id, outcome.suite, rows)
