"""The generated world behind the registries, and each file's clean rows.

Entities are numpy arrays (a million workers fit in a few hundred MB); `rows_*` functions turn the state of
one reporting unit in one month into canonical rows (contract column order, canonical values) plus, for each
row, the entity it describes so the truth tables can be computed from the rows that stay clean.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from shegong.gazetteer import regions

from . import people
from .calendar import Month
from .regions import Geography
from .scales import Scale

# Canonical enum codes are the contract's keys.
LEVELS = ("assistant", "intermediate", "senior")
WORKER_STATUS = ("active", "suspended", "expired", "cancelled")
CANCELLED = 3
AGENCY_STATUS = ("active", "cancelled", "revoked")
STATION_LEVELS = ("township", "village")
STATION_STATUS = ("operating", "suspended", "closed")
SOURCES = ("fiscal", "lottery", "charity")
PROGRAMS = ("continuing_education", "onboarding", "exam_preparation", "supervision", "station_staff")
PROGRAM_ZH = {
    "continuing_education": "持证社工继续教育",
    "onboarding": "新入职社工岗前",
    "exam_preparation": "社会工作者职业水平考试考前辅导",
    "supervision": "社会工作专业督导",
    "station_staff": "乡镇(街道)社工站驻站社工",
}
_AGENCY_WORDS = [
    "仁爱",
    "阳光",
    "同心",
    "启航",
    "善德",
    "和美",
    "乐群",
    "益友",
    "春晖",
    "暖阳",
    "众诚",
    "惠民",
    "博爱",
    "明德",
    "睦邻",
    "悦享",
    "向日葵",
    "彩虹",
    "心桥",
    "康乐",
    "知行",
    "正和",
    "恒爱",
    "力行",
    "新途",
    "同行",
    "乐龄",
    "安心",
    "青禾",
    "微光",
    "绿洲",
    "馨家",
    "协力",
    "德善",
    "四叶草",
    "蒲公英",
    "星火",
    "友邻",
    "致远",
    "慧灵",
]
_AGENCY_SUFFIX = ("社会工作服务中心", "社工服务社", "社会工作发展中心", "社会工作事务所", "社会工作服务社")
_PROJECT_THEMES = (
    "乡镇(街道)社工站运营",
    "困境儿童关爱服务",
    "居家养老社会工作服务",
    "社区矫正社会工作服务",
    "社会救助社会工作服务",
    "残疾人康复社会工作服务",
    "青少年成长支持",
    "精神障碍社区康复服务",
    "五社联动社区治理",
    "禁毒社会工作服务",
    "婚姻家庭社会工作服务",
    "社工人才培养",
    "农村留守老人关爱服务",
    "新就业群体融入服务",
)


def _days(d) -> np.ndarray:
    return np.datetime64(d, "D")


def _date(x: np.datetime64) -> dt.date:
    return x.astype(dt.date)


def region_name(code: str, geo: Geography) -> str:
    known = regions()
    if code in known:
        return known[code].name
    if len(code) == 9:
        return geo.twp_name[geo.twp_code.index(code)]
    return code


@dataclass
class World:
    scale: Scale
    geo: Geography
    months: list[Month]
    # agencies
    ag_uscc: list[str] = field(default_factory=list)
    ag_name: list[str] = field(default_factory=list)
    ag_region: list[str] = field(default_factory=list)
    ag_county: np.ndarray = None
    ag_founded: np.ndarray = None  # datetime64[D]
    ag_status0: np.ndarray = None  # status before any change
    ag_change_month: np.ndarray = None  # month index from which ag_status1 holds (99: never)
    ag_status1: np.ndarray = None
    ag_rep: list[str] = field(default_factory=list)
    ag_phone: list[str] = field(default_factory=list)
    ag_staff: np.ndarray = None
    # stations
    st_code: list[str] = field(default_factory=list)
    st_name: list[str] = field(default_factory=list)
    st_level: np.ndarray = None
    st_region: list[str] = field(default_factory=list)
    st_county: np.ndarray = None
    st_opened: np.ndarray = None
    st_status0: np.ndarray = None
    st_change_month: np.ndarray = None
    st_status1: np.ndarray = None
    st_operator: np.ndarray = None  # agency index or -1
    st_resident: np.ndarray = None
    st_phone: list[str] = field(default_factory=list)
    # workers
    w_name: list[str] = field(default_factory=list)
    w_id: list[str] = field(default_factory=list)
    w_phone: list[str] = field(default_factory=list)
    w_county: np.ndarray = None
    w_region: list[str] = field(default_factory=list)
    w_engagement: np.ndarray = None
    # certificates
    c_worker: np.ndarray = None
    c_level: np.ndarray = None
    c_no: list[str] = field(default_factory=list)
    c_date: np.ndarray = None
    c_reg: np.ndarray = None
    c_reg_month: np.ndarray = None  # month index of registration, -1 before the start, 99 after the end
    c_status0: np.ndarray = None
    c_status_month: np.ndarray = None
    c_status1: np.ndarray = None
    c_employer0: np.ndarray = None
    c_employer_month: np.ndarray = None
    c_employer1: np.ndarray = None
    c_station: np.ndarray = None
    unit_certs: dict[str, np.ndarray] = field(default_factory=dict)
    unit_agencies: dict[str, np.ndarray] = field(default_factory=dict)
    unit_stations: dict[str, np.ndarray] = field(default_factory=dict)
    county_weight: np.ndarray = None

    @property
    def start(self) -> dt.date:
        return self.months[0].first

    @property
    def end(self) -> dt.date:
        return self.months[-1].end

    def unit_name(self, unit: str) -> str:
        return regions()[unit].name


def build_world(scale: Scale, geo: Geography, months: list[Month], seed: int) -> World:
    world = World(scale, geo, months)
    rng = np.random.default_rng([seed, 1])
    n_c = len(geo.counties)
    weight = rng.lognormal(0.0, 0.45, size=n_c)
    world.county_weight = weight / weight.sum()
    _build_agencies(world, np.random.default_rng([seed, 2]))
    _build_stations(world, np.random.default_rng([seed, 3]))
    _build_workers(world, np.random.default_rng([seed, 4]))
    for unit in geo.units:
        cidx = np.array(geo.counties_of_unit(unit))
        world.unit_agencies[unit] = np.flatnonzero(np.isin(world.ag_county, cidx))
        world.unit_stations[unit] = np.flatnonzero(np.isin(world.st_county, cidx))
    return world


def _month_of(world: World, dates: np.ndarray) -> np.ndarray:
    """Month index of each date: -1 before the first month, 99 after the last."""
    start = np.datetime64(world.start, "M")
    k = (dates.astype("datetime64[M]") - start).astype(int)
    return np.where(k < 0, -1, np.where(k >= len(world.months), 99, k))


def _status_changes(rng, n, n_months, rate, first_month):
    """A month (1..n-1) from which a changed value holds, for a `rate` share of entities; 99 for the rest."""
    out = np.full(n, 99, dtype=np.int16)
    if n_months < 2:
        return out
    chosen = rng.random(n) < rate
    month = rng.integers(1, n_months, size=n)
    month = np.maximum(month, first_month + 1)
    ok = chosen & (month < n_months)
    out[ok] = month[ok]
    return out


def _build_agencies(world: World, rng) -> None:
    geo, scale = world.geo, world.scale
    n_c = len(geo.counties)
    counts = np.maximum(1, np.round(world.county_weight * scale.agencies)).astype(int)
    county = np.repeat(np.arange(n_c), counts)
    n = len(county)
    city_level = scale.unit_level == "city"
    region = []
    for c in county.tolist():
        code = geo.counties[c]
        # Some agencies in a city register with the city's civil-affairs bureau rather than a county's.
        region.append(geo.unit_of_county[code] if city_level and rng.random() < 0.15 else code)
    orgs = people.org_code(rng, n)
    usccs = []
    seen: set[str] = set()
    for reg, org in zip(region, orgs, strict=True):
        body = f"52{reg}{org}"
        while body in seen:  # org codes are 1-in-a-million draws; a clash is redrawn
            body = f"52{reg}{people.org_code(rng, 1)[0]}"
        seen.add(body)
        usccs.append(body + people.uscc_check(body))
    names = []
    taken: set[str] = set()
    for reg in region:
        place = regions()[reg].name
        while True:
            word = _AGENCY_WORDS[rng.integers(len(_AGENCY_WORDS))]
            suffix = _AGENCY_SUFFIX[rng.integers(len(_AGENCY_SUFFIX))]
            name = f"{place}{word}{suffix}"
            if name not in taken:
                break
            place = place + ("市" if not place.endswith("市") else "")  # rare: fall back to a variant
            word = word + _AGENCY_WORDS[rng.integers(len(_AGENCY_WORDS))]
            name = f"{place}{word}{suffix}"
            if name not in taken:
                break
        taken.add(name)
        names.append(name)
    start = _days(world.start)
    span_before = (start - _days(dt.date(2008, 1, 1))).astype(int)
    new = rng.random(n) < 0.08
    before = start - rng.integers(30, span_before, size=n).astype("timedelta64[D]")
    total_days = (_days(world.end) - start).astype(int) + 1
    during = start + rng.integers(0, total_days, size=n).astype("timedelta64[D]")
    founded = np.where(new, during, before)
    status0 = np.where(rng.random(n) < 0.04, 1, np.where(rng.random(n) < 0.01, 2, 0)).astype(np.int8)
    change = _status_changes(rng, n, len(world.months), 0.03, _month_of(world, founded))
    change[status0 != 0] = 99
    world.ag_uscc, world.ag_name, world.ag_region = usccs, names, region
    world.ag_county = county
    world.ag_founded = founded
    world.ag_status0 = status0
    world.ag_change_month = change
    world.ag_status1 = np.where(rng.random(n) < 0.85, 1, 2).astype(np.int8)
    world.ag_rep = people.names(rng, rng.random(n) < 0.6)
    phones = people.mobiles(rng, n)
    land = rng.random(n) < 0.5
    world.ag_phone = [
        people.landlines(rng, geo.counties[c], 1)[0] if is_land else p
        for c, p, is_land in zip(county.tolist(), phones, land.tolist(), strict=True)
    ]
    world.ag_staff = np.clip(np.round(rng.lognormal(2.4, 0.7, size=n)), 2, 180).astype(int)


def _build_stations(world: World, rng) -> None:
    geo = world.geo
    start = _days(world.start)
    end = _days(world.end)
    total_days = int((end - start).astype(int)) + 1
    codes, names, level, region, county, opened = [], [], [], [], [], []
    n_t = len(geo.twp_code)
    # Township stations: most opened before the first month, coverage rising through the year, a few none.
    t_draw = rng.random(n_t)
    for ti in range(n_t):
        if t_draw[ti] > 0.97:
            continue
        if t_draw[ti] < 0.78:
            d = start - int(rng.integers(20, (start - _days(dt.date(2019, 1, 1))).astype(int)))
        else:
            d = start + int(rng.integers(0, total_days))
        codes.append(f"SGZ{geo.twp_code[ti]}")
        names.append(f"{geo.twp_name[ti]}社会工作服务站")
        level.append(0)
        region.append(geo.twp_code[ti])
        county.append(int(geo.twp_county[ti]))
        opened.append(d)
    n_v = len(geo.vil_code)
    v_draw = rng.random(n_v)
    for vi in range(n_v):
        if v_draw[vi] > 0.3:
            continue
        if v_draw[vi] < 0.22:
            d = start - int(rng.integers(20, (start - _days(dt.date(2020, 1, 1))).astype(int)))
        else:
            d = start + int(rng.integers(0, total_days))
        codes.append(f"SGS{geo.vil_code[vi]}")
        names.append(f"{geo.vil_name[vi]}社会工作室")
        level.append(1)
        region.append(geo.vil_code[vi])
        county.append(int(geo.twp_county[geo.vil_twp[vi]]))
        opened.append(d)
    n = len(codes)
    order = np.argsort(np.array(codes), kind="stable")
    pick = order.tolist()
    world.st_code = [codes[i] for i in pick]
    world.st_name = [names[i] for i in pick]
    world.st_level = np.array(level, dtype=np.int8)[order]
    world.st_region = [region[i] for i in pick]
    world.st_county = np.array(county, dtype=np.int32)[order]
    world.st_opened = np.array(opened, dtype="datetime64[D]")[order]
    draw = rng.random(n)
    world.st_status0 = np.where(draw < 0.04, 1, np.where(draw < 0.05, 2, 0)).astype(np.int8)
    change = _status_changes(rng, n, len(world.months), 0.03, _month_of(world, world.st_opened))
    change[world.st_status0 != 0] = 99
    world.st_change_month = change
    world.st_status1 = np.where(rng.random(n) < 0.7, 1, 2).astype(np.int8)
    # Operators: an agency of the same county where there is one.
    operator = np.full(n, -1, dtype=np.int64)
    by_county: dict[int, np.ndarray] = {}
    for c in np.unique(world.ag_county):
        by_county[int(c)] = np.flatnonzero((world.ag_county == c) & (world.ag_status0 == 0))
    draw = rng.integers(0, 1 << 30, size=n)
    has = rng.random(n) < 0.88
    for i in range(n):
        pool = by_county.get(int(world.st_county[i]))
        if has[i] and pool is not None and len(pool):
            operator[i] = pool[draw[i] % len(pool)]
    world.st_operator = operator
    world.st_resident = np.where(
        world.st_level == 0, rng.integers(2, 7, size=n), rng.integers(1, 3, size=n)
    ).astype(int)
    world.st_phone = [people.landlines(rng, geo.counties[c], 1)[0] for c in world.st_county.tolist()]


def _batch_dates(year: int, rng) -> tuple[np.datetime64, np.datetime64]:
    """The year's certificate dates: a main batch in autumn and a smaller supplementary one."""
    main = np.datetime64(dt.date(year, int(rng.integers(8, 11)), int(rng.integers(1, 29))), "D")
    extra = np.datetime64(dt.date(year, 12, int(rng.integers(1, 21))), "D")
    return main, extra


