"""Number forms of Chinese report text → base-unit values."""

import pytest

from shegong.extraction.numbers import find_quantities, parse_cjk_number


def only(text: str):
    found = [q for q in find_quantities(text) if q.unit_word or q.magnitude]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("text", "value", "unit", "qualifier"),
    [
        ("全市持证社工1.8万人", 18000, "person", "exact"),
        ("动员慈善资金5100余万元", 51_000_000, "yuan", "at_least"),
        ("投入资金1.7亿元", 170_000_000, "yuan", "exact"),
        ("举办培训班三期", 3, "count", "exact"),
        ("开展培训超过百次", 100, "count", "at_least"),
        ("培训人员千余人次", 1000, "person_time", "at_least"),
        ("持证社工2,000人", 2000, "person", "exact"),
        ("考试通过率12.5%", 12.5, "percent", "exact"),
        ("持证社工１２３４人", 1234, "person", "exact"),
        ("专业人才20余万人", 200_000, "person", "at_least"),
        ("专业社工8万多人", 80_000, "person", "at_least"),
        ("惠及10万余人次", 100_000, "person_time", "at_least"),
        ("服务时长1139万小时", 11_390_000, "hour", "exact"),
        ("覆盖率百分之九十", 90, "percent", "exact"),
        ("社工二十人", 20, "person", "exact"),
    ],
)
def test_number_forms(text, value, unit, qualifier):
    from shegong.extraction.normalize import to_halfwidth

    q = only(to_halfwidth(text))
    assert q.value == value
    assert q.unit == unit
    assert q.qualifier == qualifier


@pytest.mark.parametrize(
    ("text", "qualifier"),
    [
        ("近500人", "approx"),
        ("约500人", "approx"),
        ("大约500人", "approx"),
        ("500人左右", "approx"),
        ("500余人", "at_least"),
        ("500多人", "at_least"),
        ("超过500人", "at_least"),
        ("突破500人", "at_least"),
        ("500人以上", "at_least"),
        ("逾500人", "at_least"),
        ("不低于500人", "at_least"),
        ("超500人", "at_least"),
        ("不到500人", "at_most"),
        ("不足500人", "at_most"),
        ("500人以内", "at_most"),
        ("不超过500人", "at_most"),
        ("500人", "exact"),
    ],
)
def test_qualifiers(text, qualifier):
    q = only(text)
    assert q.value == 500
    assert q.qualifier == qualifier


def test_cjk_parser():
    assert parse_cjk_number("三") == 3
    assert parse_cjk_number("十二") == 12
    assert parse_cjk_number("二十") == 20
    assert parse_cjk_number("百") == 100
    assert parse_cjk_number("三百零五") == 305
    assert parse_cjk_number("一万二千") == 12000
    assert parse_cjk_number("二〇二一") == 2021


def test_words_that_look_like_units_are_not_units():
    # 一次性 / 名单 / 支持 are words, not "1 time", "N persons", "N branches"
    assert [q.unit_word for q in find_quantities("给予一次性奖励")] == [None]
    assert all(q.unit_word is None for q in find_quantities("万州区发布名单"))
    assert [q.value for q in find_quantities("20,300人")] == [20300]
    assert [q.value for q in find_quantities("ICP备12345号")] == [12345]
