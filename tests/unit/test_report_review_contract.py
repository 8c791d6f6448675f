"""The review contract, row by row (pure checks), and the review template written for analysts."""

import datetime as dt

import pytest

from shegong.ingest.reviews import (
    ReviewFileError,
    check_review_row,
    read_review_table,
    write_review_template,
)

METRICS = frozenset({"certified_social_workers", "township_stations"})
GOOD = {
    "document": "r1.txt",
    "fact_key": "0123456789abcdef",
    "quote": "",
    "action": "correct",
    "metric": "",
    "value": "1,250",
    "region": "",
    "adcode": "",
    "year": "2023",
    "reviewer": "张三",
    "reason": "年报数字",
    "reviewed_at": "2024/4/2 9:30",
}


def codes(row: dict) -> list[str]:
    clean, reasons = check_review_row(row, METRICS)
    assert (clean is None) == bool(reasons)
    return sorted(r["code"] for r in reasons)


def test_a_good_correction_is_clean_and_masks_the_reviewer():
    clean, reasons = check_review_row(GOOD, METRICS)
    assert reasons == []
    assert clean["action"] == "correct" and clean["value"] == 1250.0 and clean["year"] == 2023
    assert clean["reviewer_masked"] == "张*"
    assert clean["reviewed_at"] == dt.datetime(2024, 4, 2, 9, 30)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"action": "approve"}, ["unknown_action"]),
        ({"action": "驳回", "fact_key": "", "quote": ""}, ["missing_fact_reference"]),
        ({"value": "", "year": ""}, ["nothing_to_correct"]),
        ({"action": "add", "metric": ""}, ["add_incomplete"]),
        ({"metric": "stations"}, ["unknown_metric"]),
        ({"value": "about 30"}, ["bad_value"]),
        ({"value": "-3"}, ["bad_value"]),
        ({"year": "1850"}, ["bad_year"]),
        ({"adcode": "999999"}, ["bad_adcode"]),
        ({"region": "火星市"}, ["unknown_region"]),
        ({"region": "广州市", "adcode": "110000"}, ["region_adcode_mismatch"]),
        ({"reviewer": ""}, ["missing_reviewer"]),
        ({"reason": " "}, ["missing_reason"]),
        ({"reviewed_at": "last week"}, ["bad_reviewed_at"]),
        ({"document": ""}, ["missing_document"]),
    ],
)
def test_each_broken_rule_gives_its_reason(change, expected):
    assert codes(GOOD | change) == expected


def test_regions_resolve_through_the_gazetteer():
    clean, _ = check_review_row(GOOD | {"region": "广州市"}, METRICS)
    assert (clean["region"], clean["adcode"]) == ("广州市", "440100")
    clean, _ = check_review_row(GOOD | {"adcode": "440100"}, METRICS)
    assert (clean["region"], clean["adcode"]) == ("广州市", "440100")
    clean, _ = check_review_row(GOOD | {"region": "全国"}, METRICS)
    assert (clean["region"], clean["adcode"]) == ("全国", None)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_the_template_reads_back_as_a_review_file(tmp_path, suffix):
    queue = [
        {"document": "r1.txt", "fact_key": "0123456789abcdef", "quote": "全市持证社工达1200人", "metric":
         "certified_social_workers", "value": 1200.0, "region": "广州市", "adcode": "440100", "year": 2023,
         "confidence": 0.62},
    ]  # fmt: skip
    path = tmp_path / f"review{suffix}"
    assert write_review_template(path, queue) == 1
    (row,) = read_review_table(path)
    assert row["fact_key"] == "0123456789abcdef" and row["value"] == "1200" and row["action"] == ""
    filled = row | {"action": "reject", "reviewer": "李四", "reason": "重复", "reviewed_at": "2024-05-01"}
    clean, reasons = check_review_row(filled, METRICS)
    assert reasons == [] and clean["action"] == "reject"


def test_a_file_without_the_required_headers_is_rejected_whole(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("doc,what\nr1.txt,reject\n", encoding="utf-8")
    with pytest.raises(ReviewFileError, match="header lacks required column"):
        read_review_table(path)
    chinese = tmp_path / "cn.csv"
    chinese.write_text(
        "文档,原文,操作,审核人,理由,审核时间\nr1.txt,某句,驳回,张三,重复,2024-05-01\n", encoding="gb18030"
    )
    (row,) = read_review_table(chinese)
    assert row["action"] == "驳回" and row["quote"] == "某句"


def test_the_review_command_lists_extracted_facts_least_confident_first_and_writes_a_template(tmp_path):
    from click.testing import CliRunner

    from shegong.cli import main

    report = tmp_path / "r1.txt"
    report.write_text(
        "广州市社会工作简报\n发布时间:2023-05-06\n截至2022年底,广州市持证社工达5200人。全市建成社工站约三十个。\n",
        encoding="utf-8",
    )
    template = tmp_path / "review.csv"
    result = CliRunner().invoke(main, ["review", "--template", str(template), str(report)])
    assert result.exit_code == 0, result.output
    rows = read_review_table(template)
    assert [r["value"] for r in rows] == ["30", "5200"]  # the approximate Chinese numeral is less certain
    assert all(r["document"] == "r1.txt" and len(r["fact_key"]) == 16 for r in rows)
    missing = CliRunner().invoke(main, ["review", str(tmp_path / "nope.txt")])
    assert missing.exit_code == 1
