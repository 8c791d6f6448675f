"""Splitting CSV text into records: every physical line accounted for, a stray quote costs one record."""

from __future__ import annotations

import dataclasses
import random

from shegong.contracts import FileLimits
from shegong.ingest.records import _split_lines, _split_whole, split_records

LIMITS = FileLimits()


def test_line_breaks_of_every_kind_end_records():
    split = split_records("a,b\r\nc,d\re,f\ng,h", ",", LIMITS)
    assert split.cells == [["a", "b"], ["c", "d"], ["e", "f"], ["g", "h"]]
    assert split.lines == [1, 2, 3, 4] and split.errors == {}


def test_a_quoted_line_break_stays_in_its_cell():
    split = split_records('a,b\n1,"x\ny"\n2,z\n', ",", LIMITS, width=2)
    assert split.cells == [["a", "b"], ["1", "x\ny"], ["2", "z"]]
    assert split.lines == [1, 2, 4]


def test_an_unterminated_quote_is_one_bad_record_and_parsing_resumes():
    split = split_records('a,b\n1,"x\n2,y\n3,z\n', ",", LIMITS, width=2)
    assert split.lines == [1, 2, 3, 4]
    assert split.errors == {2: ("unterminated_quote", "a quoted cell that is never closed on its line")}
    assert split.cells[2:] == [["2", "y"], ["3", "z"]]


def test_a_quote_closing_lines_later_does_not_take_in_whole_records():
    text = 'a,b,c\n1,"x,2\n3,4,5\n6,7,8\n9,y",0\n'
    split = split_records(text, ",", LIMITS, width=3)
    assert split.lines == [1, 2, 3, 4, 5]
    assert split.errors[2][0] == "unterminated_quote"
    assert split.cells[2] == ["3", "4", "5"]


def test_a_quoted_cell_may_not_span_more_lines_than_the_limit():
    limits = dataclasses.replace(LIMITS, max_quoted_lines=2)
    split = split_records('a\n"1\n2\n3\n4"\n', ",", limits, width=1)
    assert split.errors[2][0] == "unterminated_quote"
    assert len(split.lines) == 5


def test_a_line_over_the_limit_keeps_no_cells():
    limits = dataclasses.replace(LIMITS, max_line_bytes=10)
    split = split_records("a,b\n" + "x" * 11 + "\n中中,b\n", ",", limits)
    assert split.errors == {2: ("line_too_long", "a line of 11 bytes (limit 10)")}
    assert split.cells[1] == [] and split.cells[2] == ["中中", "b"]  # 8 bytes in UTF-8


def test_the_whole_text_pass_gives_what_the_line_by_line_pass_gives_or_steps_aside():
    rng = random.Random(11)
    alphabet = ["a", "中", ",", '"', "\r", "\n", "\r\n", " ", '""', "\x00", ";"]
    taken = 0
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        whole = _split_whole(text, ",", LIMITS)
        lines = _split_lines(text, ",", LIMITS, None)
        if whole is not None:
            taken += 1
            assert (whole.cells, whole.lines, lines.errors) == (lines.cells, lines.lines, {}), repr(text)
    assert taken > 500  # the fast pass is taken often enough for this to test something
