"""Normalisation: script, pinyin glosses, doubled punctuation, page chrome, duplicates, broken lines."""

from shegong.extraction import extract_document
from shegong.extraction.normalize import (
    classify_line,
    fix_doubled_punctuation,
    normalize_text,
    strip_pinyin_glosses,
    to_halfwidth,
)


def test_pinyin_glosses_are_removed_but_real_parentheses_stay():
    text, n = strip_pinyin_glosses("發(fā)展社會工作,加強培訓(xùn),乡镇(街道)社工站,(2021年)数据,社工(SW)")
    assert text == "發展社會工作,加強培訓,乡镇(街道)社工站,(2021年)数据,社工(SW)"
    assert n == 2


def test_full_width_pinyin_gloss_after_halfwidth():
    text, n = strip_pinyin_glosses(to_halfwidth("報（bào）考人數（shù）"))
    assert (text, n) == ("報考人數", 2)


def test_doubled_punctuation_keeps_the_strongest_mark():
    text, n = fix_doubled_punctuation("近年来,,太仓市从资金支持,、人才培养,、功能发挥,。备案的。,组织")
    assert text == "近年来,太仓市从资金支持、人才培养、功能发挥。备案的。组织"
    assert n == 5


def test_halfwidth_digits_letters_percent():
    assert to_halfwidth("１２．５％，ＡＢｃ") == "12.5%,ABc"
    assert to_halfwidth("培训20，300人") == "培训20, 300人"  # a full-width comma is never a thousands mark


def test_traditional_is_converted_and_detected():
    doc = normalize_text("蘇州市持證社工總人數1.8萬人,擁有社會工作服務機構136家。")
    assert doc.paragraphs == ["苏州市持证社工总人数1.8万人,拥有社会工作服务机构136家。"]
    assert doc.language == "zh-Hant"
    assert normalize_text("苏州市持证社工总人数1.8万人。").language == "zh-Hans"


def test_chrome_and_metadata_lines():
    assert classify_line("首页 | 版面导航 | 标题导航") == "junk"
    assert classify_line("第01版:头版") == "junk"
    assert classify_line("分享到: 微信 微博 QQ空间") == "junk"
    assert classify_line("版权所有 某某市民政局 京ICP备05070829号-1") == "junk"
    assert classify_line("主站蜘蛛池模板: 久久综合 | 国产精品 | 亚洲无码 | 欧美日韩 | 一区二区") == "junk"
    assert classify_line("网站首页 新闻中心 政务公开 办事服务 互动交流 专题专栏") == "junk"
    assert classify_line("3个回答 默认排序") == "junk"
    assert classify_line("来源:太仓日报") == "meta"
    assert classify_line("责编:朱敏") == "meta"
    assert classify_line("时间:2016-04-18") == "meta"
    assert classify_line("(据中国新闻网)") == "meta"
    assert classify_line("全市持证社工总人数1.8万人,拥有社会工作服务机构136家。") is None


def test_publication_date_from_metadata_not_from_body():
    doc = normalize_text("标题在这里的一篇报道\n来源:某日报\n时间:2016-04-18\n2013年3月14日,会议通过了决定。")
    assert doc.published == "2016-04-18"
    assert doc.stats["metadata_lines_removed"] == 2
    assert normalize_text("2013年3月14日,十二届全国人大一次会议表决通过了决定。").published is None
    assert normalize_text("2025年03月04日 星期二上一期下一期\n正文内容在这里。").published == "2025-03-04"


def test_link_farm_and_navigation_produce_no_facts():
    text = (
        "首页 | 新闻 | 工作动态 | 社会工作 | 联系我们\n"
        "友情链接: 民政部 | 省民政厅 | 市民政局 | 县民政局\n"
        "苏州市持证社工1.8万人。\n"
        "热门推荐: 社工站建成100个\n"
        "主站蜘蛛池模板: 久久综合88 | 国产精品99 | 亚洲无码 | 欧美日韩 | 一区二区 | 天堂AV\n"
    )
    result = extract_document(text, "x.txt")
    assert [(f.metric, f.value) for f in result.facts] == [("certified_social_workers", 18000)]
    assert result.stats["junk_lines_removed"] == 4


def test_duplicated_paragraph_gives_one_fact():
    para = "目前,苏州市持证社工总人数1.8万人,拥有社会工作服务机构136家。"
    result = extract_document(f"苏州社会工作\n{para}\n其他内容很多很多很多。\n{para}\n", "dup.txt")
    assert [(f.metric, f.value) for f in result.facts] == [
        ("certified_social_workers", 18000),
        ("social_work_agencies", 136),
    ]
    assert result.stats["duplicate_paragraphs_removed"] == 1


def test_paragraph_broken_across_lines_is_rejoined():
    text = (
        "贵州:多措并举推动社会工作发展\n"
        "搭建社工阵地平台。贵州省民政厅研究制定实施方案。截至2021年底,贵州全\n\n"
        "省已建成乡镇(街道)社会工作和志愿服务站430个。\n"
    )
    result = extract_document(text, "broken.txt")
    assert [(f.metric, f.value, f.adcode, f.year) for f in result.facts] == [
        ("township_stations", 430, "520000", 2021)
    ]


def test_traditional_report_with_glosses_and_doubled_punctuation():
    text = (
        "蘇州市社會工作發(fā)展情況\n"
        "時(shí)間:2021-11-30\n"
        "目前,,蘇州市持證社工總人數(shù)1.8萬人,,擁有社會工作服務(wù)機構(gòu)136家,。\n"
    )
    result = extract_document(text, "trad.txt")
    assert result.language == "zh-Hant"
    assert result.published == "2021-11-30"
    assert result.title == "苏州市社会工作发展情况"
    assert result.stats["pinyin_glosses_removed"] == 5
    assert result.stats["doubled_punctuation_fixed"] == 3
    assert [(f.metric, f.value, f.region, f.adcode, f.year) for f in result.facts] == [
        ("certified_social_workers", 18000, "苏州市", "320500", 2021),
        ("social_work_agencies", 136, "苏州市", "320500", 2021),
    ]
    # the quote keeps the original script
    assert result.facts[0].quote == "蘇州市持證社工總人數1.8萬人"
    assert "发展" in result.normalized_text