def _build_workers(world: World, rng) -> None:
    geo, scale = world.geo, world.scale
    n = scale.workers
    n_c = len(geo.counties)
    county = rng.choice(n_c, size=n, p=world.county_weight)
    order = np.argsort(county, kind="stable")
    county = county[order]
    female = rng.random(n) < 0.78
    birth = people.birth_dates(rng, n)
    world.w_county = county
    world.w_id = people.id_numbers(rng, [geo.counties[c] for c in county.tolist()], birth, female)
    world.w_name = people.names(rng, female)
    world.w_phone = people.mobiles(rng, n)
    # A third of the registrations carry the township the worker serves in rather than the county.
    first = np.searchsorted(geo.twp_county, np.arange(n_c))
    count = np.bincount(geo.twp_county, minlength=n_c)
    twp = first[county] + rng.integers(0, 1 << 30, size=n) % np.maximum(count[county], 1)
    use_twp = (rng.random(n) < 0.33) & (count[county] > 0)
    counties_arr = geo.counties
    world.w_region = [
        geo.twp_code[t] if u else counties_arr[c]
        for c, t, u in zip(county.tolist(), twp.tolist(), use_twp.tolist(), strict=True)
    ]
    world.w_engagement = rng.gamma(0.7, 1.0, size=n)

    # Certificates: the worker's highest level, and lower ones held before it.
    top = rng.choice(3, size=n, p=[0.75, 0.23, 0.02])
    last_year = world.months[-1].year
    years = np.arange(2008, last_year + 1)
    growth = 1.22 ** (years - 2008)
    batches = {int(y): _batch_dates(int(y), rng) for y in years}
    top_year = rng.choice(years, size=n, p=growth / growth.sum())
    top_year = np.where(top == 2, np.maximum(top_year, 2019), top_year)
    c_worker, c_level, c_year = [np.arange(n)], [top], [top_year]
    lower1 = (top >= 1) & (rng.random(n) < np.where(top == 2, 1.0, 0.4))
    y1 = top_year - rng.integers(1, 6, size=n)
    ok1 = lower1 & (y1 >= 2008)
    c_worker.append(np.flatnonzero(ok1))
    c_level.append(top[ok1] - 1)
    c_year.append(y1[ok1])
    lower2 = ok1 & (top == 2) & (rng.random(n) < 0.3)
    y2 = y1 - rng.integers(1, 5, size=n)
    ok2 = lower2 & (y2 >= 2008)
    c_worker.append(np.flatnonzero(ok2))
    c_level.append(np.zeros(int(ok2.sum()), dtype=int))
    c_year.append(y2[ok2])
    cw = np.concatenate(c_worker)
    cl = np.concatenate(c_level).astype(np.int8)
    cy = np.concatenate(c_year)
    m = len(cw)
    main = np.array([batches[int(y)][0] for y in cy], dtype="datetime64[D]")
    extra = np.array([batches[int(y)][1] for y in cy], dtype="datetime64[D]")
    cdate = np.where(rng.random(m) < 0.85, main, extra)
    end = _days(world.end)
    # A certificate cannot be dated after the last month: move it to the previous year's batch.
    late = cdate > end
    if late.any():
        prev = np.array([batches.get(int(y) - 1, batches[2008])[0] for y in cy[late]], dtype="datetime64[D]")
        cdate[late] = np.maximum(prev, np.datetime64("2008-06-01"))
    reg = cdate + rng.integers(3, 60, size=m).astype("timedelta64[D]")
    # Sort certificates by worker then date so each unit's rows come out in a stable order.
    order = np.lexsort((cdate, cw))
    cw, cl, cdate, reg = cw[order], cl[order], cdate[order], reg[order]
    cyear = cdate.astype("datetime64[Y]").astype(int) + 1970
    seq = rng.permutation(m) + 1_000_000 + int(rng.integers(0, 5_000_000))
    prov = [geo.counties[c][:2] for c in county[cw].tolist()]
    world.c_no = [
        f"{y}{p}{lvl + 1}{s:010d}"
        for y, p, lvl, s in zip(cyear.tolist(), prov, cl.tolist(), seq.tolist(), strict=True)
    ]
    world.c_worker, world.c_level, world.c_date, world.c_reg = cw, cl, cdate, reg
    world.c_reg_month = _month_of(world, reg)
    draw = rng.random(m)
    world.c_status0 = np.select([draw < 0.03, draw < 0.07, draw < 0.08], [3, 2, 1], 0).astype(np.int8)
    # Certificates registered during the months start active.
    world.c_status0[world.c_reg_month >= 0] = 0
    n_months = len(world.months)
    world.c_status_month = _status_changes(rng, m, n_months, 0.04, world.c_reg_month)
    world.c_status1 = np.where(
        world.c_status0 == 0, rng.choice([1, 2, 3], size=m, p=[0.15, 0.5, 0.35]), 0
    ).astype(np.int8)
    # Employers: an agency of the worker's county (most workers), and sometimes a station.
    ccounty = county[cw]
    employer0 = np.full(m, -1, dtype=np.int64)
    employer1 = np.full(m, -1, dtype=np.int64)
    station = np.full(m, -1, dtype=np.int64)
    has_emp = rng.random(m) < 0.82
    has_st = rng.random(m) < 0.12
    d1 = rng.integers(0, 1 << 30, size=m)
    d2 = rng.integers(0, 1 << 30, size=m)
    d3 = rng.integers(0, 1 << 30, size=m)
    for c in range(n_c):
        sel = np.flatnonzero(ccounty == c)
        agencies = np.flatnonzero(world.ag_county == c)
        stations = np.flatnonzero((world.st_county == c) & (world.st_level == 0))
        if len(agencies):
            employer0[sel] = np.where(has_emp[sel], agencies[d1[sel] % len(agencies)], -1)
            employer1[sel] = agencies[d2[sel] % len(agencies)]
        if len(stations):
            station[sel] = np.where(has_st[sel], stations[d3[sel] % len(stations)], -1)
    world.c_employer0 = employer0
    world.c_employer1 = employer1
    world.c_employer_month = _status_changes(rng, m, n_months, 0.07, world.c_reg_month)
    world.c_employer_month[employer1 < 0] = 99
    world.c_station = station
    for unit in geo.units:
        cidx = np.array(geo.counties_of_unit(unit))
        world.unit_certs[unit] = np.flatnonzero(np.isin(ccounty, cidx))


