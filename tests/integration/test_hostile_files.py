"""Hostile and broken landing files through the real batch ingest into a real DuckDB file: each class of file
is recorded with one specific reason or quarantined record by record, the row accounting holds against an
independent count of the file's records, the other files of the batch go in, and no person leaks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import duckdb
import pytest

from shegong.contracts import contract
from shegong.identifiers import complete_id_number
from shegong.ingest.batch import ingest_registry
from shegong.ingest.cells import to_halfwidth
from shegong.ingest.landing import landing_files
from shegong.ingest.pii import PiiProtector
from shegong.schema import ensure_build_schema
from tests.fixtures.registry_files import WORKER_HEADER, worker_row, write_csv, write_xlsx

KEY = "test-key"
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
DIGEST = re.compile(r"^(?:[0-9a-f]{32}|[0-9a-f]{64})$")


def roster(n: int, start: int = 0) -> list[list[str]]:
    """n valid worker rows with their own ID and certificate numbers."""
    rows = []
    for i in range(start, start + n):
        born = dt.date(1990, 1, 1) + dt.timedelta(days=i // 900)
        body = f"320583{born:%Y%m%d}{i % 900 + 100:03d}"
        rows.append(worker_row(身份证号码=complete_id_number(body), 证书编号=f"2018320510{i:07d}"))
    return rows


def csv_text(header: list[str], rows: list[list[str]], newline: str = "\r\n") -> str:
    return newline.join(",".join(row) for row in [header, *rows]) + newline


@pytest.fixture
def landing(tmp_path) -> Path:
    (tmp_path / "landing" / "workers").mkdir(parents=True)
    return tmp_path / "landing"


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "build.duckdb"))
    ensure_build_schema(connection)
    yield connection
    connection.close()


def run(con, landing: Path, registry=None):
    files = landing_files(landing / "workers")
    return ingest_registry(con, registry or contract("workers"), files, PiiProtector(KEY), landing)


def record(con, name: str) -> dict:
    row = con.execute(
        """select status, error, rows_in, rows_clean, rows_quarantined, duplicate_of, first_seen_at
           from audit.ingested_files where source_file = ? order by ingested_at desc limit 1""",
        [f"workers/{name}"],
    ).fetchone()
    assert row is not None, f"no audit row for {name}"
    keys = ("status", "error", "rows_in", "rows_clean", "rows_quarantined", "duplicate_of", "first_seen_at")
    return dict(zip(keys, row, strict=True))


def counted(con, name: str) -> tuple[int, int]:
    """(rows in raw.workers, rows in the quarantine) of a file, counted in the tables."""
    source = f"workers/{name}"
    clean = con.execute("select count(*) from raw.workers where _source_file = ?", [source]).fetchone()[0]
    quarantined = con.execute(
        "select count(*) from audit.quarantined_rows where source_file = ?", [source]
    ).fetchone()[0]
    return clean, quarantined


def reasons(con, name: str) -> dict[int, list[str]]:
    rows = con.execute(
        "select source_row, reason_codes from audit.quarantined_rows where source_file = ? order by 1",
        [f"workers/{name}"],
    ).fetchall()
    return dict(rows)


def identifiers_in(con) -> list[str]:
    """Every text value of every table holding an ID or mobile number, in any written form."""
    found = []
    columns = con.execute(
        """select table_schema, table_name, column_name from information_schema.columns
           where data_type in ('VARCHAR', 'JSON') or data_type like 'VARCHAR[]'"""
    ).fetchall()
    for schema, table, column in columns:
        for (value,) in con.execute(
            f'select distinct cast("{column}" as varchar) from "{schema}"."{table}" where "{column}" is not null'
        ).fetchall():
            if DIGEST.match(value):
                continue
            digits = re.sub(r"[\s\-+()]", "", to_halfwidth(value))
            if MOBILE.search(digits) or ID_NUMBER.search(digits):
                found.append(f"{schema}.{table}.{column}: {value[:60]}")
    return found


def good_file(landing: Path) -> str:
    name = "320585_2024-02_good.csv"
    write_csv(landing / "workers" / name, WORKER_HEADER, roster(3, 900))
    return name


def test_a_stray_cell_at_the_sheets_far_corner_rejects_the_workbook_and_not_the_batch(con, landing):
    name = "320585_2024-03_stray.xlsx"
    path = write_xlsx(landing / "workers" / name, WORKER_HEADER, roster(2))
    _set_cell(path, "XFD1048576", "1")
    assert path.stat().st_size < 12_000
    good = good_file(landing)
    outcome = run(con, landing)
    assert record(con, name)["status"] == "rejected"
    assert "column XFD" in record(con, name)["error"] and "max_columns" in record(con, name)["error"]
    assert record(con, good)["status"] == "current" and counted(con, good) == (3, 0)
    assert {f.status for f in outcome.files} == {"ingested", "rejected"}


def test_a_sheet_over_the_row_limit_is_rejected_naming_the_limit(con, landing):
    name = "320585_2024-03_long.xlsx"
    path = write_xlsx(landing / "workers" / name, WORKER_HEADER, roster(2))
    _set_cell(path, "A2500001", "x")
    run(con, landing)
    assert "max_rows" in record(con, name)["error"]


def test_a_zip_bomb_workbook_is_rejected_before_it_unpacks(con, landing):
    name = "320585_2024-03_bomb.xlsx"
    path = write_xlsx(landing / "workers" / name, WORKER_HEADER, roster(2))
    # 64 MiB of whitespace in a part calamine reads when it opens the workbook: ~64 KiB compressed.
    _rewrite(path, "xl/styles.xml", lambda xml: xml.replace(b"<fonts", b" " * (64 * 2**20) + b"<fonts", 1))
    assert path.stat().st_size < 2**20
    workers = contract("workers")
    small = dataclasses.replace(
        workers, limits=dataclasses.replace(workers.limits, max_xlsx_unpacked_bytes=2**24)
    )
    run(con, landing, small)
    assert "max_xlsx_unpacked_bytes" in record(con, name)["error"]


@pytest.mark.parametrize("break_at", [1, 2, 5])
def test_a_lone_carriage_return_ends_a_record_and_every_record_is_counted(con, landing, break_at):
    rows = roster(10)
    text = csv_text(WORKER_HEADER, rows)
    lines = text.split("\r\n")
    # One record's CR LF becomes a lone CR, as a hand-edited export has it.
    text = "\r\n".join(lines[:break_at]) + "\r" + "\r\n".join(lines[break_at:])
    name = "320585_2024-03_cr.csv"
    (landing / "workers" / name).write_bytes(text.encode("gb18030"))
    run(con, landing)
    audit = record(con, name)
    independent = len([line for line in re.split(r"\r\n|\r|\n", text)[1:] if line])
    assert audit["status"] == "current"
    assert audit["rows_in"] == independent == 10
    assert counted(con, name) == (10, 0)


def test_an_unclosed_quote_costs_one_record_not_the_rest_of_the_file(con, landing):
    rows = roster(400)
    rows[5][WORKER_HEADER.index("工作单位")] = '"太仓市德颐社会工作服务中心'  # opens, never closes
    name = "320585_2024-03_quote.csv"
    (landing / "workers" / name).write_bytes(csv_text(WORKER_HEADER, rows).encode("utf-8"))
    run(con, landing)
    audit = record(con, name)
    assert (audit["rows_in"], audit["rows_clean"], audit["rows_quarantined"]) == (400, 399, 1)
    assert counted(con, name) == (399, 1)
    assert reasons(con, name) == {7: ["unterminated_quote"]}


def test_a_quote_closed_many_lines_later_does_not_swallow_the_lines_between(con, landing):
    rows = roster(30)
    rows[3][WORKER_HEADER.index("工作单位")] = '"开'
    rows[20][WORKER_HEADER.index("工作单位")] = '闭"'
    name = "320585_2024-03_quotes.csv"
    (landing / "workers" / name).write_bytes(csv_text(WORKER_HEADER, rows).encode("utf-8"))
    run(con, landing)
    assert record(con, name)["rows_in"] == 30
    assert sum(counted(con, name)) == 30
    assert reasons(con, name)[5] == ["unterminated_quote"]


def test_a_quoted_line_break_inside_a_cell_is_still_one_record(con, landing):
    rows = roster(5)
    rows[2][WORKER_HEADER.index("工作单位")] = '"第一行\r\n第二行"'
    name = "320585_2024-03_multiline.csv"
    (landing / "workers" / name).write_bytes(csv_text(WORKER_HEADER, rows).encode("utf-8"))
    run(con, landing)
    assert record(con, name)["rows_in"] == 5 and counted(con, name) == (5, 0)
    employer = con.execute(
        "select employer_name from raw.workers where _source_row = 4 and _source_file like '%multiline%'"
    ).fetchone()[0]
    assert employer == "第一行 第二行"


def test_a_50_mb_line_and_a_200_kb_cell_are_quarantined_records(con, landing):
    rows = roster(6)
    rows[1][WORKER_HEADER.index("工作单位")] = "长" * 70_000  # 210 KB in UTF-8
    rows[3][WORKER_HEADER.index("工作单位")] = "x" * (50 * 2**20)
    name = "320585_2024-03_huge.csv"
    (landing / "workers" / name).write_bytes(csv_text(WORKER_HEADER, rows).encode("utf-8"))
    good = good_file(landing)
    run(con, landing)
    assert reasons(con, name) == {3: ["cell_too_long"], 5: ["line_too_long"]}
    assert counted(con, name) == (4, 2) and record(con, name)["rows_in"] == 6
    longest = con.execute("select max(length(raw_values)) from audit.quarantined_rows").fetchone()[0]
    assert longest < 2_000
    assert record(con, good)["status"] == "current"


def test_ragged_records_are_quarantined_and_their_cells_masked(con, landing):
    rows = roster(4)
    shifted = list(rows[1])
    shifted.insert(WORKER_HEADER.index("工作单位"), "太仓市")  # an unquoted comma in the employer's name
    rows[1] = shifted
    rows[2] = rows[2][:5]
    name = "320585_2024-03_ragged.csv"
    (landing / "workers" / name).write_bytes(csv_text(WORKER_HEADER, rows).encode("utf-8"))
    run(con, landing)
    assert reasons(con, name) == {3: ["too_many_columns"], 4: ["too_few_columns"]}
    assert counted(con, name) == (2, 2)
    raw_values = con.execute(
        "select raw_values from audit.quarantined_rows where source_row = 3 and source_file like '%ragged%'"
    ).fetchone()[0]
    assert "太仓市" not in raw_values and "张三" not in raw_values
    assert identifiers_in(con) == []


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("320585_2024-03_a.xls", "Excel 97-2003 workbook"),
        ("320585_2024-03_b.xlsm", "macro-enabled workbook"),
        ("320585_2024-03_c", "no extension"),
        (".320585_2024-03_d.csv", "hidden file"),
        ("320585_2024-03_e.pdf", "unsupported file type .pdf"),
        ("~$320585_2024-03_f.xlsx", "Office lock file"),
    ],
)
def test_every_file_in_the_folder_is_recorded_whatever_it_is(con, landing, name, reason):
    (landing / "workers" / name).write_bytes(csv_text(WORKER_HEADER, roster(2)).encode())
    good = good_file(landing)
    run(con, landing)
    audit = record(con, name)
    assert audit["status"] == "rejected" and reason in audit["error"]
    assert record(con, good)["status"] == "current"
    assert con.execute("select count(*) from raw.workers").fetchone()[0] == 3


def test_links_folders_and_pipes_are_recorded_and_never_opened(con, landing, tmp_path):
    outside = write_csv(tmp_path / "elsewhere" / "320585_2024-03_secret.csv", WORKER_HEADER, roster(5))
    (landing / "workers" / "320585_2024-03_link.csv").symlink_to(outside)
    (landing / "workers" / "320585_2024-04_folder.csv").mkdir()
    os.mkfifo(landing / "workers" / "320585_2024-05_pipe.csv")  # opening it would block the run
    good = good_file(landing)
    run(con, landing)
    assert "symbolic link" in record(con, "320585_2024-03_link.csv")["error"]
    assert "folder" in record(con, "320585_2024-04_folder.csv")["error"]
    assert "not a regular file" in record(con, "320585_2024-05_pipe.csv")["error"]
    assert con.execute("select count(*) from raw.workers").fetchone()[0] == 3 == counted(con, good)[0]


def test_a_correction_supersedes_by_arrival_and_identical_resends_are_recorded_no_ops(con, landing):
    folder = landing / "workers"
    original = "320585_2024-03_持证社工名册.csv"
    write_csv(folder / original, WORKER_HEADER, roster(3))
    run(con, landing)
    # The correction sorts before the original by name; it arrived later, so it wins.
    correction = "320585_2024-03_持证社工名册(更正).csv"
    assert correction < original
    write_csv(folder / correction, WORKER_HEADER, roster(4))
    resend = "320585_2024-03_再次报送.csv"
    (folder / resend).write_bytes((folder / correction).read_bytes())
    outcome = run(con, landing)
    assert record(con, original)["status"] == "superseded"
    assert record(con, correction)["status"] == "current" and counted(con, correction) == (4, 0)
    assert record(con, resend)["status"] == "duplicate" and record(con, resend)["duplicate_of"].endswith(
        correction
    )
    assert counted(con, resend) == (0, 0)
    assert record(con, correction)["first_seen_at"] > record(con, original)["first_seen_at"]
    assert sorted(f.status for f in outcome.files) == ["duplicate", "ingested", "unchanged"]
    # A rerun takes no file again, whatever its name sorts like.
    assert {f.status for f in run(con, landing).files} == {"unchanged"}
    assert con.execute("select count(*) from raw.workers").fetchone()[0] == 4


def test_months_that_have_not_begun_and_misnamed_regions_are_rejected(con, landing):
    future = dt.date.today().replace(day=1) + dt.timedelta(days=62)
    name = f"320585_{future:%Y-%m}_名册.csv"
    write_csv(landing / "workers" / name, WORKER_HEADER, roster(2))
    elsewhere = "110105_2024-03_名册.csv"  # named for Beijing, rows all in Taicang
    write_csv(landing / "workers" / elsewhere, WORKER_HEADER, roster(2, 10))
    good = good_file(landing)
    run(con, landing)
    assert "has not begun" in record(con, name)["error"]
    assert "named for region 110105" in record(con, elsewhere)["error"]
    assert record(con, good)["status"] == "current"


def test_columns_outside_the_contract_never_reach_the_warehouse_in_clear(con, landing):
    header = [*WORKER_HEADER, "紧急联系人", "紧急联系电话", "家庭住址", "姓名", "证件号码"]
    rows = [
        [
            *row,
            "王五",
            "+86 139-1234-5678",
            "江苏省太仓市城厢镇人民路1号",
            "李四",
            complete_id_number("32058319850505123"),
        ]
        for row in roster(3)
    ]
    rows[1][WORKER_HEADER.index("证书编号")] = "bad"  # so that the row's cells reach the quarantine
    rows[2][WORKER_HEADER.index("工作单位")] = "联系电话１３９１２３４５６７８"  # a mobile inside free text
    name = "320585_2024-03_extra.csv"
    write_csv(landing / "workers" / name, header, rows)
    run(con, landing)
    assert counted(con, name) == (2, 1)
    assert identifiers_in(con) == []
    text = " ".join(
        str(v) for row in con.execute("select * from audit.quarantined_rows").fetchall() for v in row
    ) + " ".join(str(v) for row in con.execute("select * from raw.workers").fetchall() for v in row)
    for secret in ("王五", "人民路", "李四", "1391234"):
        assert secret not in text
    unknown = con.execute(
        "select unknown_columns from audit.ingested_files where source_file like '%extra%'"
    ).fetchone()[0]
    assert {"紧急联系人", "紧急联系电话", "家庭住址", "姓名", "证件号码"} <= set(unknown)


def test_peak_memory_stays_bounded_on_hostile_workbooks_and_csv(tmp_path):
    """A child process ingests each hostile file; its peak resident memory is the kernel's high-water mark of
    its address space (VmHWM: unlike ru_maxrss, it does not carry the forking parent's size over exec)."""
    workers = tmp_path / "landing" / "workers"
    stray = write_xlsx(workers / "320585_2024-03_stray.xlsx", WORKER_HEADER, roster(2))
    _set_cell(stray, "XFD1048576", "1")
    wide = write_xlsx(workers / "320585_2024-04_wide.xlsx", WORKER_HEADER, roster(2))
    _set_cell(wide, "Z300000", "1")  # 26 columns × 300,000 rows: within limits, but a big grid
    line = roster(3)
    line[1][0] = "x" * (200 * 2**20)
    (workers / "320585_2024-05_line.csv").write_bytes(csv_text(WORKER_HEADER, line).encode())
    script = (
        "import re, sys, duckdb\n"
        "from pathlib import Path\n"
        "from shegong.contracts import contract\n"
        "from shegong.ingest.load import ingest_file\n"
        "from shegong.schema import ensure_build_schema\n"
        "from shegong.ingest.pii import PiiProtector\n"
        "con = duckdb.connect(sys.argv[2]); ensure_build_schema(con)\n"
        "out = ingest_file(con, Path(sys.argv[1]), contract('workers'), PiiProtector('k'), Path(sys.argv[3]))\n"
        "peak = re.search(r'VmHWM:\\s+(\\d+) kB', Path('/proc/self/status').read_text())[1]\n"
        "print(out.status, peak)\n"
    )
    peaks = {}
    for path in sorted(workers.iterdir()):
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                script,
                str(path),
                str(tmp_path / f"{path.stem}.duckdb"),
                str(tmp_path / "landing"),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        assert done.returncode == 0, done.stderr[-2000:]
        status, peak_kib = done.stdout.split()
        peaks[path.name] = (status, int(peak_kib) // 1024)
    # The stray cell costs nothing (calamine would have asked for 512 GiB); a CSV is held a few times over
    # (bytes, text, lines: bounded by max_file_bytes); a big but legal grid is calamine's own.
    assert (
        peaks["320585_2024-03_stray.xlsx"][0] == "rejected" and peaks["320585_2024-03_stray.xlsx"][1] < 400
    ), peaks
    assert (
        peaks["320585_2024-05_line.csv"][0] == "ingested" and peaks["320585_2024-05_line.csv"][1] < 1_600
    ), peaks
    assert (
        peaks["320585_2024-04_wide.xlsx"][0] == "ingested" and peaks["320585_2024-04_wide.xlsx"][1] < 2_000
    ), peaks


def _set_cell(path: Path, reference: str, value: str) -> None:
    """Write one more cell into the first sheet's XML, as a hand-edited or tampered workbook has it."""
    row = re.match(r"[A-Z]+(\d+)", reference)[1]
    cell = f'<row r="{row}"><c r="{reference}" t="inlineStr"><is><t>{value}</t></is></c></row>'
    _rewrite(
        path,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b"</sheetData>", cell.encode() + b"</sheetData>"),
    )


def _rewrite(path: Path, part: str, change) -> None:
    with zipfile.ZipFile(path) as source:
        items = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in items:
            target.writestr(info.filename, change(data) if info.filename == part else data)


def test_a_stray_process_holding_the_build_file_gets_one_clear_line_after_the_backoff(tmp_path, monkeypatch):
    from shegong.defs import resources

    build = tmp_path / "build.duckdb"
    duckdb.connect(str(build)).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(60)",
            str(build),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setattr(resources, "LOCK_RETRY_SECONDS", (0.1, 0.2))
        started = time.monotonic()
        with pytest.raises(RuntimeError) as error:
            resources.open_with_backoff(str(build), read_only=False)
        assert time.monotonic() - started >= 0.3
        message = str(error.value)
        assert message.startswith(f"cannot open the build warehouse {build}")
        assert "another process holds it" in message and "\n" not in message
    finally:
        holder.kill()
        holder.wait()


def test_the_reports_and_review_folders_account_for_every_entry_and_follow_no_link(tmp_path):
    from shegong.ingest.reports import ingest_reports, report_files
    from shegong.ingest.reviews import ingest_reviews, review_files

    landing = tmp_path / "landing"
    reports = landing / "reports"
    (reports / "review").mkdir(parents=True)
    (reports / "r1.txt").write_text("2024年，全市持证社工达到1200人。", encoding="utf-8")
    (reports / "r1.meta.json").write_text('{"published": "2024-05-01"}', encoding="utf-8")
    outside = tmp_path / "secret.txt"
    outside.write_text("全市持证社工达到9999人。", encoding="utf-8")
    (reports / "linked.txt").symlink_to(outside)
    (reports / ".hidden.txt").write_text("x")
    (reports / "scan.pdf").write_bytes(b"%PDF-1.4")
    (reports / "review" / "linked.csv").symlink_to(outside)
    (reports / "review" / "notes.docx").write_bytes(b"PK")
    stray = write_xlsx(reports / "review" / "stray.xlsx", ["document", "action"], [["r1.txt", "reject"]])
    _set_cell(stray, "XFD1048576", "1")
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    try:
        ensure_build_schema(con)
        found = report_files(reports)
        assert sorted(p.name for p in found) == [".hidden.txt", "linked.txt", "r1.txt", "scan.pdf"]
        outcomes = {o.doc: o for o in ingest_reports(con, found, landing)}
        assert outcomes["r1.txt"].status == "extracted"
        assert "symbolic link" in outcomes["linked.txt"].error
        assert "hidden file" in outcomes[".hidden.txt"].error
        assert "unsupported report type .pdf" in outcomes["scan.pdf"].error
        assert con.execute("select count(*) from raw.report_facts where value = 9999").fetchone()[0] == 0
        reviews = {
            o.source_file.rsplit("/", 1)[-1]: o
            for o in ingest_reviews(con, review_files(reports / "review"), landing)
        }
        assert {name: o.status for name, o in reviews.items()} == dict.fromkeys(
            ["linked.csv", "notes.docx", "stray.xlsx"], "rejected"
        )
        assert "symbolic link" in reviews["linked.csv"].error
        assert "unsupported review file type .docx" in reviews["notes.docx"].error
        assert "max_columns" in reviews["stray.xlsx"].error
        recorded = con.execute(
            "select count(*) from audit.ingested_files where status = 'rejected'"
        ).fetchone()[0]
        assert recorded == 6
    finally:
        con.close()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_file_with_a_header_and_no_rows_is_a_current_file_of_none(con, landing, suffix):
    name = f"320585_2024-03_empty{suffix}"
    if suffix == ".csv":
        write_csv(landing / "workers" / name, WORKER_HEADER, [])
    else:
        write_xlsx(landing / "workers" / name, WORKER_HEADER, [])
    run(con, landing)
    audit = record(con, name)
    assert (audit["status"], audit["rows_in"], audit["rows_clean"], audit["rows_quarantined"]) == (
        "current",
        0,
        0,
        0,
    )
