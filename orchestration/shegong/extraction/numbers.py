"""Number expressions in (normalised, simplified, half-width) Chinese report text.

`find_quantities(clause)` yields every number with its magnitude, unit word and qualifier, e.g.
``1.8万人`` → 18000 person, ``5100余万元`` → 51000000 yuan (at_least), ``三期`` → 3 count, ``千余人次`` → 1000
person_time (at_least), ``12.5%`` → 12.5 percent, ``2,000人`` → 2000 person.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

CJK_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
CJK_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
CJK_BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
MAGNITUDES = {
    "十": 10,
    "百": 100,
    "千": 1000,
    "万": 10_000,
    "亿": 100_000_000,
    "万亿": 10**12,
    "千万": 10**7,
    "百万": 10**6,
}

# unit word → unit type
UNIT_TYPES = {
    "人次": "person_time",
    "人": "person",
    "名": "person",
    "位": "person",
    "个小时": "hour",
    "小时": "hour",
    "学时": "hour",
    "课时": "hour",
    "元": "yuan",
    "%": "percent",
    "场次": "count",
    "个": "count",
    "家": "count",
    "所": "count",
    "座": "count",
    "处": "count",
    "支": "count",
    "期": "count",
    "场": "count",
    "次": "count",
    "班": "count",
    "项": "count",
    "轮": "count",
    "批": "count",
}

PRE_QUALIFIERS = {
    "将近": "approx",
    "接近": "approx",
    "大约": "approx",
    "约": "approx",
    "近": "approx",
    "超过": "at_least",
    "突破": "at_least",
    "不低于": "at_least",
    "不少于": "at_least",
    "至少": "at_least",
    "多于": "at_least",
    "逾": "at_least",
    "超": "at_least",
    "不到": "at_most",
    "不足": "at_most",
    "不超过": "at_most",
    "低于": "at_most",
    "少于": "at_most",
}
POST_QUALIFIERS = {
    "左右": "approx",
    "上下": "approx",
    "以上": "at_least",
    "以下": "at_most",
    "以内": "at_most",
}

_pre = "|".join(sorted(PRE_QUALIFIERS, key=len, reverse=True))
_units = "|".join(re.escape(u) for u in sorted(UNIT_TYPES, key=len, reverse=True))
_cjk = "零〇一二两三四五六七八九十百千万亿"

QUANTITY_RE = re.compile(
    rf"(?P<pre>{_pre})?"
    rf"(?:百分之(?P<pct>[{_cjk}点]+|\d+(?:\.\d+)?)"
    rf"|(?P<arabic>(?<![\d.a-zA-Z])\d{{1,3}}(?:,\d{{3}})+(?![\d])(?:\.\d+)?|(?<![\d.a-zA-Z])\d+(?:\.\d+)?)"
    rf"|(?P<cjk>(?<![{_cjk}])[{_cjk}]+))"
    r"(?P<q1>余|多)?"
    r"(?P<mag>万亿|千万|百万|亿|万|千|百)?"
    r"(?P<q2>余|多)?"
    rf"\s?(?P<unit>{_units})?"
    r"(?P<post>左右|上下|以上|以下|以内)?"
)

# unit words that start a longer, non-unit word ("一次性", "名单", "所以", "支持", "期间", "家庭" ...)
_UNIT_FALSE_NEXT = {
    "次": "性数",
    "名": "单称义额次",
    "所": "以有属在谓",
    "支": "持出付部撑",
    "处": "理置于室长",
    "期": "间限待刊末初内",
    "场": "所地景馆",
    "班": "子级组长",
    "家": "庭属长乡园",
    "位": "置于",
    "个": "人体案性",
    "项": "目",
    "批": "准复示",
    "人": "民口",
    "座": "谈",
    "轮": "流",
}


@dataclass(frozen=True)
class Quantity:
    start: int  # start of the whole expression (including a qualifier prefix)
    num_start: int  # start of the digits
    end: int  # end of the expression (after unit / post qualifier)
    value: float | int
    unit_word: str | None
    unit: str | None  # unit type: person, person_time, yuan, count, hour, percent
    qualifier: str
    magnitude: bool  # a 万/亿-style magnitude was present
    cjk: bool  # written in Chinese numerals


def parse_cjk_number(text: str) -> int | None:
    """Chinese numerals → int: 三 → 3, 十二 → 12, 二十 → 20, 百 → 100, 一万二千 → 12000, 二〇二一 → 2021."""
    if not text:
        return None
    if all(ch in CJK_DIGITS for ch in text):
        if len(text) == 1:
            return CJK_DIGITS[text]
        return int("".join(str(CJK_DIGITS[ch]) for ch in text))
    total = 0
    section = 0
    digit: int | None = None
    last_small = 10_000
    for ch in text:
        if ch in CJK_DIGITS:
            if digit is not None and digit != 0:
                return _cn2an_fallback(text)
            digit = CJK_DIGITS[ch]
        elif ch in CJK_SMALL_UNITS:
            unit = CJK_SMALL_UNITS[ch]
            if unit >= last_small:
                return _cn2an_fallback(text)
            section += (1 if digit is None else digit) * unit
            digit = None
            last_small = unit
        elif ch in CJK_BIG_UNITS:
            unit = CJK_BIG_UNITS[ch]
            if digit is not None:
                section += digit
            if section == 0:
                section = 1
            total = (total + section) * unit if unit > 10_000 else total + section * unit
            section = 0
            digit = None
            last_small = 10_000
        else:
            return None
    if digit is not None:
        section += digit
    return total + section


@functools.lru_cache(maxsize=512)
def _cn2an_fallback(text: str) -> int | None:
    """Unusual Chinese number forms: defer to cn2an (loaded lazily, results cached)."""
    try:
        import cn2an

        value = cn2an.cn2an(text, "normal")
    except Exception:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _tidy(value: float) -> float | int:
    rounded = round(value)
    if abs(value - rounded) < 1e-6:
        return int(rounded)
    return round(value, 6)


RANGE_SEP_RE = re.compile(r"\s*[-~—～至到]\s*")


def find_quantities(text: str) -> Iterator[Quantity]:
    """Every number expression in `text`, with value normalised to base units. A range ("500万-600万元") is one
    quantity: its lower bound, with the upper bound's unit, at_least (from 10 up; "2至3名" is a norm, not a count)."""
    pending: Quantity | None = None
    for q in _number_expressions(text):
        if pending is not None:
            joined = RANGE_SEP_RE.fullmatch(text, pending.end, q.start)
            # "2至3名" per station is a staffing norm, not a total: small ranges stay two bare numbers
            if joined and q.unit_word and (pending.magnitude or not q.magnitude) and pending.value >= 10:
                yield Quantity(
                    start=pending.start,
                    num_start=pending.num_start,
                    end=q.end,
                    value=pending.value,
                    unit_word=q.unit_word,
                    unit=q.unit,
                    qualifier="at_least",
                    magnitude=pending.magnitude,
                    cjk=pending.cjk,
                )
                pending = None
                continue
            yield pending
            pending = None
        if q.unit_word is None and not q.cjk:
            pending = q  # may open a range
        else:
            yield q
    if pending is not None:
        yield pending