# ----------------------------------------------------------------------------------------------------------
# Rows of one file. Each returns (rows, entity indices) in contract column order.


def rows_workers(world: World, unit: str, month: Month) -> tuple[list[list], np.ndarray]:
    certs = world.unit_certs[unit]
    k = month.index
    reg_m = world.c_reg_month[certs]
    if k == 0:
        # The opening roster: every certificate registered by the end of the first month, as it stands.
        sel = certs[reg_m <= 0]
    else:
        changed = (
            (reg_m == k) | (world.c_status_month[certs] == k) | (world.c_employer_month[certs] == k)
        ) & (reg_m <= k)
        sel = certs[changed]
    status = np.where(world.c_status_month[sel] <= k, world.c_status1[sel], world.c_status0[sel])
    employer = np.where(world.c_employer_month[sel] <= k, world.c_employer1[sel], world.c_employer0[sel])
    rows = []
    w_name, w_id, w_phone, w_region = world.w_name, world.w_id, world.w_phone, world.w_region
    ag_uscc, ag_name, st_code = world.ag_uscc, world.ag_name, world.st_code
    for c, s, e in zip(sel.tolist(), status.tolist(), employer.tolist(), strict=True):
        w = int(world.c_worker[c])
        st = int(world.c_station[c])
        rows.append(
            [
                w_name[w],
                w_id[w],
                w_phone[w],
                world.c_no[c],
                LEVELS[world.c_level[c]],
                _date(world.c_date[c]),
                _date(world.c_reg[c]),
                WORKER_STATUS[s],
                ag_uscc[e] if e >= 0 else None,
                ag_name[e] if e >= 0 else None,
                st_code[st] if st >= 0 else None,
                w_region[w],
            ]
        )
    return rows, sel


