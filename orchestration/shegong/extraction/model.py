"""Output records of the report extractor."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

FACT_KEYS = (
    "doc", "metric", "value", "unit", "qualifier", "is_target", "region", "adcode", "year", "quote", "confidence",
)  # fmt: skip


@dataclass(frozen=True)
class Fact:
    """One headline figure of a report, in base units, with where/when it applies and the clause stating it."""

    doc: str
    metric: str
    value: float | int
    unit: str
    qualifier: str  # exact | approx | at_least | at_most
    is_target: bool
    region: str | None
    adcode: str | None
    year: int | None
    quote: str
    confidence: float = 1.0  # 0-1, from the evidence that produced the figure (see confidence.py)

    def to_dict(self) -> dict:
        return {key: getattr(self, key) for key in FACT_KEYS}

    @property
    def fact_key(self) -> str:
        """A stable name for the figure across re-extractions: its document, its quote and its value (not the
        metric, region or year, which an extractor change or a review may correct)."""
        return fact_key(self.doc, self.quote, self.value)


def fact_key(doc: str, quote: str, value: float | int) -> str:
    text = f"{doc}\x1f{quote}\x1f{float(value):.6g}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class ExtractionResult:
    doc: str
    title: str | None
    published: str | None
    language: str
    main_region: str | None
    main_adcode: str | None
    facts: list[Fact] = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    normalized_text: str = ""
    url: str | None = None
    published_source: str | None = None  # sidecar | html_meta | front_matter | dateline
    publisher: str | None = None
    quality: dict = field(default_factory=dict)  # extraction-quality summary (confidence.document_quality)
