"""`shegong bench`: generate (or reuse) data at a scale, then time a full build, a no-op run (the pipeline again
with nothing new landed), the baseline (whose first stage is the read floor), an incremental run and report
extraction, each measured build in its own child process with its own environment."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from shegong.config import PROJECT_DIR
from shegong_tools.bench.stages import EXTRACT, INGEST

SEED = 20241
START_MONTH = "2024-01"
MONTHS = 12
NEW_REGISTRY = "workers"  # the registry whose next month arrives in the incremental run
NEW_REPORT_PREFIX = "bench_new_"
COMPLETE = ".bench-complete"

# (phase, event, detail) → the CLI's progress display
Progress = Callable[[str, str, str], None]


class BenchError(RuntimeError):
    pass


@dataclass
class BenchPaths:
    root: Path  # <warehouse>/bench/<scale>

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def side(self) -> Path:
        return self.root / f"side-{MONTHS + 1}m"

    @property
    def run(self) -> Path:
        return self.root / "run"


@dataclass
class BenchResult:
    scale: str
    full: dict
    noop: dict
    baseline: dict
    incremental: dict | None
    extraction: dict
    generation_seconds: float
    landing_files: int
    landing_bytes: int
    new_month: str
    new_files: list[str] = field(default_factory=list)
    new_report: str | None = None
    started_at: str = ""
    loadavg: tuple[float, float, float] = (0.0, 0.0, 0.0)
    machine: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return self.__dict__


def month_label(start: str, offset: int) -> str:
    year, month = (int(p) for p in start.split("-"))
    index = year * 12 + month - 1 + offset
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def ensure_generated(target: Path, scale: str, months: int, progress: Progress, phase: str) -> float:
    """Generate into `target` unless a complete generation is already there; seconds spent."""
    if (target / COMPLETE).exists():
        progress(phase, "reuse", str(target))
        return 0.0
    from shegong_tools.generate import generate

    if target.exists():
        shutil.rmtree(target)
    started = time.time()
    scale_value: str | int = int(scale) if scale.isdigit() else scale
    generate(
        target,
        scale=scale_value,
        seed=SEED,
        start_month=START_MONTH,
        months=months,
        progress=lambda stage, done, total: progress(phase, "generate", f"{stage} {done}/{total}"),
    )
    (target / COMPLETE).write_text(dt.datetime.now().isoformat(timespec="seconds"))
    progress(phase, "generated", str(target))
    return time.time() - started


def link_tree(source: Path, target: Path) -> tuple[int, int]:
    """Hard-link (copy across file systems) every file of `source` under `target`; (files, bytes)."""
    files = size = 0
    for path in sorted(source.rglob("*")):
        if not path.is_file() or path.name == COMPLETE:
            continue
        dest = target / path.relative_to(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, dest)
        except OSError:
            shutil.copy2(path, dest)
        files += 1
        size += path.stat().st_size
    return files, size


def _environment(run: Path, landing: Path) -> dict[str, str]:
    env = dict(os.environ)
    warehouse = run / "warehouse"
    home = run / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    # The project's instance settings (its storage, pools, run monitoring), so the runs record their events as
    # `shegong run`'s do; the storage folder is resolved against this DAGSTER_HOME.
    shutil.copyfile(PROJECT_DIR / "dagster.yaml", home / "dagster.yaml")
    for name in [n for n in env if n == "SHEGONG_PG_URL" or n.startswith("DAGSTER_PG_")]:
        del env[name]  # the bench's own SQLite storage, never a server the environment names
    env.update(
        SHEGONG_LANDING=str(landing),
        SHEGONG_WAREHOUSE_DIR=str(warehouse),
        SHEGONG_DUCKDB=str(warehouse / "build" / "shegong_build.duckdb"),
        DAGSTER_HOME=str(home),
        PYTHONUNBUFFERED="1",
    )
    return env


def run_worker(args: list[str], env: dict[str, str], run: Path, name: str, progress: Progress) -> dict:
    """Start `python -m shegong_tools.bench.worker`, relay its progress lines, return its figures."""
    out, log = run / f"{name}.json", run / f"{name}.log"
    command = [
        sys.executable,
        "-m",
        "shegong_tools.bench.worker",
        *args,
        "--out",
        str(out),
        "--log",
        str(log),
    ]
    with (run / f"{name}.stderr.log").open("w", encoding="utf-8") as errors:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=errors, env=env, cwd=run, text=True, encoding="utf-8"
        )
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("BENCH "):
                message = json.loads(line[6:])
                progress(name, message["event"], message["step"])
        code = process.wait()
    if code != 0 or not out.exists():
        tail = (
            (run / f"{name}.stderr.log")
            .read_text(encoding="utf-8", errors="replace")
            .strip()
            .splitlines()[-5:]
        )
        raise BenchError(
            f"the {name} worker failed (exit {code}); see {run / f'{name}.stderr.log'}: " + " | ".join(tail)
        )
    return json.loads(out.read_text(encoding="utf-8"))


def _with_totals(result: dict) -> dict:
    stages = result.get("stages", {})
    if result.get("mode") == "baseline":
        result["total_rows"] = stages.get("read", {}).get("rows", 0)
        result["total_bytes"] = stages.get("read", {}).get("bytes", 0)
    else:
        result["total_rows"] = stages.get(INGEST, {}).get("rows", 0) + stages.get(EXTRACT, {}).get("rows", 0)
        result["total_bytes"] = stages.get(INGEST, {}).get("bytes", 0) + stages.get(EXTRACT, {}).get(
            "bytes", 0
        )
    return result


def add_new_month(landing: Path, side: Path, new_month: str) -> tuple[list[str], str | None]:
    """Copy the next month's files of NEW_REGISTRY and one report from the side generation into landing."""
    copied = []
    for path in sorted((side / NEW_REGISTRY).iterdir()):
        if f"_{new_month}_" in path.name:
            shutil.copy2(path, landing / NEW_REGISTRY / path.name)
            copied.append(path.name)
    reports = sorted((side / "reports").iterdir()) if (side / "reports").is_dir() else []
    report = None
    if reports:
        source = reports[-1]
        report = NEW_REPORT_PREFIX + source.name
        shutil.copy2(source, landing / "reports" / report)
    return copied, report