def station_status(world: World, idx: np.ndarray, k: int) -> np.ndarray:
    return np.where(world.st_change_month[idx] <= k, world.st_status1[idx], world.st_status0[idx])


def rows_stations(world: World, unit: str, month: Month) -> tuple[list[list], np.ndarray]:
    idx = world.unit_stations[unit]
    idx = idx[world.st_opened[idx] <= _days(month.end)]
    status = station_status(world, idx, month.index)
    rows = []
    for i, s in zip(idx.tolist(), status.tolist(), strict=True):
        op = int(world.st_operator[i])
        rows.append(
            [
                world.st_code[i],
                world.st_name[i],
                STATION_LEVELS[world.st_level[i]],
                world.st_region[i],
                _date(world.st_opened[i]),
                STATION_STATUS[s],
                world.ag_uscc[op] if op >= 0 else None,
                int(world.st_resident[i]),
                world.st_phone[i],
            ]
        )
    return rows, idx


def agency_status(world: World, idx: np.ndarray, k: int) -> np.ndarray:
    return np.where(world.ag_change_month[idx] <= k, world.ag_status1[idx], world.ag_status0[idx])


def rows_agencies(world: World, unit: str, month: Month) -> tuple[list[list], np.ndarray]:
    idx = world.unit_agencies[unit]
    idx = idx[world.ag_founded[idx] <= _days(month.end)]
    status = agency_status(world, idx, month.index)
    rows = []
    for i, s in zip(idx.tolist(), status.tolist(), strict=True):
        rows.append(
            [
                world.ag_uscc[i],
                world.ag_name[i],
                world.ag_region[i],
                _date(world.ag_founded[i]),
                AGENCY_STATUS[s],
                world.ag_rep[i],
                world.ag_phone[i],
                int(world.ag_staff[i]),
            ]
        )
    return rows, idx


