"""Facts: metrics, targets, regions, years, breakdowns, and numbers that must not become facts."""

import dataclasses
import json

import pytest

from shegong.extraction import ExtractionResult, Fact, extract_document, load_metric_catalogue


def facts(text: str) -> list[Fact]:
    return extract_document(text, "t.txt").facts


def triples(text: str) -> list[tuple]:
    return [(f.metric, f.value, f.unit, f.qualifier) for f in facts(text)]


# ------------------------------------------------------------------------------------------ interface


def test_fact_to_dict_keys_and_order():
    (fact,) = facts("截至2021年,贵州省持证社工达3658人。")
    d = fact.to_dict()
    assert list(d) == [
        "doc", "metric", "value", "unit", "qualifier", "is_target", "region", "adcode", "year", "quote", "confidence",
    ]  # fmt: skip
    assert d == {
        "doc": "t.txt",
        "metric": "certified_social_workers",
        "value": 3658,
        "unit": "person",
        "qualifier": "exact",
        "is_target": False,
        "region": "贵州省",
        "adcode": "520000",
        "year": 2021,
        "quote": "贵州省持证社工达3658人",
        "confidence": d["confidence"],
    }
    assert 0.9 <= d["confidence"] <= 1.0  # cue next to the number, place and year in its own clause
    json.dumps(d, ensure_ascii=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fact.value = 1  # type: ignore[misc]


def test_result_metadata():
    result = extract_document("海盐县社会工作发展综述\n时间:2025-03-04\n全县持证社工突破2900人。", "a.txt")
    assert isinstance(result, ExtractionResult)
    assert (result.doc, result.title, result.published, result.language) == (
        "a.txt",
        "海盐县社会工作发展综述",
        "2025-03-04",
        "zh-Hans",
    )
    assert (result.main_region, result.main_adcode) == ("海盐县", "330424")
    for key in (
        "chars_in", "lines_in", "lines_kept", "junk_lines_removed", "duplicate_paragraphs_removed",
        "pinyin_glosses_removed", "facts", "facts_without_region", "facts_without_year",
    ):  # fmt: skip
        assert key in result.stats
    assert result.stats["facts"] == 1
    assert result.normalized_text.endswith("全县持证社工突破2900人。")


def test_catalogue_is_data_with_dimension_keys():
    catalogue = load_metric_catalogue()
    codes = [m["code"] for m in catalogue]
    assert len(codes) == len(set(codes)) == 29
    for entry in catalogue:
        for key in ("code", "category", "unit", "name_zh", "name_en", "description"):
            assert isinstance(entry[key], str) and entry[key]
        assert entry["unit"] in {"person", "person_time", "yuan", "count", "hour", "percent"}
    assert {m["category"] for m in catalogue} == {"workers", "stations", "funding", "training", "other"}
    # a fresh copy each time: callers cannot corrupt the cached catalogue
    catalogue[0]["code"] = "changed"
    assert load_metric_catalogue()[0]["code"] == "certified_social_workers"


# ------------------------------------------------------------------------------------------ metrics


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("全市持证社工总人数1.8万人。", ("certified_social_workers", 18000, "person", "exact")),
        ("累计动员慈善资金5100余万元。", ("charity_funding", 51_000_000, "yuan", "at_least")),
        ("全年投入政府购买服务资金1.7亿元。", ("government_purchase_funding", 170_000_000, "yuan", "exact")),
        ("开展社会工作从业人员培训班三期。", ("training_sessions", 3, "count", "exact")),
        ("实训基地已开展培训超过百次。", ("training_sessions", 100, "count", "at_least")),
        ("培训人员千余人次。", ("training_participants", 1000, "person_time", "at_least")),
        ("社工职业资格考试报考人数2,000人。", ("exam_registrants", 2000, "person", "exact")),
        ("考试通过率12.5%。", ("exam_pass_rate", 12.5, "percent", "exact")),
        ("持证社工１２３人。", ("certified_social_workers", 123, "person", "exact")),
        ("年度新增持证近500人。", ("exam_passed", 500, "person", "approx")),
        ("其中助理社工师33名。", ("certified_assistant", 33, "person", "exact")),
        ("中级社工师14名。", ("certified_intermediate", 14, "person", "exact")),
        ("高级社会工作师6名。", ("certified_senior", 6, "person", "exact")),
        ("社工人才总数突破5.2万人。", ("social_work_talent_total", 52000, "person", "at_least")),
        ("全职员工超过1600人。", ("agency_staff", 1600, "person", "at_least")),
        ("近900名驻站社工开展服务。", ("station_social_workers", 900, "person", "approx")),
        ("设置社工专业技术岗位17个。", ("social_work_posts", 17, "count", "exact")),
        ("目前已建成90个社工站。", ("township_stations", 90, "count", "exact")),
        ("已建成1102个村(社区)社工室。", ("village_stations", 1102, "count", "exact")),
        ("建成社工站90个,覆盖率达94%。", None),
        ("社会工作服务机构136家。", ("social_work_agencies", 136, "count", "exact")),
        ("备案的社区社会组织1249个。", ("social_organizations", 1249, "count", "exact")),
        ("今年共筹措福彩资金110万元。", ("lottery_funding", 1_100_000, "yuan", "exact")),
        ("撬动资金1900万元。", ("project_funding", 19_000_000, "yuan", "exact")),
        ("全县年度实施服务项目99个。", ("service_projects", 99, "count", "exact")),
        ("培训时间20小时。", ("training_hours", 20, "hour", "exact")),
        ("累计投入近500万元举办各类培训和继续教育。", ("training_funding", 5_000_000, "yuan", "approx")),
        ("建立10个社会工作实训基地。", ("training_bases", 10, "count", "exact")),
        ("注册志愿者突破14万人。", ("volunteers", 140_000, "person", "at_least")),
        ("志愿者累计服务时长1139万小时。", ("volunteer_hours", 11_390_000, "hour", "exact")),
        ("开展关爱活动,惠及10万余人次。", ("beneficiaries", 100_000, "person_time", "at_least")),
    ],
)
def test_metric_cues(text, expected):
    got = triples(text)
    if expected is None:
        assert [m for m, *_ in got] == ["township_stations", "station_coverage_rate"]
        assert got[1][1] == 94
    else:
        assert got == [expected]


