"""Driving a generation: the world, then every file in file-name order per registry (so "earlier file" for
duplicates is simply "already written"), truth figures from the clean rows, the reports, the manifest."""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from shegong.contracts import Contract, contracts

from . import registries as reg
from .calendar import Month, months_from
from .defects import MUTATION_RATE, Context, Planted, plant
from .layout import REGISTRY_ORDER, file_name, file_style, regions_style
from .manifest import DefectEntry, FileEntry, Manifest
from .regions import Geography, build
from .reports import write_reports
from .scales import Scale, resolve
from .truth import Truth
from .writers import FULL_WIDTH, FileStyle, write_file

Progress = Callable[[str, int, int], None]

# A 合计 row closes some exports of the registries where a total makes sense to a clerk.
_SUM_COLUMN = {
    "workers": None,
    "stations": "resident_workers",
    "agencies": "full_time_staff",
    "funding": "amount_yuan",
    "training_sessions": "budget_yuan",
}
_PERIOD_SCOPE = ("workers", "stations", "agencies")
_POOL_PER_FILE = 3


@dataclass
class GenerationSummary:
    files: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    defects: dict[str, int] = field(default_factory=dict)
    reports: int = 0
    manifest: Path | None = None


def _rng(seed: int, *parts) -> np.random.Generator:
    return np.random.default_rng([seed, *(zlib.crc32(str(p).encode()) for p in parts)])


def _dress(rows: list[list], registry: str, index: dict[str, int], rng) -> None:
    """A few cells as hand-kept sheets have them: names padded with spaces, phones in full-width digits."""
    name_col = {"workers": "worker_name", "training_attendance": "attendee_name"}.get(registry)
    phone_col = {"workers": "phone", "agencies": "contact_phone", "stations": "contact_phone"}.get(registry)
    if not rows:
        return
    draw = rng.random((len(rows), 2))
    for i, row in enumerate(rows):
        if name_col and draw[i, 0] < 0.004 and row[index[name_col]]:
            row[index[name_col]] = f" {row[index[name_col]]}  "
        if phone_col and draw[i, 1] < 0.004 and row[index[phone_col]]:
            row[index[phone_col]] = row[index[phone_col]].translate(FULL_WIDTH)


class _Run:
    def __init__(
        self, out_dir: Path, scale: Scale, seed: int, months: list[Month], progress: Progress | None
    ):
        self.out_dir = out_dir
        self.scale = scale
        self.seed = seed
        self.months = months
        self.progress = progress or (lambda stage, done, total: None)
        self.contracts: dict[str, Contract] = contracts()
        self.summary = GenerationSummary()
        self.manifest = Manifest(seed, scale.name, [m.label for m in months])
        self.carry: dict[str, float] = {}

    def emit(
        self,
        registry: str,
        unit: str,
        month: Month | None,
        rows: list[list],
        ctx_extra: dict,
        pool: list[tuple[int, list]] | None,
        style: FileStyle,
        name: str,
    ) -> Planted:
        contract = self.contracts[registry]
        index = {c.name: i for i, c in enumerate(contract.columns)}
        label = month.label if month else "ref"
        rng = _rng(self.seed, "defects", registry, unit, label)
        _dress(rows, registry, index, rng)
        ctx = Context(
            registry=registry,
            month_end=month.end if month else self.months[-1].end,
            written={c.name for c in style.columns},
            index=index,
            # The 合计 label goes where a clerk types text: the first free-text column (not a code column,
            # which would add a format error to the row's one expected reason).
            first_column=next(
                c.name
                for c in style.columns
                if contract.by_name[c.name].type == "string" and contract.by_name[c.name].format is None
            ),
            **ctx_extra,
        )
        # A running carry spreads MUTATION_RATE over the files exactly; it starts near 1 so that even a
        # registry with a handful of rows gets a defect.
        self.carry[registry] = self.carry.get(registry, 0.999) + len(rows) * MUTATION_RATE
        n_mutations = int(self.carry[registry])
        self.carry[registry] -= n_mutations
        # Copies for duplicate_across_files come from earlier files of the same or an earlier month, so a
        # copied row never also breaks this file's period_end (one reason per row).
        k = month.index if month else 0
        eligible = [row for mk, row in pool if mk <= k] if pool is not None else []
        planted = plant(rows, ctx, rng, eligible, n_mutations)
        if pool is not None:
            left = {id(row) for row in eligible}
            pool[:] = [(mk, row) for mk, row in pool if mk > k or id(row) in left]
        rel = f"{registry}/{name}"
        write_file(self.out_dir / rel, style, planted.rows, index)
        self.manifest.files.append(
            FileEntry(
                rel,
                registry,
                unit,
                month.label if month else None,
                style.encoding,
                style.fmt,
                len(planted.rows),
                style.header_row,
            )
        )
        for pos, reason in planted.defects:
            self.manifest.defects.append(DefectEntry(rel, style.header_row + 1 + pos, registry, reason))
        s = self.summary
        s.files[registry] = s.files.get(registry, 0) + 1
        s.rows[registry] = s.rows.get(registry, 0) + len(planted.rows)
        s.defects[registry] = s.defects.get(registry, 0) + len(planted.defects)
        if pool is not None:
            clean = [planted.rows[i] for i, o in enumerate(planted.origin) if o >= 0]
            for j in rng.permutation(len(clean))[:_POOL_PER_FILE].tolist():
                pool.append((k, list(clean[j])))
        return planted

    def file(self, registry: str, unit: str, unit_name: str, month: Month):
        contract = self.contracts[registry]
        style = file_style(contract, unit, unit_name, month, self.seed)
        junk = (
            registry in _SUM_COLUMN and _rng(self.seed, "junk", registry, unit, month.label).random() < 0.08
        )
        ctx = {"junk_total": junk, "sum_column": _SUM_COLUMN.get(registry)}
        return style, ctx, file_name(registry, unit, month, style.fmt)