# Seasonal weight of contract signing and training by calendar month (spring procurement, year-end push).
_SEASON = np.array([0.5, 0.6, 1.2, 1.3, 1.2, 1.1, 0.9, 0.8, 1.0, 1.0, 1.1, 1.5])


def _unit_share(world: World, unit: str) -> float:
    return float(world.county_weight[world.geo.counties_of_unit(unit)].sum())


def _expected(world: World, unit: str, month: Month, total: int) -> float:
    season = _SEASON[month.month - 1] / _SEASON[[m.month - 1 for m in world.months]].mean()
    return total / len(world.months) * _unit_share(world, unit) * season


def _purchaser(world: World, unit: str, rng, n: int) -> list[str]:
    geo = world.geo
    cidx = geo.counties_of_unit(unit)
    w = world.county_weight[cidx]
    counties = rng.choice(cidx, size=n, p=w / w.sum())
    out = []
    for c in counties.tolist():
        draw = rng.random()
        if world.scale.unit_level == "city" and draw < 0.15:
            out.append(unit)
        elif draw > 0.85:
            twps = geo.townships_of_county(c)
            out.append(geo.twp_code[int(twps[rng.integers(len(twps))])] if len(twps) else geo.counties[c])
        else:
            out.append(geo.counties[c])
    return out


