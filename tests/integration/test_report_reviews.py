"""Analysts' reviews of report facts, end to end on real components: reports through the real extractor into a
real DuckDB file, review files (CSV and XLSX) through the review contract, then real `dbt build` runs; and the
reviews surviving a re-extraction of a changed report."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import duckdb
import openpyxl
import pytest

from shegong.ingest.reports import ingest_reports
from shegong.ingest.reviews import ingest_reviews, review_files, review_queue
from shegong.schema import ensure_build_schema

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dbt_fixture as fx

pytestmark = pytest.mark.integration

REPORT = (
    "广州市社会工作发展情况通报\n"
    "发布时间:2024-03-15\n"
    "截至2023年底,广州市持证社工达5200人。\n"
    "全市建成镇街社工站176个,覆盖所有镇街。\n"
    "今年全市共有1300人通过社会工作者职业水平考试。\n"
)
# the same report sent again: a new opening line, the stations sentence gone
REPORT_CHANGED = (
    "广州市社会工作发展情况通报(修订稿)\n"
    "发布时间:2024-03-15\n"
    "本文更正了上一版的部分表述。\n"
    "截至2023年底,广州市持证社工达5200人。\n"
    "今年全市共有1300人通过社会工作者职业水平考试。\n"
)
HEADER = ["document", "fact_key", "quote", "action", "metric", "value", "region", "adcode", "year", "reviewer",
          "reason", "reviewed_at"]  # fmt: skip
REVIEWERS = ("王小明", "李华", "欧阳娜娜")


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def build(db: Path, work: Path, select: list[str] | None = None) -> None:
    args = ["build"] + (["--select", *select] if select else [])
    result = fx.run_dbt(args, db, work)
    assert result.success, f"dbt build failed: {result.exception}"
    failures = [r for r in result.result if str(r.status) not in ("success", "pass", "no-op")]
    assert not failures, [(r.node.unique_id, r.status, r.message) for r in failures]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    work = tmp_path_factory.mktemp("reviews")
    db = fx.build_fixture_db(work / "shegong_build.duckdb")
    landing = work / "landing"
    (landing / "reports" / "review").mkdir(parents=True)
    report = landing / "reports" / "gz_review.txt"
    report.write_text(REPORT, encoding="utf-8")
    con = duckdb.connect(str(db))
    ensure_build_schema(con)
    ingest_reports(con, [report], landing)
    keys = dict(
        con.execute("select metric, fact_key from raw.report_facts where doc = 'gz_review.txt'").fetchall()
    )
    stations_key = keys["township_stations"]

    folder = landing / "reports" / "review"
    write_csv(
        folder / "2024-04_review.csv",
        [
            ["gz_review.txt", stations_key, "", "reject", "", "", "", "", "", REVIEWERS[0], "镇街数不符", "2024-04-02"],
            ["gz_review.txt", "", "持证社工达5200人", "更正", "", "5300", "", "", "2023", REVIEWERS[1], "年报口径",
             "2024-04-03 10:30"],
            ["gz_review.txt", "", "持证社工达5200人", "correct", "", "5250", "", "", "", REVIEWERS[1], "初稿",
             "2024-04-01"],
            ["gz_review.txt", "", "这一句不在报告里", "correct", "", "10", "", "", "", REVIEWERS[2], "试", "2024-04-03"],
            ["gz_review.txt", "", "", "approve", "", "", "", "", "", REVIEWERS[0], "?", "2024-04-03"],
            ["gz_review.txt", "", "持证社工", "correct", "not_a_metric", "", "", "", "23", REVIEWERS[0], "x",
             "2024-04-03"],
            ["gz_review.txt", "", "持证社工", "correct", "", "", "火星市", "", "", REVIEWERS[0], "x", "yesterday"],
            ["gz_review.txt", "", "其他", "", "", "", "", "", "", "", "", ""],  # a template row left untouched
        ],
    )  # fmt: skip
    book = openpyxl.Workbook()
    book.active.append(["文档", "原文", "操作", "指标", "数值", "地区", "年份", "审核人", "理由", "审核时间"])
    book.active.append(["gz_review.txt", "全市社工机构88家", "新增", "social_work_agencies", 88, "广州市", 2023,
                        REVIEWERS[2], "漏提", "2024-04-05"])  # fmt: skip
    book.active.append(
        ["unknown_report.txt", "", "新增", "volunteers", 10, "", 2023, REVIEWERS[2], "x", "2024-04-05"]
    )
    book.save(folder / "2024-04_added.xlsx")
    (folder / "broken.xlsx").write_bytes(b"this is not a workbook")
    outcomes = ingest_reviews(con, review_files(folder), landing)
    con.close()
    build(db, work)
    return {"db": db, "work": work, "landing": landing, "report": report, "outcomes": outcomes, "keys": keys}


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_review_files_are_checked_like_a_registry(world):
    outcomes = {o.source_file: (o.status, o.rows_clean, o.rows_quarantined) for o in world["outcomes"]}
    assert outcomes == {
        "reports/review/2024-04_added.xlsx": ("current", 2, 0),
        "reports/review/2024-04_review.csv": ("current", 4, 3),
        "reports/review/broken.xlsx": ("rejected", 0, 0),
    }
    quarantined = query(
        world["db"],
        """select source_row, reason_codes from audit.quarantined_rows where registry = 'report_reviews'
           order by source_row""",
    )
    assert quarantined == [
        (6, ["unknown_action"]),
        (7, ["bad_year", "unknown_metric"]),
        (8, ["bad_reviewed_at", "unknown_region"]),
    ]
    files = query(
        world["db"],
        """select source_file, status, rows_in, rows_clean, rows_quarantined, error is not null
           from audit.ingested_files where registry = 'report_reviews' order by source_file""",
    )
    assert files == [
        ("reports/review/2024-04_added.xlsx", "current", 2, 2, 0, False),
        ("reports/review/2024-04_review.csv", "current", 7, 4, 3, False),
        ("reports/review/broken.xlsx", "rejected", 0, 0, 0, True),
    ]


def test_reviewer_names_never_land_in_clear(world):
    tables = query(world["db"], "select reviewer_masked from raw.report_reviews") + query(
        world["db"], "select raw_values from audit.quarantined_rows where registry = 'report_reviews'"
    )
    text = " ".join(str(v) for row in tables for v in row)
    assert "王*" in text
    for name in REVIEWERS:
        assert name not in text


def test_the_mart_carries_extracted_and_reviewed_values_with_provenance(world):
    rows = query(
        world["db"],
        """select metric_code, extracted_value, reviewed_value, reported_value, report_year, extracted_year,
                  review_status, reviewer_masked, review_source_file, document_url is null, published_source
           from marts.fct_reported_indicators where doc = 'gz_review.txt' order by metric_code""",
    )
    assert rows == [
        ("certified_social_workers", 5200.0, 5300.0, 5300.0, 2023, 2023, "corrected", "李*",
         "reports/review/2024-04_review.csv", True, "dateline"),
        ("exam_passed", 1300.0, None, 1300.0, 2024, 2024, "unreviewed", None, None, True, "dateline"),
        ("social_work_agencies", None, 88.0, 88.0, 2023, None, "added", "欧***",
         "reports/review/2024-04_added.xlsx", True, "dateline"),
        ("township_stations", 176.0, None, 176.0, 2024, 2024, "rejected", "王**",
         "reports/review/2024-04_review.csv", True, "dateline"),
    ]  # fmt: skip
    confidences = query(
        world["db"], "select confidence from marts.fct_reported_indicators where doc = 'gz_review.txt'"
    )
    assert all(c is None or 0 < c <= 1 for (c,) in confidences)


def test_reconciliation_uses_the_reviewed_value_and_skips_rejected_figures(world):
    rows = query(
        world["db"],
        """select metric_code, reported_value, extracted_value, review_status from marts.fct_indicator_reconciliation
           where doc = 'gz_review.txt' order by metric_code""",
    )
    assert rows == [
        ("certified_social_workers", 5300.0, 5200.0, "corrected"),
        ("exam_passed", 1300.0, 1300.0, "unreviewed"),
        ("social_work_agencies", 88.0, None, "added"),
    ]


def test_every_review_is_accounted_for(world):
    rows = query(
        world["db"],
        "select doc, review_action, review_status, matched_facts from marts.fct_report_reviews order by reviewed_at",
    )
    assert sorted(rows) == sorted(
        [
            ("gz_review.txt", "correct", "superseded", 1),  # the earlier draft of the same correction
            ("gz_review.txt", "reject", "applied", 1),
            ("gz_review.txt", "correct", "applied", 1),
            ("gz_review.txt", "correct", "unmatched", 0),  # its quote is in no figure: reported, not dropped
            ("gz_review.txt", "add", "applied", 0),
            ("unknown_report.txt", "add", "unknown_document", 0),
        ]
    )


def test_the_review_queue_lists_unreviewed_facts_least_confident_first(world):
    con = duckdb.connect(str(world["db"]), read_only=True)
    try:
        queue = review_queue(con, limit=100)
        only = review_queue(con, limit=100, doc="gz_review.txt")
    finally:
        con.close()
    assert [q["fact_key"] for q in only] == [world["keys"]["exam_passed"]]  # the others are reviewed
    confidences = [q["confidence"] for q in queue if q["confidence"] is not None]
    assert confidences == sorted(confidences)


def test_reviews_survive_re_extraction_and_a_vanished_figure_is_reported(world):
    world["report"].write_text(REPORT_CHANGED, encoding="utf-8")
    con = duckdb.connect(str(world["db"]))
    ingest_reports(con, [world["report"]], world["landing"])
    con.close()
    build(world["db"], world["work"], ["stg_report_facts+", "stg_report_documents+", "stg_report_reviews+"])
    statuses = dict(
        query(
            world["db"],
            "select review_action || ':' || coalesce(fact_key, quote), review_status from marts.fct_report_reviews",
        )
    )
    assert statuses[f"reject:{world['keys']['township_stations']}"] == "unmatched"
    assert statuses["correct:持证社工达5200人"] in ("applied", "superseded")
    corrected = query(
        world["db"],
        """select fact_index, reported_value, extracted_value, review_status from marts.fct_reported_indicators
           where doc = 'gz_review.txt' and metric_code = 'certified_social_workers'""",
    )
    assert corrected == [(0, 5300.0, 5200.0, "corrected")]
