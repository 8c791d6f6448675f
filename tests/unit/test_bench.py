"""The benchmark's pure parts: stage attribution from step events and dbt timings, the memory sampler, figure
formatting, the targets' verdicts and the read floor's accounting."""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest

from shegong_tools.bench import stages
from shegong_tools.bench.report import (
    GIB,
    MIB,
    fmt_count,
    fmt_mib,
    fmt_rate,
    fmt_seconds,
    mart_differences,
    read_floor,
    stage_rows,
    stage_table,
    verdicts,
)
from shegong_tools.bench.runner import add_new_month, month_label
from shegong_tools.bench.sampler import MemorySampler, proc_tree_rss, tree_rss_reader
from shegong_tools.bench.stages import (
    DBT,
    EXTRACT,
    INGEST,
    ORCHESTRATION,
    PUBLISH,
    VALIDATE,
    Interval,
    classify_step,
    dbt_test_spans,
    split_intervals,
    stage_at,
    stage_peaks,
    stage_seconds,
    step_intervals,
    with_gaps,
)


def test_classify_step_prefers_the_definitions_map_then_the_key_shape():
    kinds = {"raw__workers_gx_raw__workers": VALIDATE}
    assert classify_step("raw__workers_gx_raw__workers", kinds) == VALIDATE
    assert classify_step("raw__workers") == INGEST
    assert classify_step("reference_data") == INGEST
    assert classify_step("raw__reports") == EXTRACT
    assert classify_step("dbt_tables") == DBT
    assert classify_step("warehouse__published") == PUBLISH
    assert classify_step("marts__dim_worker_gx_marts__dim_worker") == VALIDATE


def test_step_intervals_pair_start_and_end_events_and_close_open_steps():
    events = [
        (10.0, "STEP_START", "raw__workers"),
        (12.0, "STEP_SUCCESS", "raw__workers"),
        (12.5, "STEP_START", "dbt_tables"),
        (20.0, "STEP_FAILURE", "dbt_tables"),
        (21.0, "STEP_START", "warehouse__published"),  # never ends: the run crashed
    ]
    intervals = step_intervals(events, end=25.0)
    assert [(i.step, i.stage, i.seconds) for i in intervals] == [
        ("raw__workers", INGEST, 2.0),
        ("dbt_tables", DBT, 7.5),
        ("warehouse__published", PUBLISH, 4.0),
    ]


def test_gaps_between_steps_are_orchestration_and_everything_adds_up():
    steps = [Interval(1.0, 3.0, INGEST, "a"), Interval(4.0, 8.0, DBT, "b")]
    timeline = with_gaps(steps, 0.0, 10.0)
    seconds = stage_seconds(timeline)
    assert seconds == {ORCHESTRATION: 4.0, INGEST: 2.0, DBT: 4.0}
    assert sum(seconds.values()) == pytest.approx(10.0)


def _stamp(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None).isoformat() + "Z"


def _result(unique_id: str, start: float, end: float) -> dict:
    return {
        "unique_id": unique_id,
        "timing": [
            {"name": "compile", "started_at": _stamp(start), "completed_at": _stamp(start + 0.1)},
            {"name": "execute", "started_at": _stamp(start + 0.1), "completed_at": _stamp(end)},
        ],
    }


def test_dbt_test_spans_count_only_the_time_when_no_model_was_building():
    base = 1_700_000_000.0
    run_results = {
        "results": [
            _result("model.shegong.a", base, base + 5),
            _result("test.shegong.t1", base + 4, base + 7),  # overlaps the model's last second
            _result("test.shegong.t2", base + 6, base + 9),
            _result("model.shegong.b", base + 8, base + 10),
            {"unique_id": "test.shegong.skipped", "timing": []},
        ]
    }
    spans = dbt_test_spans(run_results)
    assert [(round(a - base, 3), round(b - base, 3)) for a, b in spans] == [(5.0, 8.0)]


def test_split_intervals_moves_dbt_test_time_to_validation():
    intervals = [Interval(0.0, 10.0, DBT, "dbt_tables"), Interval(10.0, 12.0, VALIDATE, "gx")]
    out = split_intervals(intervals, [(6.0, 8.0), (20.0, 30.0)], VALIDATE)
    seconds = stage_seconds(out)
    assert seconds[DBT] == pytest.approx(8.0)
    assert seconds[VALIDATE] == pytest.approx(4.0)


def test_stage_peaks_attribute_each_sample_to_the_stage_running_then():
    timeline = [Interval(0.0, 2.0, INGEST), Interval(2.0, 5.0, DBT), Interval(5.0, 6.0, ORCHESTRATION)]
    samples = [(0.5, 100), (1.5, 300), (2.5, 900), (4.9, 200), (5.5, 50), (99.0, 10_000)]
    assert stage_peaks(timeline, samples) == {INGEST: 300, DBT: 900, ORCHESTRATION: 50}
    assert stage_at(timeline, 99.0) is None


