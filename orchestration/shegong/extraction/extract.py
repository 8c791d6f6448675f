"""Facts from a normalised report: numbers → catalogue metrics, with qualifier, target flag, region and year.

General rules only (no per-document knowledge):
  * a number becomes a fact when a catalogue cue sits next to it in the same clause (``持证社工达3658人``,
    ``90个社工站``) and its unit fits the metric; ranks (第), ratios (每万人), growth rates, dates do not;
  * a breakdown (其中 …) of a total into the same metric is not a second fact; a figure repeated in the document
    for the same metric and place is one fact;
  * region: a place stated in the clause, else a place/reference (全县, 我市, 全国) heading the sentence, else the
    place the text is currently about (set by places in subject position: "截至2021年,贵州省…", "苏州市民政局…"),
    else the document's main place; 我市/全区/本地 resolve against that context; anonymised places (xx市) → null;
  * year: the nearest year stated earlier in the sentence (截至2021年, 到2025年, 去年/今年 relative to the
    publication year; 20XX → null), else the publication year, else null.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .catalogue import SEP, Rule, rules
from .confidence import Evidence, document_quality, fact_confidence
from .conventions import exam_metric, is_level_part, is_not_a_fact
from .model import ExtractionResult, Fact
from .normalize import NormalizedDoc, normalize_text
from .numbers import Quantity
from .numbers import find_quantities as _find_quantities
from .reading import ReportMetadata, read_report_with_metadata
from .regions import NATIONAL, Mention, Place, chain_of, find_mentions, resolve_reference

SENTENCE_RE = re.compile(r"[^。!?！？]+[。!?！？]*")
CLAUSE_SPLIT_RE = re.compile(rf"[{SEP}]")

# ------------------------------------------------------------------------------------------ exclusions
RATIO_RE = re.compile(
    r"每(?:[\d一二两三四五六七八九十百千万]|个|名|位|家|人|户|所|村|社区|乡镇|镇|街道|县|区|市|站)"
)
RANK_BEFORE_RE = re.compile(r"(?:第|排名|排第|列第|前|每|\d\s*[-~—～至到])$")
RATE_AFTER_RE = re.compile(r"^\s*(?:/|每)")
DELTA_RE = re.compile(r"(?:较|比|同比|环比)[^,，;；。]{0,12}(?:增加|增长|减少|下降|提高|提升|多|少)了?$")
PERCENT_NOISE_RE = re.compile(r"增长|增幅|下降|降幅|同比|环比|提高了|提升了|增加了|占|比例|比重|高出|低于")
BREAKDOWN_RE = re.compile(r"其中|包括")
COORDINATOR_RE = re.compile(r"^\s*(?:和|及|与|以及|、)\s*$")
# an enumeration item naming its place first: "浙江8.4万人、广东6.1万人"
PLACE_ITEM_RE = re.compile(r"^\s*(?:和|及|与|以及|、)\s*[\u4e00-\u9fff]{2,8}$")
# "由5年前的63家发展到现在的400余家": the origin of a comparison sits between the cue and its number
COMPARISON_FROM_RE = re.compile(r"(?:由|从)(?:[^,;。由从]{0,8}?的)?$")
COMPARISON_TO_RE = re.compile(
    r"(?:发展|增加|增长|提高|提升|上升|扩大|跃升|增|升|壮大)(?:到|至|为)(?:了)?(?:现在|目前|如今|当前|今年|去年)?的?$"
)

# ------------------------------------------------------------------------------------------ targets
TARGET_CLAUSE_RE = re.compile(
    r"将(?:达到|达|实现|超过|突破|增至|增加|增长|新增|建成|培育|培养|有|覆盖|保持|力争)|力争|目标|预计|计划(?:到|在|于|新增|新建|培养|培育|建成|建设|完成|实现|开展|投入|招募|打造|发展|扶持)|"
    r"争取(?:到|在)\d{4}|规划(?:到|建设|新增)|(?<!模)拟(?!定|制)|确保|预期|要达到|达到.{0,12}目标"
)
TARGET_YEAR_RE = re.compile(r"(?<![截直])(?:到|至)((?:19|20)\d{2})年")
ACHIEVED_RE = re.compile(r"已|现有|累计|目前|截至|截止|共有|实际")

# ------------------------------------------------------------------------------------------ years
YEAR_RE = re.compile(r"(?<![\d\-—~])((?:19|20)\d{2}|20[xX]{2}|20XX)\s*年(?!代)")
YEAR_SKIP_AFTER_RE = re.compile(r"^(?:度?起|以来|来|开始|之前|以前|前|至今|到现在)")
YEAR_SKIP_BEFORE_RE = re.compile(r"(?:较|比|同比|自|从|\d{4}年?\s*[至到\-—~])$")
RELATIVE_YEAR_RE = re.compile(r"(?:去年|今年|明年|前年|上年度|上一年|本年度|年内|当年)(?!以来|来|起)")
# "5年前的63家" / "未来五年…将超过1万人": a year counted from the publication year
YEARS_AGO_RE = re.compile(r"([\d一二两三四五六七八九十]{1,3})年(?:前|以前)(?!以来|来)")
YEARS_AHEAD_RE = re.compile(r"(?:未来|今后|再用|用)([\d一二两三四五六七八九十]{1,3})年(?:时间|内|后)?")
_CJK_SMALL = {
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
    "十": 10,
}
# "发展到现在的400余家" / "目前,…": the present, i.e. the publication year (it outranks a 截至 date earlier on)
NOW_RE = re.compile(r"(?:现在|目前|如今|当前)(?!以来)")
# a sentence continuing the one before (a breakdown, "同时…"): the earlier sentence's year and plan govern it
CONTINUATION_RE = re.compile(r"^\s*(?:其中|同时|并且?|还|此外|另外)")
# "截至2018年底,…": the date of a stock governs the rest of its paragraph
AS_OF_RE = re.compile(r"(?:截至|截止|截止到|到)\s*((?:19|20)\d{2})\s*年(?:底|末|年底|\d{1,2}月)")
COMPARED_YEAR_RE = re.compile(r"(?:比|较|同比|相比|与)$")


def _small_number(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    if token == "十":
        return 10
    if len(token) == 1:
        return _CJK_SMALL.get(token)
    if token.startswith("十"):
        return 10 + (_CJK_SMALL.get(token[1:]) or 0)
    return None


RELATIVE_OFFSET = {
    "去年": -1,
    "上年度": -1,
    "上一年": -1,
    "前年": -2,
    "今年": 0,
    "本年度": 0,
    "年内": 0,
    "明年": 1,
}
GUARD_RE = re.compile(r"《[^《》]*》|“[^“”]{0,40}”|「[^「」]{0,40}」|『[^『』]{0,40}』")
FIVE_YEAR_PLAN_RE = re.compile(r"[“\"]?(十[二三四五六])五[”\"]?(?:时期|期间|末|期末)?")
FIVE_YEAR_PLAN_END = {"十二": 2015, "十三": 2020, "十四": 2025, "十五": 2030, "十六": 2035}

# ------------------------------------------------------------------------------------------ regions
# 全国 as what a sentence is about (全国…考试, 全国已有…), not a rank (居全国第三, 全国前列, 全国先进)
NATIONAL_SUBJECT_RE = re.compile(
    r"(?<![居列在于位])全国(?!第|前列|前|首|领先|率先|先进|示范|优秀|百强|十佳|之最|各地|范围内率先)"
)
SUBJECT_PREFIX_RE = re.compile(
    r"^(?:\s|中共|(?:截至|截止|到|至)?(?:19|20)\d{2}\s*年(?:\d{1,2}月(?:\d{1,2}日)?)?(?:底|末|初|上半年|下半年|前三季度|以来)?|"
    r"目前|当前|现在|如今|近年来|近几年来?|近[一二两三四五六七八九十\d]+年来?|今年(?:以来)?|去年|其中|同时|此外|另外|"
    r"[((]?[一二三四五六七八九十]+[))、]|\d+[.、]|[一二三四五六七八九十]是|首先|其次|据悉|全)*$"
)
ORG_AFTER_RE = re.compile(
    r"^(?:省|市|县|区|州|旗)?(?:委|人民政府|政府|民政厅|民政局|民政部门|人社厅|人社局|社会工作部|社工委|党委|财政|"
    r"社会工作委员会|文明办|团委|妇联|残联)"
)
NON_SUBJECT_BEFORE_RE = re.compile(
    r"(?:赴|到|去|与|和|同|向|比|较|占|前往|聘请|邀请|来自|对口|帮扶|援助|学习|考察|走进|走访|及)$"
)


@dataclass
class _Ctx:
    home: list[Place]  # chain of the place the text is currently about
    main: list[Place]
    recent: list[Place] = field(default_factory=list)  # places mentioned so far, in order

    def move_home(self, place: Place | None) -> None:
        """Focus moves to a place unrelated to the current one (a new section: 宁夏 after 贵州); a place
        inside or above the current one (贵州 → 晴隆县) is a detail, not a change of subject."""
        if place is None:
            return
        if self.home and _related(place, self.home[0]):
            return
        self.home = chain_of(place)


def _related(a: Place, b: Place) -> bool:
    if a.adcode is None or b.adcode is None:
        return a.name == b.name
    return any(p.adcode == b.adcode for p in chain_of(a)) or any(p.adcode == a.adcode for p in chain_of(b))


@functools.lru_cache(maxsize=8192)
def find_quantities(text: str) -> tuple[Quantity, ...]:
    """The numbers of a text (cached: a clause's left part is read again for each figure in it)."""
    return tuple(_find_quantities(text))


def _mask(text: str) -> str:
    return GUARD_RE.sub(lambda m: "\u3000" * len(m.group(0)), text)


_STOPS = set(SEP + "。!?！？\n")
_THOUSANDS_TAIL = re.compile(r"\d{3}(?!\d)")


def _is_stop(text: str, i: int) -> bool:
    ch = text[i]
    if ch not in _STOPS:
        return False
    # "1,230人": a comma inside a number is not a clause break
    return not (ch == "," and i > 0 and text[i - 1].isdigit() and _THOUSANDS_TAIL.match(text, i + 1))


def _clause_bounds(text: str, pos: int) -> tuple[int, int]:
    start = pos
    while start > 0 and not _is_stop(text, start - 1):
        start -= 1
    end = pos
    while end < len(text) and not _is_stop(text, end):
        end += 1
    return start, end


def _is_subject(para: str, mention: Mention, mentions: list[Mention]) -> bool:
    cs, _ = _clause_bounds(para, mention.start)
    prefix = para[cs : mention.start]
    for other in mentions:
        if other.kind == "place" and cs <= other.start and other.end <= mention.start:
            prefix = prefix.replace(other.text, "", 1)
    return bool(SUBJECT_PREFIX_RE.match(prefix.strip()))


def _updates_home(para: str, mention: Mention, mentions: list[Mention]) -> bool:
    if mention.kind not in ("place", "anon"):
        return False
    if ORG_AFTER_RE.match(para[mention.end : mention.end + 8]):
        return True
    return _is_subject(para, mention, mentions)


def _place_of(mention: Mention, ctx: _Ctx) -> tuple[bool, Place | None, str | None]:
    """(resolved?, place, region-name) for a mention; national → (True, None, '全国')."""
    if mention.kind == "national":
        return True, None, "全国"
    if mention.kind == "ref":
        if mention.text.startswith("该"):  # 该区 / 该市: the place of that level just mentioned
            place = resolve_reference(mention.level, [], [], ctx.recent)
        else:
            place = resolve_reference(mention.level, ctx.home, ctx.main, ctx.recent)
        return True, place, None
    return True, mention.place, None


def _region_for(
    para: str, q_abs: int, sent_start: int, clause_start: int, mentions: list[Mention], ctx: _Ctx
) -> tuple[Place | None, str | None, str]:
    """The place a figure at absolute position q_abs is about, and where it was found (clause | sentence |
    national | context)."""
    in_clause = [m for m in mentions if clause_start <= m.start and m.end <= q_abs]
    usable = [m for m in in_clause if not NON_SUBJECT_BEFORE_RE.search(para[max(0, m.start - 4) : m.start])]
    if usable:
        subject = [m for m in usable if _is_subject(para, m, mentions)]
        if subject:
            chosen = subject[-1]
        else:
            # the most specific place named in the clause (nearest on ties), else the nearest 全省/本市/全国
            named = [m for m in usable if m.place is not None]
            chosen = max(named, key=lambda m: (m.place.rank, m.start)) if named else usable[-1]  # type: ignore[union-attr]
        _, place, name = _place_of(chosen, ctx)
        return place, name, "clause"
    earlier = [m for m in mentions if sent_start <= m.start < clause_start and _is_subject(para, m, mentions)]
    if earlier:
        _, place, name = _place_of(earlier[-1], ctx)
        return place, name, "sentence"
    sent_end = para.find("。", q_abs)
    sent_end = len(para) if sent_end == -1 else sent_end
    placed = [m for m in mentions if sent_start <= m.start < sent_end and m.kind != "national"]
    if not placed and NATIONAL_SUBJECT_RE.search(para, sent_start, sent_end):
        # "约89万人报考全国社会工作者职业资格考试": a sentence naming no place, only the national exam or
        # the country, is about the country
        return None, NATIONAL, "national"
    home = ctx.home or ctx.main
    return (home[0] if home else None), None, "context"


def _region_fields(place: Place | None, name: str | None) -> tuple[str | None, str | None]:
    if name is not None:
        return name, None
    if place is None or place.anonymised:
        return None, None
    return place.name, place.adcode


def _year_for(sentence_left: str, published_year: int | None) -> tuple[bool, int | None]:
    """(stated?, year) from the text of the sentence before the figure."""
    masked = _mask(sentence_left)
    best_pos = -1
    best: tuple[bool, int | None] = (False, None)
    for m in YEAR_RE.finditer(masked):
        if YEAR_SKIP_AFTER_RE.match(masked[m.end() :]) or YEAR_SKIP_BEFORE_RE.search(masked[: m.start()]):
            continue
        token = m.group(1)
        value = int(token) if token.isdigit() else None
        if m.start() > best_pos:
            best_pos, best = m.start(), (True, value)
    for m in RELATIVE_YEAR_RE.finditer(masked):
        if YEAR_SKIP_BEFORE_RE.search(masked[: m.start()]):
            continue  # "较去年增长…" compares with last year; it does not date the figure
        if m.start() > best_pos:
            offset = RELATIVE_OFFSET.get(m.group(0))
            if offset is None:
                continue
            best_pos = m.start()
            best = (True, published_year + offset if published_year is not None else None)
    for m in NOW_RE.finditer(masked):
        if m.start() > best_pos:
            best_pos, best = m.start(), (True, published_year)
    for rx, sign in ((YEARS_AGO_RE, -1), (YEARS_AHEAD_RE, 1)):
        for m in rx.finditer(masked):
            n = _small_number(m.group(1))
            if n is not None and n <= 30 and m.start() > best_pos:
                best_pos = m.start()
                best = (True, published_year + sign * n if published_year is not None else None)
    for m in FIVE_YEAR_PLAN_RE.finditer(sentence_left):  # "十四五" inside quotes is still a period
        if m.start() > best_pos and not re.match(r"(?:以来|规划|时期以来)", sentence_left[m.end() :]):
            best_pos = m.start()
            best = (True, FIVE_YEAR_PLAN_END[m.group(1)])
    return best


# dates in page addresses: /2017/0621/, /201711/, /2023-03/22/, /20230321/, /t20230321_
URL_DATE_RE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})(?:[-/_]?)(0[1-9]|1[0-2])(?:[-/_]?(?:0[1-9]|[12]\d|3[01]))?(?!\d)"
)


