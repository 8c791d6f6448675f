"""Figures → table rows and verdicts (pure), and the Rich tables `shegong bench` prints."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rich.table import Table

from shegong_tools.bench.stages import STAGE_LABELS, STAGES

MIB = 1024 * 1024
GIB = 1024 * MIB

EXTRA_LABELS = {
    "startup": "start-up",
    "read": "read floor (decode + parse + load)",
    "raw": "type + protect (SQL)",
    "reports": "extract reports + reference",
    "models": "dbt models' SQL (no dbt)",
}
ORDER = ("startup", "read", "raw", "reports", "models", *STAGES)
LEGEND = (
    "start-up: importing the definitions; ingest: read + contract-check the registries (raw__* steps); "
    "extract: raw__reports; dbt models: dbt_* steps less the time only dbt tests ran; validation: GX asset "
    "checks, registry checks and dbt tests; orchestration: Dagster between steps. rows: rows read (ingest), "
    "documents (extract), rows materialised (dbt), rows validated (GX), mart rows (publish); MB: file bytes read "
    "(published file for publish); peak RSS: this process plus children (dbt), sampled every 50 ms. "
    "Baseline: read floor = every landing file decoded, parsed and loaded into DuckDB as text, no checks; "
    "type + protect = cells typed and personal data hashed in SQL; then the reports' figures and the dbt "
    "models' own compiled SQL run directly in one DuckDB connection."
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
class Target:
    scale: str  # the scale the issue sets it for
    text: str


@dataclass(frozen=True)
class Verdict:
    target: str
    measured: str
    met: bool | None  # None: not measured, or set for another scale


# The targets (docs/benchmarks.md), on 2 cores.
LARGE_SECONDS = 120.0
LARGE_PEAK_BYTES = 4 * GIB
BASELINE_RATIO = 2.0
READ_FLOOR_RATIO = 4.0
VALIDATION_SHARE = 0.15
INCREMENTAL_SHARE = 0.10
SMALL_SECONDS = 25.0
NOOP_SECONDS = 5.0


def read_floor(baseline: Mapping | None) -> Mapping:
    """The read floor's figures: the baseline's first stage (decode + parse + load every landing file into
    DuckDB, no checks), measured in every bench run. Empty when the baseline did not run."""
    return ((baseline or {}).get("stages") or {}).get("read", {})


def _wall(result: Mapping | None) -> float:
    return float((result or {}).get("wall") or 0.0)


def verdicts(
    scale: str,
    full: Mapping,
    baseline: Mapping | None,
    incremental: Mapping | None,
    noop: Mapping | None = None,
) -> list[Verdict]:
    """Every target of the issue with this run's measured value; met is judged only at the target's scale and
    when the figure was measured (None otherwise)."""
    wall = _wall(full)
    peak = float(full.get("peak_rss", 0))
    floor = float(read_floor(baseline).get("seconds", 0.0))
    validation = float((full.get("stages") or {}).get("validate", {}).get("seconds", 0.0))

    def ratio(numerator: float, denominator: float) -> float | None:
        return numerator / denominator if numerator > 0 and denominator > 0 else None

    def judged(target: str, value: float | None, text: str, passes) -> Verdict:
        measured = "not measured" if value is None else text.format(value)
        return Verdict(
            target, measured, passes(value) if value is not None and target.startswith(scale) else None
        )

    return [
        judged(
            "large: full build ≤ 2× baseline",
            ratio(wall, _wall(baseline)),
            "{:.1f}×",
            lambda r: r <= BASELINE_RATIO,
        ),
        judged(
            "large: full build ≤ 4× read floor",
            ratio(wall, floor),
            "{:.1f}×",
            lambda r: r <= READ_FLOOR_RATIO,
        ),
        judged("large: full build ≤ 120 s", wall or None, "{:,.1f} s", lambda s: s <= LARGE_SECONDS),
        judged(
            "large: peak memory < 4 GiB",
            peak / GIB or None,
            "{:.2f} GiB",
            lambda g: g < LARGE_PEAK_BYTES / GIB,
        ),
        judged(
            "large: validation ≤ 15% of full build",
            ratio(validation, wall),
            "{:.0%}",
            lambda r: r <= VALIDATION_SHARE,
        ),
        judged(
            "large: incremental ≤ 10% of full build",
            ratio(_wall(incremental), wall),
            "{:.0%}",
            lambda r: r <= INCREMENTAL_SHARE,
        ),
        judged("small: full build ≤ 25 s", wall or None, "{:,.1f} s", lambda s: s <= SMALL_SECONDS),
        judged("small: no-op run ≤ 5 s", _wall(noop) or None, "{:,.1f} s", lambda s: s <= NOOP_SECONDS),
    ]


def mart_differences(
    built: Mapping[str, int], baseline: Mapping[str, int]
) -> list[tuple[str, int | None, int | None]]:
    """(mart, rows in the full build, rows in the baseline) of every mart whose row counts differ or that only
    one of them has."""
    return [
        (name, built.get(name), baseline.get(name))
        for name in sorted({*built, *baseline})
        if built.get(name) != baseline.get(name)
    ]


def unequal_marts(check: Mapping[str, list[int]] | None) -> list[str]:
    """The marts the baseline's models built differently from the pipeline's raw layer (EXCEPT ALL either way),
    as 'mart (n only in the build, m only in the baseline)'."""
    return [
        f"{mart} ({only_built} only in the build, {only_ours} only in the baseline)"
        for mart, (only_built, only_ours) in sorted((check or {}).items())
        if only_built or only_ours
    ]


def verdict_table(items: list[Verdict]) -> Table:
    table = Table(title="Targets", title_justify="left")
    table.add_column("target")
    table.add_column("measured", justify="right")
    table.add_column("")
    for item in items:
        mark = (
            "[green]PASS[/]"
            if item.met
            else "[red]MISS[/]"
            if item.met is False
            else "[dim]not judged here[/]"
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
