"""Alerts a data engineer finds without a UI: one JSON file per failure under <warehouse>/alerts, plus a log line."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path


def write_alert(
    alerts_dir: Path, *, run_id: str, job: str, where: str, error: str, now: dt.datetime | None = None
) -> Path:
    """Record a failure: which run and job, where (asset/step or file) and the error's first line."""
    now = now or dt.datetime.now()
    alerts_dir.mkdir(parents=True, exist_ok=True)
    first_line = (error.strip().splitlines() or ["unknown error"])[0]
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", where)[:60]
    path = alerts_dir / f"{now:%Y%m%dT%H%M%S}_{run_id[:8]}_{slug}.json"
    path.write_text(
        json.dumps(
            {
                "at": now.isoformat(timespec="seconds"),
                "run_id": run_id,
                "job": job,
                "where": where,
                "error": first_line,
            },
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    return path
