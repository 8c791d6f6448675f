"""The annotation conventions (SCHEMA.md) as extraction rules, on sentences written for these tests."""

from shegong.extraction import Fact, extract_document

PUBLISHED = "示例县社会工作简报\n发布时间:2023-05-06\n"


def facts(body: str, header: str = PUBLISHED) -> list[Fact]:
    return extract_document(header + body, "t.txt").facts


def pairs(body: str, header: str = PUBLISHED) -> list[tuple[str, float]]:
    return [(f.metric, f.value) for f in facts(body, header)]


# ------------------------------------------------------------------ a sitting's passes vs the certified stock


def test_this_years_passes_are_exam_passed():
    assert pairs("今年全市共有812人通过社会工作者职业水平考试。") == [("exam_passed", 812)]


def test_cumulative_passes_are_the_certified_stock():
    assert pairs("全市已累计有4300人通过社会工作者职业水平考试。") == [("certified_social_workers", 4300)]
    assert pairs("截至目前,全市通过考试的人数累计达4300人。") == [("certified_social_workers", 4300)]


def test_holding_a_certificate_is_the_stock_even_with_a_pass_verb():
    assert pairs("全国共有51万余人取得社会工作者职业资格证书。") == [("certified_social_workers", 510000)]


def test_newly_certified_are_exam_passed():
    assert pairs("本年度新增持证社工236人。") == [("exam_passed", 236)]


def test_level_breakdown_of_a_sitting_is_exam_passed():
    got = pairs("今年全市有900人通过考试,其中助理社会工作师700人,社会工作师200人。")
    assert got == [("exam_passed", 900), ("exam_passed", 700), ("exam_passed", 200)]


def test_level_breakdown_of_the_stock_is_certified_by_level():
    got = pairs("目前全市共有3100人取得职业资格证书,其中助理社会工作师2500人,社会工作师600人。")
    assert got == [
        ("certified_social_workers", 3100),
        ("certified_assistant", 2500),
        ("certified_intermediate", 600),
    ]


def test_registrations_at_every_level_are_exam_registrants():
    got = pairs("今年全市报名参加考试的人数为5200人,其中报考助理社会工作师4100人,报考社会工作师1100人。")
    assert got == [("exam_registrants", 5200), ("exam_registrants", 4100), ("exam_registrants", 1100)]
    assert pairs("全市共有3300人报名。") == [("exam_registrants", 3300)]
    assert pairs("本次考试通过资格审核的人员达2700人。") == [("exam_registrants", 2700)]


def test_two_levels_named_together_are_the_stock():
    assert pairs("全市共有社会工作师和助理社会工作师2600人。") == [("certified_social_workers", 2600)]


# ------------------------------------------------------------------ breakdowns, restatements, comparisons


def test_a_breakdown_of_the_same_metric_is_not_a_second_fact():
    got = pairs("全市建成乡镇(街道)社工站120个,其中示例镇社工站中的30个由政府新建。")
    assert got == [("township_stations", 120)]


def test_a_breakdown_naming_other_places_gives_facts_of_those_places():
    got = facts("全国报考人数为50万人。其中,报考人数最多的省份为:浙江8.1万人、广东6.2万人。")
    assert [(f.metric, f.value, f.region) for f in got] == [
        ("exam_registrants", 500000, "全国"),
        ("exam_registrants", 81000, "浙江省"),
        ("exam_registrants", 62000, "广东省"),
    ]


def test_a_restatement_within_half_a_percent_is_one_fact():
    got = pairs("全市社工机构从业人员7980多人。全市社工机构从业人员近8000人。")
    assert got == [("agency_staff", 7980)]


def test_a_rounded_restatement_further_off_is_a_second_fact():
    got = pairs("全市持证社工增至近两万人。截至去年底,全市持证社工1.93万人。")
    assert got == [("certified_social_workers", 20000), ("certified_social_workers", 19300)]


def test_a_comparison_gives_both_figures_with_their_years():
    got = [(f.metric, f.value, f.year) for f in facts("全市社工机构由4年前的52家发展到现在的310余家。")]
    assert got == [("social_work_agencies", 52, 2019), ("social_work_agencies", 310, 2023)]


def test_enumerations_keep_the_metric():
    got = pairs("全市建成乡镇社工站86个、村社工室410个和社工实训基地5个。")
    assert got == [("township_stations", 86), ("village_stations", 410), ("training_bases", 5)]


# ------------------------------------------------------------------ not facts


def test_model_and_award_winning_units_are_not_facts():
    assert pairs("全市有4个街道社工站获得省级示范社工站称号。") == []
    assert pairs("同时受到表彰的还有12个优秀社会工作服务机构。") == []
    # a model word about something else in the clause does not veto the count
    assert pairs("今年甲、乙等4家社会工作服务机构登记注册优秀社工31名。")[0] == ("social_work_agencies", 4)


def test_participants_of_an_event_are_not_facts():
    assert pairs("本次活动共有35家社会工作服务机构参与。") == []


def test_job_fair_posts_are_not_facts():
    assert pairs("现场举办社会工作专场招聘会,提供了超过150个社工岗位。") == []


