"""People and organisations: names, ID numbers, phones, certificate numbers and credit codes.

Everything here is vectorised over numpy arrays (a large landing has a million workers) and drawn from the
caller's generator, so the same seed gives the same people.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
import re

import numpy as np
from stdnum.cn import ric

from shegong.gazetteer import regions
from shegong.identifiers import complete_id_number

# Common surnames with rough relative frequencies (the top of the national surname list).
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_SURNAME_WEIGHTS = np.array([1.0 / (i + 6) for i in range(len(_SURNAMES))])
_SURNAME_WEIGHTS /= _SURNAME_WEIGHTS.sum()
_GIVEN_F = "秀英华玉兰芳丽敏静燕红霞梅琳婷雪慧颖洁欣怡佳倩晓思雨萍艳娟丹蕾晶月文琴"
_GIVEN_M = "伟强磊军勇杰涛明超刚平辉鹏华飞斌宇浩凯健俊峰建国志文博鑫海波宁亮"
_MOBILE_PREFIXES = np.array(
    [
        130,
        131,
        132,
        133,
        135,
        136,
        137,
        138,
        139,
        150,
        151,
        152,
        153,
        155,
        157,
        158,
        159,
        166,
        173,
        177,
        180,
        181,
        182,
        183,
        185,
        186,
        187,
        188,
        189,
        191,
        198,
        199,
    ]
)
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.array(list("10X98765432"))
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def names(rng: np.random.Generator, female: np.ndarray) -> list[str]:
    """Surname plus a one- or two-character given name, leaning on gendered characters."""
    n = len(female)
    sur = rng.choice(len(_SURNAMES), size=n, p=_SURNAME_WEIGHTS)
    two = rng.random(n) < 0.72
    a = rng.integers(0, 1 << 30, size=n)
    b = rng.integers(0, 1 << 30, size=n)
    out = []
    for i in range(n):
        pool = _GIVEN_F if female[i] else _GIVEN_M
        given = pool[a[i] % len(pool)]
        if two[i]:
            given += pool[b[i] % len(pool)]
        out.append(_SURNAMES[sur[i]] + given)
    return out


def mobiles(rng: np.random.Generator, n: int) -> list[str]:
    prefix = rng.choice(_MOBILE_PREFIXES, size=n)
    rest = rng.integers(0, 100_000_000, size=n)
    return [f"{p}{r:08d}" for p, r in zip(prefix.tolist(), rest.tolist(), strict=True)]


def landlines(rng: np.random.Generator, county: str, n: int) -> list[str]:
    """Office phones: a city area code (a stand-in derived from the city code where the real one is not
    listed) and an 8-digit number."""
    area = _AREA_CODES.get(county[:4]) or f"0{510 + int(county[:4]) % 390}"
    rest = rng.integers(0, 10_000_000, size=n)
    return [f"{area}-{5 + r % 4}{r:07d}" for r in rest.tolist()]


_AREA_CODES = {"3205": "0512", "3202": "0510", "3201": "025", "3301": "0571", "3501": "0591", "3502": "0592"}


@functools.cache
def _loc_table() -> list[tuple[str, str, int, int]]:
    """stdnum's historical county list: (code, name, first year, last year) for every named code."""
    text = (importlib.resources.files("stdnum") / "cn" / "loc.dat").read_text(encoding="utf-8")
    out = []
    province = ""
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if not line.startswith(" "):
            province = line.split()[0]
            continue
        sub, _, rest = line.strip().partition(" ")
        for m in re.finditer(r"(?:\[(\d*)-(\d*)\])?([^,\"]+)", rest.partition('county="')[2].rstrip('"')):
            start, end, name = m.group(1), m.group(2), m.group(3)
            out.append((province + sub, name, int(start or 0), int(end or 9999)))
    return out


def _stem(name: str) -> str:
    return name[:-1] if len(name) > 2 and name[-1] in "县市区" else name


@functools.cache
def _loc_by_stem() -> dict[str, list[tuple[str, int, int]]]:
    out: dict[str, list[tuple[str, int, int]]] = {}
    for code, name, start, end in _loc_table():
        out.setdefault(_stem(name), []).append((code, start, end))
    return out


@functools.cache
def _valid_birth_code(code: str, year: int) -> bool:
    try:  # stdnum raises KeyError (not a ValidationError) for city-level codes it knows without a county
        return ric.is_valid(complete_id_number(f"{code}{year}0101001"))
    except KeyError:
        return False


