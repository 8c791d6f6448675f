"""Where things live. Every path can be moved by one environment variable; nothing else reads os.environ.

SHEGONG_DUCKDB names the build warehouse file for both dbt's profile and Dagster's resource: ingest and dbt
write there, validation reads it, and publishing copies it to the file BI tools open.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(os.environ.get("SHEGONG_PROJECT_DIR", Path(__file__).resolve().parents[2]))
DBT_PROJECT_DIR = PROJECT_DIR / "dbt_project"
CONTRACTS_DIR = PROJECT_DIR / "sources" / "contracts"
EXPECTATIONS_DIR = PROJECT_DIR / "expectations"

# Development default only: production sets SHEGONG_PII_KEY so hashes cannot be recomputed from public IDs.
DEVELOPMENT_PII_KEY = "shegong-development-pii-key-do-not-use-in-production"

REGISTRIES = (
    "workers",
    "stations",
    "agencies",
    "funding",
    "training_sessions",
    "training_attendance",
    "regions",
)
LANDING_FOLDERS = (*REGISTRIES, "reports")


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    warehouse_dir: Path
    build_db: Path
    pii_key: str

    @property
    def published_db(self) -> Path:
        """The file BI tools open: only ever a fully built, validated warehouse."""
        return self.warehouse_dir / "shegong.duckdb"

    @property
    def validation_reports_dir(self) -> Path:
        return self.warehouse_dir / "validation"

    @property
    def alerts_dir(self) -> Path:
        return self.warehouse_dir / "alerts"

    def landing(self, folder: str) -> Path:
        return self.landing_dir / folder


def settings() -> Settings:
    warehouse = Path(os.environ.get("SHEGONG_WAREHOUSE_DIR", PROJECT_DIR / "warehouse")).resolve()
    build_db = Path(os.environ.get("SHEGONG_DUCKDB", warehouse / "build" / "shegong_build.duckdb")).resolve()
    return Settings(
        landing_dir=Path(os.environ.get("SHEGONG_LANDING", PROJECT_DIR / "sources" / "landing")).resolve(),
        warehouse_dir=warehouse,
        build_db=build_db,
        pii_key=os.environ.get("SHEGONG_PII_KEY", DEVELOPMENT_PII_KEY),
    )


def export_build_db_env(current: Settings) -> None:
    """dbt reads the build file's path from SHEGONG_DUCKDB; make sure it sees the one Dagster uses."""
    os.environ["SHEGONG_DUCKDB"] = str(current.build_db)