def url_year(url: str | None) -> int | None:
    """The year in a page address, the last clue to when an undated page was written."""
    if not url:
        return None
    path = url.split("://", 1)[-1].split("/", 1)[-1]
    m = URL_DATE_RE.search(path)
    return int(m.group(1)) if m else None


def _doc_reference_year(paragraphs: list[str], published_year: int | None) -> int | None:
    if published_year is not None:
        return published_year
    years = []
    for para in paragraphs:
        masked = _mask(para)
        for m in YEAR_RE.finditer(masked):
            if m.group(1).isdigit() and not TARGET_YEAR_RE.match(masked[max(0, m.start() - 4) : m.end()]):
                before = masked[max(0, m.start() - 4) : m.start()]
                if COMPARED_YEAR_RE.search(before):
                    years.append(int(m.group(1)) + 1)  # "比2017年增长": written after 2017
                elif not re.search(r"(?:到|至)$", before):
                    years.append(int(m.group(1)))
    years = [y for y in years if 1990 <= y <= 2100]
    return max(years) if years else None


def _is_target(clause: str, sentence_left: str, ref_year: int | None) -> bool:
    if TARGET_CLAUSE_RE.search(clause):
        return True
    masked = _mask(sentence_left)
    targets = list(TARGET_YEAR_RE.finditer(masked))
    if not targets:
        return False
    year = int(targets[-1].group(1))
    if ACHIEVED_RE.search(clause):
        return False
    return ref_year is None or year > ref_year