def test_two_figures_in_one_clause():
    got = triples("目前,10个社会工作实训基地已开展培训超过百次,培训人员超千人次。")
    assert got == [
        ("training_bases", 10, "count", "exact"),
        ("training_sessions", 100, "count", "at_least"),
        ("training_participants", 1000, "person_time", "at_least"),
    ]


def test_cue_after_the_number_and_list_items():
    got = triples("市民政局对11家专业社工机构的25个社工专业岗位进行专项补助。")
    assert got == [
        ("social_work_agencies", 11, "count", "exact"),
        ("social_work_posts", 25, "count", "exact"),
    ]


def test_continuation_clause_inherits_the_training_metric():
    got = triples("累计举办能力提升20余场,覆盖千余人次。")
    assert got == [
        ("training_sessions", 20, "count", "at_least"),
        ("training_participants", 1000, "person_time", "at_least"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "每万人拥有社会组织数达到11.23个,列苏州第一。",  # ratio, rank
        "每个乡镇(街道)社会工作站至少配备3名驻站社工。",  # per-unit ratio
        "参考率提升至88%,同比增长超50%。",  # growth and unrelated rates
        "占全省持证社工总数的22%。",  # share
        "位居全省第3位。",  # rank
        "咨询电话0575-85123456,邮编312000。",  # phone, post code
        "2013年3月14日,会议表决通过了决定。",  # dates
        "依照《条例》第十二条执行,共3页。",  # article / page numbers
        "社工人员年龄在35岁以下。",  # ages
        "共评选本土优秀社工人才54人。",  # awards are not stocks
        "活跃志愿者7.2万,每万人活跃率达15%。",  # active, not registered volunteers
        "对取得中级证书人员一次性给予3000元奖补。",  # per-person subsidy
        "社工站数量较2021年增加32个。",  # a difference, not a level
        "2015年全局共有12人次参加各类政治理论培训班。",  # not social-work training
    ],
)
def test_numbers_that_are_not_facts(text):
    assert facts(text) == []


# ------------------------------------------------------------------------------------------ 其中 / duplicates


def test_breakdown_of_a_total_is_not_a_second_fact():
    got = triples(
        "今年,我市共组织社工开展社会工作培训20期共1800余人次。"
        "其中,社会组织能力培训2期,社工业务能力培训5期;继续教育培训12期。"
    )
    assert got == [
        ("training_sessions", 20, "count", "exact"),
        ("training_participants", 1800, "person_time", "at_least"),
    ]


def test_breakdown_into_other_metrics_is_kept():
    got = triples("目前本地持证社工数为47人。其中中级社工师14名,助理社工师33名。")
    assert [(m, v) for m, v, *_ in got] == [
        ("certified_social_workers", 47),
        ("certified_intermediate", 14),
        ("certified_assistant", 33),
    ]
    got = triples("全国现有社会工作专业人才20余万人,其中获得职业资格证书的专业社工8万多人。")
    assert [(m, v) for m, v, *_ in got] == [
        ("social_work_talent_total", 200_000),
        ("certified_social_workers", 80_000),
    ]


