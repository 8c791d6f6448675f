"""Narrative reports (民政 news items and work summaries) whose figures come from the generated registries.

Each stated figure is recorded with the value as stated (base units), its qualifier (exact / approx 近 /
at_least 余·超过·突破), the precision it was stated to, and the registry value it was computed from. About one
in ten is planted to disagree with the registries by 15-40%; the rest hold:
- exact: |stated - registry| <= precision / 2 (1 for counts, 100 yuan for 万元 and 1,000,000 yuan for 亿元 with
  two decimals, 0.1 for %);
- approx (近X): 0.95 X <= registry < X;
- at_least (X余, 超过X, 突破X): X <= registry < 1.1 X.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import opencc

from shegong.gazetteer import regions

from .people import landlines
from .registries import World
from .truth import Truth

MONEY = ("government_purchase_funding", "lottery_funding", "charity_funding", "training_funding")
TOPICS = {
    "workforce": ("certified_social_workers", "certified_intermediate", "certified_senior", "exam_passed"),
    "stations": ("township_stations", "station_coverage_rate", "village_stations"),
    "agencies": ("social_work_agencies", "agency_staff", "service_projects", "government_purchase_funding"),
    "funding": ("government_purchase_funding", "lottery_funding", "charity_funding", "service_projects"),
    "training": ("training_sessions", "training_participants", "training_funding"),
}
SUMMARY_METRICS = (
    "certified_social_workers",
    "certified_assistant",
    "certified_intermediate",
    "certified_senior",
    "exam_passed",
    "township_stations",
    "station_coverage_rate",
    "village_stations",
    "social_work_agencies",
    "agency_staff",
    "government_purchase_funding",
    "lottery_funding",
    "charity_funding",
    "service_projects",
    "training_sessions",
    "training_participants",
    "training_funding",
)
UNITS = {m: "yuan" for m in MONEY} | {
    "station_coverage_rate": "percent",
    "training_participants": "person_time",
    "township_stations": "count",
    "village_stations": "count",
    "social_work_agencies": "count",
    "service_projects": "count",
    "training_sessions": "count",
}
_PINYIN = {
    "發": "fā",
    "務": "wù",
    "訓": "xùn",
    "構": "gòu",
    "區": "qū",
    "個": "gè",
    "數": "shù",
    "專": "zhuān",
}
_NAV = (
    "首页 | 新闻中心 | 政务公开 | 办事服务 | 互动交流",
    "当前位置:首页 > 新闻中心 > 工作动态",
    "【字体:大 中 小】 【打印本页】 【关闭窗口】",
)
_SHARE = ("分享到:微信 微博 QQ空间", "扫一扫在手机打开当前页")
_ICP = {"32": "苏", "33": "浙", "35": "闽"}
_EDITORS = ("朱敏", "王磊", "陈静", "李娟", "张伟", "顾文", "沈洁", "徐航")


@dataclass
class Figure:
    metric: str
    registry_value: float
    planted: bool = False
    value: float = 0.0
    qualifier: str = "exact"
    precision: float = 1.0
    text: str = ""  # the number as written, with its unit word


@dataclass
class ReportPlan:
    doc: str
    region: str  # adcode
    as_of: int  # month index
    kind: str  # half | year | news:<topic> | province
    figures: list[Figure] = field(default_factory=list)


@dataclass
class ReportsWritten:
    count: int
    figures: list[dict]


def _rng(seed: int, *parts) -> np.random.Generator:
    return np.random.default_rng([seed, *(zlib.crc32(str(p).encode()) for p in parts)])


# ---------------------------------------------------------------------------------------------------------
# Stating a number the way reports do.


def _cn_count(value: int) -> str:
    if value >= 10_000 and value % 1000 == 0:
        return f"{value / 10_000:g}万"
    return str(value)


def state_count(value: int, rng, exact_share: float = 0.65) -> tuple[float, str, str, float]:
    """(stated value, qualifier, text, precision) for a count: exact, or rounded with 近/余/超过/突破."""
    if value < 50 or rng.random() < exact_share:
        return value, "exact", str(value), 1
    units = [u for u in (10_000, 1000, 100, 10) if u * 5 <= value]
    for unit in units:
        if rng.random() < 0.5:
            x = math.ceil(value / unit) * unit
            if x == value:
                x += unit
            if 0.95 * x <= value < x:
                return x, "approx", "近" + _cn_count(x), 1
        x = value // unit * unit
        if x <= value < 1.1 * x:
            style = int(rng.integers(3))
            text = (f"{_cn_count(x)}余", f"超过{_cn_count(x)}", f"突破{_cn_count(x)}")[style]
            return x, "at_least", text, 1
    return value, "exact", str(value), 1


def state_money(yuan: float, rng) -> tuple[float, str, str, float]:
    if yuan >= 100_000_000:  # provincial totals are stated in 亿元
        yi = yuan / 100_000_000
        draw = rng.random()
        if draw < 0.5:
            stated = round(yi, 2)
            return round(stated * 100_000_000, 2), "exact", f"{stated:.2f}亿元", 1_000_000
        x = math.ceil(yi)
        if draw < 0.75 and 0.95 * x <= yi < x:
            return x * 100_000_000, "approx", f"近{x}亿元", 1
        x = math.floor(yi)
        if yi < 1.1 * x:
            return x * 100_000_000, "at_least", f"{x}亿余元", 1
        stated = round(yi, 2)
        return round(stated * 100_000_000, 2), "exact", f"{stated:.2f}亿元", 1_000_000
    wan = yuan / 10_000
    if rng.random() < 0.5 or wan < 20:
        stated = round(wan, 2)
        return round(stated * 10_000, 2), "exact", f"{stated:.2f}万元", 100
    for unit in (1000, 100, 10, 1):
        if unit * 5 > wan:
            continue
        if rng.random() < 0.4:
            x = math.ceil(wan / unit) * unit
            if 0.95 * x <= wan < x:
                return x * 10_000, "approx", f"近{x}万元", 1
        x = int(wan // unit * unit)
        if x <= wan < 1.1 * x:
            return x * 10_000, "at_least", (f"{x}余万元", f"超过{x}万元")[int(rng.integers(2))], 1
    stated = round(wan, 2)
    return round(stated * 10_000, 2), "exact", f"{stated:.2f}万元", 100


def _plant_value(true: float, metric: str, rng) -> float:
    """A value 15-40% off the registry's (down for rates that cannot exceed 100%)."""
    for _ in range(20):
        factor = rng.uniform(0.15, 0.40)
        up = rng.random() < 0.5 and not (metric == "station_coverage_rate" and true * (1 + factor) > 100)
        value = true * (1 + factor) if up else true * (1 - factor)
        if metric == "station_coverage_rate":
            value = round(value, 1)
        elif metric in MONEY:
            value = round(value / 100) * 100
        else:
            value = round(value)
        if 0.15 <= abs(value - true) / true <= 0.45:
            return value
    return round(true * 0.7, 1)


