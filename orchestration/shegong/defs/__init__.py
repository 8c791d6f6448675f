"""Dagster glue, one module per concern; the pure logic lives in shegong.ingest, .extraction, .quality."""

import warnings

import dagster as dg

# backfill_policy and pool are beta/preview in dagster 1.13; both are what this project relies on, deliberately.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