def test_sampler_samples_on_its_thread_and_keeps_peaks_per_label():
    readings = iter(range(1, 10_000))
    label = ["ingest"]
    sampler = MemorySampler(interval=0.005, read=lambda: next(readings) * MIB, current=lambda: label[0])
    with sampler:
        time.sleep(0.05)
        label[0] = "dbt"
        time.sleep(0.05)
    assert len(sampler.samples) >= 4
    assert sampler.peaks["dbt"] > sampler.peaks["ingest"] > 0
    assert sampler.peak == max(rss for _, rss in sampler.samples)
    times = [t for t, _ in sampler.samples]
    assert times == sorted(times)


def test_rss_readers_see_this_process():
    assert proc_tree_rss(os.getpid()) > 10 * MIB
    assert tree_rss_reader()() > 10 * MIB


def test_formatting():
    assert fmt_seconds(1.234) == "1.23"
    assert fmt_seconds(123.45) == "123.5"
    assert fmt_seconds(None) == "—"
    assert fmt_rate(1000, 2) == "500"
    assert fmt_rate(15, 1) == "15.0"
    assert fmt_rate(3, 2, " MB/s") == "1.50 MB/s"
    assert fmt_rate(0, 2) == "—"
    assert fmt_rate(5, 0) == "—"
    assert fmt_mib(512 * MIB) == "512"
    assert fmt_mib(1.5 * MIB) == "1.5"
    assert fmt_count(1234567) == "1,234,567"


def test_stage_rows_in_pipeline_order_with_a_total():
    result = {
        "wall": 20.0,
        "peak_rss": 2 * GIB,
        "total_rows": 10_000,
        "total_bytes": 10 * MIB,
        "stages": {
            DBT: {"seconds": 8.0, "peak_rss": GIB, "rows": 4000, "bytes": 0},
            INGEST: {"seconds": 10.0, "peak_rss": 512 * MIB, "rows": 10_000, "bytes": 10 * MIB},
            "startup": {"seconds": 2.0, "peak_rss": 100 * MIB, "rows": 0, "bytes": 0},
        },
    }
    rows = stage_rows(result)
    assert [r.stage for r in rows] == ["startup", INGEST, DBT, "total"]
    ingest = rows[1]
    assert (ingest.share, ingest.rows_per_s, ingest.mb_per_s, ingest.peak_mib) == (
        "50%",
        "1,000",
        "1.00",
        "512",
    )
    assert rows[-1].seconds == 20.0 and rows[-1].peak_mib == "2,048"
    assert stage_table("t", result).row_count == 4


def _measured(wall: float, **stage_seconds: float) -> dict:
    return {"wall": wall, "stages": {name: {"seconds": seconds} for name, seconds in stage_seconds.items()}}


def test_read_floor_is_the_baselines_read_stage_as_measured():
    baseline = {"wall": 50.0, "stages": {"read": {"seconds": 12.5, "files": 3, "rows": 9, "bytes": 7}}}
    assert read_floor(baseline) == {"seconds": 12.5, "files": 3, "rows": 9, "bytes": 7}
    assert read_floor(None) == {} and read_floor({"wall": 1.0}) == {}


def test_verdicts_at_large_judge_every_large_target_against_the_measured_figures():
    full = _measured(200.0, **{VALIDATE: 40.0}) | {"peak_rss": 3 * GIB}
    baseline = _measured(90.0, read=60.0)
    items = {v.target: v for v in verdicts("large", full, baseline, {"wall": 30.0}, {"wall": 200.0})}
    assert items["large: full build ≤ 2× baseline"].measured == "2.2×"
    assert items["large: full build ≤ 2× baseline"].met is False
    assert items["large: full build ≤ 4× read floor"].measured == "3.3×"
    assert items["large: full build ≤ 4× read floor"].met is True
    assert (items["large: full build ≤ 120 s"].measured, items["large: full build ≤ 120 s"].met) == (
        "200.0 s",
        False,
    )
    assert (items["large: peak memory < 4 GiB"].measured, items["large: peak memory < 4 GiB"].met) == (
        "3.00 GiB",
        True,
    )
    assert items["large: validation ≤ 15% of full build"].measured == "20%"
    assert items["large: validation ≤ 15% of full build"].met is False
    assert items["large: incremental ≤ 10% of full build"].measured == "15%"
    assert items["large: incremental ≤ 10% of full build"].met is False
    # the small targets are shown with the measured value but judged only at small
    assert items["small: no-op run ≤ 5 s"].measured == "200.0 s"
    assert items["small: no-op run ≤ 5 s"].met is None


