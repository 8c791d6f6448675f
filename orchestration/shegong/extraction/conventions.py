"""The annotation conventions of report facts (SCHEMA.md, "Conventions") as small pure rules.

Each rule looks at the wording around one classified figure and either re-files it under the metric the
convention asks for, or says it is not a fact at all:

  * a sitting's passes vs the certified stock: people who passed in one year or sitting (今年/本次/当年…通过,
    新增持证) are ``exam_passed``; a cumulative stock (累计/已有/现有/截至/目前…通过, 取得…证书/资格) is
    ``certified_social_workers``; a breakdown by level follows its context (报考 → registrants, a sitting's passes
    → exam_passed, else the certified stock by level);
  * not facts: counts of model / demonstration / award-winning stations and agencies; agencies taking part in an
    event or programme; posts offered at a job fair.
"""

from __future__ import annotations

import re

LEVEL_METRICS = frozenset({"certified_assistant", "certified_intermediate", "certified_senior"})
EXAM_METRICS = LEVEL_METRICS | {"exam_passed", "exam_registrants", "certified_social_workers"}

# registration for the exam (报名/报考/参考 at any level)
REGISTRATION_RE = re.compile(r"报名|报考|参考(?!率|资料)|考生|资格(?:审核|审查|初审|复审)")
# one sitting / one year's exam
SITTING_RE = re.compile(
    r"今年|本次|此次|该次|这次|当年|本年度|本届|新增|首次|(?:19|20)\d{2}\s*年度|年度[^,;。]{0,16}考试|考试结果|成绩"
)
# a cumulative stock of certificate holders
STOCK_RE = re.compile(
    r"累计|已有|已经有|现有|共有[^,;。]{0,6}持证|截至|截止|目前|至今|以来|总量|总数|历年|迄今"
)
PASS_RE = re.compile(r"通过|合格|考取")
HOLD_RE = re.compile(r"[^,;。]{0,6}(?:[取获]得[^,;。]{0,14}(?:资格|证书)|持有|持证)")

# counts that are not stock: model / award-winning units, participants, job-fair posts
STOCK_COUNT_METRICS = frozenset(
    {"township_stations", "village_stations", "social_work_agencies", "social_organizations"}
)
MODEL_RE = re.compile(
    r"示范|优秀|表彰|先进|标杆|品牌|星级|获评|荣获|评为|评选|称号|入选|获奖|奖项|典型|十佳|百强|优胜|金牌|明星"
)
# the noun a count is of ("12个优秀社会工作服务机构"): a model word before it qualifies the counted units
UNIT_NOUN_RE = re.compile(r"站|室|机构|中心|组织|事务所")
AWARD_AFTER_RE = re.compile(
    r"^[^,;。]{0,6}?(?:获得|荣获|获评|被评为|评为|入选|被授予|授予|被命名为|被确定为)"
)
PARTICIPANT_AFTER_RE = re.compile(
    r"^[^,;。!?]{0,20}?(?:参与|参加|派出|参展|参会|入驻|报名|承办|协办|进行了?展示)"
)
PARTICIPANT_BEFORE_RE = re.compile(r"(?:派出|组织了|动员|邀请|发动|吸引|带动|来自|汇聚|集结)[^,;。]{0,8}$")
JOB_FAIR_RE = re.compile(r"招聘|双选会|供需见面|人才交流会|对接会")


# two levels named together ("社会工作师和助理社会工作师26413人") are the certified stock, not one level
LEVEL_PAIR_RE = re.compile(
    r"(?:社会工作师|社工师)(?:和|及|与|、|以及)(?:助理|中级|高级)?(?:社会工作师|社工师)[^,;。]{0,4}$"
)
SINCE_EXAM_BEGAN_RE = re.compile(
    r"考试[^。]{0,30}(?:至今|以来)|(?:开考|首次[^,;。]{0,20}考试)[^。]{0,10}(?:至今|以来)"
)


# a part named by its level ("初级考生5343人", "其中助理社会工作师…"): a level breakdown, a fact of its own
LEVEL_WORD_RE = re.compile(
    r"(?:助理|初级|中级|高级)(?:社会工作师|社工师|社会工作者|社工|考生|职业资格)?|(?<![理上级及])社会工作师"
)


def is_level_part(metric: str, clause_left: str) -> bool:
    return metric in LEVEL_METRICS or (metric in EXAM_METRICS and bool(LEVEL_WORD_RE.search(clause_left)))


def exam_metric(
    metric: str, clause_left: str, sentence_left: str, previous: str | None, right: str = ""
) -> str:
    """The exam / certificate metric a figure is really about (see the module doc).

    `clause_left`: the clause text before the figure; `sentence_left`: the sentence text before it; `previous`:
    the metric of the figure before it in the sentence (for a breakdown or an enumeration)."""
    holds = HOLD_RE.search(clause_left) or HOLD_RE.match(right)
    if metric in LEVEL_METRICS:
        if LEVEL_PAIR_RE.search(clause_left):
            return "certified_social_workers"
        if REGISTRATION_RE.search(clause_left):
            return "exam_registrants"
        if PASS_RE.search(clause_left) and not (STOCK_RE.search(sentence_left) or holds):
            return "exam_passed"
        if previous in ("exam_registrants", "exam_passed") and not holds:
            return previous
        return metric
    if metric == "exam_passed":
        stock = STOCK_RE.search(clause_left) or STOCK_RE.search(sentence_left) or holds
        if stock and not SITTING_RE.search(clause_left):
            return "certified_social_workers"
        return metric
    if metric == "certified_social_workers" and re.search(r"新增(?:持证|[^,;。]{0,8}持证)", clause_left):
        return "exam_passed"
    if metric == "social_work_talent_total" and (holds or SINCE_EXAM_BEGAN_RE.search(sentence_left)):
        return "certified_social_workers"  # "since the exam began, N professionals": people who passed it
    return metric


def is_not_a_fact(metric: str, unit: str, clause: str, left: str, right: str, sentence: str) -> bool:
    """True for figures the conventions exclude: model/award-winning units, participants, job-fair posts."""
    if metric in STOCK_COUNT_METRICS:
        noun = UNIT_NOUN_RE.search(right)
        head, tail = (right[: noun.end()], right[noun.end() :]) if noun else (right[:8], right[8:])
        if MODEL_RE.search(left) or MODEL_RE.search(head) or AWARD_AFTER_RE.match(tail):
            return True
        if PARTICIPANT_AFTER_RE.match(right) or PARTICIPANT_BEFORE_RE.search(left):
            return True
    job_fair_counts = ("social_work_posts", *STOCK_COUNT_METRICS)  # posts offered, agencies taking part
    return bool(metric in job_fair_counts and JOB_FAIR_RE.search(sentence))
