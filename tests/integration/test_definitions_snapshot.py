"""A snapshot of the code location: asset graph (keys, groups, partitioning, deps), checks, jobs, schedules,
sensors. A change to any of them shows up as a reviewed diff of tests/snapshots/definitions.json.

Regenerate after an intended change: SHEGONG_UPDATE_SNAPSHOTS=1 pytest tests/integration/test_definitions_snapshot.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SNAPSHOT = Path(__file__).parents[1] / "snapshots" / "definitions.json"


def describe_definitions() -> dict:
    from shegong.definitions import defs as load_definitions

    defs = load_definitions()
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        partitions = node.partitions_def
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "partitions": type(partitions).__name__ if partitions else None,
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
        }
    checks = sorted(f"{k.asset_key.to_user_string()}:{k.name}" for k in graph.asset_check_keys)
    return {
        "assets": assets,
        "checks": checks,
        "jobs": sorted(j.name for j in defs.resolve_all_job_defs() if not j.name.startswith("__")),
        "schedules": sorted((s.name, s.cron_schedule) for s in defs.schedules),
        "sensors": sorted(s.name for s in defs.sensors),
    }


def test_definitions_match_the_snapshot():
    current = describe_definitions()
    if os.environ.get("SHEGONG_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(current, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    current = json.loads(json.dumps(current))  # tuples → lists, as stored
    assert current == expected


def test_lineage_runs_unbroken_from_landing_to_publish():
    """Every mart reaches back to an ingest asset or a reference seed, and publish depends on every mart."""
    described = describe_definitions()
    assets = described["assets"]

    def ancestors(key: str) -> set[str]:
        seen, stack = set(), [key]
        while stack:
            for parent in assets[stack.pop()]["deps"]:
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        return seen

    marts = [k for k in assets if k.startswith("marts/")]
    assert marts, "no marts in the asset graph"
    for mart in marts:
        sources = [a for a in ancestors(mart) if a.startswith(("raw/", "reference/"))]
        assert sources, f"{mart} does not trace back to an ingest asset or a reference seed"
    assert set(marts) <= ancestors("warehouse/published")


def test_importing_the_code_location_loads_nothing_and_changes_nothing():
    """Importing shegong.definitions reads no manifest, no suites and writes no environment: loading does."""
    probe = (
        "import os, sys; before = dict(os.environ); import shegong.definitions as d; "
        "loaded = sorted(m for m in sys.modules if m.startswith(('shegong.defs.', 'dagster_dbt', 'great_expectations'))); "
        "print(loaded, dict(os.environ) == before)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHEGONG_")}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[] True"


def test_dg_check_defs_validates_the_project():
    """The `dg` way: orchestration/dg.toml names the project, and `dg check defs` loads every defs module."""
    dg_cli = Path(sys.executable).parent / "dg"
    done = subprocess.run(
        [str(dg_cli), "check", "defs"],
        cwd=Path(__file__).parents[2] / "orchestration",
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "All definitions loaded successfully" in done.stdout + done.stderr
