"""Ingest assets, one per registry (raw layer), keyed like the dbt sources that read them."""

import datetime as dt

import dagster as dg
import duckdb
import pyarrow as pa

from shegong.config import DEVELOPMENT_KEY_WARNING
from shegong.contracts import Contract, contracts
from shegong.defs.partitions import FIRST_MONTH, monthly_partitions, months_from
from shegong.defs.resources import WarehouseResource
from shegong.ingest.batch import files_for_months, ingest_registry
from shegong.ingest.landing import landing_files
from shegong.ingest.reference import load_gazetteer
from shegong.ingest.reports import load_metric_catalogue

ROW_ACCOUNTING_SQL = """
with clean as (
    select _source_file as file, count(*) as n from {raw_table} group by 1
), quarantined as (
    select source_file as file, count(*) as n from audit.quarantined_rows where registry = $registry group by 1
)
select f.source_file, f.rows_in, coalesce(c.n, 0) as rows_clean, coalesce(q.n, 0) as rows_quarantined
from audit.ingested_files as f
left join clean as c on c.file = f.source_file
left join quarantined as q on q.file = f.source_file
where f.registry = $registry and f.status = 'current'
"""


def months_in_window(context: dg.AssetExecutionContext) -> frozenset[dt.date]:
    """Every reporting month the run's partition (or partition range) covers."""
    window = context.partition_time_window
    return months_from(window.start.date(), window.end.date())


def build_registry_asset(contract: Contract) -> dg.AssetsDefinition:
    partitioned = contract.partitioned_by == "month"

    @dg.asset(
        key=["raw", contract.registry],
        group_name="ingest",
        kinds={"duckdb", "python"},
        description=f"{contract.title_zh}: {contract.description}",
        partitions_def=monthly_partitions if partitioned else None,
        backfill_policy=dg.BackfillPolicy.single_run() if partitioned else None,
        pool="warehouse_writer",
        metadata={
            "contract": f"sources/contracts/{contract.registry}.yml",
            "primary_key": list(contract.primary_key),
        },
    )
    def ingest(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        folder = warehouse.landing / contract.registry
        months = months_in_window(context) if partitioned else None
        first = dt.date.fromisoformat(FIRST_MONTH)
        files = files_for_months(landing_files(folder), months, (first, dt.date.today().replace(day=1)))
        with warehouse.connect() as con:
            outcome = ingest_registry(
                con, contract, files, warehouse.protector(), warehouse.landing, first_month=first
            )
            # The open raw layer every engine reads (shegong/lake.py).
            warehouse.export_to_lake(con, [f"raw.{contract.registry}", *AUDIT_LAKE_TABLES])
        # Arrow's allocator keeps the memory of the batch's tables for reuse: hand it back, since the steps that
        # follow ingest (dbt in its own process, at the build's memory peak) do not use it. 200-400 MB after
        # `large`'s workers or training attendance.
        pa.default_memory_pool().release_unused()
        for rejected in outcome.rejected:
            context.log.warning(f"asset raw/{contract.registry}: file rejected: {rejected.error}")
        if warehouse.uses_development_key:
            context.log.warning(f"asset raw/{contract.registry}: {DEVELOPMENT_KEY_WARNING}")
        return dg.MaterializeResult(
            metadata={
                "files_seen": len(files),
                "files_ingested": outcome.count("ingested"),
                "files_unchanged": outcome.count("unchanged"),
                "files_rejected": outcome.count("rejected"),
                "files_duplicate": outcome.count("duplicate"),
                "rows_read": outcome.rows_in,
                "rows_clean": outcome.rows_clean,
                "rows_quarantined": outcome.rows_quarantined,
                "pii_key": "public development key" if warehouse.uses_development_key else "SHEGONG_PII_KEY",
                "rejected_files": dg.MetadataValue.md(
                    "\n".join(f"- {f.error}" for f in outcome.rejected) or "none"
                ),
            }
        )

    return ingest


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["raw", "gazetteer"],
            group_name="ingest",
            kinds={"duckdb", "python"},
            description="National province/city/county codes (GB/T 2260) shipped with the project (cpca).",
        ),
        dg.AssetSpec(
            ["raw", "metric_catalogue"],
            group_name="ingest",
            kinds={"duckdb", "python"},
            description="The report metric catalogue: codes, units, categories and Chinese cues.",
        ),
    ],
    pool="warehouse_writer",
)
def reference_data(warehouse: WarehouseResource):
    with warehouse.connect() as con:
        regions = load_gazetteer(con)
        metrics = load_metric_catalogue(con)
        warehouse.export_to_lake(con, ["raw.gazetteer", "raw.metric_catalogue"])
    yield dg.MaterializeResult(asset_key=["raw", "gazetteer"], metadata={"rows": regions})
    yield dg.MaterializeResult(asset_key=["raw", "metric_catalogue"], metadata={"rows": metrics})


