"""The reports asset: one dynamic partition per document, so one report can be re-extracted on its own."""

import dagster as dg

from shegong.defs.partitions import report_partitions
from shegong.defs.resources import WarehouseResource
from shegong.ingest.reports import ReportOutcome, ingest_reports, report_files
from shegong.ingest.reviews import ingest_reviews, review_files

# The most documents a run gives each its own metadata (see below).
PER_DOCUMENT_METADATA_LIMIT = 50


@dg.asset(
    key=["raw", "reports"],
    group_name="ingest",
    kinds={"duckdb", "python"},
    description="Regional reports: normalised, figures extracted with region, year and evidence quote.",
    partitions_def=report_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="warehouse_writer",
)
def reports(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    folder = warehouse.landing / "reports"
    wanted = set(context.partition_keys)
    present = {p.name: p for p in report_files(folder)}
    missing = sorted(wanted - set(present))
    for doc in missing:
        context.log.error(
            f"asset raw/reports: {doc} is no longer in {folder}; remove its partition or land it again"
        )
    docs = sorted(wanted & set(present))
    with warehouse.connect() as con:
        outcomes = ingest_reports(con, [present[doc] for doc in docs], warehouse.landing)
        warehouse.export_to_lake(con, ["raw.report_documents", "raw.report_facts"])
    for outcome in outcomes:
        if outcome.status == "rejected":
            context.log.error(f"asset raw/reports: {outcome.error}")
    # Dagster looks the run's partitions up again on every call naming a partition (~11 ms at 2,000 documents),
    # so only a run over a few documents (a sensor's, a re-extraction) gives each its own figures; a full
    # re-extraction's partitions carry the run's totals, and every document's figures are in
    # raw.report_documents (quality, stats).
    if len(wanted) <= PER_DOCUMENT_METADATA_LIMIT:
        for doc in missing:
            context.add_asset_metadata({"status": "missing"}, partition_key=doc)
        for doc, outcome in zip(docs, outcomes, strict=True):
            context.add_asset_metadata(document_metadata(outcome), partition_key=doc)
    extracted = [o for o in outcomes if o.status == "extracted"]
    return dg.MaterializeResult(
        metadata={
            "run_documents_extracted": len(extracted),
            "run_documents_rejected": len(outcomes) - len(extracted),
            "run_documents_missing": len(missing),
            "run_facts": sum(o.facts for o in extracted),
            "run_documents_low_quality": sum(
                1
                for o in extracted
                if (o.quality or {}).get("score") is not None and o.quality["score"] < 0.7
            ),
        }
    )


def document_metadata(outcome: ReportOutcome) -> dict:
    """What a document's partition shows of its extraction."""
    if outcome.status == "rejected":
        return {"status": "rejected", "error": outcome.error}
    stats, summary = outcome.stats or {}, outcome.quality or {}
    return {
        "status": outcome.status,
        "facts": outcome.facts,
        "facts_without_region": stats.get("facts_without_region", 0),
        "facts_without_year": stats.get("facts_without_year", 0),
        "junk_lines_removed": stats.get("junk_lines_removed", 0),
        "extraction_quality": summary.get("score"),
        "issues": ", ".join(summary.get("issues", [])),
    }


@dg.asset(
    key=["raw", "report_reviews"],
    group_name="ingest",
    kinds={"duckdb", "python"},
    description=(
        "Analysts' reviews of report facts (reject / correct / add) from landing/reports/review/*.csv|xlsx, "
        "checked against the review contract; broken rows quarantined with reasons."
    ),
    pool="warehouse_writer",
)
def report_reviews(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    files = review_files(warehouse.landing / "reports" / "review")
    with warehouse.connect() as con:
        outcomes = ingest_reviews(con, files, warehouse.landing)
        reviews = con.execute("select count(*) from raw.report_reviews").fetchone()[0]
        # The open raw layer every engine reads (shegong/lake.py).
        warehouse.export_to_lake(
            con, ["raw.report_reviews", "audit.quarantined_rows", "audit.ingested_files"]
        )
    for outcome in outcomes:
        if outcome.status == "rejected":
            context.log.error(f"asset raw/report_reviews: {outcome.error}")
        elif outcome.rows_quarantined:
            context.log.warning(
                f"asset raw/report_reviews: {outcome.source_file}: {outcome.rows_quarantined} row(s) quarantined "
                "(see audit.quarantined_rows, registry report_reviews)"
            )
    return dg.MaterializeResult(
        metadata={
            "review_files": len(outcomes),
            "review_files_rejected": sum(1 for o in outcomes if o.status == "rejected"),
            "review_rows": reviews,
            "rows_quarantined": sum(o.rows_quarantined for o in outcomes),
        }
    )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[reports, report_reviews])
