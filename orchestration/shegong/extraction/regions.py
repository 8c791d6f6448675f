"""Place names in report text, resolved against the national gazetteer shipped with `cpca`.

The gazetteer (`cpca/resources/adcodes.csv`, 12-digit codes of which the first 6 are the adcode) is read once,
lazily, into an Aho-Corasick automaton of full names and safe short forms (贵州省 / 贵州, 苏州市 / 苏州, 黔东南苗族侗族
自治州 / 黔东南). County short forms (海盐 for 海盐县) are recognised only right after their province or city
("浙江海盐"), where they cannot be a common word.
"""

from __future__ import annotations

import csv
import re
import threading
from dataclasses import dataclass, field

from shegong.gazetteer import gazetteer_csv

NATIONAL = "全国"

# short forms that are common words or organisation names more often than places
_SHORT_BLACKLIST = {
    "中山",
    "大同",
    "东方",
    "白山",
    "和平",
    "城关",
    "新城",
    "长安",
    "永和",
    "通化",
    "朝阳",
    "吉安",
    "江南",
    "阿里",
    "安康",
    "兴安",
    "海北",
    "海西",
    "玉树",
    "黄南",
    "果洛",
    "普洱",
    "来宾",
    "三沙",
    "白银",
    "金昌",
}
_PROVINCE_ABBR = {
    "内蒙古自治区": "内蒙古",
    "广西壮族自治区": "广西",
    "西藏自治区": "西藏",
    "新疆维吾尔自治区": "新疆",
    "宁夏回族自治区": "宁夏",
    "香港特别行政区": "香港",
    "澳门特别行政区": "澳门",
}
_SKIP_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划", "直辖县级行政区划"}
_MINORITY_SUFFIX = re.compile(r"(?:[\u4e00-\u9fff]{1,6}?族)+自治(?:州|县|旗)$")


@dataclass(frozen=True)
class Place:
    adcode: str | None  # 6 digits, None for anonymised / non-gazetteer areas
    name: str  # official full name (or the text for non-gazetteer areas)
    rank: int  # 0 province, 1 city, 2 county, 3 below / unknown
    anonymised: bool = False

    @property
    def suffix(self) -> str:
        return self.name[-1:]


@dataclass
class Gazetteer:
    places: dict[str, Place] = field(default_factory=dict)  # adcode → place
    by_name: dict[str, list[str]] = field(default_factory=dict)  # surface form → adcodes
    child_short: dict[str, dict[str, str]] = field(default_factory=dict)  # parent adcode → {short: adcode}
    automaton: object = None
    patterns: list[str] = field(default_factory=list)

    def parent(self, code: str) -> str | None:
        if code.endswith("0000"):
            return None
        if code.endswith("00"):
            return code[:2] + "0000"
        city = code[:4] + "00"
        if city in self.places:
            return city
        return code[:2] + "0000"

    def chain(self, code: str | None) -> list[Place]:
        """The place and its ancestors, most specific first."""
        out: list[Place] = []
        while code:
            place = self.places.get(code)
            if place is None:
                break
            out.append(place)
            code = self.parent(code)
        return out

    def is_within(self, code: str, ancestor: str) -> bool:
        return any(p.adcode == ancestor for p in self.chain(code))


def _short_forms(name: str, rank: int) -> list[str]:
    forms: list[str] = []
    if name in _PROVINCE_ABBR:
        forms.append(_PROVINCE_ABBR[name])
    elif rank == 0:
        short = re.sub(r"(省|市)$", "", name)
        if short != name:
            forms.append(short)
    elif rank == 1:
        if name.endswith("市") and len(name) >= 3:
            forms.append(name[:-1])
        elif _MINORITY_SUFFIX.search(name):
            short = _MINORITY_SUFFIX.sub("", name)
            if len(short) >= 2:
                forms.append(short)
        elif name.endswith("地区") and len(name) >= 4:
            forms.append(name[:-2])
    return [f for f in forms if len(f) >= 2 and f not in _SHORT_BLACKLIST]


def _county_short(name: str) -> str | None:
    if _MINORITY_SUFFIX.search(name):
        short = _MINORITY_SUFFIX.sub("", name)
    elif name[-1] in "县市区旗" and len(name) >= 3:
        short = name[:-1]
    else:
        return None
    return short if len(short) >= 2 else None


