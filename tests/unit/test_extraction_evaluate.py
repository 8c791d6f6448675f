"""The scoring breakdown of `make eval-extraction`: per metric and per error kind."""

import json

from shegong.extraction.evaluate import breakdown, format_breakdown, load_predicted


def fact(metric, value, adcode="420000", year=2021):
    return {"metric": metric, "value": value, "adcode": adcode, "year": year}


def test_breakdown_counts_each_error_kind_per_metric():
    gold = {
        "a.txt": [fact("exam_passed", 100), fact("exam_passed", 50), fact("township_stations", 12)],
        "b.txt": [fact("volunteers", 3000)],
    }
    pred = {
        "a.txt": [
            fact("exam_passed", 100.3),  # within 0.5%: a match
            fact("township_stations", 12, year=2020),  # wrong year
            fact("village_stations", 7),  # spurious
        ],
        "b.txt": [fact("volunteers", 3000, adcode="430000")],  # wrong region
        "unknown.txt": [fact("volunteers", 1)],  # a document without gold is not scored
    }
    result = breakdown(gold, pred)
    assert result["errors"] == {"missed": 1, "spurious": 1, "wrong_year": 1, "wrong_region": 1}
    passed = result["metrics"]["exam_passed"]
    assert (passed["gold"], passed["predicted"], passed["matched"], passed["missed"]) == (2, 1, 1, 1)
    assert (passed["precision"], passed["recall"]) == (1.0, 0.5)
    assert result["metrics"]["village_stations"]["spurious"] == 1
    lines = format_breakdown(result)
    assert lines[0].split()[:4] == ["metric", "gold", "pred", "match"]
    assert lines[-1] == "errors by kind: missed 1, spurious 1, wrong_year 1, wrong_region 1"


def test_predictions_are_read_from_extract_output(tmp_path):
    path = tmp_path / "pred.jsonl"
    rows = [fact("volunteers", 3000) | {"doc": "dir/b.txt"}, fact("exam_passed", 5) | {"doc": "b.txt"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    assert [f["metric"] for f in load_predicted(path)["b.txt"]] == ["volunteers", "exam_passed"]