def state(fig: Figure, rng) -> None:
    """Fill fig's stated value, qualifier, precision and text."""
    true = fig.registry_value
    if fig.metric == "station_coverage_rate":
        value = _plant_value(true, fig.metric, rng) if fig.planted else true
        fig.value, fig.qualifier, fig.precision, fig.text = value, "exact", 0.1, f"{value:g}%"
        return
    if fig.metric in MONEY:
        if fig.planted:
            value = _plant_value(true, fig.metric, rng)
            if value >= 100_000_000:
                value = round(value / 1_000_000) * 1_000_000
                fig.value, fig.qualifier, fig.precision = value, "exact", 1_000_000
                fig.text = f"{value / 100_000_000:.2f}亿元"
            else:
                fig.value, fig.qualifier, fig.precision = value, "exact", 100
                fig.text = f"{value / 10_000:.2f}万元"
        else:
            fig.value, fig.qualifier, fig.text, fig.precision = state_money(true, rng)
        return
    if fig.planted:
        value = int(_plant_value(true, fig.metric, rng))
        fig.value, fig.qualifier, fig.precision, fig.text = value, "exact", 1, str(value)
        return
    fig.value, fig.qualifier, fig.text, fig.precision = state_count(int(true), rng)


# ---------------------------------------------------------------------------------------------------------
# Planning which reports exist and what they state.


def _whole(code: str) -> str:
    """全县 / 全市 / 全区 / 全省 for a region's own name."""
    name = regions()[code].name
    return "全" + (name[-1] if name[-1] in "县市区省" else "市")