def test_same_figure_restated_is_one_fact():
    got = triples("全市持证社工1.8万人。会议指出,全市持证社工1.8万人,位居全省前列。")
    assert got == [("certified_social_workers", 18000, "person", "exact")]


# ------------------------------------------------------------------------------------------ targets


def test_targets():
    text = (
        "截至2021年,贵州省持证社工达3658人。"
        "到2025年,贵州省社会工作者持证人员将达到5000人,社工人才总体规模达到10万人以上。"
    )
    got = [(f.metric, f.value, f.qualifier, f.is_target, f.year) for f in facts(text)]
    assert got == [
        ("certified_social_workers", 3658, "exact", False, 2021),
        ("certified_social_workers", 5000, "exact", True, 2025),
        ("social_work_talent_total", 100_000, "at_least", True, 2025),
    ]


@pytest.mark.parametrize(
    "clause",
    ["力争全县持证社工达到600人", "目标是全县持证社工达到600人", "计划到2026年全县持证社工达到600人"],
)
def test_target_cues(clause):
    (fact,) = facts(f"海盐县社会工作\n时间:2025-01-01\n{clause}。")
    assert fact.is_target is True
    assert fact.value == 600


def test_past_deadline_is_not_a_target():
    (fact,) = facts("时间:2016-01-01\n到2012年年底,全国现有社会工作专业人才20余万人。")
    assert fact.is_target is False
    assert fact.year == 2012


# ------------------------------------------------------------------------------------------ regions


def test_region_from_context_for_city_reference():
    text = (
        "绍兴市社会工作推进会召开\n时间:2023-05-12\n绍兴市民政局召开会议。会议指出,我市持证社工达到8635人。"
    )
    (fact,) = facts(text)
    assert (fact.region, fact.adcode) == ("绍兴市", "330600")


def test_region_from_context_for_county_reference():
    text = "浙江海盐:加强社会工作专业人才队伍建设\n成立以来,浙江海盐县委社会工作部加强队伍建设。全县持证社工突破2900人。"
    (fact,) = facts(text)
    assert (fact.region, fact.adcode) == ("海盐县", "330424")


def test_province_reference_from_a_city_context():
    text = "苏州:社工站建设\n近两年,江苏省苏州市推进社工站建设。目前,全市持证社工1.8万人,占全省持证社工总数的22%。"
    (fact,) = facts(text)
    assert fact.adcode == "320500"


def test_national_figures():
    (fact,) = facts("苏州市社会工作\n到2012年年底,全国现有社会工作专业人才20余万人。")
    assert (fact.region, fact.adcode) == ("全国", None)


def test_anonymised_place_has_no_adcode():
    text = "xx市民政局2015年人才工作总结\n今年,我市共组织社工开展社会工作培训20期。目前xx市本地持证社工数为47人。"
    got = [(f.value, f.region, f.adcode) for f in facts(text)]
    assert got == [(20, None, None), (47, None, None)]


def test_explicit_sub_region_beats_the_document_region():
    text = (
        "绍兴市社工站建设情况\n"
        "全市累计建成乡镇(街道)社工站103个。越城区建成镇街社工站15个,柯桥区建成16个。"
        "全市村(社区)社工室1850个。"
    )
    got = [(f.metric, f.value, f.adcode) for f in facts(text)]
    assert got == [
        ("township_stations", 103, "330600"),
        ("township_stations", 15, "330602"),
        ("township_stations", 16, "330603"),
        ("village_stations", 1850, "330600"),
    ]


def test_non_gazetteer_area_keeps_its_name():
    (fact,) = facts("2015年承担渝东北片区320名考生的考前培训工作。")
    assert (fact.metric, fact.region, fact.adcode) == ("training_participants", "渝东北片区", None)


def test_place_in_a_document_title_mark_is_not_the_region():
    text = "贵州省民政厅印发《苏州市社会工作专业岗位设置办法》学习材料。全省持证社工3658人。"
    (fact,) = facts(text)
    assert fact.adcode == "520000"


# ------------------------------------------------------------------------------------------ years


def test_year_rules():
    text = (
        "太仓市社会组织发展\n"
        "时间:2016-04-18\n"
        "截至2015年底,太仓市社会组织总数807个。"
        "去年,市民政部门支持补助社会组织19家。"
        "今年,全市新建社会工作实训基地3个。"
        "目前,全市持证社工1200人。"
    )
    got = [(f.value, f.year) for f in facts(text)]
    assert got == [(807, 2015), (19, 2015), (3, 2016), (1200, 2016)]


def test_unknown_year_placeholder_gives_null():
    (fact,) = facts("时间:2016-04-18\n20XX年我市持证社工数达到47人。")
    assert fact.year is None


