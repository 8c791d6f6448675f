"""Figures → table rows and verdicts (pure), and the Rich tables `shegong bench` prints."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rich.table import Table

from shegong.bench.stages import STAGE_LABELS, STAGES

MIB = 1024 * 1024
GIB = 1024 * MIB

# The targets of the `large` scale (docs/benchmarks.md).
TARGET_LARGE_SECONDS = 300.0
TARGET_PEAK_BYTES = 4 * GIB
TARGET_BASELINE_RATIO = 2.0
TARGET_INCREMENTAL_SHARE = 0.10

EXTRA_LABELS = {"startup": "start-up", "transcode": "transcode", "sql": "baseline.sql"}
ORDER = ("startup", "transcode", "sql", *STAGES)
LEGEND = (
    "start-up: importing the definitions; ingest: read + contract-check the registries (raw__* steps); "
    "extract: raw__reports; dbt models: dbt_* steps less the time only dbt tests ran; validation: GX asset "
    "checks, registry checks and dbt tests; orchestration: Dagster between steps. rows: rows read (ingest), "
    "documents (extract), rows materialised (dbt), rows validated (GX), mart rows (publish); MB: file bytes read "
    "(published file for publish); peak RSS: this process plus children (dbt), sampled every 50 ms. "
    "Baseline: transcode = GB18030 and XLSX to UTF-8 CSV in Python; baseline.sql = read, type and build marts."
)


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 10:
        return f"{seconds:.2f}"
    return f"{seconds:,.1f}"


def fmt_rate(amount: float, seconds: float, unit: str = "") -> str:
    """amount/seconds with a unit, '—' when there is nothing to divide."""
    if not amount or seconds <= 0:
        return "—"
    rate = amount / seconds
    if rate >= 100:
        text = f"{rate:,.0f}"
    elif rate >= 10:
        text = f"{rate:.1f}"
    else:
        text = f"{rate:.2f}"
    return f"{text}{unit}"


def fmt_mib(amount: float) -> str:
    if not amount:
        return "—"
    mib = amount / MIB
    return f"{mib:,.0f}" if mib >= 100 else f"{mib:.1f}"


def fmt_count(amount: float) -> str:
    return f"{int(amount):,}" if amount else "—"


@dataclass(frozen=True)
class Row:
    stage: str
    label: str
    seconds: float
    share: str
    rows: str
    rows_per_s: str
    mb: str
    mb_per_s: str
    peak_mib: str

    @property
    def cells(self) -> list[str]:
        """The row as printed, in the column order of the terminal and Markdown tables."""
        return [
            self.label,
            fmt_seconds(self.seconds),
            self.share,
            self.rows,
            self.rows_per_s,
            self.mb,
            self.mb_per_s,
            self.peak_mib,
        ]


def stage_rows(result: Mapping, order: tuple[str, ...] = ORDER) -> list[Row]:
    """One row per stage that ran (in pipeline order, then any others), then the total."""
    stages: Mapping[str, Mapping] = result.get("stages", {})
    wall = float(result.get("wall") or 0.0)
    names = [s for s in order if s in stages] + sorted(s for s in stages if s not in order)
    rows = []
    for name in names:
        figures = stages[name]
        seconds = float(figures.get("seconds", 0.0))
        rows.append(
            Row(
                stage=name,
                label=STAGE_LABELS.get(name) or EXTRA_LABELS.get(name, name),
                seconds=seconds,
                share=f"{100 * seconds / wall:.0f}%" if wall > 0 else "—",
                rows=fmt_count(figures.get("rows", 0)),
                rows_per_s=fmt_rate(figures.get("rows", 0), seconds),
                mb=fmt_mib(figures.get("bytes", 0)),
                mb_per_s=fmt_rate(figures.get("bytes", 0) / MIB, seconds),
                peak_mib=fmt_mib(figures.get("peak_rss", 0)),
            )
        )
    total_rows = float(result.get("total_rows", 0))
    total_bytes = float(result.get("total_bytes", 0))
    rows.append(
        Row(
            stage="total",
            label="total",
            seconds=wall,
            share="100%",
            rows=fmt_count(total_rows),
            rows_per_s=fmt_rate(total_rows, wall),
            mb=fmt_mib(total_bytes),
            mb_per_s=fmt_rate(total_bytes / MIB, wall),
            peak_mib=fmt_mib(result.get("peak_rss", 0)),
        )
    )
    return rows


def stage_table(title: str, result: Mapping) -> Table:
    table = Table(title=title, title_justify="left")
    for name, justify in (
        ("stage", "left"),
        ("wall s", "right"),
        ("share", "right"),
        ("rows", "right"),
        ("rows/s", "right"),
        ("MB", "right"),
        ("MB/s", "right"),
        ("peak RSS MiB", "right"),
    ):
        table.add_column(name, justify=justify)
    for row in stage_rows(result):
        style = "bold" if row.stage == "total" else None
        table.add_row(*row.cells, style=style)
    return table


@dataclass(frozen=True)
class Verdict:
    target: str
    measured: str
    met: bool | None  # None: not judged at this scale


def verdicts(
    scale: str, full: Mapping, baseline: Mapping | None, incremental: Mapping | None
) -> list[Verdict]:
    """The issue's targets against this run's figures. Time and memory targets are set for `large`."""
    large = scale == "large"
    wall = float(full.get("wall", 0.0))
    peak = float(full.get("peak_rss", 0))
    out = [
        Verdict(
            "large: full build < 5 min",
            f"{wall:,.1f} s",
            (wall < TARGET_LARGE_SECONDS) if large else None,
        ),
        Verdict(
            "large: peak memory < 4 GiB",
            f"{peak / GIB:.2f} GiB",
            (peak < TARGET_PEAK_BYTES) if large else None,
        ),
    ]
    if baseline and baseline.get("wall"):
        ratio = wall / float(baseline["wall"])
        out.append(Verdict("full build ≤ 2× baseline", f"{ratio:.1f}×", ratio <= TARGET_BASELINE_RATIO))
    if incremental and incremental.get("wall") and wall > 0:
        share = float(incremental["wall"]) / wall
        out.append(
            Verdict(
                "incremental < 10% of full build", f"{100 * share:.0f}%", share < TARGET_INCREMENTAL_SHARE
            )
        )
    return out


def verdict_table(items: list[Verdict]) -> Table:
    table = Table(title="Targets", title_justify="left")
    table.add_column("target")
    table.add_column("measured", justify="right")
    table.add_column("")
    for item in items:
        mark = (
            "[green]met[/]"
            if item.met
            else "[red]missed[/]"
            if item.met is False
            else "[dim]n/a at this scale[/]"
        )
        table.add_row(item.target, item.measured, mark)
    return table


def extraction_table(figures: Mapping) -> Table:
    table = Table(title="Report extraction throughput (in-process, no warehouse)", title_justify="left")
    for name, justify in (
        ("pass", "left"),
        ("reports", "right"),
        ("wall s", "right"),
        ("reports/s", "right"),
        ("MB/s", "right"),
    ):
        table.add_column(name, justify=justify)
    reports, size = figures.get("reports", 0), figures.get("bytes", 0)
    for key, label in (
        ("extract_seconds", "extract figures (extract_file)"),
        ("normalise_seconds", "read + normalise only (read_report, normalize_text)"),
    ):
        seconds = float(figures.get(key, 0.0))
        table.add_row(
            label,
            fmt_count(reports),
            fmt_seconds(seconds),
            fmt_rate(reports, seconds),
            fmt_rate(size / MIB, seconds),
        )
    return table


def stage_markdown(result: Mapping) -> str:
    """The stage table as Markdown (for docs/benchmarks.md)."""
    lines = [
        "| stage | wall s | share | rows | rows/s | MB | MB/s | peak RSS MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in stage_rows(result):
        cells = row.cells
        if row.stage == "total":
            cells = [f"**{c}**" for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