def _number_expressions(text: str) -> Iterator[Quantity]:
    for m in QUANTITY_RE.finditer(text):
        arabic, cjk, pct = m.group("arabic"), m.group("cjk"), m.group("pct")
        unit_word = m.group("unit")
        mag = m.group("mag")
        end = m.end()
        if unit_word:
            nxt = text[m.end("unit") : m.end("unit") + 1]
            if nxt and nxt in _UNIT_FALSE_NEXT.get(unit_word, ""):
                unit_word = None
                end = m.end("unit") - len(m.group("unit"))
        if pct is not None:
            base = parse_cjk_number(pct) if not pct[0].isdigit() else float(pct)
            if base is None:
                continue
            value: float = float(base)
            unit_word = "%"
            mag = None
        elif arabic is not None:
            value = float(arabic.replace(",", ""))
        else:
            assert cjk is not None
            # a CJK run may carry its magnitude inside ("二十万"); a bare magnitude char is a number too ("百次")
            if cjk in ("万", "亿", "万亿"):
                continue  # a bare 万/亿 is a word ("万人", "万州"), not a number
            parsed = parse_cjk_number(cjk)
            if parsed is None:
                continue
            value = float(parsed)
        magnitude = False
        if mag:
            if arabic is None and pct is None and mag in ("百", "千"):
                # "三百" is already inside the CJK run; a trailing 百/千 after a CJK run is not a magnitude
                pass
            value *= MAGNITUDES[mag]
            magnitude = mag in ("万", "亿", "万亿", "千万", "百万")
        if cjk is not None and any(c in cjk for c in "万亿"):
            magnitude = True
        qualifier = "exact"
        pre = m.group("pre")
        start = m.start()
        if cjk and cjk[0] in "十百千万" and m.start() > 0 and text[m.start() - 1] in "数几":
            continue  # 数百人 / 几十个: vague
        if not pre and cjk in ("百", "千", "万") and m.start() > 0 and text[m.start() - 1] == "上":
            pre, start = "超", m.start() - 1  # 上百次 / 上千人: at least
        post = m.group("post")
        if pre:
            qualifier = PRE_QUALIFIERS[pre]
        elif m.group("q1") or m.group("q2"):
            qualifier = "at_least"
        elif post:
            qualifier = POST_QUALIFIERS[post]
        if pre and (m.group("q1") or m.group("q2")) and qualifier == "approx":
            qualifier = "approx"
        unit = UNIT_TYPES.get(unit_word) if unit_word else None
        num_start = (
            m.start("arabic") if arabic is not None else (m.start("cjk") if cjk is not None else m.start())
        )
        if pct is not None:
            num_start = m.start()
        yield Quantity(
            start=start,
            num_start=num_start,
            end=end,
            value=_tidy(value),
            unit_word=unit_word,
            unit=unit,
            qualifier=qualifier,
            magnitude=magnitude,
            cjk=cjk is not None,
        )