def _classify(
    q: Quantity, left: str, right: str, clause: str, sentence: str, prev_metrics: list[str]
) -> tuple[Rule, int] | None:
    """The metric whose cue sits nearest the number (and the distance), or None."""
    best: tuple[int, int] | None = None
    chosen: Rule | None = None
    left = COMPARISON_FROM_RE.sub("", left)
    for rule in rules():
        if q.unit_word is not None:
            if q.unit_word not in rule.units and not (q.unit_word == "个小时" and "小时" in rule.units):
                continue
        elif not (rule.unitless and q.magnitude and not q.cjk):
            continue
        if rule.negative is not None and rule.negative.search(clause):
            continue
        if rule.sentence is not None and not rule.sentence.search(sentence):
            continue
        gap: int | None = None
        if rule.before is not None:
            m = rule.before.match(left)
            if m:
                gap = len(m.group("gap"))
        if rule.after is not None:
            m = rule.after.match(right)
            if m:
                g = len(m.group("gap"))
                gap = g if gap is None else min(gap, g)
        inheritable = gap is None and rule.inherit and prev_metrics and prev_metrics[-1] in rule.inherit
        if inheritable and (rule.inherit_cue is None or rule.inherit_cue.search(left)):
            gap = 20  # weaker than any real cue
        if gap is None:
            continue
        key = (gap, rule.priority)
        if best is None or key < best:
            best, chosen = key, rule
    return (chosen, best[0]) if chosen is not None and best is not None else None


