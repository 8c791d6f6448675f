"""Report files → text: encoding detected from the bytes (never from the extension), HTML / Markdown → lines."""

from __future__ import annotations

import codecs
import contextlib
import functools
import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path


class ReportReadError(ValueError):
    """A report that cannot be read as text: empty, binary or undecodable."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"cannot read report {self.path}: {reason}")


# ------------------------------------------------------------------------------------------ encodings

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MAGIC = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"GIF8", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"PK\x03\x04", "a ZIP archive (docx/xlsx?)"),
    (b"\xd0\xcf\x11\xe0", "an OLE document (doc/xls?)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x7fELF", "an executable"),
)
_PUNCT_CHARS = set("，。、：；“”！？（）《》")


@functools.cache
def _common_chars() -> frozenset[str]:
    """GB2312 level-1 (3755 most used simplified) + Big5 level-1 (5401 most used traditional) characters."""
    chars: set[str] = set()
    for lead in range(0xB0, 0xD8):
        for trail in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(bytes((lead, trail)).decode("gb2312"))
    for code in range(0xA440, 0xC67F):
        lead, trail = divmod(code, 256)
        if 0x40 <= trail <= 0x7E or 0xA1 <= trail <= 0xFE:
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(bytes((lead, trail)).decode("big5"))
    return frozenset(chars)


def _score(text: str) -> float:
    """How much `text` looks like real Chinese: common characters and Chinese punctuation per character."""
    if not text:
        return 0.0
    common = _common_chars()
    sample = text[:20000]
    good = sum(1 for ch in sample if ch in common) + 3 * sum(1 for ch in sample if ch in _PUNCT_CHARS)
    ascii_ok = sum(1 for ch in sample if ch.isascii() and (ch.isprintable() or ch in "\n\r\t"))
    bad = sum(
        1
        for ch in sample
        if ("\ue000" <= ch <= "\uf8ff") or ch == "\ufffd" or (ord(ch) < 32 and ch not in "\n\r\t")
    )
    return (good + 0.5 * ascii_ok - 5 * bad) / len(sample)


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:4000]
    if len(sample) < 4:
        return None
    even_nul = sample[0::2].count(0) / max(1, len(sample[0::2]))
    odd_nul = sample[1::2].count(0) / max(1, len(sample[1::2]))
    for enc, ratio in (("utf-16-le", odd_nul), ("utf-16-be", even_nul)):
        if ratio > 0.2:
            try:
                return data.decode(enc)
            except UnicodeDecodeError:
                pass
    # CJK-heavy UTF-16 has few NULs: accept if it decodes and scores well
    if len(data) % 2 == 0:
        best = None
        for enc in ("utf-16-le", "utf-16-be"):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                continue
            if _score(text) > 1.2 and (best is None or _score(text) > _score(best)):
                best = text
        return best
    return None


def decode_bytes(data: bytes, path: str | Path = "<bytes>") -> str:
    """Bytes of a report → text. UTF-8 (with/without BOM), UTF-16/32 (BOM or not), GB18030/GBK, Big5."""
    if not data or not data.strip():
        raise ReportReadError(path, "file is empty")
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(enc)
            except UnicodeDecodeError as exc:
                raise ReportReadError(
                    path, f"invalid {enc} text after its byte-order mark ({exc.reason})"
                ) from None
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise ReportReadError(path, f"binary file ({what}), not a text report")
    if b"\x00" in data[:4000]:
        text = _utf16_without_bom(data)
        if text is not None:
            return text
        raise ReportReadError(path, "binary file (NUL bytes), not a text report")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    candidates: list[tuple[float, str]] = []
    for enc in ("gb18030", "cp950", "big5hkscs"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        candidates.append((_score(text), text))
    text16 = _utf16_without_bom(data)
    if text16 is not None:
        candidates.append((_score(text16), text16))
    if not candidates:
        try:
            import charset_normalizer

            best = charset_normalizer.from_bytes(data).best()
        except Exception:  # pragma: no cover - defensive
            best = None
        if best is not None and best.encoding:
            candidates.append((_score(str(best)), str(best)))
    if not candidates:
        raise ReportReadError(path, "undecodable: not UTF-8, UTF-16, GB18030 or Big5 text")
    score, text = max(candidates, key=lambda c: c[0])
    if score < 0.35:
        raise ReportReadError(path, "undecodable: bytes do not look like Chinese text in any common encoding")
    return text


def _control_ratio(text: str) -> float:
    sample = text[:4000]
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t\f")
    return bad / max(1, len(sample))


# ------------------------------------------------------------------------------------------ HTML

_BLOCK_TAGS = {
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section", "article",
    "header", "footer", "aside", "main", "blockquote", "pre", "dd", "dt", "dl", "hr", "title", "td", "th", "figcaption",
    "center", "form",
}  # fmt: skip
_SKIP_TAGS = {
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "iframe",
    "nav",
    "select",
    "button",
    "object",
    "canvas",
}
_HEAD_SKIP = {"meta", "link"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.buf: list[str] = []
        self.skip = 0
        self.title: str | None = None
        self.h1: str | None = None
        self._in_title = False
        self._in_h1 = False
        self._cap: list[str] = []

    def _flush(self) -> None:
        line = re.sub(r"[ \t\r\n\u3000\xa0]+", " ", "".join(self.buf)).strip()
        if line:
            self.lines.append(line)
        self.buf = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIP_TAGS:
            self.skip += 1
            return
        if tag in _BLOCK_TAGS:
            self._flush()
        if tag == "title":
            self._in_title, self._cap = True, []
        elif tag == "h1" and self.h1 is None:
            self._in_h1, self._cap = True, []

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag in _BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
            return
        if tag == "title" and self._in_title:
            self._in_title = False
            self.title = "".join(self._cap).strip() or None
            self.buf = []  # the <title> goes first, separately
            return
        if tag == "h1" and self._in_h1:
            self._in_h1 = False
            self.h1 = "".join(self._cap).strip() or None
        if tag in _BLOCK_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self._in_title or self._in_h1:
            self._cap.append(data)
        if not self._in_title:
            self.buf.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


_SITE_SUFFIX = re.compile(r"\s*[_|–—-]\s*[^_|–—-]{2,30}$")


def html_to_text(html: str) -> str:
    """Visible text blocks of an HTML page as lines; scripts, styles and navigation dropped; title first."""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # malformed markup: fall back to a crude strip
        text = re.sub(r"(?is)<(script|style|noscript)[^>]*>.*?</\1>", " ", html)
        text = re.sub(r"(?i)<br\s*/?>|</(p|div|li|h\d|tr)>", "\n", text)
        return re.sub(r"<[^>]+>", " ", text)
    lines = parser.lines
    title = parser.h1 or (parser.title and _SITE_SUFFIX.sub("", parser.title))
    if title and (not lines or lines[0] != title):
        lines = [title, *[line for line in lines if line != title]]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ Markdown

_MD_RULES = (
    (re.compile(r"(?m)^[ \t]*```.*$"), ""),
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"(?m)^[ \t]{0,3}#{1,6}[ \t]*"), ""),
    (re.compile(r"(?m)^[ \t]{0,3}>[ \t]?"), ""),
    (re.compile(r"(?m)^[ \t]*(?:[-*+]|\d+\.)[ \t]+(?=\S)"), ""),
    (re.compile(r"(?m)^[ \t]*(?:-{3,}|\*{3,}|_{3,})[ \t]*$"), ""),
    (re.compile(r"(?m)^[ \t]*\|?(?:[ \t]*:?-{2,}:?[ \t]*\|)+[ \t]*(?::?-*:?)?[ \t]*$"), ""),
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"\1"),
    (re.compile(r"`([^`]*)`"), r"\1"),
    (re.compile(r"<[^>]+>"), ""),
)


def markdown_to_text(md: str) -> str:
    for rx, repl in _MD_RULES:
        md = rx.sub(repl, md)
    # table rows → cells separated by spaces
    md = re.sub(
        r"(?m)^[ \t]*\|(.*)\|[ \t]*$", lambda m: "  ".join(c.strip() for c in m.group(1).split("|")), md
    )
    return md


_HTML_SNIFF = re.compile(
    r"(?is)<!doctype\s+html|<html[\s>]|<body[\s>]|<head[\s>]|<(?:div|p|br|span|table|article)[\s>/]"
)
_MD_SNIFF = re.compile(r"(?m)^#{1,6}\s+\S|\]\([^)]+\)|^\s*\|.*\|\s*$")


def looks_like_html(text: str) -> bool:
    head = text[:5000]
    return bool(_HTML_SNIFF.search(head)) and len(re.findall(r"<[a-zA-Z/][^>]{0,200}>", head)) >= 3


def read_report(path: str | Path) -> str:
    """A report file → plain text lines (HTML and Markdown converted). Raises ReportReadError."""
    return read_report_with_metadata(path)[0]


# ------------------------------------------------------------------------------------------ metadata

SIDECAR_SUFFIX = ".meta.json"
SIDECAR_KEYS = ("url", "published", "title", "publisher", "region")


@dataclass(frozen=True)
class ReportMetadata:
    """What a crawler or the page itself says about a report, beside its text."""

    url: str | None = None
    published: str | None = None  # YYYY-MM-DD (or YYYY-MM / YYYY when that is all that is known)
    title: str | None = None
    publisher: str | None = None
    region: str | None = None
    source: str | None = None  # where `published` came from: sidecar | html_meta | front_matter | dateline

    def merged(self, other: ReportMetadata) -> ReportMetadata:
        """Fields of self, filled in from `other` where self has none."""
        values = {k: getattr(self, k) or getattr(other, k) for k in SIDECAR_KEYS}
        source = self.source if self.published else other.source
        return ReportMetadata(**values, source=source)


def sidecar_path(path: str | Path) -> Path:
    """`r101.txt` → `r101.meta.json` (beside the report)."""
    path = Path(path)
    return path.with_name(path.stem + SIDECAR_SUFFIX)


def is_sidecar(path: str | Path) -> bool:
    return Path(path).name.endswith(SIDECAR_SUFFIX)


_ISO_DATE_RE = re.compile(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")


def normalize_date(value: object) -> str | None:
    """A date in any common written form ("2022-02-22", "2022/2/22 10:00", "2022年2月22日",
    "2022-02-22T08:00:00+08:00") → "YYYY-MM-DD"; None when it holds no valid date."""
    if value is None:
        return None
    m = _ISO_DATE_RE.search(str(value))
    if not m:
        return None
    y, mo, d = (int(g) for g in m.groups())
    try:
        import datetime as _dt

        return _dt.date(y, mo, d).isoformat()
    except ValueError:
        return None


def read_sidecar(path: str | Path) -> ReportMetadata:
    """The crawler's sidecar of a report (`<stem>.meta.json`), or empty metadata when there is none.

    Raises ReportReadError for a sidecar that is not a JSON object or whose `published` is not a date."""
    side = sidecar_path(path)
    if not side.exists():
        return ReportMetadata()
    try:
        data = json.loads(decode_bytes(side.read_bytes(), side))
    except (ValueError, ReportReadError) as exc:
        raise ReportReadError(side, f"sidecar is not valid JSON ({exc}); fix or remove it") from None
    if not isinstance(data, dict):
        raise ReportReadError(side, "sidecar must be a JSON object with url/published/title/publisher/region")
    published = data.get("published")
    if published not in (None, "") and normalize_date(published) is None:
        raise ReportReadError(side, f"sidecar 'published' {published!r} is not a date (use YYYY-MM-DD)")
    fields = {
        k: (str(data[k]).strip() or None) if data.get(k) not in (None, "") else None for k in SIDECAR_KEYS
    }
    fields["published"] = normalize_date(published)
    return ReportMetadata(**fields, source="sidecar" if fields["published"] else None)


_HTML_DATE_KEYS = (
    "article:published_time",
    "og:published_time",
    "pubdate",
    "publishdate",
    "publish_date",
    "publishtime",
    "datepublished",
    "dc.date",
    "dc.date.issued",
    "dcterms.issued",
    "firstpublishedtime",
    "date",
)
_HTML_META_KEYS = {
    "og:url": "url",
    "og:title": "title",
    "articletitle": "title",
    "og:site_name": "publisher",
    "sitename": "publisher",
    "contentsource": "publisher",
    "author": "publisher",
}


class _MetaParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str] = {}
        self.canonical: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            key = (a.get("property") or a.get("name") or a.get("itemprop") or "").strip().lower()
            if key and a.get("content", "").strip():
                self.values.setdefault(key, a["content"].strip())
        elif tag == "link" and "canonical" in a.get("rel", "").lower() and a.get("href"):
            self.canonical = a["href"].strip()
        elif tag == "time" and a.get("datetime") and "pubdate" in a:
            self.values.setdefault("pubdate", a["datetime"])


def html_metadata(html: str) -> ReportMetadata:
    """url / published / title / publisher from an HTML page's <meta> tags (and canonical link)."""
    parser = _MetaParser()
    with contextlib.suppress(Exception):  # malformed markup: whatever was read so far
        parser.feed(html[:200_000])
    values = parser.values
    published = next(
        (normalize_date(values[k]) for k in _HTML_DATE_KEYS if normalize_date(values.get(k))), None
    )
    fields: dict[str, str | None] = {"url": parser.canonical}
    for key, field_name in _HTML_META_KEYS.items():
        if values.get(key) and not fields.get(field_name):
            fields[field_name] = values[key]
    return ReportMetadata(
        url=fields.get("url"),
        published=published,
        title=fields.get("title"),
        publisher=fields.get("publisher"),
        source="html_meta" if published else None,
    )


