"""The metric catalogue (`metric_catalogue.yml`, data) and its cues compiled into matching rules."""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

CATALOGUE_PATH = Path(__file__).with_name("metric_catalogue.yml")
DIMENSION_KEYS = ("code", "category", "unit", "name_zh", "name_en", "description")
UNITS = {"person", "person_time", "yuan", "count", "hour", "percent"}

# characters a cue and its number may be separated by: no clause punctuation, no quotes or title marks,
# parentheses only when balanced ("乡镇(街道)社工站")
SEP = ",，;；。!?！?:："
GAP = rf"(?:[^{SEP}、()《》“”\"]|\([^()]{{0,8}}\))"


@functools.cache
def _raw_catalogue() -> list[dict]:
    with CATALOGUE_PATH.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    metrics = data["metrics"] if isinstance(data, dict) else data
    for entry in metrics:
        missing = [k for k in DIMENSION_KEYS if k not in entry]
        if missing:
            raise ValueError(f"metric_catalogue.yml: entry {entry.get('code')!r} lacks {missing}")
        if entry["unit"] not in UNITS:
            raise ValueError(f"metric_catalogue.yml: {entry['code']}: unknown unit {entry['unit']!r}")
    return metrics


def load_metric_catalogue() -> list[dict]:
    """The catalogue entries (code, category, unit, name_zh, name_en, description, cues), a fresh copy."""
    return copy.deepcopy(_raw_catalogue())


def _widen(rx: str) -> str:
    # cues are written with ASCII clause punctuation; accept the full-width forms too
    return rx.replace("[^,;。", f"[^{SEP}")


@dataclass(frozen=True)
class Rule:
    code: str
    unit: str
    units: frozenset[str]
    unitless: bool
    before: re.Pattern[str] | None
    after: re.Pattern[str] | None
    sentence: re.Pattern[str] | None
    negative: re.Pattern[str] | None
    inherit: frozenset[str]
    inherit_cue: re.Pattern[str] | None
    priority: int
    cue: re.Pattern[str] | None = None  # the before-cues anywhere (a list's heading: "报考人数最多的省份为:")


def _alt(patterns: list[str]) -> str:
    return "|".join(f"(?:{_widen(p)})" for p in patterns)


@functools.cache
def rules() -> tuple[Rule, ...]:
    out = []
    for i, entry in enumerate(_raw_catalogue()):
        cues = entry.get("cues") or {}
        units = [str(u) for u in cues.get("units", [])]
        before = after = None
        if cues.get("before"):
            gap = int(cues.get("max_gap", 4))
            # greedy prefix → the cue occurrence nearest the number; the gap group measures the distance
            before = re.compile(rf".*(?:{_alt(cues['before'])})(?P<gap>{GAP}{{0,{gap}}})$")
        if cues.get("after"):
            gap = int(cues.get("max_gap_after", 4))
            after = re.compile(rf"^(?P<gap>{GAP}{{0,{gap}}}?)(?:{_alt(cues['after'])})")
        out.append(
            Rule(
                code=entry["code"],
                unit=entry["unit"],
                units=frozenset(u for u in units if u != "unitless"),
                unitless="unitless" in units,
                before=before,
                after=after,
                sentence=re.compile(cues["sentence"]) if cues.get("sentence") else None,
                negative=re.compile(cues["negative"]) if cues.get("negative") else None,
                inherit=frozenset(cues.get("inherit", [])),
                inherit_cue=re.compile(cues["inherit_cue"]) if cues.get("inherit_cue") else None,
                priority=int(cues.get("priority", 100 + i)),
                cue=re.compile(_alt(cues["before"])) if cues.get("before") else None,
            )
        )
    return tuple(sorted(out, key=lambda r: r.priority))