def _build() -> Gazetteer:
    gaz = Gazetteer()
    with gazetteer_csv().open(encoding="utf-8") as fh:
        rows = [(r["adcode"][:6], r["name"].strip()) for r in csv.DictReader(fh)]
    for code, name in rows:
        if not name or name in _SKIP_NAMES or not code.isdigit():
            continue
        rank = 0 if code.endswith("0000") else 1 if code.endswith("00") else 2
        gaz.places[code] = Place(code, name, rank)
    surface: dict[str, list[str]] = {}
    names = {p.name for p in gaz.places.values()}
    for code, place in gaz.places.items():
        if len(place.name) <= 2:
            # 城区 / 郊区 / 新县 …: only after their parent ("阳泉城区")
            for anc in (gaz.parent(code), code[:2] + "0000"):
                if anc:
                    gaz.child_short.setdefault(anc, {}).setdefault(place.name, code)
            continue
        surface.setdefault(place.name, []).append(code)
        if place.rank == 2 and place.name[-1] in "县市" and len(place.name) >= 3:
            # county-level cities and counties since turned into districts (临安市 → 临安区)
            variant = place.name[:-1] + "区"
            if variant not in names:
                surface.setdefault(variant, []).append(code)
        for short in _short_forms(place.name, place.rank):
            surface.setdefault(short, []).append(code)

    # short forms right after a parent ("浙江海盐", "湖南长沙"): cities before counties of the same short form
    for code, place in sorted(gaz.places.items(), key=lambda kv: kv[1].rank):
        if place.rank == 2:
            short = _county_short(place.name)
            if short:
                for anc in (gaz.parent(code), code[:2] + "0000"):
                    if anc:
                        gaz.child_short.setdefault(anc, {}).setdefault(short, code)
        elif place.rank == 1:
            for short in _short_forms(place.name, 1) or [place.name[:-1]]:
                gaz.child_short.setdefault(code[:2] + "0000", {}).setdefault(short, code)
    # full names first in each list; provinces before cities before counties for shared short forms
    for key, codes in surface.items():
        codes.sort(key=lambda c: (gaz.places[c].name != key, gaz.places[c].rank, c))
    gaz.by_name = surface
    try:
        import ahocorasick

        automaton = ahocorasick.Automaton()
        for key in surface:
            automaton.add_word(key, key)
        automaton.make_automaton()
        gaz.automaton = automaton
    except ImportError:  # pragma: no cover - pyahocorasick ships with cpca
        gaz.patterns = sorted(surface, key=len, reverse=True)
        gaz.automaton = re.compile("|".join(map(re.escape, gaz.patterns)))
    return gaz


_lock = threading.Lock()
_GAZ: Gazetteer | None = None


def gazetteer() -> Gazetteer:
    """The shared gazetteer (built on first use, then cached for the process)."""
    global _GAZ
    if _GAZ is None:
        with _lock:
            if _GAZ is None:
                _GAZ = _build()
    return _GAZ


# ----------------------------------------------------------------------------------------------- mentions


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    text: str
    place: Place | None  # None for 全国 and level references
    kind: str  # "place" | "anon" | "area" | "national" | "ref"
    level: str = ""  # for "ref": 省 市 县 区 州 旗 镇 街道 地 (本地)


ANON_RE = re.compile(r"(?:[xX×*＊Ｘｘ]{1,3}|某)(省|市|县|区|州|旗|镇|街道)")
AREA_RE = re.compile(r"[\u4e00-\u9fff](?:东南|东北|西南|西北|[东南西北中])片区")
NATIONAL_RE = re.compile(
    r"(?:全国|我国)(?!(?:社会工作者|社会工作|社工)?职业水平|人大|政协|首|率先|第|前列|先进|优秀|示范|性|各地|范围内率先|百强|十佳)"
)
REF_RE = re.compile(
    r"(?:全|我|本|该)(省|市|县|区|州|旗|镇)(?![长委民政])|(?<![\u4e00-\u9fff])(省|市|县)级(?=[\u4e00-\u9fff])|本地|当地|本辖区|辖区内|全域"
)
_GUARDED_BLOCK = re.compile(r"《[^《》]*》|“[^“”]{0,40}”|\"[^\"]{0,40}\"|「[^「」]{0,40}」|『[^『』]{0,40}』")


def _masked(text: str) -> str:
    """Titles of documents and quoted names are not places a figure is about: blank them out."""
    return _GUARDED_BLOCK.sub(lambda m: "\u3000" * len(m.group(0)), text)


