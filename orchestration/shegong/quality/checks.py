"""Which suites become asset checks, on which assets: read from the committed suite files, datasets.yml and the
dbt manifest only (no GX import, no dbt parse), so the code location loads fast and keeps loading while marts
are being added."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from shegong.config import DBT_PROJECT_DIR, EXPECTATIONS_DIR
from shegong.quality.context import suite_files, suite_spec
from shegong.quality.datasets import dataset

DBT_SCHEMAS = ("staging", "intermediate", "marts", "reference", "snapshots")


@dataclass(frozen=True)
class CheckSpec:
    suite: str
    asset_key: tuple[str, ...]
    name: str  # the check's name on its asset
    blocking: bool  # the suite holds blocking expectations
    expectations: int
    description: str


def manifest_asset_keys(
    manifest: Path = DBT_PROJECT_DIR / "target" / "manifest.json",
) -> set[tuple[str, ...]]:
    """[schema, name] of every dbt model, seed and snapshot in the manifest (the keys shegong.defs.dbt uses)."""
    if not manifest.exists():
        return set()
    nodes = json.loads(manifest.read_text(encoding="utf-8")).get("nodes", {}).values()
    return {
        (n["schema"], n["name"]) for n in nodes if n.get("resource_type") in ("model", "seed", "snapshot")
    }


def check_name(suite: str) -> str:
    return "gx_" + suite.replace(".", "__")


def check_specs(
    root: Path = EXPECTATIONS_DIR, dbt_keys: set[tuple[str, ...]] | None = None
) -> list[CheckSpec]:
    """One check per suite. Suites on dbt models (or reading them) are kept only when the manifest has them."""
    dbt_keys = manifest_asset_keys() if dbt_keys is None else dbt_keys
    specs = []
    for suite in suite_files(root):
        spec = dataset(suite, root)
        needed = [spec.asset_key, *(tuple(t.split(".")) for t in spec.requires)]
        if any(key[0] in DBT_SCHEMAS and tuple(key) not in dbt_keys for key in needed):
            continue
        document = suite_spec(suite, root)
        expectations = document["expectations"]
        blocking = [e for e in expectations if e["meta"].get("severity") == "blocking"]
        specs.append(
            CheckSpec(
                suite=suite,
                asset_key=spec.asset_key,
                name=check_name(suite),
                blocking=bool(blocking),
                expectations=len(expectations),
                description=(
                    f"Great Expectations suite {suite}: {len(expectations)} expectations "
                    f"({len(blocking)} blocking). " + (document.get("notes") or spec.description or "")
                ).strip(),
            )
        )
    return specs
