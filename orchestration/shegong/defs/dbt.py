"""dbt models as assets: tables, and the models rebuilt by the run's month window (given to dbt in its
environment) with everything downstream of them.

There are no dbt snapshots: worker history (dim_worker, type 2) is derived from the monthly registry records
themselves, so rebuilding a month gives the same rows whenever it runs; a snapshot would record when the
pipeline happened to run instead. The manifest is prepared at install time (`shegong prepare`, run by
`make install`), never parsed on load.
"""

import datetime as dt
import os
import shutil
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtCliRuntimeError,
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from shegong.config import DBT_PROJECT_DIR, environment_set, export_build_db_env, settings
from shegong.dagster_internals import VenvDbtCliResource
from shegong.defs.partitions import monthly_partitions
from shegong.defs.resources import WarehouseResource
from shegong.engines import dbt_target, engine

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

if not dbt_project.manifest_path.exists():
    raise FileNotFoundError(
        f"dbt manifest missing at {dbt_project.manifest_path}: run `make install` (or `shegong prepare`) first"
    )

# The models rebuilt by the run's month window (tagged by their config macros in dbt_project/macros/incremental.sql),
# everything downstream of them and every test whose parents include one of them: the partitioned step builds and
# tests them after the tables step, so no test runs before the models it reads are rebuilt (and no model of the
# tables step depends on the partitioned step).
MONTH_WINDOW = "tag:month_window+"


class ShegongDbtTranslator(DagsterDbtTranslator):
    """Models are keyed by their schema (staging / intermediate / marts / reference) and grouped by it."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return dbt_resource_props["schema"]
        return super().get_group_name(dbt_resource_props)

    def get_asset_check_spec(
        self,
        asset_spec: dg.AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> dg.AssetCheckSpec | None:
        """A test of an unpartitioned model that also reads a model of the partitioned step (a relationship to
        dim_worker) runs in the partitioned step, after both: it is still the check of the model it is defined
        on, which dagster-dbt would only declare in that model's own step."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        attached = manifest["nodes"][unique_id].get("attached_node")
        if spec is None and attached and self.get_asset_key(manifest["nodes"][attached]) != asset_spec.key:
            return super().get_asset_check_spec(
                self.get_asset_spec(manifest, attached, project), manifest, unique_id, project
            )
        return spec


translator = ShegongDbtTranslator(
    settings=DagsterDbtTranslatorSettings(
        enable_duplicate_source_asset_keys=True, enable_code_references=False
    )
)


def declare_raw_layer(warehouse: WarehouseResource) -> None:
    """On Spark, dbt's raw sources are external tables over the Parquet lake ingest wrote: declare them (again)
    before dbt reads them. DuckDB reads the build file's raw schema, written by the same ingest."""
    if engine() == "spark":
        from shegong.engines.spark import register_lake, required_endpoint

        register_lake(required_endpoint(), warehouse.lake)


DBT_LAYERS = ("reference", "staging", "intermediate", "marts")


# dbt writes a log file per invocation beside its artifacts, at debug level by default: every statement and every
# connection event of every node, 0.85 s of a 10 s invocation at `small`. Dagster records dbt's info-level events
# (its standard output); the file keeps that level too.
LOG_FILE_FLAGS = ["--log-level-file", "info"]

# dbt's unit tests check the models' logic on fixed inputs, not the data: the same result every run. `make test`
# runs them (tests/integration/test_dbt_build.py builds everything); a pipeline run leaves them out, as dbt advises
# for production builds. They took 1.6 s of the dbt threads' time in a `large` incremental run.
UNIT_TESTS_LEFT_OUT = ["--exclude-resource-type", "unit_test"]


def engine_flags() -> list[str]:
    """On Spark, stop at the first error: a lost endpoint otherwise fails every remaining model after its own
    connection timeout, minutes before dbt gives up."""
    return ["--fail-fast"] if engine() == "spark" else []