def _main_region(doc: NormalizedDoc) -> list[Place]:
    counts: Counter[str] = Counter()
    levels: Counter[str] = Counter()
    places: dict[str, Place] = {}
    title = doc.title or ""
    for i, para in enumerate(doc.paragraphs):
        mentions = find_mentions(para)
        weight = 3 if (para == title or i == 0) else 1
        run_end = -1
        for j, m in enumerate(mentions):
            if m.kind == "ref" and m.text[0] in "全我本":
                levels[m.level] += 1
                continue
            if m.kind not in ("place", "anon") or m.place is None:
                continue
            nxt = mentions[j + 1] if j + 1 < len(mentions) else None
            if nxt is not None and nxt.start == m.end and nxt.kind == "place":
                continue  # count only the most specific place of a run (浙江海盐县 → 海盐县)
            key = m.place.adcode or m.place.name
            places[key] = m.place
            counts[key] += weight
            run_end = m.end
        del run_end
    if not counts:
        return []
    raw = Counter(counts)
    # 全市 / 我区 … support the candidate places of that level
    for key, place in places.items():
        for level, n in levels.items():
            if place.name.endswith(level) or (level == "县" and place.name.endswith("旗")):
                counts[key] += n
                break
    ranked = counts.most_common()
    top = places[ranked[0][0]]
    # a more specific place inside the top one, mentioned nearly as often, is the real subject (浙江 / 海盐县)
    if top.adcode:
        for key, _ in ranked[1:]:
            place = places[key]
            inside = place.adcode and any(p.adcode == top.adcode for p in chain_of(place)[1:])
            if inside and raw[key] >= 3 and raw[key] * 4 >= raw[ranked[0][0]] * 3:
                top = place
                break
    return chain_of(top)