def rows_funding(world: World, unit: str, month: Month, seed: int) -> tuple[list[list], list[dict]]:
    rng = np.random.default_rng([seed, 10, int(unit), month.index])
    n = int(rng.poisson(_expected(world, unit, month, world.scale.contracts)))
    purchasers = _purchaser(world, unit, rng, n)
    agencies = world.unit_agencies[unit]
    agencies = agencies[world.ag_founded[agencies] <= _days(month.end)]
    rows, meta = [], []
    for j, code in enumerate(purchasers):
        source = SOURCES[int(rng.choice(3, p=[0.7, 0.2, 0.1]))]
        cents = int(np.clip(rng.lognormal(12.3, 0.8), 50_000, 2_000_000) * 100)
        signed = month.first + dt.timedelta(days=int(rng.integers(0, month.days)))
        start = signed + dt.timedelta(days=int(rng.integers(0, 31)))
        length = int(rng.choice([90, 182, 365, 730], p=[0.1, 0.3, 0.5, 0.1]))
        end = start + dt.timedelta(days=length - 1)
        provider = world.ag_uscc[int(agencies[rng.integers(len(agencies))])] if len(agencies) else None
        if provider is None:
            continue
        theme = _PROJECT_THEMES[int(rng.integers(len(_PROJECT_THEMES)))]
        place = region_name(code, world.geo)
        rows.append(
            [
                f"{code[:6]}-{month.year}-GM{month.month:02d}{j + 1:03d}",
                f"{month.year}年{place}{theme}项目",
                source,
                code,
                provider,
                cents / 100,
                signed,
                start,
                end,
            ]
        )
        meta.append({"code": code, "source": source, "cents": cents})
    return rows, meta


