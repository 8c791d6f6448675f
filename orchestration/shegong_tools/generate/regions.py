"""The covered geography: real counties from the gazetteer, and generated townships and villages under them.

Township (9-digit) and village (12-digit) codes follow the statistics bureau's numbering: 街道 001-099, 镇
100-199, 乡 200-299 within a county; 居委会/社区 001-199 and 村委会 200-399 within a township. Their names are
made up (the national statistical division list is not shipped), but every code extends a real county code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shegong.gazetteer import regions

from .scales import Scale, covered_counties, reporting_unit

_FIRST = list("东西南北新城金玉青白石龙凤桃柳梅松河湖山沙浦港塘桥华兴安平和永长太富高大双三鹿浮璜芦荷渔")
_SECOND = list("桥湖塘港浦山河溪泾庄园林阳宁安丰泉口坝渡圩墩店集岗坪湾洲城里亭头泽泊")
TOWNSHIP_KINDS = ("街道", "镇", "乡")
VILLAGE_KINDS = ("社区", "村")


@dataclass
class Geography:
    counties: list[str]  # county adcodes, sorted
    units: list[str]  # reporting-unit adcodes, sorted
    unit_of_county: dict[str, str]
    twp_code: list[str]
    twp_name: list[str]
    twp_kind: np.ndarray  # index into TOWNSHIP_KINDS
    twp_county: np.ndarray  # index into counties
    vil_code: list[str]
    vil_name: list[str]
    vil_kind: np.ndarray  # index into VILLAGE_KINDS
    vil_twp: np.ndarray  # index into township arrays
    vil_urban: list[str]  # 城乡分类代码

    def counties_of_unit(self, unit: str) -> list[int]:
        return [i for i, c in enumerate(self.counties) if self.unit_of_county[c] == unit]

    def townships_of_county(self, county_idx: int) -> np.ndarray:
        return np.flatnonzero(self.twp_county == county_idx)


def _place_names(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    """n distinct two-character place names not already in `taken` (names repeat across counties, as real
    ones do, but not within one)."""
    out: list[str] = []
    while len(out) < n:
        name = _FIRST[rng.integers(len(_FIRST))] + _SECOND[rng.integers(len(_SECOND))]
        if name not in taken and name[0] != name[1]:
            taken.add(name)
            out.append(name)
    return out


def build(scale: Scale, seed: int) -> Geography:
    counties = covered_counties(scale)
    unit_of_county = {c: reporting_unit(scale, c) for c in counties}
    twp_code: list[str] = []
    twp_name: list[str] = []
    twp_kind: list[int] = []
    twp_county: list[int] = []
    vil_code: list[str] = []
    vil_name: list[str] = []
    vil_kind: list[int] = []
    vil_twp: list[int] = []
    vil_urban: list[str] = []
    for ci, county in enumerate(counties):
        # Seeded per county so a county's divisions do not depend on which other counties are covered.
        rng = np.random.default_rng([seed, int(county)])
        urban = regions()[county].name.endswith("区")
        n_streets = int(rng.integers(4, 10) if urban else rng.integers(1, 5))
        n_towns = int(rng.integers(0, 4) if urban else rng.integers(5, 12))
        n_xiang = 0 if urban else int(rng.integers(0, 3))
        taken: set[str] = set()
        names = _place_names(rng, n_streets + n_towns + n_xiang, taken)
        kinds = [0] * n_streets + [1] * n_towns + [2] * n_xiang
        seq = {0: 1, 1: 100, 2: 200}
        for name, kind in zip(names, kinds, strict=True):
            code = f"{county}{seq[kind]:03d}"
            seq[kind] += 1
            ti = len(twp_code)
            twp_code.append(code)
            twp_name.append(name + TOWNSHIP_KINDS[kind])
            twp_kind.append(kind)
            twp_county.append(ci)
            # Streets are made of communities; towns have a few communities at the centre, villages around.
            n_comm = int(rng.integers(6, 16)) if kind == 0 else int(rng.integers(1, 4))
            n_vill = 0 if kind == 0 else int(rng.integers(8, 22))
            vnames = _place_names(rng, n_comm + n_vill, set())
            for j, vname in enumerate(vnames):
                is_comm = j < n_comm
                vseq = j + 1 if is_comm else 200 + (j - n_comm) + 1
                vil_code.append(f"{code}{vseq:03d}")
                vil_name.append(vname + ("社区" if is_comm else "村"))
                vil_kind.append(0 if is_comm else 1)
                vil_twp.append(ti)
                if kind == 0:
                    vil_urban.append("111" if rng.random() < 0.85 else "112")
                elif kind == 1:
                    vil_urban.append("121" if is_comm else ("220" if rng.random() < 0.8 else "122"))
                else:
                    vil_urban.append("210" if is_comm else "220")
    return Geography(
        counties=counties,
        units=sorted(set(unit_of_county.values())),
        unit_of_county=unit_of_county,
        twp_code=twp_code,
        twp_name=twp_name,
        twp_kind=np.array(twp_kind, dtype=np.int8),
        twp_county=np.array(twp_county, dtype=np.int32),
        vil_code=vil_code,
        vil_name=vil_name,
        vil_kind=np.array(vil_kind, dtype=np.int8),
        vil_twp=np.array(vil_twp, dtype=np.int32),
        vil_urban=vil_urban,
    )