def generate(
    out_dir: Path,
    scale: str | int = "small",
    seed: int = 20241,
    start_month: str = "2024-01",
    months: int = 12,
    progress: Progress | None = None,
) -> GenerationSummary:
    out_dir = Path(out_dir)
    sc = resolve(scale)
    month_list = months_from(start_month, months)
    run = _Run(out_dir, sc, seed, month_list, progress)
    run.progress("world", 0, 1)
    geo = build(sc, seed)
    world = reg.build_world(sc, geo, month_list, seed)
    run.progress("world", 1, 1)
    truth = Truth(world)
    out_dir.mkdir(parents=True, exist_ok=True)
    for folder in (*REGISTRY_ORDER, "regions", "reports"):
        (out_dir / folder).mkdir(exist_ok=True)
    n_files = len(geo.units) * len(month_list)

    _write_period_registry(run, world, truth, "agencies", n_files)
    _write_period_registry(run, world, truth, "stations", n_files)
    _write_period_registry(run, world, truth, "workers", n_files)
    _write_funding(run, world, truth, n_files)
    _write_training(run, world, truth, n_files)
    _write_regions(run, geo)
    run.progress("reports", 0, 1)
    reports = write_reports(out_dir / "reports", world, truth, seed)
    run.manifest.reports = reports.figures
    run.summary.reports = reports.count
    run.progress("reports", 1, 1)
    run.summary.manifest = run.manifest.write(out_dir)
    return run.summary


def _write_period_registry(run: _Run, world: reg.World, truth: Truth, registry: str, n_files: int) -> None:
    builder = {"workers": reg.rows_workers, "stations": reg.rows_stations, "agencies": reg.rows_agencies}[
        registry
    ]
    pools: dict[int, list[tuple[int, list]]] = {m.index: [] for m in run.months}
    done = 0
    for unit in world.geo.units:
        uname = world.unit_name(unit)
        for month in run.months:
            rows, idx = builder(world, unit, month)
            style, ctx, name = run.file(registry, unit, uname, month)
            planted = run.emit(registry, unit, month, rows, ctx, pools[month.index], style, name)
            clean = np.array([o for o in planted.origin if o >= 0], dtype=np.int64)
            ent = idx[clean] if len(clean) else idx[:0]
            k = month.index
            if registry == "workers":
                status = np.where(
                    world.c_status_month[ent] <= k, world.c_status1[ent], world.c_status0[ent]
                ).astype(np.int8)
                truth.workers(unit, k, ent, status)
            elif registry == "stations":
                truth.stations(k, ent, reg.station_status(world, ent, k))
            else:
                truth.agencies(k, ent, reg.agency_status(world, ent, k))
            done += 1
            run.progress(registry, done, n_files)


def _write_funding(run: _Run, world: reg.World, truth: Truth, n_files: int) -> None:
    pool: list[tuple[int, list]] = []
    done = 0
    for unit in world.geo.units:
        uname = world.unit_name(unit)
        for month in run.months:
            rows, meta = reg.rows_funding(world, unit, month, run.seed)
            style, ctx, name = run.file("funding", unit, uname, month)
            planted = run.emit("funding", unit, month, rows, ctx, pool, style, name)
            truth.funding(month.index, [meta[o] for o in planted.origin if o >= 0])
            done += 1
            run.progress("funding", done, n_files)


def _write_training(run: _Run, world: reg.World, truth: Truth, n_files: int) -> None:
    s_pool: list[tuple[int, list]] = []
    a_pool: list[tuple[int, list]] = []
    mean_size = world.scale.attendance / max(1, world.scale.sessions)
    done = 0
    for unit in world.geo.units:
        uname = world.unit_name(unit)
        for month in run.months:
            rows, meta = reg.rows_sessions(world, unit, month, run.seed)
            all_sessions = [list(r) for r in rows]  # before any defect is planted: attendance cites them
            style, ctx, name = run.file("training_sessions", unit, uname, month)
            planted = run.emit("training_sessions", unit, month, rows, ctx, s_pool, style, name)
            att, owner = reg.rows_attendance(world, unit, month, all_sessions, run.seed, mean_size)
            a_style, a_ctx, a_name = run.file("training_attendance", unit, uname, month)
            a_planted = run.emit("training_attendance", unit, month, att, a_ctx, a_pool, a_style, a_name)
            counts = Counter(owner[o] for o in a_planted.origin if o >= 0)
            clean = [o for o in planted.origin if o >= 0]
            truth.sessions(month.index, [meta[o] for o in clean], [counts.get(o, 0) for o in clean])
            done += 1
            run.progress("training", done, n_files)


def _write_regions(run: _Run, geo: Geography) -> None:
    contract = run.contracts["regions"]
    # Townships are stored county by county and villages township by township, so ranges slice them.
    t_start = np.searchsorted(geo.twp_county, np.arange(len(geo.counties) + 1))
    v_start = np.searchsorted(geo.vil_twp, np.arange(len(geo.twp_code) + 1))
    for n, (ci, county) in enumerate(enumerate(geo.counties), 1):
        rows: list[list] = []
        for t in range(int(t_start[ci]), int(t_start[ci + 1])):
            rows.append([geo.twp_code[t], geo.twp_name[t], None])
            for v in range(int(v_start[t]), int(v_start[t + 1])):
                rows.append([geo.vil_code[v], geo.vil_name[v], geo.vil_urban[v]])
        style = regions_style(contract, county, run.seed)
        ctx = {"junk_total": False}
        run.emit("regions", county, None, rows, ctx, None, style, f"{county}_统计用区划代码.csv")
        run.progress("regions", n, len(geo.counties))
