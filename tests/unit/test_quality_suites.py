"""The GX file context in expectations/: suites load, every expectation is classified and explained, the
committed files match their generator, chunk aggregation folds results right, and a bad frame fails the
expectation it should."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shegong.config import EXPECTATIONS_DIR
from shegong.quality.authoring import write_project
from shegong.quality.checks import check_specs
from shegong.quality.context import load_suites, suite_files, suite_spec
from shegong.quality.datasets import dataset
from shegong.quality.runner import (
    CHUNK_SAFE,
    MAP_PREFIXES,
    UNIQUENESS,
    aggregate,
    column_of,
    expectation_name,
    redact,
    suite_configs,
    validate_frames,
)

SUITES = sorted(suite_files())


def test_every_suite_loads_through_gx() -> None:
    suites = load_suites()
    assert sorted(suites) == SUITES
    assert {"raw.workers", "raw.funding", "raw.regions", "raw.gazetteer", "raw.workers.files"} <= set(suites)


@pytest.mark.parametrize("suite", SUITES)
def test_every_expectation_has_severity_and_meaning(suite: str) -> None:
    expectations = suite_spec(suite)["expectations"]
    assert expectations
    for e in expectations:
        meta = e["meta"]
        assert meta["severity"] in ("blocking", "warning"), e
        assert e["severity"] == ("critical" if meta["severity"] == "blocking" else "warning")
        meaning = meta["meaning"]
        assert meaning and not meaning[0].isspace() and meaning.endswith("."), e
        assert len(meaning) < 300 and ". " not in meaning.replace("e.g. ", ""), e  # one plain sentence
    names = [(expectation_name(e), column_of(e["kwargs"])) for e in expectations]
    assert len(names) == len(set(names)), f"{suite}: an expectation repeats without a meta.label"


@pytest.mark.parametrize("suite", SUITES)
def test_chunked_suites_only_hold_chunk_safe_expectations(suite: str) -> None:
    spec = dataset(suite)
    if not spec.partition_column:
        return
    for e in suite_spec(suite)["expectations"]:
        kind = e["type"]
        assert kind.startswith(MAP_PREFIXES) or kind in CHUNK_SAFE, (suite, kind)
        if kind in UNIQUENESS:
            columns = e["kwargs"].get("column_list") or [e["kwargs"].get("column")]
            assert spec.partition_column in columns, (
                f"{suite}: {kind} on {columns} would miss cross-chunk duplicates"
            )


def test_committed_project_matches_the_generator() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "datasets.yml").write_text((EXPECTATIONS_DIR / "datasets.yml").read_text(encoding="utf-8"))
        write_project(root)
        generated = {p.relative_to(root): p.read_text() for p in root.rglob("*") if p.is_file()}
    committed = {
        p.relative_to(EXPECTATIONS_DIR): p.read_text()
        for p in EXPECTATIONS_DIR.rglob("*")
        if p.is_file() and "uncommitted" not in p.parts and p.name != ".ge_store_backend_id"
    }
    stale = sorted(
        str(k) for k in generated.keys() | committed.keys() if generated.get(k) != committed.get(k)
    )
    assert not stale, f"run `python -m shegong.quality.authoring` and commit: {stale}"


# What dbt's tests own on models (`dbt build` runs them; they reach Dagster as dbt asset checks).
DBT_OWNED = {
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_unique",
    "expect_compound_columns_to_be_unique",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_match_regex",  # code formats: the marts' code_formats test
    "expect_table_columns_to_match_set",  # the documented columns present: the marts' documented_columns test
}


@pytest.mark.parametrize("suite", SUITES)
def test_no_suite_restates_a_dbt_test_or_the_personal_data_scan(suite: str) -> None:
    """Each invariant has one owner: a suite on a dbt model holds no key, not-null, accepted-values, code-format
    or relationship expectation, and no suite scans a column for personal numbers (one SQL check does)."""
    document = suite_spec(suite)
    kinds = {e["type"] for e in document["expectations"]}
    if suite.startswith("marts."):
        assert not kinds & DBT_OWNED, (suite, kinds & DBT_OWNED)
    assert "expect_column_values_to_not_match_regex" not in kinds, suite
    assert "parameters" not in document["meta"], suite


def test_check_specs_follow_the_manifest() -> None:
    raw_only = check_specs(dbt_keys=set())
    assert all(s.asset_key[0] == "raw" for s in raw_only)
    assert {s.name for s in raw_only} >= {"gx_raw__workers", "gx_raw__workers__files"}
    assert all(s.blocking for s in raw_only if s.suite == "raw.workers")
    everything = check_specs(dbt_keys={("marts", "anything")})
    assert len(everything) >= len(raw_only)


def test_aggregate_folds_chunks() -> None:
    configs = [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}, "meta": {}},
        {"type": "expect_column_min_to_be_between", "kwargs": {"column": "a", "min_value": 0}, "meta": {}},
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 5}, "meta": {}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "b", "value_set": []}, "meta": {}},
    ]
    chunk_1 = [
        {
            "success": True,
            "result": {"element_count": 3, "unexpected_count": 0, "partial_unexpected_list": []},
        },
        {"success": True, "result": {"observed_value": 2}},
        {"success": False, "result": {"observed_value": 3}},
        {"success": True, "result": {"element_count": 3, "unexpected_count": 0}},
    ]
    chunk_2 = [
        {
            "success": False,
            "result": {"element_count": 4, "unexpected_count": 2, "partial_unexpected_list": [None]},
        },
        {"success": True, "result": {"observed_value": 1}},
        {"success": False, "result": {"observed_value": 4}},
        {"success": False, "result": {}, "exception": "boom"},
    ]
    folded = aggregate([list(parts) for parts in zip(chunk_1, chunk_2, strict=True)], configs, {})
    assert folded[0]["success"] is False
    assert folded[0]["result"]["unexpected_count"] == 2 and folded[0]["result"]["element_count"] == 7
    assert folded[1] == {"success": True, "result": {"observed_value": 1}, "exception": None}
    assert folded[2]["success"] is True and folded[2]["result"]["observed_value"] == 7  # 3 + 4 rows ≥ 5
    assert folded[3]["success"] is False and folded[3]["exception"] == "boom"


def test_redaction_masks_id_and_mobile_numbers() -> None:
    assert redact("call 13912345678 now") == "call *******5678 now"
    assert redact(["110101198001010015"]) == ["**************0015"]
    assert redact("20203210001726996") == "20203210001726996"  # a certificate number is not personal data


def _frame(**overrides) -> pd.DataFrame:
    rows = 4
    frame = pd.DataFrame(
        {
            "code": pd.array(["MT0001", "MT0002", "MT0003", "MT0004"], dtype="str"),
            "name": pd.array(["甲", "乙", "丙", "丁"], dtype="str"),
            "value": np.arange(rows, dtype="float64"),
        }
    )
    for column, values in overrides.items():
        frame[column] = values
    return frame


def test_a_failing_frame_fails_the_right_expectation() -> None:
    from great_expectations.core import ExpectationSuite
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    suite = ExpectationSuite("unit.frame")
    for kind, kwargs in (
        ("expect_column_values_to_be_unique", {"column": "code"}),
        ("expect_column_values_to_be_between", {"column": "value", "min_value": 0}),
        (
            "expect_column_values_to_not_match_regex",
            {"column": "name", "regex": r"(?:^|\D)1[3-9]\d{9}(?:\D|$)"},
        ),
    ):
        suite.add_expectation_configuration(ExpectationConfiguration(type=kind, kwargs=kwargs))
    configs = suite_configs(suite)
    good, _, _ = validate_frames([_frame()], suite, "raw.metric_catalogue", {})
    assert [r["success"] for r in good[0]] == [True, True, True]
    bad = _frame(
        code=pd.array(["MT0001", "MT0001", "MT0003", "MT0004"], dtype="str"),
        value=np.array([0.0, -1.0, 2.0, 3.0]),
        name=pd.array(["甲", "电话13800001111", "丙", "丁"], dtype="str"),
    )
    chunks, rows, count = validate_frames([bad, _frame()], suite, "raw.metric_catalogue", {})
    folded = aggregate([list(parts) for parts in zip(*chunks, strict=True)], configs, {})
    assert rows == 8 and count == 2
    assert [f["success"] for f in folded] == [False, False, False]
    assert [f["result"]["unexpected_count"] for f in folded][1:] == [1, 1]
    assert folded[0]["result"]["unexpected_count"] >= 1
    assert (
        json.dumps(redact(folded[2]["result"]["partial_unexpected_list"]), ensure_ascii=False).count("1111")
        == 1
    )
