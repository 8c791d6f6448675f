"""Alerts a data engineer finds without a UI: one JSON file per failure under <warehouse>/alerts, plus a log line."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path


def write_alert(
    alerts_dir: Path,
    *,
    run_id: str | None,
    job: str,
    where: str,
    error: str,
    assets: list[str] | None = None,
    now: dt.datetime | None = None,
) -> Path:
    """Record a failure: which run and job (or sensor), where (asset/step or file) and the error's first line.

    Written to a temporary name and renamed, so a reader polling the folder never sees half a file.
    """
    now = now or dt.datetime.now()
    alerts_dir.mkdir(parents=True, exist_ok=True)
    lines = error.strip().splitlines() or ["unknown error"]
    first_line = lines[0]
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", where)[:60]
    stamp = f"{now:%Y%m%dT%H%M%S%f}"
    path = alerts_dir / f"{stamp}_{(run_id or job)[:8]}_{slug}.json"
    staging = alerts_dir / f".{path.name}.tmp"
    staging.write_text(
        json.dumps(
            {
                "at": now.isoformat(timespec="seconds"),
                "run_id": run_id,
                "job": job,
                "where": where,
                "assets": assets or [],
                "error": first_line,
                "detail": "\n".join(lines[:40])[:4000],
            },
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    staging.replace(path)
    return path