def engine_stream(invocation):
    """dbt's events; when dbt fails on Spark because the endpoint is gone, one line naming it instead of
    dbt's exit code (the build stops, nothing is published, a rerun starts over cleanly)."""
    try:
        yield from invocation.stream()
    except DagsterDbtCliRuntimeError:
        if engine() == "spark":
            from shegong.engines.spark import SparkUnavailable, execute, required_endpoint

            endpoint = required_endpoint()
            try:
                execute(endpoint, ["select 1"])
            except SparkUnavailable as lost:
                raise dg.Failure(
                    description=f"dbt on Spark stopped mid-build, {lost} — the published warehouse is unchanged; "
                    "run again once the endpoint answers"
                ) from None
        raise


def mirror_spark_build(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, layers: tuple[str, ...]
) -> None:
    """On Spark, copy what dbt built into the build DuckDB file's same schemas, so the Great Expectations checks
    and write-audit-publish that follow run unchanged on Spark's output."""
    if engine() != "spark":
        return
    from shegong.engines.mirror import mirror_layers
    from shegong.engines.spark import required_endpoint

    with warehouse.connect() as con:
        copied = mirror_layers(con, required_endpoint(), layers)
    context.log.info(f"Spark build mirrored into {warehouse.build_db}: {len(copied)} tables")


# dbt invocation folders kept per deployment (their run_results.json and dbt.log), newest first.
KEPT_INVOCATIONS = 20
PARSE_STATE = "partial_parse.msgpack"


def dbt_artifacts_dir(warehouse_dir: str | Path) -> Path:
    """Where a deployment's dbt invocations write: <warehouse>/dbt, not the shared dbt_project/target (whose
    manifest is the one Dagster loads), so deployments and test runs never mix artifacts."""
    return Path(warehouse_dir) / "dbt"


def dbt_invocation_folders(warehouse_dir: str | Path, run_id: str) -> list[Path]:
    """The target folders of a Dagster run's dbt invocations (run_results.json, dbt.log), oldest first."""
    folders = dbt_artifacts_dir(warehouse_dir).glob(f"dbt_*-{run_id[:8]}-*")
    return sorted((f for f in folders if f.is_dir()), key=lambda f: f.stat().st_mtime)


@contextmanager
def dbt_invocation_target(context: dg.AssetExecutionContext, warehouse_dir: str) -> Iterator[Path]:
    """A fresh target folder for one dbt invocation of this step, seeded with the deployment's parse state (the
    one the last successful invocation of either step left); after success, that invocation's parse state
    becomes the deployment's.

    Why: dagster-dbt gives each invocation an empty folder, so dbt re-parsed the whole project every time
    (3-6 s of a step, twice a run). dbt's partial parsing is valid while the project files, the profile (it
    includes the build file's path, so per deployment), the target and the --vars are unchanged. Neither step
    passes --vars (the month window is in the environment, `month_window_env`), so both share one state: a
    fresh deployment parses once, and a run after an unchanged deploy not at all."""
    root = dbt_artifacts_dir(warehouse_dir)
    target = root / f"{context.op_def.name}-{context.run.run_id[:8]}-{uuid.uuid4().hex[:8]}"
    target.mkdir(parents=True)
    state = root / PARSE_STATE
    if state.exists():
        shutil.copy2(state, target / PARSE_STATE)
    yield target
    written = target / PARSE_STATE
    if written.exists():
        staged = state.with_suffix(".tmp")
        shutil.copy2(written, staged)
        os.replace(staged, state)
        written.unlink()  # 1-2 MB per invocation; the deployment's copy is the one that is read
    _prune_invocations(root)


def _prune_invocations(root: Path) -> None:
    folders = sorted((f for f in root.glob("dbt_*-*-*") if f.is_dir()), key=lambda f: f.stat().st_mtime)
    for folder in folders[:-KEPT_INVOCATIONS]:
        shutil.rmtree(folder, ignore_errors=True)


class DbtBuildConfig(dg.Config):
    """Run config of the dbt steps. A run builds the models of its selection (in the UI, or the models downstream
    of what changed); full_refresh drops and rebuilds them, the incremental marts over every month."""

    full_refresh: bool = False

    def flags(self) -> list[str]:
        return ["--full-refresh"] if self.full_refresh else []


