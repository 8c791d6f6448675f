"""Regional-report figure extractor: report files → headline facts of the social-work workforce.

from shegong.extraction import extract_file
result = extract_file("report.txt")
for fact in result.facts:
    print(fact.to_dict())
"""

from .catalogue import load_metric_catalogue
from .extract import extract_document, extract_file
from .model import ExtractionResult, Fact
from .reading import ReportReadError, read_report

__all__ = [
    "ExtractionResult",
    "Fact",
    "ReportReadError",
    "extract_document",
    "extract_file",
    "load_metric_catalogue",
    "read_report",
]