def test_street_centres_are_stations_and_rural_guidance_stations_are_not_village_rooms():
    assert pairs("今年新增15个街道社会工作服务中心。") == [("township_stations", 15)]
    assert pairs("建立40个农村社会工作服务指导站。") == [("township_stations", 40)]


# ------------------------------------------------------------------ years and regions


def test_an_unstated_year_is_the_publication_year():
    (fact,) = facts("全市持证社工达1500人。")
    assert fact.year == 2023


def test_a_weekday_dateline_dates_the_page():
    (fact,) = facts("全市持证社工达1500人。", header="示例市社会工作简报\n2021年09月14日 星期二\n")
    assert fact.year == 2021


def test_years_ago_and_years_ahead_count_from_the_publication_year():
    got = [(f.value, f.year, f.is_target) for f in facts("未来五年,全市专业社工将超过9000人。")]
    assert got == [(9000, 2028, True)]


def test_a_breakdown_sentence_takes_the_year_of_the_sentence_before():
    got = [(f.value, f.year) for f in facts("2021年度全市共有880人通过考试。其中助理社会工作师700人。")]
    assert got == [(880, 2021), (700, 2021)]


def test_an_as_of_date_governs_the_rest_of_its_paragraph_until_now_is_said():
    got = [
        (f.value, f.year)
        for f in facts("截至2020年底,全市持证社工达1300人。全市社工机构61家。目前全市社工站80个。")
    ]
    assert got == [(1300, 2020), (61, 2020), (80, 2023)]


def test_a_sentence_naming_only_the_country_is_national():
    (fact,) = facts(
        "今年约80万人报考全国社会工作者职业水平考试。", header="天津社会工作新闻\n发布时间:2022-11-02\n"
    )
    assert (fact.region, fact.adcode) == ("全国", None)


def test_region_from_a_governing_reference():
    (fact,) = facts(
        "示例的报道。全省共有持证社工2.1万人。", header="湖北省社会工作新闻\n发布时间:2022-11-02\n"
    )
    assert (fact.region, fact.adcode) == ("湖北省", "420000")


# ------------------------------------------------------------------ confidence


def test_confidence_is_highest_for_a_cued_placed_dated_figure():
    strong, weak = facts(
        "截至2022年底,武汉市持证社工达3658人。全省建成社工站约三十个。", header="湖北省社会工作\n"
    )
    assert strong.confidence >= 0.9
    assert weak.confidence < strong.confidence


def test_document_quality_names_its_issues():
    result = extract_document("海盐县社会工作简报\n全县持证社工达1500人。\n", "q.txt")
    assert result.quality["facts"] == 1
    assert "no_publication_date" in result.quality["issues"]
    assert result.quality["score"] < result.quality["mean_confidence"]
    dated = extract_document("海盐县社会工作简报\n发布时间:2023-05-06\n全县持证社工达1500人。\n", "q.txt")
    assert dated.quality["issues"] == []
    assert dated.quality["score"] > result.quality["score"]


def test_a_range_is_one_fact_at_its_lower_bound():
    (fact,) = facts("省级福彩公益金每年安排300万-400万元用于社会工作。")
    assert (fact.metric, fact.value, fact.qualifier) == ("lottery_funding", 3000000, "at_least")


def test_registrations_named_by_level_are_facts_of_their_own():
    got = pairs("全市共有6100人报名。初级考生4200人,中级考生1900人。")
    assert got == [("exam_registrants", 6100), ("exam_registrants", 4200), ("exam_registrants", 1900)]


def test_a_national_rank_does_not_make_a_figure_national():
    (fact,) = facts("持证社工1200人,居全国第三。", header="苏州市社会工作简报\n发布时间:2023-05-06\n")
    assert fact.region == "苏州市"


def test_agencies_providing_services_are_a_stock_but_a_job_fair_is_not():
    assert pairs("全市52家社工机构提供专业服务。") == [("social_work_agencies", 52)]
    assert pairs("专场招聘会上,30家社会工作服务机构提供了岗位。") == []


def test_a_total_after_new_holders_is_the_stock():
    got = pairs("今年全市新增持证社工600余人,总数达到4100人。")
    assert got == [("exam_passed", 600), ("certified_social_workers", 4100)]


def test_clauses_naming_only_other_places_continue_the_enumeration():
    got = [(f.metric, f.value, f.region) for f in facts("长沙市持证社工4500人,株洲市2100人,湘潭市1800人。")]
    assert got == [
        ("certified_social_workers", 4500, "长沙市"),
        ("certified_social_workers", 2100, "株洲市"),
        ("certified_social_workers", 1800, "湘潭市"),
    ]


def test_a_clause_saying_only_when_and_how_much_takes_the_metric_of_the_clause_before():
    got = pairs("全市报考人数连续三年增长,今年超过2800人。")
    assert got == [("exam_registrants", 2800)]


def test_the_same_number_as_professional_and_certified_social_workers_is_one_certified_fact():
    got = pairs("全市已有专业社工6500人。截至目前,全市累计有6500人通过社工职业水平考试。")
    assert got == [("certified_social_workers", 6500)]