def find_mentions(text: str, context: list[Place] | None = None) -> list[Mention]:
    """Place mentions in a line of text, left to right, non-overlapping (longest first).

    `context` (most specific first) breaks ties between places sharing a name.
    """
    gaz = gazetteer()
    masked = _masked(text)
    raw: list[tuple[int, int, str]] = []
    if isinstance(gaz.automaton, re.Pattern):
        raw = [(m.start(), m.end(), m.group(0)) for m in gaz.automaton.finditer(masked)]
    else:
        for end_idx, key in gaz.automaton.iter(masked):
            raw.append((end_idx - len(key) + 1, end_idx + 1, key))
    for rx, kind in ((ANON_RE, "anon"), (AREA_RE, "area"), (NATIONAL_RE, "national"), (REF_RE, "ref")):
        for m in rx.finditer(masked):
            raw.append((m.start(), m.end(), kind + ":" + m.group(0)))
    # leftmost-longest, non-overlapping
    raw.sort(key=lambda r: (r[0], -(r[1] - r[0])))
    chosen: list[tuple[int, int, str]] = []
    last_end = -1
    for start, end, key in raw:
        if start >= last_end:
            chosen.append((start, end, key))
            last_end = end
    starts = {c[0] for c in chosen}
    out: list[Mention] = []
    prev_place: Place | None = None
    prev_end = -1
    for start, end, key in chosen:
        if ":" in key:
            kind, surface = key.split(":", 1)
            if kind == "anon":
                level = ANON_RE.match(surface).group(1)  # type: ignore[union-attr]
                out.append(
                    Mention(start, end, surface, Place(None, surface, 3, anonymised=True), "anon", level)
                )
            elif kind == "area":
                out.append(Mention(start, end, surface, Place(None, surface, 3), "area"))
            elif kind == "national":
                out.append(Mention(start, end, surface, None, "national"))
            else:
                if surface[0] in "全我本该" and len(surface) == 2:
                    level = surface[-1]
                elif surface.endswith("级"):
                    level = surface[0]
                else:
                    level = "地"
                out.append(Mention(start, end, surface, None, "ref", level))
            prev_place = None
            continue
        codes = gaz.by_name.get(key, [])
        if not codes:
            continue
        # a run like 浙江海盐县 / 江苏省苏州市: prefer the reading inside the previous place
        ctx_codes = [prev_place.adcode] if prev_place and prev_end == start and prev_place.adcode else []
        ctx_codes += [p.adcode for p in (context or []) if p.adcode]
        code = _pick(gaz, codes, ctx_codes)
        place = gaz.places[code]
        if key != place.name and key[-1] == "区" and key[:-1] == place.name[:-1]:
            place = Place(place.adcode, key, place.rank)  # the district a county(-level city) became
        mention = Mention(start, end, key, place, "place")
        # county / city short form right after its parent: 浙江海盐, 江苏苏州
        short_map = gaz.child_short.get(code)
        if short_map and end < len(masked) and end not in starts:
            for n in (4, 3, 2):
                seg = masked[end : end + n]
                child = short_map.get(seg)
                if child and not masked[end:].startswith(gaz.places[child].name):
                    out.append(mention)
                    mention = Mention(end, end + n, seg, gaz.places[child], "place")
                    start, end = end, end + n
                    break
        out.append(mention)
        prev_place, prev_end = mention.place, mention.end
    return out


def _pick(gaz: Gazetteer, codes: list[str], context: list[str]) -> str:
    if len(codes) == 1 or not context:
        return codes[0]
    for ctx in context:
        for code in codes:
            if gaz.is_within(code, ctx):
                return code
    return codes[0]


def resolve_reference(
    level: str, home: list[Place], fallback: list[Place], recent: list[Place] | None = None
) -> Place | None:
    """全市/我区/本县 … → the enclosing place of that level in the current context (then in the document's
    main place, then the latest place of that level mentioned)."""
    if level == "地":
        return home[0] if home else (fallback[0] if fallback else None)
    for chain in (home, fallback, list(reversed(recent or []))):
        for place in chain:
            name = place.name
            if level == "区" and (name.endswith("区") or name.endswith("自治区")):
                return place
            if level == "州" and name.endswith("州") and not name.endswith("市"):
                return place
            if level == "县" and (name.endswith("县") or name.endswith("旗")):
                return place
            if level in ("省", "市", "旗", "镇") and name.endswith(level):
                return place
            if level == "省" and place.rank == 0 and place.adcode:
                return place
    return None


def chain_of(place: Place | None) -> list[Place]:
    if place is None:
        return []
    if place.adcode is None:
        return [place]
    gaz = gazetteer()
    parent = gaz.parent(place.adcode)
    return [place, *gaz.chain(parent)]
