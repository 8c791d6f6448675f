"""How a suite is split into GX batches: a small dataset validates whole; a large one in groups of the columns its
expectations read, row counts riding with the first group and schema expectations on the columns alone."""

from __future__ import annotations

from shegong.quality.runner import SLICE_ROWS, Batch, columns_read, plan_batches

COLUMNS = ["id", "name", "amount", "unit", "created"]


def x(kind: str, **kwargs) -> dict:
    return {"type": kind, "kwargs": kwargs, "meta": {}}


CONFIGS = [
    x("expect_table_columns_to_match_set", column_set=COLUMNS),  # 0: schema
    x("expect_table_row_count_to_be_between", min_value=1),  # 1: rows
    x("expect_column_values_to_not_be_null", column="id"),  # 2
    x("expect_compound_columns_to_be_unique", column_list=["id", "created"]),  # 3
    x("expect_column_values_to_not_match_regex", column="name", regex="x"),  # 4
    x("expect_column_values_to_be_between", column="amount", min_value=0),  # 5
    x(
        "expect_column_values_to_be_between",
        column="amount",
        max_value=100,
        row_condition='unit == "percent"',
        condition_parser="pandas",
    ),  # 6
    x("expect_column_values_to_be_in_set", column="missing", value_set=["a"]),  # 7
    x("expect_column_values_to_not_be_null", column="created"),  # 8
]


def test_columns_read() -> None:
    assert columns_read(CONFIGS[0], COLUMNS) is None
    assert columns_read(CONFIGS[1], COLUMNS) == frozenset()
    assert columns_read(CONFIGS[3], COLUMNS) == {"id", "created"}
    assert columns_read(CONFIGS[6], COLUMNS) == {"amount", "unit"}
    assert columns_read(CONFIGS[7], COLUMNS) is None  # GX reports the missing column on any frame


def test_a_small_dataset_validates_whole() -> None:
    whole = [Batch(tuple(range(len(CONFIGS))))]
    assert plan_batches(CONFIGS, COLUMNS, SLICE_ROWS) == whole
    assert plan_batches(CONFIGS, COLUMNS, None) == whole  # a derived dataset of unknown size


def test_a_large_dataset_validates_in_column_groups() -> None:
    batches = plan_batches(CONFIGS, COLUMNS, SLICE_ROWS + 1)
    assert batches == [
        Batch(
            (1, 2, 3, 8), ("id", "created")
        ),  # id and created join the compound key; the row count rides along
        Batch((4,), ("name",)),
        Batch((5, 6), ("amount", "unit")),  # amount joins the row condition's group
        Batch((0, 7), schema=True),
    ]
    positions = sorted(p for b in batches for p in b.positions)
    assert positions == list(range(len(CONFIGS)))  # every expectation exactly once
