"""How big a generated landing is: worker count, which real provinces/cities/counties it covers, and which
level reports (one file per reporting unit and month).

Every other volume (agencies, contracts, sessions, attendance, reports) is derived from the worker count so
an integer scale N grows the whole landing in proportion.
"""

from __future__ import annotations

from dataclasses import dataclass

from shegong.gazetteer import regions


@dataclass(frozen=True)
class Scale:
    name: str
    workers: int
    provinces: tuple[str, ...]  # province adcodes covered
    cities: tuple[str, ...] | None  # None: every city of the provinces
    counties: tuple[str, ...] | None  # None: every county of the chosen cities
    unit_level: str  # "county" | "city": the level that sends one file per month

    @property
    def agencies(self) -> int:
        return max(12, self.workers // 50)

    @property
    def contracts(self) -> int:
        return max(24, self.workers // 5)

    @property
    def sessions(self) -> int:
        return max(12, self.workers * 3 // 50)

    @property
    def attendance(self) -> int:
        return self.workers * 2

    @property
    def reports(self) -> int:
        return max(12, self.workers // 500)


# Small is one province, two of its cities and six county-level units: fast enough for tests and demos, and
# built around 太仓市/苏州市 so the generated reports speak of the same places as the real development set.
_SMALL_GEO = dict(
    provinces=("320000",),
    cities=("320500", "320200"),
    counties=("320585", "320583", "320581", "320281", "320282", "320213"),
    unit_level="county",
)
_MEDIUM_GEO = dict(provinces=("320000",), cities=None, counties=None, unit_level="city")
# Three provinces reported by city keep the file count near 33 cities x 6 registries x 12 months (~2,400).
_LARGE_GEO = dict(provinces=("320000", "330000", "350000"), cities=None, counties=None, unit_level="city")

SCALES: dict[str, Scale] = {
    "small": Scale("small", 5_000, **_SMALL_GEO),
    "medium": Scale("medium", 100_000, **_MEDIUM_GEO),
    "large": Scale("large", 1_000_000, **_LARGE_GEO),
}


def resolve(scale: str | int) -> Scale:
    """A named scale, or N workers on the geography that suits N."""
    if isinstance(scale, str):
        if scale.isdigit():
            scale = int(scale)
        elif scale in SCALES:
            return SCALES[scale]
        else:
            raise ValueError(f"unknown scale {scale!r}: use one of {sorted(SCALES)} or a worker count")
    if scale < 50:
        raise ValueError("scale must be at least 50 workers")
    geo = _SMALL_GEO if scale <= 20_000 else _MEDIUM_GEO if scale <= 300_000 else _LARGE_GEO
    return Scale(str(scale), int(scale), **geo)


def covered_counties(scale: Scale) -> list[str]:
    """County-level adcodes the scale covers, sorted; the gazetteer's 市辖区 placeholders are not places."""
    known = regions()
    if scale.counties is not None:
        return sorted(scale.counties)
    cities = scale.cities or tuple(
        r.adcode for r in known.values() if r.level == "city" and r.parent in scale.provinces
    )
    return sorted(
        r.adcode
        for r in known.values()
        if r.level == "county" and r.name != "市辖区" and (r.parent in cities)
    )


def reporting_unit(scale: Scale, county: str) -> str:
    """The adcode of the unit whose files carry this county's rows."""
    if scale.unit_level == "county":
        return county
    parent = regions()[county].parent
    return parent if parent and regions()[parent].level == "city" else county