def extract_normalized(
    doc: NormalizedDoc, name: str, metadata: ReportMetadata | None = None
) -> tuple[list[Fact], list[Place]]:
    published_year = int(doc.published[:4]) if doc.published else url_year(metadata.url if metadata else None)
    published_from = "published" if doc.published else "url"
    main = _main_region(doc)
    ctx = _Ctx(home=list(main), main=main)
    ref_year = _doc_reference_year(doc.paragraphs, published_year)
    facts: list[Fact] = []
    prev_sentence_metrics: list[tuple[str, float]] = []

    for para, orig in zip(doc.paragraphs, doc.originals, strict=True):
        mentions = find_mentions(para, ctx.home or ctx.main)
        # in a run like 浙江海盐县 / 江苏省苏州市 only the most specific place counts
        run_heads = {
            i
            for i, m in enumerate(mentions[:-1])
            if mentions[i + 1].start == m.end and mentions[i + 1].kind == "place"
        }
        home_updates = [
            m for i, m in enumerate(mentions) if i not in run_heads and _updates_home(para, m, mentions)
        ]
        home_at_start = ctx.home
        places_here = [m for m in mentions if m.kind in ("place", "anon") and m.place is not None]
        upd_i = rec_i = 0
        prev_sentence = ""
        as_of: int | None = None
        for sm in SENTENCE_RE.finditer(para):
            s_start, sentence = sm.start(), sm.group(0)
            time_context = prev_sentence if CONTINUATION_RE.match(sentence) else ""
            sentence_metrics: list[tuple[int, str, float]] = []
            for q in find_quantities(sentence):
                q_abs = s_start + q.start
                while upd_i < len(home_updates) and home_updates[upd_i].start < q_abs:
                    ctx.move_home(home_updates[upd_i].place)
                    upd_i += 1
                while rec_i < len(places_here) and places_here[rec_i].start < q_abs:
                    ctx.recent.append(places_here[rec_i].place)
                    rec_i += 1
                fact = _fact_for(
                    q,
                    para,
                    orig,
                    s_start,
                    sentence,
                    mentions,
                    ctx,
                    sentence_metrics,
                    prev_sentence_metrics,
                    published_year,
                    ref_year,
                    name,
                    time_context,
                    as_of,
                    published_from,
                )
                if fact is None:
                    continue
                sentence_metrics.append((q.start, fact.metric, fact.value))
                earlier = _restated(fact, facts)
                if earlier is None:
                    facts.append(fact)
                elif facts[earlier].metric != fact.metric and fact.metric in _SAME_FIGURE_METRICS.values():
                    facts[earlier] = fact  # the restatement names it more precisely (持证 over 专业社工)
            prev_sentence_metrics = [(mt, v) for _, mt, v in sentence_metrics]
            prev_sentence = time_context + sentence
            stated_as_of = [m for m in AS_OF_RE.finditer(_mask(sentence))]
            if stated_as_of:
                as_of = int(stated_as_of[-1].group(1))
        while upd_i < len(home_updates):
            ctx.move_home(home_updates[upd_i].place)
            upd_i += 1
        ctx.recent.extend(m.place for m in places_here[rec_i:])
        if _enumerates_places(home_updates):
            # "广州市…;深圳市…": a paragraph going through several places does not move the document's focus
            ctx.home = home_at_start
    return facts, main