def plan_reports(world: World, truth: Truth, seed: int) -> list[ReportPlan]:
    months = world.months
    as_of_points = [m.index for m in months if m.month in (6, 12)] or [months[-1].index]
    if months[-1].index not in as_of_points:
        as_of_points.append(months[-1].index)
    plans: list[ReportPlan] = []
    regional = list(world.geo.units)
    if world.scale.unit_level == "county":
        regional += sorted({regions()[c].parent for c in world.geo.counties})
    for code in regional:
        for k in as_of_points:
            kind = "year" if months[k].month == 12 else "half"
            plans.append(ReportPlan("", code, k, kind))
    for prov in world.scale.provinces:
        plans.append(ReportPlan("", prov, as_of_points[-1], "province"))
    rng = _rng(seed, "report-plan")
    places = sorted(set(world.geo.counties) | set(world.geo.units))
    topics = sorted(TOPICS)
    while len(plans) < world.scale.reports:
        code = places[int(rng.integers(len(places)))]
        k = int(rng.integers(len(months)))
        plans.append(ReportPlan("", code, k, "news:" + topics[int(rng.integers(len(topics)))]))
    for i, plan in enumerate(plans):
        ext = "txt" if i % 7 not in (3, 5) else ("html" if i % 7 == 3 else "md")
        plan.doc = f"report_{i + 1:04d}.{ext}"
        figures = truth.figures(plan.region, plan.as_of)
        metrics = SUMMARY_METRICS if not plan.kind.startswith("news:") else TOPICS[plan.kind[5:]]
        chosen = []
        for metric in metrics:
            value = figures[metric]
            if value <= 0:
                continue
            # Summaries do not always break the workforce down by level.
            if metric in ("certified_assistant", "certified_senior") and plan.kind == "half":
                continue
            chosen.append(Figure(metric, value))
        plan.figures = chosen
    # About one stated figure in ten is planted to disagree; at least two in any landing.
    all_figs = [f for p in plans for f in p.figures]
    for f in all_figs:
        f.planted = bool(rng.random() < 0.1)
    eligible = [f for f in all_figs if f.registry_value >= 20]
    while sum(f.planted for f in all_figs) < 2 and eligible:
        eligible[int(rng.integers(len(eligible)))].planted = True
    for f in all_figs:
        if f.planted and f.registry_value < 20:  # a 15% gap on a tiny count is not a visible discrepancy
            f.planted = False
    for p in plans:
        frng = _rng(seed, "state", p.doc)
        for f in p.figures:
            state(f, frng)
    return plans


# ---------------------------------------------------------------------------------------------------------
# Writing the text.


def _as_of_phrase(world: World, k: int) -> str:
    m = world.months[k]
    return f"截至{m.year}年底" if m.month == 12 else f"截至{m.year}年{m.month}月底"


