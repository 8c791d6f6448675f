"""Report metadata: the crawler's sidecar, HTML <meta> tags, Markdown front matter, the page's dateline."""

import json

import pytest

from shegong.extraction import ReportReadError, extract_file
from shegong.extraction.reading import normalize_date, read_report_with_metadata, sidecar_path

BODY = "示例市社会工作发展情况\n发布时间:2019-03-02\n全市持证社工达1500人。\n"


def write(tmp_path, name, text, sidecar=None):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    if sidecar is not None:
        sidecar_path(path).write_text(json.dumps(sidecar, ensure_ascii=False), encoding="utf-8")
    return path


def test_sidecar_date_outranks_the_dateline(tmp_path):
    path = write(tmp_path, "a.txt", BODY, {"url": "http://example.org/a.html", "published": "2021-06-30"})
    result = extract_file(path)
    assert (result.published, result.published_source, result.url) == (
        "2021-06-30",
        "sidecar",
        "http://example.org/a.html",
    )
    assert [f.year for f in result.facts] == [2021]


def test_without_sidecar_the_dateline_dates_the_report(tmp_path):
    result = extract_file(write(tmp_path, "b.txt", BODY))
    assert (result.published, result.published_source, result.url) == ("2019-03-02", "dateline", None)
    assert [f.year for f in result.facts] == [2019]


def test_sidecar_without_a_date_keeps_the_url_and_falls_back_to_the_dateline(tmp_path):
    result = extract_file(write(tmp_path, "c.txt", BODY, {"url": "http://example.org/c"}))
    assert (result.published, result.url) == ("2019-03-02", "http://example.org/c")


def test_html_meta_tags_give_the_date_and_title(tmp_path):
    html = (
        "<html><head><title>站点</title>"
        '<meta property="article:published_time" content="2020-08-09T10:00:00+08:00">'
        '<meta property="og:title" content="示例市社工简报"><link rel="canonical" href="http://example.org/p">'
        "</head><body><h1>示例市社工简报</h1><p>全市持证社工达1500人。</p><p>更多内容见后。</p></body></html>"
    )
    text, meta = read_report_with_metadata(write(tmp_path, "d.html", html))
    assert (meta.published, meta.source, meta.url) == ("2020-08-09", "html_meta", "http://example.org/p")
    assert "全市持证社工达1500人" in text
    assert [f.year for f in extract_file(tmp_path / "d.html").facts] == [2020]


def test_markdown_front_matter_gives_the_date_and_is_not_text(tmp_path):
    md = "---\ntitle: 示例\npublished: 2018-12-01\nurl: http://example.org/m\n---\n# 示例市\n\n全市持证社工达1500人。\n"
    text, meta = read_report_with_metadata(write(tmp_path, "e.md", md))
    assert (meta.published, meta.source, meta.url) == ("2018-12-01", "front_matter", "http://example.org/m")
    assert "published" not in text
    assert [f.year for f in extract_file(tmp_path / "e.md").facts] == [2018]


def test_an_undated_page_takes_the_year_of_its_address(tmp_path):
    body = "示例市社会工作发展情况\n全市持证社工达1500人。\n"
    path = write(tmp_path, "f.txt", body, {"url": "http://example.org/news/201711/4134.html"})
    result = extract_file(path)
    assert result.published is None
    assert [f.year for f in result.facts] == [2017]


def test_a_broken_sidecar_is_a_clear_error(tmp_path):
    path = write(tmp_path, "g.txt", BODY)
    sidecar_path(path).write_text("{not json", encoding="utf-8")
    with pytest.raises(ReportReadError, match=r"g\.meta\.json: sidecar is not valid JSON"):
        extract_file(path)
    sidecar_path(path).write_text('{"published": "last tuesday"}', encoding="utf-8")
    with pytest.raises(ReportReadError, match="is not a date"):
        extract_file(path)


@pytest.mark.parametrize(
    ("written", "iso"),
    [
        ("2022-02-22", "2022-02-22"),
        ("2022/2/3 10:00", "2022-02-03"),
        ("2022年2月3日", "2022-02-03"),
        ("2022-02-30", None),
        ("soon", None),
    ],
)
def test_dates_in_any_common_form(written, iso):
    assert normalize_date(written) == iso
