"""How far to trust an extracted figure, from the evidence that produced it, and a document's extraction quality.

A fact's confidence is the product of five factors in (0, 1], each read from how the fact was found:
  * cue: the metric's cue right next to the number (1.0) down to a metric carried over from a neighbour
    (enumeration, comparison, list heading) or re-filed by a convention;
  * number form: plain digits (1.0); a Chinese numeral, an approximate or open-ended figure less;
  * region: named in the figure's own clause (1.0), in its sentence, only the document's subject, none;
  * year: stated in its sentence (1.0), carried from the sentence before or an as-of date, the publication
    date, a page address, none;
  * target wording: a plan or goal is a softer statement than an achieved figure.
The document summary says how much of a report was read with confidence, so a reviewer starts with the worst.
"""

from __future__ import annotations

from dataclasses import dataclass

CUE_FACTORS = {"cue": 1.0, "inherited": 0.8, "enumeration": 0.85, "comparison": 0.85, "list_heading": 0.8}
REGION_FACTORS = {"clause": 1.0, "sentence": 0.95, "national": 0.9, "context": 0.85, "none": 0.6}
YEAR_FACTORS = {
    "stated": 1.0,
    "continuation": 0.92,
    "as_of": 0.9,
    "published": 0.88,
    "url": 0.75,
    "none": 0.6,
}
QUALIFIER_FACTORS = {"exact": 1.0, "at_least": 0.93, "approx": 0.92, "at_most": 0.9}
LOW_CONFIDENCE = 0.7


@dataclass(frozen=True)
class Evidence:
    """How one figure was found."""

    cue: str  # cue | inherited | enumeration | comparison | list_heading
    gap: int  # characters between the cue and the number (0 = adjacent)
    refiled: bool  # a convention moved it to another metric (a level breakdown, passes → stock …)
    qualifier: str
    chinese_numeral: bool
    region: str  # clause | sentence | national | context | none
    year: str  # stated | continuation | as_of | published | url | none
    is_target: bool


def fact_confidence(ev: Evidence) -> float:
    cue = CUE_FACTORS.get(ev.cue, 0.75)
    cue *= max(0.8, 1.0 - 0.02 * max(0, ev.gap - 1))  # a cue a few characters away is still close
    if ev.refiled:
        cue *= 0.95
    number = QUALIFIER_FACTORS.get(ev.qualifier, 0.9) * (0.93 if ev.chinese_numeral else 1.0)
    region = REGION_FACTORS.get(ev.region, 0.7)
    year = YEAR_FACTORS.get(ev.year, 0.7)
    target = 0.9 if ev.is_target else 1.0
    return round(cue * number * region * year * target, 3)


def document_quality(confidences: list[float], published_source: str | None, stats: dict) -> dict:
    """Extraction-quality summary of one report: how many figures, how confidently read, and why not."""
    n = len(confidences)
    mean = round(sum(confidences) / n, 3) if n else None
    low = sum(1 for c in confidences if c < LOW_CONFIDENCE)
    noise = stats.get("junk_lines_removed", 0) / max(1, stats.get("lines_in", 0) or 1)
    issues = []
    if published_source is None:
        issues.append("no_publication_date")
    if n == 0:
        issues.append("no_facts")
    if low:
        issues.append("low_confidence_facts")
    if noise > 0.5:
        issues.append("mostly_page_chrome")
    if stats.get("facts_without_region"):
        issues.append("facts_without_region")
    score = (mean or 0.0) * (0.9 if published_source is None else 1.0) * (0.9 if noise > 0.5 else 1.0)
    return {
        "facts": n,
        "mean_confidence": mean,
        "min_confidence": min(confidences) if n else None,
        "low_confidence_facts": low,
        "published_source": published_source,
        "junk_line_share": round(noise, 3),
        "score": round(score, 3) if n else None,
        "issues": issues,
    }