# "专业社工" names the certified stock as often as all social-work talent: the same number under either is
# one figure restated, not two
_SAME_FIGURE_METRICS = {"social_work_talent_total": "certified_social_workers"}


def _restatement_family(metric: str) -> str:
    return _SAME_FIGURE_METRICS.get(metric, metric)


def _restated(fact: Fact, facts: list[Fact]) -> int | None:
    """The earlier fact a figure restates, if any. A figure repeated (a headline repeating the body, a
    duplicated paragraph, 近7000 after 6970多) is one fact: same metric (or the same figure under the other name
    of the pair 专业社工 / 持证社工), same target flag, a value within 0.5%, and not two different places."""
    for index, other in enumerate(facts):
        if _restatement_family(other.metric) != _restatement_family(fact.metric):
            continue
        if other.is_target != fact.is_target:
            continue
        if abs(other.value - fact.value) > 0.005 * max(abs(other.value), abs(fact.value)):
            continue
        both_placed = fact.adcode and other.adcode and fact.region != NATIONAL and other.region != NATIONAL
        if both_placed and fact.adcode != other.adcode:
            continue
        return index
    return None


def _enumerates_places(updates: list[Mention]) -> bool:
    chains = []
    for m in updates:
        if m.place is None or m.place.adcode is None:
            continue
        codes = {p.adcode for p in chain_of(m.place)}
        chains.append((m.place.adcode, codes))
    for i, (a, a_chain) in enumerate(chains):
        for b, b_chain in chains[i + 1 :]:
            if a != b and a not in b_chain and b not in a_chain:
                return True
    return False


def _coordinated(q: Quantity, left: str, sentence_metrics: list[tuple[int, str, float]]) -> Rule | None:
    """A figure joined to the one before it ("分别达到4.2万人和3.5万人", "126个及98个") is the same metric."""
    if not sentence_metrics or q.unit_word is None:
        return None
    before = [x for x in find_quantities(left) if x.unit_word]
    if not before or before[-1].unit_word != q.unit_word:
        return None
    between = left[before[-1].end :]
    joined = COORDINATOR_RE.match(between) or (
        PLACE_ITEM_RE.match(between) and any(m.kind == "place" for m in find_mentions(between))
    )
    if not (joined or COMPARISON_TO_RE.search(between)):
        return None
    metric = sentence_metrics[-1][1]
    return next((rule for rule in rules() if rule.code == metric), None)


# a clause that only names a place before its number ("长沙市持证社工4500人,株洲市2100人")
PLACE_ONLY_RE = re.compile(r"^\s*(?:其中|而|另外)?\s*[\u4e00-\u9fff]{2,12}?(?:有|为|达|共有|共)?\s*$")


def _parallel_place(q: Quantity, left: str, before_clause: str, sentence_metrics: list) -> Rule | None:
    """A clause naming only another place and a figure with the unit of the sentence's previous figure
    continues that enumeration of places: the same metric."""
    if not sentence_metrics or q.unit_word is None or not PLACE_ONLY_RE.match(left):
        return None
    mentions = find_mentions(left)
    if not mentions or mentions[0].kind != "place" or left[: mentions[0].start].strip(" 其中而另外"):
        return None
    earlier = [x for x in find_quantities(before_clause) if x.unit_word]
    if not earlier or earlier[-1].unit_word != q.unit_word:
        return None
    metric = sentence_metrics[-1][1]
    return next((rule for rule in rules() if rule.code == metric), None)