@functools.cache
def birth_code(county: str, year: int) -> str:
    """The code an ID number issued to someone from `county` born in `year` plausibly carries: the county's
    own code when it existed then, else the code the same place had then (太仓市 320585 was 太仓县 322725
    before 1983), else a code of the same city or province that existed; stdnum checks exactly this."""
    if _valid_birth_code(county, year):
        return county
    stem = _stem(regions()[county].name)
    candidates = [c for c, s, e in _loc_by_stem().get(stem, ()) if s <= year <= e]
    candidates.sort(key=lambda c: (c[:2] != county[:2], c))
    for code in candidates:
        if _valid_birth_code(code, year):
            return code
    # Otherwise a district of the same city (not the 市辖区 placeholder), else some county of the province;
    # the choice among several is keyed on the county so that not everyone lands on the first code.
    for prefix in (county[:4], county[:2]):
        pool = sorted(
            {
                code
                for code, n, s, e in _loc_table()
                if code.startswith(prefix) and code[4:] != "00" and n != "市辖区" and s <= year <= e
            }
        )
        start = int(county) % len(pool) if pool else 0
        for code in pool[start:] + pool[:start]:
            if _valid_birth_code(code, year):
                return code
    raise ValueError(f"no valid birth code for {county} in {year}")


def id_numbers(
    rng: np.random.Generator, counties: list[str], birth: np.ndarray, female: np.ndarray
) -> list[str]:
    """Valid 18-digit ID numbers: birth code, birth date, sequence (odd male, even female), check digit.

    counties: the county of each person; birth: datetime64[D]; a fifth are born in another county of the
    same province. Duplicates are redrawn so every person has a distinct number. The 17-digit body is an
    int64 (it stays below 2**63), which keeps a million numbers to a second of numpy work.
    """
    n = len(counties)
    years = birth.astype("datetime64[Y]").astype(int) + 1970
    months = birth.astype("datetime64[M]").astype(int) % 12 + 1
    days = (birth - birth.astype("datetime64[M]")).astype(int) + 1
    home = np.array([int(c) for c in counties], dtype=np.int64)
    moved = np.flatnonzero(rng.random(n) < 0.2)
    if len(moved):
        by_province: dict[int, np.ndarray] = {}
        for prov in np.unique(home[moved] // 10_000).tolist():
            by_province[prov] = np.array(
                sorted(
                    int(r.adcode)
                    for r in regions().values()
                    if r.level == "county" and int(r.adcode) // 10_000 == prov and r.name != "市辖区"
                ),
                dtype=np.int64,
            )
        pick = rng.integers(0, 1 << 30, size=len(moved))
        for j, i in enumerate(moved.tolist()):
            pool = by_province[int(home[i]) // 10_000]
            home[i] = pool[pick[j] % len(pool)]
    # One birth-code lookup per distinct (county, year), not per person.
    pairs = home * 10_000 + years
    uniq, inverse = np.unique(pairs, return_inverse=True)
    codes = np.array(
        [int(birth_code(str(p // 10_000), int(p % 10_000))) for p in uniq.tolist()], dtype=np.int64
    )
    date_part = (years * 10_000 + months * 100 + days).astype(np.int64)
    prefix = (codes[inverse] * 100_000_000 + date_part) * 1000
    seq = rng.integers(0, 500, size=n) * 2 + np.where(female, 0, 1)
    while True:
        body = prefix + seq
        _, first = np.unique(body, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        seq[dup] = rng.integers(0, 500, size=int(dup.sum())) * 2 + np.where(female[dup], 0, 1)
    digits = (body[:, None] // (10 ** np.arange(16, -1, -1, dtype=np.int64))) % 10
    check = _ID_CHECK[(digits * _ID_WEIGHTS).sum(axis=1) % 11]
    return [f"{b:017d}{c}" for b, c in zip(body.tolist(), check.tolist(), strict=True)]


def birth_dates(rng: np.random.Generator, n: int) -> np.ndarray:
    """1960-2002, most social workers born in the 1980s-90s."""
    year = np.clip(np.round(rng.triangular(1960, 1990, 2003, size=n)), 1960, 2002).astype(int)
    day = rng.integers(0, 365, size=n)
    start = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    return start + day.astype("timedelta64[D]")


def org_code(rng: np.random.Generator, n: int) -> list[str]:
    """9-character organisation codes as civil-affairs registration issues them: MJ + 6 digits + GB 11714
    check character."""
    body = rng.integers(0, 1_000_000, size=n)
    out = []
    for b in body.tolist():
        s = f"MJ{b:06d}"
        total = sum(_gb11714_value(ch) * w for ch, w in zip(s, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
        c = 11 - total % 11
        out.append(s + ("X" if c == 10 else "0" if c == 11 else str(c)))
    return out


def _gb11714_value(ch: str) -> int:
    return int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10


def uscc_check(body17: str) -> str:
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body17, weights, strict=True))
    return USCC_ALPHABET[(31 - total) % 31]


def date_of(value: np.datetime64) -> dt.date:
    return value.astype("datetime64[D]").astype(dt.date)