def extraction_throughput(reports: list[Path]) -> dict:
    """Reports/s and MB/s of extraction beside merely reading and normalising the same files."""
    from shegong.extraction import ReportReadError, extract_file, read_report
    from shegong.extraction.normalize import normalize_text

    size = sum(p.stat().st_size for p in reports)
    if reports:  # warm the catalogue, gazetteer and OpenCC once, outside the timings
        with contextlib.suppress(ReportReadError):
            extract_file(reports[0])
    started = time.perf_counter()
    for path in reports:
        try:
            normalize_text(read_report(path))
        except ReportReadError:
            continue
    normalised = time.perf_counter() - started
    started = time.perf_counter()
    facts = 0
    for path in reports:
        try:
            facts += len(extract_file(path).facts)
        except ReportReadError:
            continue
    extracted = time.perf_counter() - started
    return {
        "reports": len(reports),
        "bytes": size,
        "facts": facts,
        "normalise_seconds": normalised,
        "extract_seconds": extracted,
    }


def run_bench(scale: str, bench_root: Path, progress: Progress, incremental: bool = True) -> BenchResult:
    paths = BenchPaths(bench_root / scale)
    paths.root.mkdir(parents=True, exist_ok=True)
    started_at = dt.datetime.now().isoformat(timespec="seconds")
    load_start = os.getloadavg()
    generation = ensure_generated(paths.landing, scale, MONTHS, progress, "generate")
    if incremental:
        generation += ensure_generated(paths.side, scale, MONTHS + 1, progress, "generate (next month)")

    if paths.run.exists():
        shutil.rmtree(paths.run)
    landing = paths.run / "landing"
    files, size = link_tree(paths.landing, landing)
    env = _environment(paths.run, landing)

    # A build that does not publish (a blocking check failed) is still timed; the CLI says so beside the figures.
    full = _with_totals(run_worker(["--mode", "full"], env, paths.run, "full build", progress))
    # What the pipeline does today when run again with nothing new landed, whatever that is.
    noop = _with_totals(run_worker(["--mode", "noop"], env, paths.run, "no-op run", progress))
    baseline = _with_totals(
        run_worker(
            [
                "--mode",
                "baseline",
                "--landing",
                str(landing),
                "--scratch",
                str(paths.run / "baseline"),
                "--build-db",
                env["SHEGONG_DUCKDB"],
            ],
            env,
            paths.run,
            "baseline",
            progress,
        )
    )
    new_month = month_label(START_MONTH, MONTHS)
    new_files: list[str] = []
    new_report = None
    increment = None
    if incremental:
        new_files, new_report = add_new_month(landing, paths.side, new_month)
        # What `shegong run` does once they landed: it finds them (change detection) and builds what depends on
        # them; naming the month and report instead would build every model, as a backfill does.
        args = ["--mode", "incremental"]
        increment = _with_totals(run_worker(args, env, paths.run, "incremental", progress))

    progress("extraction", "STEP_START", "extraction throughput")
    reports = sorted(p for p in (paths.landing / "reports").iterdir() if p.is_file())
    extraction = extraction_throughput(reports)
    progress("extraction", "DONE", "")

    result = BenchResult(
        scale=scale,
        full=full,
        noop=noop,
        baseline=baseline,
        incremental=increment,
        extraction=extraction,
        generation_seconds=generation,
        landing_files=files,
        landing_bytes=size,
        new_month=new_month,
        new_files=new_files,
        new_report=new_report,
        started_at=started_at,
        loadavg=load_start,
        machine={
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        },
    )
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    (paths.root / f"results-{stamp}.json").write_text(
        json.dumps(result.as_json(), ensure_ascii=False, indent=1, default=str), encoding="utf-8"
    )
    return result