AUDIT_LAKE_TABLES = ("audit.quarantined_rows", "audit.ingested_files")

registry_contracts = list(contracts().values())
registry_assets = [build_registry_asset(c) for c in registry_contracts]


ROW_ACCOUNTING = "rows_in_equal_clean_plus_quarantined"
REJECTED_FILES = "no_rejected_files"


def freshness_check_name(contract: Contract) -> str:
    return f"arrived_within_{contract.freshness_days}_days"


def registry_check_specs(contract: Contract) -> list[dg.AssetCheckSpec]:
    asset = dg.AssetKey(["raw", contract.registry])
    return [
        dg.AssetCheckSpec(
            ROW_ACCOUNTING,
            asset=asset,
            blocking=True,
            description="For every current file: rows read = rows in the raw table + rows in audit.quarantined_rows.",
        ),
        dg.AssetCheckSpec(
            REJECTED_FILES,
            asset=asset,
            description="Whole files that could not be ingested (wrong format, empty, wrong registry, undecodable).",
        ),
        dg.AssetCheckSpec(
            freshness_check_name(contract),
            asset=asset,
            description=(
                f"The newest reporting month received ends no more than {contract.freshness_days} days ago "
                "(the registry's declared arrival rhythm, sources/contracts)."
            ),
        ),
    ]


def row_accounting(con: duckdb.DuckDBPyConnection, contract: Contract) -> dg.AssetCheckResult:
    rows = con.execute(
        ROW_ACCOUNTING_SQL.format(raw_table=contract.raw_table), {"registry": contract.registry}
    ).fetchall()
    broken = [r for r in rows if r[1] != r[2] + r[3]]
    return dg.AssetCheckResult(
        asset_key=dg.AssetKey(["raw", contract.registry]),
        check_name=ROW_ACCOUNTING,
        passed=not broken,
        metadata={
            "files_checked": len(rows),
            "rows_in": sum(r[1] for r in rows),
            "rows_clean": sum(r[2] for r in rows),
            "rows_quarantined": sum(r[3] for r in rows),
            "files_not_adding_up": dg.MetadataValue.md(
                "\n".join(f"- {r[0]}: in {r[1]} ≠ clean {r[2]} + quarantined {r[3]}" for r in broken)
                or "none"
            ),
        },
    )


def rejected_files(con: duckdb.DuckDBPyConnection, contract: Contract) -> dg.AssetCheckResult:
    rows = con.execute(
        "select source_file, error from audit.ingested_files where registry = ? and status = 'rejected'",
        [contract.registry],
    ).fetchall()
    return dg.AssetCheckResult(
        asset_key=dg.AssetKey(["raw", contract.registry]),
        check_name=REJECTED_FILES,
        passed=not rows,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "rejected_files": len(rows),
            "reasons": dg.MetadataValue.md("\n".join(f"- {error}" for _, error in rows) or "none"),
        },
    )


def freshness(con: duckdb.DuckDBPyConnection, contract: Contract) -> dg.AssetCheckResult:
    newest = con.execute(
        """select max(coalesce(last_day(period_month), cast(ingested_at as date)))
           from audit.ingested_files where registry = ? and status = 'current'""",
        [contract.registry],
    ).fetchall()[0][0]
    age = (dt.date.today() - newest).days if newest else None
    return dg.AssetCheckResult(
        asset_key=dg.AssetKey(["raw", contract.registry]),
        check_name=freshness_check_name(contract),
        passed=age is not None and age <= contract.freshness_days,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "newest_period_end": str(newest) if newest else "nothing received",
            "age_days": age if age is not None else -1,
            "allowed_days": contract.freshness_days,
        },
    )


REGISTRY_CHECKS = (row_accounting, rejected_files, freshness)


@dg.multi_asset_check(
    name="registry_checks",
    specs=[spec for c in registry_contracts for spec in registry_check_specs(c)],
    can_subset=True,
)
def registry_checks_step(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    """Row accounting (blocking), rejected files and freshness of every registry the run ingested, in one step
    over one connection: as 21 steps, Dagster's per-step cost (~0.2 s each) outweighed the queries."""
    selected = context.selected_asset_check_keys
    with warehouse.connect() as con:
        for contract in registry_contracts:
            specs = registry_check_specs(contract)
            for spec, evaluate in zip(specs, REGISTRY_CHECKS, strict=True):
                if spec.key in selected:
                    yield evaluate(con, contract)


registry_checks = [registry_checks_step]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[*registry_assets, reference_data], asset_checks=registry_checks)