def full_refresh_run_config() -> dict:
    """The build job's run config for `dbt build --full-refresh` in both dbt steps."""
    return {"ops": {name: {"config": {"full_refresh": True}} for name in ("dbt_tables", "dbt_incremental")}}


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    exclude=MONTH_WINDOW,
    dagster_dbt_translator=translator,
    name="dbt_tables",
    pool="warehouse_writer",
)
def dbt_tables(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    config: DbtBuildConfig,
):
    declare_raw_layer(warehouse)
    # Excluded again at run time: a run of a subset selects its models by name, and dbt's eager indirect selection
    # would otherwise add the partitioned step's tests that also read one of them (before that step rebuilt the
    # month); dbt drops the tests of excluded models.
    excluded = ["--exclude", MONTH_WINDOW]
    with dbt_invocation_target(context, warehouse.warehouse_dir) as target:
        args = ["build", *excluded, *UNIT_TESTS_LEFT_OUT, *config.flags(), *engine_flags(), *LOG_FILE_FLAGS]
        yield from engine_stream(dbt.cli(args, context=context, target_path=target))
    mirror_spark_build(context, warehouse, DBT_LAYERS)


# The variables macro incremental_month_window (dbt_project/macros/incremental.sql) reads the window from, as
# inclusive ISO month starts. Not --vars: dbt's partial parsing is void whenever --vars differ from those of the
# parse state, and the window differs from run to run (a full parse, 3-6 s, every incremental run); the macro
# reads them only when a model runs incrementally, which parsing never does.
MIN_MONTH_ENV = "SHEGONG_DBT_MIN_MONTH"
MAX_MONTH_ENV = "SHEGONG_DBT_MAX_MONTH"


def dbt_month_window(first: dt.date, last: dt.date) -> dict[str, str]:
    """dbt's environment for a run over the months `first` … `last` (month starts, inclusive)."""
    return {MIN_MONTH_ENV: first.isoformat(), MAX_MONTH_ENV: last.isoformat()}


def month_window_env(context: dg.AssetExecutionContext) -> dict[str, str]:
    """The run's month window for dbt: the first and the last month start of the partitions it covers."""
    window = context.partition_time_window
    last_month = window.end.date().replace(day=1)
    # The window's end is exclusive; the bounds are inclusive month starts.
    previous = (last_month - dt.timedelta(days=1)).replace(day=1)
    return dbt_month_window(window.start.date(), previous)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    select=MONTH_WINDOW,
    dagster_dbt_translator=translator,
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    name="dbt_incremental",
    pool="warehouse_writer",
)
def dbt_incremental(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    config: DbtBuildConfig,
):
    declare_raw_layer(warehouse)
    window = month_window_env(context)
    context.log.info(f"dbt month window: {window[MIN_MONTH_ENV]} to {window[MAX_MONTH_ENV]}")
    with dbt_invocation_target(context, warehouse.warehouse_dir) as target:
        args = ["build", *UNIT_TESTS_LEFT_OUT, *config.flags(), *engine_flags(), *LOG_FILE_FLAGS]
        # dagster-dbt starts dbt inside cli(), with a copy of this process's environment.
        with environment_set(window):
            invocation = dbt.cli(args, context=context, target_path=target)
        yield from engine_stream(invocation)
    mirror_spark_build(context, warehouse, ("intermediate", "marts"))


dbt_asset_defs: list[dg.AssetsDefinition] = [dbt_tables, dbt_incremental]


def dbt_resource() -> DbtCliResource:
    # The venv's own dbt, whether or not the venv is activated (dg dev, cron, CI).
    return VenvDbtCliResource(
        project_dir=dbt_project,
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=str(Path(sys.executable).parent / "dbt"),
        target=dbt_target(),  # dev (DuckDB) or spark, from SHEGONG_ENGINE
    )


@dg.definitions
def defs() -> dg.Definitions:
    # dbt's profile reads the build file's path and memory cap from the environment the dbt subprocesses inherit
    # (dbt_project/profiles.yml): loading the definitions points it at this deployment's build file.
    export_build_db_env(settings())
    return dg.Definitions(assets=dbt_asset_defs, resources={"dbt": dbt_resource()})