def test_no_publication_year_and_no_stated_year_gives_null():
    (fact,) = facts("全区已有助理及以上社会工作师140名。")
    assert fact.year is None
    (fact,) = facts("今年共筹措福彩资金110万元。")
    assert fact.year is None


def test_start_years_and_comparisons_are_not_the_figure_year():
    text = "时间:2016-04-18\n2012年以来,全市累计培训社工5000人次,较2014年增长一倍。"
    (fact,) = facts(text)
    assert (fact.value, fact.year) == (5000, 2016)


# ------------------------------------------------------------------------------------------ more context rules


def test_respective_figures_go_to_their_places():
    text = (
        "广西壮族自治区社会工作要点\n全区社工人才8.6万人。南宁市、柳州市分别建成乡镇(街道)社工站126个、98个。"
    )
    got = [(f.metric, f.value, f.adcode) for f in facts(text)]
    assert got == [
        ("social_work_talent_total", 86000, "450000"),
        ("township_stations", 126, "450100"),
        ("township_stations", 98, "450200"),
    ]


def test_gai_reference_is_the_place_just_mentioned():
    text = (
        "广西壮族自治区社会工作要点\n全区社工人才8.6万人。桂林市临桂区民政局表示,该区今年已培训社工800人次。"
    )
    assert [(f.value, f.adcode) for f in facts(text)] == [(86000, "450000"), (800, "450312")]


def test_a_new_section_about_another_place_moves_the_context():
    text = (
        "湖南长沙:社会工作服务站实现全覆盖\n"
        "长沙市民政局发布消息,全市172个乡镇(街道)社工站已全部建成运营。\n"
        "湖北武汉:“五社联动”助力基层治理\n"
        "武汉市民政局介绍,全市156个街道(乡镇)社工站配备社工620名。\n"
    )
    got = [(f.metric, f.value, f.adcode) for f in facts(text)]
    assert got == [
        ("township_stations", 172, "430100"),
        ("township_stations", 156, "420100"),
        ("station_social_workers", 620, "420100"),
    ]


def test_a_sub_place_mentioned_in_passing_does_not_move_the_context():
    text = (
        "苏州:社工站建设\n"
        "苏州市吴江区举办社工站集中授牌仪式。\n"
        "比如,太仓市建设“邻里家园”模式。\n"
        "目前已建成90个社工站,覆盖率达94%。\n"
    )
    assert {f.adcode for f in facts(text)} == {"320500"}


def test_five_year_plan_and_vague_numbers():
    text = "贵州省社会工作\n“十四五”期间,全省将培养持证社工5000人。全省开展培训上百次,数百人参加。"
    got = [(f.metric, f.value, f.qualifier, f.is_target, f.year) for f in facts(text)]
    assert got == [
        ("certified_social_workers", 5000, "exact", True, 2025),
        ("training_sessions", 100, "at_least", False, None),
    ]


def test_ranges_and_rates_are_not_facts():
    assert facts("每个社工站配备社工3-5名,补贴标准为300元/人。") == []
    assert facts("社工站驻站社工2至3名。") == []


def test_related_news_links_are_not_facts():
    text = (
        "湖南长沙:社工站实现全覆盖\n"
        "全市持证社工1.2万人。\n"
        "相关新闻:\n"
        "· 四川成都:社工人才突破3万人(2022-09-08)\n"
        "江西南昌:社工站建设提速(2022-09-10)\n"
    )
    assert [(f.metric, f.value) for f in facts(text)] == [("certified_social_workers", 12000)]


def test_metadata_line_with_date_source_and_counter():
    result = extract_document(
        "湖南长沙:社工站实现全覆盖\n2022-09-15 10:21:33 来源:中国社会报 作者:张三 阅读:3562\n全市持证社工1.2万人。",
        "m.txt",
    )
    assert result.published == "2022-09-15"
    assert [(f.value, f.year, f.adcode) for f in result.facts] == [(12000, 2022, "430100")]


def test_a_figure_joined_to_the_previous_one_keeps_its_metric_and_place():
    text = "2024年3月1日\n广州市、深圳市社会工作专业人才分别达到4.2万人和3.5万人。"
    facts = [(f.metric, f.value, f.region) for f in extract_document(text, "x").facts]
    assert facts == [
        ("social_work_talent_total", 42000, "广州市"),
        ("social_work_talent_total", 35000, "深圳市"),
    ]


def test_a_comparison_with_last_year_does_not_date_the_next_figure():
    text = "发布时间:2024-03-01\n全市持证社工1456名，较去年增长18.3%；共有社会工作服务机构62家。"
    assert [(f.metric, f.year) for f in extract_document(text, "x").facts] == [
        ("certified_social_workers", 2024),
        ("social_work_agencies", 2024),
    ]