# a clause stating only when and how much ("…报考人数居高不下,今年超过6000人"): its subject is the clause before
TIME_ONLY_RE = re.compile(
    r"^\s*(?:今年|去年|当年|目前|现在|如今|截至目前|近年来|至今|现已|已经|已|共|累计|总计|同比|均)*"
    r"\s*(?:已|达到?|超过|突破|逾|有|为|增至|增加到|提高到)?\s*$"
)


def _list_heading(q: Quantity, before_clause: str, left: str = "") -> Rule | None:
    """The first item of a list after a colon ("报考人数最多的三个省份为:浙江8.4万人") takes the metric cued in
    the heading (the last cue of a metric whose units fit); so does a clause saying only when and how much
    after a clause naming the metric without a number ("天津报考人数居高不下,今年超过6000人")."""
    if q.unit_word is None:
        return None
    stripped = before_clause.rstrip()
    colon = stripped.endswith((":", "："))
    if not (colon or (stripped and stripped[-1] in SEP and TIME_ONLY_RE.match(left))):
        return None
    heading = stripped[:-1]
    heading = heading[max(heading.rfind(c) for c in SEP) + 1 :] if any(c in heading for c in SEP) else heading
    if not colon and any(x.unit_word for x in find_quantities(heading)):
        return None  # the clause before states its own figure: nothing to carry over
    best: tuple[int, int] | None = None
    chosen = None
    for rule in rules():
        if rule.cue is None or q.unit_word not in rule.units:
            continue
        if rule.negative is not None and rule.negative.search(heading):
            continue
        hits = [m.end() for m in rule.cue.finditer(heading)]
        if hits:
            key = (-hits[-1], rule.priority)
            if best is None or key < best:
                best, chosen = key, rule
    return chosen


def _fact_for(
    q: Quantity,
    para: str,
    orig: str,
    s_start: int,
    sentence: str,
    mentions: list[Mention],
    ctx: _Ctx,
    sentence_metrics: list[tuple[int, str, float]],
    prev_sentence_metrics: list[tuple[str, float]],
    published_year: int | None,
    ref_year: int | None,
    doc_name: str,
    time_context: str = "",
    as_of: int | None = None,
    published_from: str = "published",
) -> Fact | None:
    if q.unit_word is None and not q.magnitude:
        return None
    if q.cjk and q.value <= 1:
        return None
    c_start, c_end = _clause_bounds(sentence, q.num_start)
    clause = sentence[c_start:c_end]
    left = sentence[c_start : q.start]
    right = sentence[q.end : c_end]
    if (
        RANK_BEFORE_RE.search(left)
        or RATIO_RE.search(left)
        or DELTA_RE.search(left)
        or RATE_AFTER_RE.match(right)
    ):
        return None
    if q.unit == "percent" and PERCENT_NOISE_RE.search(left):
        return None
    if q.unit != "percent" and q.value <= 0:
        return None
    if q.unit == "percent" and q.value > 100:
        return None
    prev_metrics = [mt for _, mt, _ in sentence_metrics]
    found = _classify(q, left, right, clause, sentence, prev_metrics)
    if found is not None:
        rule, gap = found
        how = "inherited" if gap >= 20 else "cue"
    else:
        gap = 0
        rule = _coordinated(q, left, sentence_metrics)
        how = "enumeration"
        if rule is not None and COMPARISON_TO_RE.search(left):
            how = "comparison"
        if rule is None:
            rule, how = _parallel_place(q, left, sentence[:c_start], sentence_metrics), "enumeration"
        if rule is None:
            rule, how = _list_heading(q, sentence[:c_start], left), "list_heading"
    if rule is None:
        return None
    original_metric = rule.code
    sentence_left = sentence[: q.start]
    previous = sentence_metrics[-1][1] if sentence_metrics else None
    level_breakdown = is_level_part(rule.code, left)
    metric = exam_metric(rule.code, left, sentence_left, previous, right)
    if metric != rule.code:
        rule = next(r for r in rules() if r.code == metric)
    if is_not_a_fact(rule.code, rule.unit, clause, left, right, sentence):
        return None
    # a breakdown (其中 …) of a total already stated for the same metric
    bd = None
    for m in BREAKDOWN_RE.finditer(sentence_left):
        bd = m
    if bd is not None:
        parents = [(mt, v) for pos, mt, v in sentence_metrics if pos < bd.start()]
        if not parents and not sentence[: bd.start()].strip(" ,，"):
            parents = prev_sentence_metrics
        # a part of a stated total: same metric, not larger than the total
        # a part naming its own place ("其中浙江8.4万人") is that place's figure
        named_place = any(
            m.kind == "place" and s_start + c_start <= m.start and m.end <= s_start + q.start
            for m in mentions
        )
        if not (level_breakdown or named_place) and any(
            mt == rule.code and q.value <= v for mt, v in parents
        ):
            return None
    if q.unit in ("person", "person_time") and rule.unit in ("person", "person_time"):
        unit = q.unit
    else:
        unit = rule.unit
    # no publication date (no sidecar, meta or dateline): an unstated year stays unknown, as the schema asks
    stated, year = _year_for(sentence_left, published_year)
    year_source = "stated"
    if not stated and time_context:
        stated, year = _year_for(time_context + sentence_left, published_year)
        year_source = "continuation"
    if not stated:
        year = as_of if as_of is not None else published_year
        year_source = "as_of" if as_of is not None else published_from if year is not None else "none"
    target = _is_target(clause, time_context + sentence_left, ref_year)
    abs_q = s_start + q.start
    # an enumeration item ("浙江8.4万人、广东6.1万人") is about the place named in its own item
    region_from = c_start
    earlier_q = [x for x in find_quantities(left) if x.unit_word]
    if earlier_q and "、" in left[earlier_q[-1].end :]:
        region_from = c_start + earlier_q[-1].end
    place, name, region_source = _region_for(para, abs_q, s_start, s_start + region_from, mentions, ctx)
    respective = left.rfind("分别")
    if respective != -1:
        # "南宁市、柳州市分别建成社工站126个、98个": the i-th figure belongs to the i-th place
        lo, hi = s_start + c_start, s_start + c_start + respective
        listed = [m for m in mentions if m.kind in ("place", "anon") and lo <= m.start and m.end <= hi]
        listed = [
            m for i, m in enumerate(listed) if not (i + 1 < len(listed) and listed[i + 1].start == m.end)
        ]
        index = sum(1 for x in find_quantities(left[respective:]) if x.unit_word)
        if len(listed) >= 2 and index < len(listed):
            place, name, region_source = listed[index].place, None, "clause"
    region, adcode = _region_fields(place, name)
    quote_src = orig if len(orig) == len(para) else para
    q_from = c_start
    if c_end - c_start > 30:
        # long enumerations: quote from the list item holding the figure
        cut = sentence.rfind("、", c_start, q.start)
        if cut != -1 and q.start - cut > 4:
            q_from = cut + 1
    quote = quote_src[s_start + q_from : s_start + c_end].strip()
    evidence = Evidence(
        cue=how,
        gap=gap,
        refiled=rule.code != original_metric,
        qualifier=q.qualifier,
        chinese_numeral=q.cjk,
        region=region_source if region is not None else "none",
        year=year_source,
        is_target=target,
    )
    return Fact(
        doc=doc_name,
        metric=rule.code,
        value=q.value,
        unit=unit,
        qualifier=q.qualifier,
        is_target=target,
        region=region,
        adcode=adcode,
        year=year,
        quote=quote,
        confidence=fact_confidence(evidence),
    )