def rows_sessions(world: World, unit: str, month: Month, seed: int) -> tuple[list[list], list[dict]]:
    rng = np.random.default_rng([seed, 11, int(unit), month.index])
    n = int(rng.poisson(_expected(world, unit, month, world.scale.sessions)))
    codes = _purchaser(world, unit, rng, n)
    rows, meta = [], []
    for j, code in enumerate(codes):
        code = code[:6]  # training is organised by county or city bureaus
        # Exam coaching clusters in the months before the June exam.
        p = np.array([0.45, 0.15, 0.25 if 3 <= month.month <= 6 else 0.03, 0.1, 0.15])
        program = PROGRAMS[int(rng.choice(5, p=p / p.sum()))]
        days = int(rng.integers(1, 6))
        hours = float(min(40, max(6, days * 8 - int(rng.integers(0, 3)) * 2)))
        start = month.first + dt.timedelta(days=int(rng.integers(0, month.days)))
        end = start + dt.timedelta(days=days - 1)
        budget_cents = int(hours * rng.integers(800, 3000)) * 100 if rng.random() > 0.05 else None
        place = region_name(code, world.geo)
        rows.append(
            [
                f"PX{code}{month.year}{month.month:02d}{j + 1:03d}",
                f"{place}{month.year}年{PROGRAM_ZH[program]}培训班(第{j + 1}期)",
                program,
                code,
                start,
                end,
                hours,
                None if budget_cents is None else budget_cents / 100,
            ]
        )
        meta.append({"code": code, "budget_cents": budget_cents or 0, "hours": hours, "start": start})
    return rows, meta


def rows_attendance(
    world: World, unit: str, month: Month, sessions: list[list], seed: int, mean_size: float
) -> tuple[list[list], list[int]]:
    """Sign-in rows for the unit's sessions of the month: attendees are workers registered in the organiser's
    region, the keen ones more often; returns rows and the session (position in `sessions`) of each row."""
    rng = np.random.default_rng([seed, 12, int(unit), month.index])
    certs = world.unit_certs[unit]
    certs = certs[world.c_reg_month[certs] <= month.index]
    if not len(certs) or not sessions:
        return [], []
    # Each worker's latest certificate number stands for them on the sign-in sheet.
    workers, last = np.unique(world.c_worker[certs][::-1], return_index=True)
    latest_cert = certs[::-1][last]
    wcounty = world.w_county[workers]
    weight = world.w_engagement[workers]
    rows, owner = [], []
    county_code = np.array(world.geo.counties)[wcounty]
    for s, session in enumerate(sessions):
        code = session[3]
        pool = np.flatnonzero(np.char.startswith(county_code, code[:4] if code.endswith("00") else code))
        if not len(pool):
            continue
        size = int(min(len(pool), max(5, rng.poisson(mean_size))))
        p = weight[pool] / weight[pool].sum()
        chosen = pool[rng.choice(len(pool), size=size, replace=False, p=p)]
        hours = session[6]
        for wi in np.sort(chosen).tolist():
            w = int(workers[wi])
            done = rng.random() < 0.9
            credited = hours if done else float(np.floor(hours * rng.uniform(0.3, 0.85) * 2) / 2)
            cert = world.c_no[int(latest_cert[wi])] if rng.random() < 0.93 else None
            rows.append(
                [session[0], world.w_name[w], world.w_id[w], cert, credited, "true" if done else "false"]
            )
            owner.append(s)
    return rows, owner
