"""`shegong bench`: stage timings of a full build, a plain-DuckDB baseline, an incremental run and extraction."""
