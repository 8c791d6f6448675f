"""Report text → clean simplified-Chinese paragraphs, plus the metadata found on the way.

Steps, in order: full-width → half-width digits/letters/punctuation; removal of the pinyin glosses some sites insert
after characters (``發(fā)展`` → ``發展``); doubled punctuation (``,,`` ``,、`` ``。,``) collapsed; traditional →
simplified (OpenCC ``t2s``); page chrome, spam and metadata lines dropped (the publication date is read from the
metadata first); repeated paragraphs dropped; paragraphs broken across lines re-joined.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

# ------------------------------------------------------------------------------------------ characters

_FW = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FW[0x3000] = 0x20
for _zw in (0x200B, 0x200C, 0x200D, 0xFEFF, 0x00AD):
    _FW[_zw] = None
_FW[0x00A0] = 0x20
_FW[0x2002] = 0x20
_FW[0x2003] = 0x20
_FW[0x3002] = 0x3002  # keep the ideographic full stop
_FW_TABLE = str.maketrans(_FW)
_DIGIT_COMMA = re.compile(r"(?<=\d)，(?=\d)")


def to_halfwidth(text: str) -> str:
    """Full-width ASCII forms → ASCII (a full-width comma between digits stays a separator, never a
    thousands mark: "20，300" → "20, 300")."""
    text = _DIGIT_COMMA.sub(", ", text)
    return text.translate(_FW_TABLE)


_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_NEUTRAL = {"de", "le", "me", "men", "zi", "ne", "ma", "ba", "zhe", "guo", "ge", "li", "tou", "shang", "xia"}
PINYIN_GLOSS_RE = re.compile(rf"(?<=[\u3400-\u9fff])\(\s*([a-zA-Zü{_TONED}]{{1,7}})\s*\)")


def strip_pinyin_glosses(text: str) -> tuple[str, int]:
    """Remove ``(fā)``-style glosses directly after a CJK character; real parenthesised text stays."""
    count = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal count
        syl = m.group(1)
        if any(ch in _TONED for ch in syl) or syl in _NEUTRAL:
            count += 1
            return ""
        return m.group(0)

    return PINYIN_GLOSS_RE.sub(repl, text), count


_PUNCT_RUN = re.compile(r"[,、。;:!?]{2,}")
_STRENGTH = "。!?;:、,"


def fix_doubled_punctuation(text: str) -> tuple[str, int]:
    """``,,`` → ``,``; ``,、`` → ``、``; ``。,`` / ``,。`` → ``。``: keep the strongest mark of a run."""
    count = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal count
        run = m.group(0)
        if run in ("!!", "??", "?!", "!?"):
            return run
        count += 1
        for ch in _STRENGTH:
            if ch in run:
                return ch
        return run[0]

    return _PUNCT_RUN.sub(repl, text), count


_cc_lock = threading.Lock()
_T2S = None


def t2s(text: str) -> str:
    """Traditional → simplified with OpenCC (one converter per process)."""
    global _T2S
    if _T2S is None:
        with _cc_lock:
            if _T2S is None:
                import opencc

                _T2S = opencc.OpenCC("t2s")
    return _T2S.convert(text)


_CJK = re.compile(r"[\u4e00-\u9fff]")


def detect_script(original: str, simplified: str) -> str:
    """'zh-Hant' when a noticeable share of CJK characters changes under t2s, else 'zh-Hans'."""
    if len(original) == len(simplified):
        changed = sum(1 for a, b in zip(original, simplified, strict=True) if a != b and _CJK.match(a))
    else:
        changed = len(set(original) - set(simplified))
    total = len(_CJK.findall(original)) or 1
    return "zh-Hant" if changed >= 3 and changed / total > 0.02 else "zh-Hans"


# ------------------------------------------------------------------------------------------ dates

DATE_RE = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*(?:[-/.年])\s*(?P<m>\d{1,2})(?:\s*(?:[-/.月])\s*(?P<d>\d{1,2})(?!\d))?\s*(?:日|号)?"
)
YEAR_ONLY_RE = re.compile(r"(?P<y>(?:19|20)\d{2})\s*年")


def parse_date(text: str) -> str | None:
    m = DATE_RE.search(text)
    if m:
        y, mo, d = int(m.group("y")), int(m.group("m")), m.group("d")
        if 1 <= mo <= 12:
            if d and 1 <= int(d) <= 31:
                return f"{y:04d}-{mo:02d}-{int(d):02d}"
            return f"{y:04d}-{mo:02d}"
    m = YEAR_ONLY_RE.search(text)
    return m.group("y") if m else None


# ------------------------------------------------------------------------------------------ lines

META_RE = re.compile(
    r"^[\[【(]?\s*(?:来源|稿源|信息来源|文章来源|出处|作者|撰稿|责编|责任编辑|编辑|编审|审核|审校|校对|记者|通讯员|"
    r"发布时间|发布日期|发表时间|发表日期|更新时间|时间|日期|浏览次数|浏览|点击数|点击量|点击|阅读量|阅读次数|阅读|"
    r"字号|供稿|发布人|发布机构|信息来源)\s*[:]"
)
META_ANY_RE = re.compile(
    r"(?:来源|作者|责编|责任编辑|编辑|记者|发布时间|发布日期|日期|时间|浏览|阅读|点击|字号)\s*[:]"
)
LINK_ITEM_RE = re.compile(
    r"[(\[]\s*(?:19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2}\s*[)\]]$|^[·•▪◆■□●○\-]\s*\S.{0,40}$"
)
DATE_LINE_RE = re.compile(r"^\s*(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?")
SOURCE_LINE_RE = re.compile(
    r"^\(\s*(?:据|来源|稿件来源|图片来源|图源|摄影|摄|记者|通讯员|作者|编辑|责编|本报记者)[^()]*\)$"
)
TRAILING_BYLINE_RE = re.compile(r"\((?:记者|通讯员|作者|编辑|责编|本报记者|摄影)[^()]{0,30}\)\s*$")
CAPTION_RE = re.compile(r"图片来源|图源[::]|供图|\(摄影|摄\)|^图\s*[::\d]")
CHROME_RE = re.compile(
    r"首页|版面导航|标题导航|上一期|下一期|上一篇|下一篇|返回顶部|返回首页|版面目录|新闻内容|分享到|一键分享|扫一扫|"
    r"微信扫|打印本页|打印此页|关闭窗口|收藏本页|加入收藏|设为首页|【\s*大\s*中\s*小\s*】|字体[::]?\s*大|当前位置|"
    r"您的位置|你的位置|网站地图|联系我们|友情链接|回答数|浏览数|默认排序|按时间排序|已采纳|相关问答|相关阅读|相关新闻|"
    r"我精心推荐|评论\(\d+\)|^第\d+版|登录|注册账号|免费注册|免责声明|版权所有|copyright|©|icp|备案号|公网安备|"
    r"技术支持|主办单位|承办单位|联系电话|网站标识码|举报|点赞|阅读全文|查看更多|热门推荐|猜你喜欢|推荐阅读|责任编辑|"
    r"上一页|下一页|尾页|[<>]{2}|\bshare\b|微博|qq空间",
    re.IGNORECASE,
)
HARD_JUNK_RE = re.compile(r"版权所有|copyright|©|icp备|icp证|公网安备|蜘蛛池|网站标识码", re.IGNORECASE)
SPAM_RE = re.compile(
    r"久久|无码|国产|亚洲|欧美|日韩|一区|二区|精品|免费视频|成人|激情|天堂|av|色综合|在线观看", re.I
)
NAV_SPLIT_RE = re.compile(r"\s*[|｜·•/>»]\s*|\s{2,}|\s")
SENT_PUNCT_RE = re.compile(r"[。,;!?、]")
BREADCRUMB_RE = re.compile(r"^(?:首页|网站首页|当前位置[::]?\s*首页)\s*[>»/]")


def classify_line(line: str) -> str | None:
    """'meta' | 'junk' | None (content)."""
    s = line.strip()
    if not s:
        return "empty"
    n = len(s)
    if META_RE.match(s) and n <= 80:
        return "meta"
    if SOURCE_LINE_RE.match(s):
        return "meta"
    if DATE_LINE_RE.match(s):
        rest = DATE_LINE_RE.sub("", s)
        if (len(rest) <= 16 and not SENT_PUNCT_RE.search(rest)) or (n <= 100 and META_ANY_RE.search(rest)):
            return "meta"
    if n <= 100 and len(META_ANY_RE.findall(s)) >= 2 and not re.search(r"[。!?]", s):
        return "meta"
    if HARD_JUNK_RE.search(s):
        return "junk"
    if s.count("|") >= 4 or len(SPAM_RE.findall(s)) >= 4:
        return "junk"
    if re.fullmatch(r"[\d\s.,:%()\-+•·*#=_~]+", s):
        return "junk"
    if n <= 60 and CHROME_RE.search(s):
        return "junk"
    if n <= 70 and LINK_ITEM_RE.search(s) and not re.search(r"[。;]", s):
        return "junk"
    if n <= 100 and CAPTION_RE.search(s):
        return "junk"
    if n <= 4 and not re.search(r"\d", s):
        return "junk"
    if n <= 80 and not SENT_PUNCT_RE.search(s):
        parts = [p for p in NAV_SPLIT_RE.split(s) if p]
        if len(parts) >= 4 and max(len(p) for p in parts) <= 6:
            return "junk"
    return None


_END_OK = re.compile(r"[\u4e00-\u9fff\d,、a-zA-Z]$")
_START_OK = re.compile(r"^[\u4e00-\u9fff\d]")


@dataclass
class NormalizedDoc:
    paragraphs: list[str]  # simplified, cleaned
    originals: list[str]  # the same paragraphs in the original script (aligned when lengths agree)
    title: str | None
    published: str | None
    language: str
    stats: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


_TITLE_OK = re.compile(r"[\u4e00-\u9fff]{4}")


def _guess_title(lines: list[str], breadcrumb_title: str | None) -> str | None:
    for line in lines[:8]:
        s = line.strip()
        shaped = 6 <= len(s) <= 60 and _TITLE_OK.search(s) and not s.endswith(("。", ",", ";", ":"))
        if shaped and not re.search(r"[a-zA-Z]{2,}", s) and "。" not in s[:-1]:
            return s
    return breadcrumb_title


def normalize_text(text: str) -> NormalizedDoc:
    stats: dict = {"chars_in": len(text)}
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    stats["lines_in"] = text.count("\n") + 1 if text else 0
    text = to_halfwidth(text)
    text, n_gloss = strip_pinyin_glosses(text)
    text, n_punct = fix_doubled_punctuation(text)
    simplified = t2s(text)
    language = detect_script(text, simplified)
    orig_lines = text.split("\n")
    simp_lines = simplified.split("\n")
    if len(orig_lines) != len(simp_lines):
        orig_lines = simp_lines
    stats["pinyin_glosses_removed"] = n_gloss
    stats["doubled_punctuation_fixed"] = n_punct

    published: str | None = None
    breadcrumb_title: str | None = None
    kept: list[tuple[str, str]] = []
    seen: set[str] = set()
    junk = meta = dups = 0
    for orig, simp in zip(orig_lines, simp_lines, strict=True):
        indented = bool(re.match(r"[ \t\u3000]{2,}|\t", simp))
        s = re.sub(r"[ \t]+", " ", simp).strip()
        o = re.sub(r"[ \t]+", " ", orig).strip()
        kind = classify_line(s)
        if kind == "empty":
            continue
        if kind == "meta":
            meta += 1
            if published is None and not SOURCE_LINE_RE.match(s):
                published = parse_date(s)
            continue
        if kind == "junk":
            junk += 1
            if breadcrumb_title is None and BREADCRUMB_RE.match(s):
                parts = [p for p in re.split(r"\s*[>»/]\s*", s) if p]
                if len(parts) >= 2 and len(parts[-1]) >= 4:
                    breadcrumb_title = parts[-1]
            continue
        s2 = TRAILING_BYLINE_RE.sub("", s).strip()
        if s2 != s:
            o = TRAILING_BYLINE_RE.sub("", o).strip()
            s = s2
        key = re.sub(r"\s+", "", s)
        if len(key) >= 6:
            if key in seen:
                dups += 1
                continue
            seen.add(key)
        kept.append((s, o if len(o) == len(s) else s, indented))

    # re-join paragraphs broken across lines ("…截至2021年底,贵州全" / "省已建成…")
    paragraphs: list[str] = []
    originals: list[str] = []
    for s, o, indented in kept:
        if (
            paragraphs
            and not indented
            and len(paragraphs[-1]) >= 30
            and _END_OK.search(paragraphs[-1])
            and _START_OK.match(s)
        ):
            paragraphs[-1] += s
            originals[-1] += o
        else:
            paragraphs.append(s)
            originals.append(o)

    stats.update(
        lines_kept=len(paragraphs),
        junk_lines_removed=junk,
        metadata_lines_removed=meta,
        duplicate_paragraphs_removed=dups,
    )
    title = _guess_title([s for s, _, _ in kept], breadcrumb_title)
    return NormalizedDoc(paragraphs, originals, title, published, language, stats)