def _sentences(plan: ReportPlan, world: World, rng) -> list[tuple[str, list[Figure]]]:
    """Paragraphs (text, figures quoted in it) for the plan's figures."""
    figs = {f.metric: f for f in plan.figures}
    name = regions()[plan.region].name
    whole = _whole(plan.region)
    m = world.months[plan.as_of]
    # "2024年以来" names a start, not a period; a full year's figures are stated as "2024年".
    since = f"{m.year}年" if plan.kind == "year" or m.month == 12 else f"{m.year}年以来"
    paras: list[tuple[str, list[Figure]]] = []

    def t(metric: str) -> str:
        return figs[metric].text

    used: list[Figure] = []
    if "certified_social_workers" in figs:
        f = figs["certified_social_workers"]
        s = f"{_as_of_phrase(world, plan.as_of)},{whole}持证社会工作者{t('certified_social_workers')}人"
        used = [f]
        parts = []
        for metric, label in (
            ("certified_senior", "高级社会工作师"),
            ("certified_intermediate", "社会工作师"),
            ("certified_assistant", "助理社会工作师"),
        ):
            if metric in figs:
                parts.append(f"{label}{t(metric)}人")
                used.append(figs[metric])
        if parts:
            s += ",其中" + "、".join(parts)
        s += "。"
        if "exam_passed" in figs:
            s += f"{m.year}年全国社会工作者职业水平考试成绩公布后,{name}新增持证社工{t('exam_passed')}人,"
            s += "持证人数再创新高。"
            used.append(figs["exam_passed"])
        paras.append(
            (
                "人才队伍持续壮大。" + s + "我局积极组织报考动员和考前辅导,鼓励社区工作者参加职业水平评价。",
                used,
            )
        )
    elif "exam_passed" in figs:
        s = f"{m.year}年社会工作者职业水平考试,{name}新增持证社工{t('exam_passed')}人。"
        paras.append((s, [figs["exam_passed"]]))
    if "township_stations" in figs:
        # Every figure's sentence states its period: a sentence without one belongs to the publication year.
        s = f"基层阵地建设提速。{_as_of_phrase(world, plan.as_of)},{whole}已建成乡镇(街道)社工站{t('township_stations')}个"
        used = [figs["township_stations"]]
        if "station_coverage_rate" in figs:
            s += f",覆盖率达{t('station_coverage_rate')}"
            used.append(figs["station_coverage_rate"])
        if "village_stations" in figs:
            s += f";建成村(社区)社工室{t('village_stations')}个"
            used.append(figs["village_stations"])
        s += "。各社工站按照“一站一特色”要求,聚焦困难群众、老年人、困境儿童等重点对象开展专业服务。"
        paras.append((s, used))
    if "social_work_agencies" in figs:
        s = f"社会力量不断壮大。{_as_of_phrase(world, plan.as_of)},{whole}登记注册的社会工作服务机构{t('social_work_agencies')}家"
        used = [figs["social_work_agencies"]]
        if "agency_staff" in figs:
            s += f",专职工作人员{t('agency_staff')}人"
            used.append(figs["agency_staff"])
        s += ",评估等级为4A以上的机构数量居全省前列。"
        paras.append((s, used))
    money_parts = []
    used = []
    for metric, phrase in (
        ("government_purchase_funding", "投入政府购买社会工作服务资金"),
        ("lottery_funding", "安排福彩公益金"),
        ("charity_funding", "动员慈善资金"),
    ):
        if metric in figs:
            money_parts.append(f"{phrase}{t(metric)}")
            used.append(figs[metric])
    if money_parts or "service_projects" in figs:
        s = f"资金保障有力。{since},{name}" + ",".join(money_parts)
        if "service_projects" in figs:
            s += ("," if money_parts else "") + f"实施各类社会工作服务项目{t('service_projects')}个"
            used.append(figs["service_projects"])
        s += ",构建起“政府购买+福彩公益金+慈善资金”的多元投入机制。"
        paras.append((s, used))
    if "training_sessions" in figs or "training_participants" in figs:
        s = f"教育培训扎实开展。{since},{name}民政局"
        used = []
        if "training_sessions" in figs:
            s += f"举办各类社会工作培训班{t('training_sessions')}期"
            used.append(figs["training_sessions"])
        if "training_participants" in figs:
            s += f",培训{t('training_participants')}人次"
            used.append(figs["training_participants"])
        if "training_funding" in figs:
            s += f",投入培训经费{t('training_funding')}"
            used.append(figs["training_funding"])
        s += ",持证社工继续教育学时达标情况纳入年度考核。"
        paras.append((s, used))
    return paras


def _filler(plan: ReportPlan, world: World, rng) -> list[str]:
    """Paragraphs with numbers that are not registry metrics: dates, ordinals, plans, hotlines."""
    name = regions()[plan.region].name
    m = world.months[plan.as_of]
    day = int(rng.integers(1, 28))
    lines = [
        f"{m.year}年{m.month}月{day}日,{name}召开社会工作人才队伍建设推进会,"
        f"部署落实《{name}社会工作专业人才队伍建设三年行动计划({m.year - 1}—{m.year + 1}年)》。",
        "下一步,我们将持续推进社会工作专业化、职业化发展,力争在“十四五”末实现乡镇(街道)社工站全覆盖,"
        "为基层治理提供有力人才支撑。",
        f"{name}第一届社会工作宣传周期间,组织开展主题活动20余场次。服务热线:{_hotline(plan.region, rng)}。",
    ]
    children = [r for r in regions().values() if r.parent == plan.region and r.name != "市辖区"]
    if children:
        child = children[int(rng.integers(len(children)))].name
        lines.append(f"其中,{child}探索“社工+志愿者”联动模式,打造了一批特色服务品牌。")
    order = rng.permutation(len(lines)).tolist()
    return [lines[i] for i in order[: int(rng.integers(2, len(lines) + 1))]]


def _hotline(code: str, rng) -> str:
    return landlines(rng, code, 1)[0]


def _title(plan: ReportPlan, world: World, rng) -> str:
    name = regions()[plan.region].name
    m = world.months[plan.as_of]
    if plan.kind == "half":
        return f"{name}民政局{m.year}年上半年社会工作人才队伍建设工作总结"
    if plan.kind == "year":
        return f"{name}民政局{m.year}年社会工作人才队伍建设工作总结"
    if plan.kind == "province":
        return f"{name}社会工作发展情况综述({m.year}年)"
    topic = plan.kind[5:]
    heads = {
        "workforce": "持证社工队伍不断壮大",
        "stations": "扎实推进乡镇(街道)社工站建设",
        "agencies": "培育发展社会工作服务机构",
        "funding": "多元投入助力社会工作服务",
        "training": "加强社会工作人才教育培训",
    }
    return f"{name}:{heads[topic]}"


