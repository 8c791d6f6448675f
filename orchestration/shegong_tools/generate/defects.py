"""Planting known defects in a file's rows, one reason per defective row, with the reason code the ingest
gives it. A mutated row stands in for the clean one (so it drops out of every truth figure); duplicates and
junk total rows are extra rows, and the clean original stays.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from shegong.gazetteer import is_known

from .people import USCC_ALPHABET
from .writers import BadDate, Raw

MUTATION_RATE = 0.010
DUP_IN_FILE_RATE = 0.002
DUP_ACROSS_RATE = 0.002

# (reason, column, weight) per registry; a mutation applies to a column only when the file writes it.
MUTATIONS: dict[str, list[tuple[str, str, float]]] = {
    "workers": [
        ("bad_id_number", "id_number", 3),
        ("bad_uscc", "employer_uscc", 1),
        ("bad_certificate_no", "certificate_no", 2),
        ("unknown_region_code", "region_code", 1),
        ("unparseable_date", "certified_on", 1),
        ("unparseable_date", "registered_on", 0.5),
        ("implausible_date", "certified_on", 1.5),
        ("missing_required", "worker_name", 0.5),
        ("missing_required", "id_number", 0.5),
        ("missing_required", "certificate_level", 0.5),
        ("unknown_enum_value", "certificate_level", 1),
        ("unknown_enum_value", "registration_status", 0.5),
    ],
    "stations": [
        ("unknown_region_code", "region_code", 1),
        ("unparseable_date", "opened_on", 1),
        ("implausible_date", "opened_on", 1),
        ("missing_required", "station_name", 1),
        ("unknown_enum_value", "station_level", 1),
        ("unknown_enum_value", "operating_status", 0.5),
        ("bad_uscc", "operator_uscc", 1),
        ("negative_value", "resident_workers", 0.5),
    ],
    "agencies": [
        ("bad_uscc", "agency_uscc", 2),
        ("unknown_region_code", "region_code", 1),
        ("unparseable_date", "founded_on", 1),
        ("implausible_date", "founded_on", 1),
        ("missing_required", "agency_name", 1),
        ("unknown_enum_value", "registration_status", 1),
        ("negative_value", "full_time_staff", 0.5),
    ],
    "funding": [
        ("bad_uscc", "provider_uscc", 2),
        ("unknown_region_code", "purchaser_region_code", 1),
        ("unparseable_date", "signed_on", 1),
        ("implausible_date", "signed_on", 1),
        ("negative_value", "amount_yuan", 1.5),
        ("missing_required", "project_name", 0.5),
        ("missing_required", "amount_yuan", 0.5),
        ("unknown_enum_value", "funding_source", 1),
        ("end_before_start", "service_end_on", 1.5),
    ],
    "training_sessions": [
        ("unknown_region_code", "organizer_region_code", 1),
        ("unparseable_date", "start_on", 1),
        ("implausible_date", "start_on", 1),
        ("negative_value", "budget_yuan", 1),
        ("missing_required", "session_title", 1),
        ("unknown_enum_value", "program", 1),
        ("end_before_start", "end_on", 1.5),
    ],
    "training_attendance": [
        ("bad_id_number", "id_number", 3),
        ("bad_certificate_no", "certificate_no", 1.5),
        ("missing_required", "attendee_name", 1),
        ("missing_required", "credited_hours", 0.5),
        ("unknown_enum_value", "completed", 1),
        ("negative_value", "credited_hours", 1),
    ],
    "regions": [],
}

_JUNK_ENUM = {
    "certificate_level": ("特级社工", "员级", "见习社工"),
    "registration_status": ("冻结", "待审核", "筹备中"),
    "station_level": ("片区站", "县级中心"),
    "operating_status": ("筹建中", "试运行"),
    "funding_source": ("自筹资金", "其他资金"),
    "program": ("其他培训", "专题讲座"),
    "completed": ("待定", "部分"),
}
_BAD_DAYS = ((2, 30), (2, 31), (4, 31), (6, 31), (9, 31), (11, 31))
_END_BEFORE_START = {"service_end_on": "service_start_on", "end_on": "start_on"}


@dataclass
class Context:
    registry: str
    month_end: dt.date
    written: set[str]  # contract columns the file writes
    index: dict[str, int]  # column name -> position in the canonical row
    first_column: str  # the written free-text column where a 合计 row puts its label
    junk_total: bool  # append a 合计 row
    sum_column: str | None = None  # a numeric column the 合计 row fills


@dataclass
class Planted:
    rows: list[list]
    origin: list[int]  # index into the clean rows for a clean row, -1 for a defective one
    reasons: list[str | None]
    defects: list[tuple[int, str]] = field(default_factory=list)  # (position in rows, reason)


def _wrong_check(value: str, alphabet: str, rng) -> str:
    choices = [c for c in alphabet if c != value[-1]]
    return value[:-1] + choices[int(rng.integers(len(choices)))]


def _unknown_code(code: str, rng) -> str:
    if rng.random() < 0.4:
        bad = "999999"
    else:
        bad = f"{code[:2]}99{int(rng.integers(50, 99)):02d}"
        if is_known(bad):
            bad = "999999"
    return bad + code[6:]


def mutate(row: list, reason: str, column: str, ctx: Context, rng) -> bool:
    """Plant `reason` in `column` of `row` (in place); False when this row cannot carry it."""
    i = ctx.index[column]
    value = row[i]
    if reason == "bad_id_number":
        if not value:
            return False
        row[i] = _wrong_check(value, "0123456789X", rng)
    elif reason == "bad_uscc":
        if not value:
            return False
        row[i] = _wrong_check(value, USCC_ALPHABET, rng)
    elif reason == "bad_certificate_no":
        if not value:
            return False
        cut = int(rng.integers(6, 16))
        row[i] = value[:cut] + value[cut + 1 :] if rng.random() < 0.6 else value[:-2] + "A" + value[-1]
    elif reason == "unknown_region_code":
        row[i] = _unknown_code(value, rng)
    elif reason == "unparseable_date":
        month, day = _BAD_DAYS[int(rng.integers(len(_BAD_DAYS)))]
        row[i] = BadDate(value.year if value else ctx.month_end.year, month, day)
    elif reason == "implausible_date":
        if column == "certified_on" and rng.random() < 0.5:
            row[i] = dt.date(
                int(rng.integers(2003, 2008)), int(rng.integers(1, 13)), int(rng.integers(1, 29))
            )
        elif column == "founded_on" and rng.random() < 0.3:
            row[i] = dt.date(
                int(rng.integers(1960, 1990)), int(rng.integers(1, 13)), int(rng.integers(1, 29))
            )
        else:
            shift = dt.timedelta(days=int(rng.integers(35, 400)))
            row[i] = ctx.month_end + shift
            if column == "start_on":  # keep the session's end after its start: one reason per row
                row[ctx.index["end_on"]] = row[i] + dt.timedelta(days=1)
    elif reason == "negative_value":
        if value is None or value == "":
            return False
        row[i] = -abs(value) if value else -1
        if row[i] == 0:
            row[i] = -1
    elif reason == "missing_required":
        row[i] = None
    elif reason == "unknown_enum_value":
        choices = _JUNK_ENUM[column]
        row[i] = Raw(choices[int(rng.integers(len(choices)))])
    elif reason == "end_before_start":
        start = row[ctx.index[_END_BEFORE_START[column]]]
        row[i] = start - dt.timedelta(days=int(rng.integers(1, 90)))
    else:  # pragma: no cover - a programming error
        raise ValueError(reason)
    return True


def plant(rows: list[list], ctx: Context, rng, pool: list[list], n_mutations: int) -> Planted:
    """Defects for one file: `n_mutations` rows mutated, plus a few duplicates. `pool` holds clean rows of
    files that sort earlier and share the key scope; copies of them become duplicate_across_files."""
    n = len(rows)
    options = [(r, c, w) for r, c, w in MUTATIONS[ctx.registry] if c in ctx.written]
    entries: list[tuple[tuple, list, int, str | None]] = []
    mutated = np.zeros(n, dtype=bool)
    if options and n:
        weights = np.array([w for _, _, w in options])
        weights = weights / weights.sum()
        for pos in sorted(rng.choice(n, size=min(n, n_mutations), replace=False).tolist()):
            for _attempt in range(4):
                reason, column, _ = options[int(rng.choice(len(options), p=weights))]
                candidate = list(rows[pos])
                if mutate(candidate, reason, column, ctx, rng):
                    rows[pos] = candidate
                    mutated[pos] = True
                    entries.append(((pos, 0, 0), candidate, -1, reason))
                    break
    for pos in range(n):
        if not mutated[pos]:
            entries.append(((pos, 0, 0), rows[pos], pos, None))
    clean = np.flatnonzero(~mutated)
    n_dup = int(rng.binomial(n, DUP_IN_FILE_RATE)) if len(clean) else 0
    for j in range(n_dup):
        src = int(clean[rng.integers(len(clean))])
        at = int(rng.integers(src, n))  # after the original: the later one is the duplicate
        entries.append(((at, 1, j), list(rows[src]), -1, "duplicate_in_file"))
    if pool:
        n_cross = int(rng.binomial(n, DUP_ACROSS_RATE))
        for j in range(min(n_cross, len(pool))):
            src = pool.pop(int(rng.integers(len(pool))))
            at = int(rng.integers(0, n)) if n else 0
            entries.append(((at, 2, j), list(src), -1, "duplicate_across_files"))
    entries.sort(key=lambda e: e[0])
    out = Planted([e[1] for e in entries], [e[2] for e in entries], [e[3] for e in entries])
    if ctx.junk_total and n >= 10:
        junk: list = [None] * len(rows[0])
        junk[ctx.index[ctx.first_column]] = Raw("合计")
        if ctx.sum_column:
            values = [r[ctx.index[ctx.sum_column]] for r in rows]
            junk[ctx.index[ctx.sum_column]] = round(sum(v for v in values if isinstance(v, int | float)), 2)
        out.rows.append(junk)
        out.origin.append(-1)
        out.reasons.append("missing_required")
    out.defects = [(i, r) for i, r in enumerate(out.reasons) if r]
    return out