def test_verdicts_at_small_judge_only_the_small_targets_and_say_what_was_not_measured():
    full = _measured(20.0, **{VALIDATE: 1.0}) | {"peak_rss": GIB}
    items = verdicts("small", full, _measured(4.0, read=1.0), None, {"wall": 6.0})
    judged = {v.target: v.met for v in items if v.met is not None}
    assert judged == {"small: full build ≤ 25 s": True, "small: no-op run ≤ 5 s": False}
    incremental = next(v for v in items if v.target.startswith("large: incremental"))
    assert incremental.measured == "not measured"
    # a numeric scale judges nothing, and a baseline that did not run leaves its ratios unmeasured
    unjudged = verdicts("500", full, None, None, None)
    assert all(v.met is None for v in unjudged)
    assert {v.measured for v in unjudged if "baseline" in v.target or "floor" in v.target} == {"not measured"}


def test_mart_differences_list_only_marts_whose_counts_differ():
    built = {"dim_worker": 10, "fct_funding": 5, "dim_date": 3}
    baseline = {"dim_worker": 11, "fct_funding": 5, "fct_extra": 1}
    assert mart_differences(built, baseline) == [
        ("dim_date", 3, None),
        ("dim_worker", 10, 11),
        ("fct_extra", None, 1),
    ]


def test_month_label_counts_months_across_years():
    assert month_label("2024-01", 12) == "2025-01"
    assert month_label("2024-11", 1) == "2024-12"


def test_add_new_month_copies_one_month_of_one_registry_and_one_report(tmp_path):
    side, landing = tmp_path / "side", tmp_path / "landing"
    for folder in ("workers", "reports"):
        (side / folder).mkdir(parents=True)
        (landing / folder).mkdir(parents=True)
    (side / "workers" / "320585_2024-12_持证社工名册.csv").write_text("old")
    (side / "workers" / "320585_2025-01_持证社工名册.csv").write_text("new")
    (side / "reports" / "report_0001.txt").write_text("a")
    (side / "reports" / "report_0002.md").write_text("b")
    files, report = add_new_month(landing, side, "2025-01")
    assert files == ["320585_2025-01_持证社工名册.csv"]
    assert report == "bench_new_report_0002.md"
    assert sorted(p.name for p in (landing / "workers").iterdir()) == files
    assert (landing / "reports" / report).read_text() == "b"


def test_stage_labels_cover_every_stage():
    assert set(stages.STAGE_LABELS) == set(stages.STAGES)


def test_stage_markdown_has_a_row_per_stage_and_a_bold_total():
    from shegong_tools.bench.report import stage_markdown

    result = {
        "wall": 10.0,
        "peak_rss": GIB,
        "total_rows": 100,
        "total_bytes": MIB,
        "stages": {INGEST: {"seconds": 4.0, "peak_rss": MIB, "rows": 100, "bytes": MIB}},
    }
    lines = stage_markdown(result).splitlines()
    assert len(lines) == 4
    assert lines[2].startswith("| ingest registries | 4.00 | 40% | 100 | 25.0 |")
    assert lines[3].startswith("| **total** | **10.0** | **100%** |")


def test_stage_rows_show_each_baseline_stage_once_in_build_order():
    result = {
        "wall": 4.0,
        "stages": {name: {"seconds": 1.0} for name in ("models", "reports", "raw", "read")},
    }
    labels = [row.label for row in stage_rows(result)]
    assert labels == [
        "read floor (decode + parse + load)",
        "type + protect (SQL)",
        "extract reports + reference",
        "dbt models' SQL (no dbt)",
        "total",
    ]


def test_unequal_marts_name_only_the_marts_with_rows_on_either_side():
    from shegong_tools.bench.report import unequal_marts

    check = {"dim_worker": [0, 0], "fct_funding": [2, 0], "dim_date": [0, 1]}
    assert unequal_marts(check) == [
        "dim_date (0 only in the build, 1 only in the baseline)",
        "fct_funding (2 only in the build, 0 only in the baseline)",
    ]
    assert unequal_marts(None) == [] and unequal_marts({"dim_worker": [0, 0]}) == []


@pytest.mark.parametrize(
    ("scale", "message"),
    [("40", "scale must be at least 50 workers"), ("huge", "unknown scale 'huge'")],
)
def test_a_scale_the_generator_refuses_is_one_line_before_anything_runs(
    tmp_path, monkeypatch, scale, message
):
    from click.testing import CliRunner

    from shegong.cli import main

    monkeypatch.setenv("SHEGONG_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    result = CliRunner().invoke(main, ["bench", "--scale", scale])
    assert result.exit_code == 1 and result.exception is not None and "Traceback" not in result.output
    assert f"bench: {message}" in result.output
    assert not (tmp_path / "warehouse").exists()  # nothing generated, nothing started