_FRONT_MATTER_RE = re.compile(r"\A\ufeff?---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_FRONT_DATE_KEYS = ("published", "date", "pubdate", "publish_date", "published_time")


def split_front_matter(md: str) -> tuple[ReportMetadata, str]:
    """A Markdown file's YAML front matter → metadata, and the body without it."""
    m = _FRONT_MATTER_RE.match(md)
    if not m:
        return ReportMetadata(), md
    try:
        import yaml

        data = yaml.safe_load(m.group(1))
    except Exception:  # not YAML after all: leave the text as it is
        return ReportMetadata(), md
    if not isinstance(data, dict):
        return ReportMetadata(), md
    data = {str(k).lower(): v for k, v in data.items()}
    published = next((normalize_date(data[k]) for k in _FRONT_DATE_KEYS if normalize_date(data.get(k))), None)

    def text(key: str) -> str | None:
        value = data.get(key)
        return str(value).strip() or None if value not in (None, "") else None

    meta = ReportMetadata(
        url=text("url") or text("link") or text("source_url"),
        published=published,
        title=text("title"),
        publisher=text("publisher") or text("source"),
        region=text("region"),
        source="front_matter" if published else None,
    )
    return meta, md[m.end() :]


def read_report_with_metadata(path: str | Path) -> tuple[str, ReportMetadata]:
    """A report file → (plain text, metadata). Metadata: the sidecar first, then the page's own HTML <meta> tags
    or Markdown front matter. (The dateline inside the text is read later, by normalisation.)"""
    path = Path(path)
    sidecar = read_sidecar(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReportReadError(path, exc.strerror or str(exc)) from None
    text = decode_bytes(data, path)
    if _control_ratio(text) > 0.05:
        raise ReportReadError(path, "binary file (control characters), not a text report")
    page = ReportMetadata()
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm", ".xhtml") or looks_like_html(text):
        page = html_metadata(text)
        text = html_to_text(text)
    else:
        page, text = split_front_matter(text)
        if suffix in (".md", ".markdown") or (suffix not in (".txt",) and _MD_SNIFF.search(text[:5000])):
            text = markdown_to_text(text)
    if not text.strip():
        raise ReportReadError(path, "no text content")
    return text, sidecar.merged(page)
