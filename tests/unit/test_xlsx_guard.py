"""The workbook guard's measure of a sheet's used range: the fast path (tags as writers lay them out, read with
NumPy) against the slow path that walks every tag in document order, on sheets written here."""

from __future__ import annotations

import random

import pytest

from shegong.ingest.xlsx_guard import _Extent, column_letters


def _extent(xml: bytes, in_order: bool = False) -> tuple[int, int]:
    extent = _Extent()
    if in_order:
        extent._scan_in_order(xml)
    else:
        extent.scan(xml)
    return extent.rows, extent.columns


def _sheet(rng: random.Random, rows: int) -> bytes:
    """Rows of placed cells, some empty (<c …/>), with the attributes writers add, in any order."""
    out = []
    for row in sorted(rng.sample(range(1, 2_000_000), rows)):
        cells = []
        for column in sorted(rng.sample(range(1, 17_000), rng.randint(1, 6))):
            reference = f"{column_letters(column)}{row}"
            attributes = rng.choice(["", ' s="3"', ' t="s"', ' s="12" t="inlineStr"', ' t="n" s="1"'])
            if rng.random() < 0.3:
                cells.append(f'<c r="{reference}"{attributes}/>')
            else:
                cells.append(f'<c r="{reference}"{attributes}><v>{rng.randint(0, 99)}</v></c>')
        spans = rng.choice(["", ' spans="1:6"', ' ht="15" customHeight="1"'])
        out.append(f'<row r="{row}"{spans}>{"".join(cells)}</row>')
    return ("<sheetData>" + "".join(out) + "</sheetData>").encode()


@pytest.mark.parametrize("seed", range(40))
def test_the_fast_path_measures_what_walking_every_tag_measures(seed):
    xml = _sheet(random.Random(seed), rows=random.Random(seed).randint(1, 60))
    assert _extent(xml) == _extent(xml, in_order=True)


@pytest.mark.parametrize(
    ("xml", "extent"),
    [
        # A cell's own reference counts, whatever row it sits in.
        (b'<row r="2"><c r="A2"><v>1</v></c><c r="XFD1048576"><v>1</v></c></row>', (1_048_576, 16_384)),
        # A cell without content (self-closing) does not: calamine skips it.
        (b'<row r="2"><c r="B2"><v>1</v></c><c r="XFD1048576" s="1"/></row>', (2, 2)),
        # Leading zeros do not make a row number larger than a longer one.
        (b'<row r="100"><c r="A0099"><v>1</v></c><c r="C100"><v>1</v></c></row>', (100, 3)),
        # A reference of another shape (four letters, eight digits) is not a placed cell.
        (
            b'<row r="3"><c r="ABCD3"><v>1</v></c><c r="A12345678"><v>1</v></c><c r="B3"><v>1</v></c></row>',
            (3, 2),
        ),
        # No cells at all.
        (b'<row r="7"></row>', (0, 0)),
        # A stretch that ends inside a cell's tag: that cell is the next stretch's.
        (b'<row r="4"><c r="D4"><v>1</v></c><c r="Z9', (4, 4)),
    ],
)
def test_the_cells_that_count(xml, extent):
    assert _extent(xml) == extent


@pytest.mark.parametrize(
    "xml",
    [
        # Cells without a reference sit after the one before them; rows without one after the row before.
        b'<row r="5"><c r="C5"><v>1</v></c><c><v>1</v></c><c t="s"><v>2</v></c></row><row><c><v>1</v></c></row>',
        # A row whose reference is not its first attribute.
        b'<row spans="1:3" r="9"><c r="A9"><v>1</v></c></row><row><c><v>3</v></c></row>',
        # Prefixed tags.
        b'<x:row r="2"><x:c r="B2"><x:v>1</x:v></x:c></x:row><x:row><x:c><x:v>1</x:v></x:c></x:row>',
    ],
)
def test_sheets_not_laid_out_as_writers_do_take_the_slow_path(xml):
    assert _extent(xml) == _extent(xml, in_order=True)
    assert _extent(xml) != (0, 0)
