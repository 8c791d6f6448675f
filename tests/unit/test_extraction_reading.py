"""Report files in any common encoding / format → text, and unreadable files → ReportReadError."""

from pathlib import Path

import pytest

from shegong.extraction import ReportReadError, extract_file, read_report

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "reports"

SIMPLIFIED = "截至2021年底，苏州市持证社工1.8万人，社会工作服务机构136家。\n"
TRADITIONAL = "截至2021年底，蘇州市持證社工1.8萬人，社會工作服務機構136家。\n"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("utf-8", SIMPLIFIED),
        ("utf-8-sig", SIMPLIFIED),
        ("gb18030", SIMPLIFIED),
        ("gbk", SIMPLIFIED),
        ("big5", TRADITIONAL),
        ("utf-16", SIMPLIFIED),
        ("utf-16-le", SIMPLIFIED),
    ],
)
def test_encodings_are_detected_from_bytes(tmp_path, encoding, text):
    # the extension says nothing about the encoding
    path = write(tmp_path, "report.txt", text.encode(encoding))
    assert read_report(path).strip() == text.strip().lstrip("\ufeff")


def test_big5_and_gb18030_files_give_the_same_facts(tmp_path):
    big5 = extract_file(write(tmp_path, "a.txt", TRADITIONAL.encode("big5")))
    gb = extract_file(write(tmp_path, "b.txt", SIMPLIFIED.encode("gb18030")))
    assert big5.language == "zh-Hant"
    assert gb.language == "zh-Hans"
    assert [(f.metric, f.value, f.adcode, f.year) for f in big5.facts] == [
        ("certified_social_workers", 18000, "320500", 2021),
        ("social_work_agencies", 136, "320500", 2021),
    ]
    assert [(f.metric, f.value, f.adcode, f.year) for f in gb.facts] == [
        (f.metric, f.value, f.adcode, f.year) for f in big5.facts
    ]
    assert big5.doc == "a.txt"


def test_utf8_bom_is_not_part_of_the_title(tmp_path):
    path = write(tmp_path, "bom.txt", ("苏州市社会工作发展情况通报\n" + SIMPLIFIED).encode("utf-8-sig"))
    result = extract_file(path)
    assert result.title == "苏州市社会工作发展情况通报"


def test_html_is_reduced_to_text_blocks():
    text = read_report(FIXTURES / "city_report.html")
    lines = text.splitlines()
    assert lines[0] == "临安区社会工作发展情况"
    assert "截至2022年6月，我区持证社工达到1,260人，建成镇街社工站18个。" in lines
    assert "99999" not in text  # scripts are dropped
    assert "font-size" not in text  # styles are dropped
    assert "新闻中心" not in text  # <nav> is dropped
    assert "<" not in text


def test_html_report_facts():
    result = extract_file(FIXTURES / "city_report.html")
    assert result.published == "2022-08-09"
    assert result.title == "临安区社会工作发展情况"
    got = [(f.metric, f.value, f.unit, f.region, f.adcode, f.year) for f in result.facts]
    assert got == [
        ("certified_social_workers", 1260, "person", "临安区", "330185", 2022),
        ("township_stations", 18, "count", "临安区", "330185", 2022),
        ("training_sessions", 12, "count", "临安区", "330185", 2022),
        ("training_participants", 960, "person_time", "临安区", "330185", 2022),
    ]
    assert result.stats["junk_lines_removed"] >= 3  # breadcrumb, share buttons, copyright/ICP


def test_html_detected_by_content_not_extension(tmp_path):
    html = "<html><body><div>首页</div><p>全省持证社工3658人。</p><p>第二段</p></body></html>"
    path = write(tmp_path, "page.txt", html.encode("gb18030"))
    assert "<p>" not in read_report(path)
    assert "全省持证社工3658人。" in read_report(path)


def test_markdown_is_reduced_to_text():
    text = read_report(FIXTURES / "notes.md")
    assert "海盐县社会工作年度小结" in text.splitlines()[0]
    assert "**" not in text and "](" not in text and "|" not in text
    result = extract_file(FIXTURES / "notes.md")
    assert [(f.metric, f.value) for f in result.facts] == [
        ("certified_social_workers", 2100),
        ("township_stations", 9),
        ("station_coverage_rate", 100),
    ]
    assert result.published == "2024-01-05"


def test_empty_file_raises(tmp_path):
    with pytest.raises(ReportReadError, match="empty"):
        read_report(write(tmp_path, "empty.txt", b""))
    with pytest.raises(ReportReadError, match="empty"):
        read_report(write(tmp_path, "blank.txt", b"  \n\n "))


def test_binary_file_raises(tmp_path):
    with pytest.raises(ReportReadError, match="binary"):
        read_report(write(tmp_path, "scan.txt", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"))
    with pytest.raises(ReportReadError, match="binary"):
        read_report(write(tmp_path, "blob.txt", bytes(range(256)) * 20))


def test_undecodable_file_raises(tmp_path):
    with pytest.raises(ReportReadError) as info:
        read_report(write(tmp_path, "noise.txt", bytes([0x81, 0x20, 0xFF, 0xFE, 0x80] * 50)))
    assert isinstance(info.value, ValueError)
    assert "noise.txt" in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file_raises(tmp_path):
    with pytest.raises(ReportReadError):
        read_report(tmp_path / "nope.txt")