def extract_document(text: str, doc: str, metadata: ReportMetadata | None = None) -> ExtractionResult:
    """Pure function: report text (+ what is known about it: sidecar, page <meta>) → facts and document metadata.

    The publication date is the metadata's (sidecar, else HTML meta / front matter), else the page's dateline."""
    nd = normalize_text(text)
    metadata = metadata or ReportMetadata()
    if metadata.published:
        nd.published, published_source = metadata.published, metadata.source
    else:
        published_source = "dateline" if nd.published else None
    if metadata.title and not nd.title:
        nd.title = metadata.title
    facts, main = extract_normalized(nd, doc, metadata)
    main_place = main[0] if main else None
    main_region, main_adcode = _region_fields(main_place, None)
    stats = dict(nd.stats)
    stats["facts"] = len(facts)
    stats["facts_without_region"] = sum(1 for f in facts if f.region is None)
    stats["facts_without_year"] = sum(1 for f in facts if f.year is None)
    stats["targets"] = sum(1 for f in facts if f.is_target)
    quality = document_quality([f.confidence for f in facts], published_source, stats)
    return ExtractionResult(
        doc=doc,
        title=nd.title,
        published=nd.published,
        language=nd.language,
        main_region=main_region,
        main_adcode=main_adcode,
        facts=facts,
        stats=stats,
        normalized_text=nd.text,
        url=metadata.url,
        published_source=published_source,
        publisher=metadata.publisher,
        quality=quality,
    )


def extract_file(path: str | Path) -> ExtractionResult:
    """A report file and its sidecar (`<stem>.meta.json`, when present) → facts and document metadata."""
    path = Path(path)
    text, metadata = read_report_with_metadata(path)
    return extract_document(text, path.name, metadata)
