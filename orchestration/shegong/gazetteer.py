"""The national gazetteer of province, city and county codes (GB/T 2260), as shipped with the `cpca` package.

Township (9-digit) and village (12-digit) statistical division codes extend a county code; they are not in
the national gazetteer, so a lower-level code is *known* when its county prefix is.
"""

from __future__ import annotations

import csv
import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

LEVELS = ("province", "city", "county", "township", "village")


@dataclass(frozen=True)
class Region:
    adcode: str  # 6 digits
    name: str
    level: str  # province | city | county
    parent: str | None  # parent adcode, None for a province


def level_of(code: str) -> str | None:
    """Administrative level of a well-formed division code, from its shape alone."""
    if len(code) == 12 and code.isdigit():
        return "village"
    if len(code) == 9 and code.isdigit():
        return "township"
    if len(code) != 6 or not code.isdigit():
        return None
    if code[2:] == "0000":
        return "province"
    if code[4:] == "00":
        return "city"
    return "county"


def parent_code(code: str) -> str | None:
    """The enclosing division's code: village → township → county → city → province."""
    level = level_of(code)
    if level == "village":
        return code[:9]
    if level == "township":
        return code[:6]
    known = regions().get(code)
    return known.parent if known else None


def gazetteer_csv() -> Path:
    """cpca's `resources/adcodes.csv` (12-digit codes, of which the first 6 are the adcode), located without
    importing cpca: its import loads pkg_resources and builds cpca's own address matcher, neither used here."""
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the cpca package (the gazetteer) is not installed: run `make install`")
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"


@functools.cache
def regions() -> dict[str, Region]:
    """All provinces, cities and counties by 6-digit adcode."""
    rows: dict[str, str] = {}
    with gazetteer_csv().open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            rows[row["adcode"][:6]] = row["name"]
    out: dict[str, Region] = {}
    for code, name in rows.items():
        level = level_of(code)
        if level is None:
            continue
        out[code] = Region(code, name, level, None)
    # Parents are resolved after every code is known.
    return {code: Region(r.adcode, r.name, r.level, _parent_in(code, out)) for code, r in out.items()}


def _parent_in(code: str, known: dict[str, Region]) -> str | None:
    level = level_of(code)
    if level == "province":
        return None
    if level == "county" and code[:4] + "00" in known:
        return code[:4] + "00"
    return code[:2] + "0000"


def is_known(code: str) -> bool:
    """True for a gazetteer code, or a township/village code whose county is in the gazetteer."""
    level = level_of(code)
    if level in ("township", "village"):
        return code[:6] in regions() and regions()[code[:6]].level == "county"
    return level is not None and code in regions()


def county_of(code: str) -> str | None:
    """The 6-digit county (or city/province) code a division code falls in."""
    return code[:6] if level_of(code) is not None else None


def contains(outer: str, inner: str) -> bool:
    """True when division `inner` lies within (or is) division `outer`; both are gazetteer-shaped codes."""
    level = level_of(outer)
    if level == "province":
        return inner[:2] == outer[:2]
    if level == "city":
        return inner[:4] == outer[:4]
    if level == "county":
        return inner[:6] == outer
    if level == "township":
        return inner[:9] == outer
    return inner == outer