def render(plan: ReportPlan, world: World, seed: int) -> tuple[str, list[tuple[Figure, str]]]:
    """The document text and, for each figure, the sentence quoting it (simplified script)."""
    rng = _rng(seed, "render", plan.doc)
    name = regions()[plan.region].name
    m = world.months[plan.as_of]
    day = int(rng.integers(5, 26))
    # Reports on the last month generated are dated the 1st of the next month: when that month is the current
    # one (the default demo), a later day could lie in the future, which validation rejects.
    if plan.as_of == len(world.months) - 1:
        day = 1
    published = f"{m.year + (m.month == 12)}-{m.month % 12 + 1:02d}-{day:02d}"
    paras = _sentences(plan, world, rng)
    body = [p for p, _ in paras] + _filler(plan, world, rng)
    if len(paras) > 1:
        intro = f"近年来,{name}深入贯彻落实中央和省委关于加强社会工作人才队伍建设的决策部署,推动社会工作高质量发展。"
        body.insert(0, intro)
    quotes = [(f, p) for p, figs in paras for f in figs]
    bureau = "民政厅" if plan.region.endswith("0000") else "民政局"
    header = [
        _title(plan, world, rng),
        f"来源:{name}{bureau}",
        f"发布时间:{published}",
        f"责编:{_EDITORS[int(rng.integers(len(_EDITORS)))]}",
    ]
    if rng.random() < 0.2 and len(body) > 2:
        body.append(body[1])  # a paragraph pasted twice, as web copies often have
    chrome = rng.random() < 0.35 and not plan.doc.endswith(".md")
    lines = ([*_NAV[: int(rng.integers(1, 4))], ""] if chrome else []) + header + [""] + body
    if chrome:
        lines += [
            "",
            *_SHARE,
            f"{name}{bureau} 版权所有  {_ICP.get(plan.region[:2], '苏')}ICP备{int(rng.integers(10**7, 10**8))}号-1",
        ]
    text = "\n".join(lines) + "\n"
    if rng.random() < 0.25:
        text = _converter().convert(text)
        if rng.random() < 0.5:
            text = "".join(
                ch + f"({_PINYIN[ch]})" if ch in _PINYIN and rng.random() < 0.6 else ch for ch in text
            )
    return text, quotes


def _converter():
    global _CONVERTER
    if _CONVERTER is None:
        _CONVERTER = opencc.OpenCC("s2t")
    return _CONVERTER


_CONVERTER = None


def _as_html(text: str) -> str:
    lines = text.strip("\n").split("\n")
    title = next(
        line for line in lines if line and not line.startswith(("首页", "当前", "【", "首頁", "當前"))
    )
    parts = ["<!DOCTYPE html>", '<html><head><meta charset="utf-8">', f"<title>{title}</title></head><body>"]
    for line in lines:
        parts.append(f"<p>{line}</p>" if line else "<br/>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _as_markdown(text: str) -> str:
    lines = text.strip("\n").split("\n")
    return "\n\n".join(("# " + line) if i == 0 else line for i, line in enumerate(lines) if line) + "\n"


def write_reports(out_dir: Path, world: World, truth: Truth, seed: int) -> ReportsWritten:
    plans = plan_reports(world, truth, seed)
    records: list[dict] = []
    out_dir.mkdir(parents=True, exist_ok=True)
    for plan in plans:
        text, quotes = render(plan, world, seed)
        if plan.doc.endswith(".html"):
            text = _as_html(text)
        elif plan.doc.endswith(".md"):
            text = _as_markdown(text)
        (out_dir / plan.doc).write_text(text, encoding="utf-8")
        m = world.months[plan.as_of]
        region = regions()[plan.region]
        for fig, quote in quotes:
            records.append(
                {
                    "doc": plan.doc,
                    "path": f"reports/{plan.doc}",
                    "metric": fig.metric,
                    "value": fig.value,
                    "unit": UNITS.get(fig.metric, "person"),
                    "qualifier": fig.qualifier,
                    "precision": fig.precision,
                    "stated": fig.text,
                    "registry_value": fig.registry_value,
                    "region": region.name,
                    "adcode": region.adcode,
                    "year": m.year,
                    "as_of": m.label,
                    "planted": fig.planted,
                    "quote": quote,
                }
            )
    return ReportsWritten(len(plans), records)
