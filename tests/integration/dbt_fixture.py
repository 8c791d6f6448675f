"""A small hand-made build warehouse for the dbt project's integration tests.

`build_fixture_db(path)` writes a DuckDB file holding every raw table the dbt project reads: the registry and
audit tables exactly as the Python ingest creates them (`shegong.schema.ensure_build_schema`), the national
gazetteer from `shegong.gazetteer.regions()`, and hand-made report documents/facts and the metric catalogue.
The rows are small enough to count by hand; the expected figures the tests assert are derived in comments here.

Calendar: worker/station/agency registry months 2024-01 .. 2024-03 (plus training and funding months back to
2022-05), so the default as-of date is 2024-03-31 and "next quarter" is 2024-04-01 .. 2024-06-30.

Regions: Guangdong 440000 > Guangzhou 440100 > Tianhe 440106 (4 townships, 5 villages) and Baiyun 440111
(2 townships, 2 villages); Sichuan 510000 > Chengdu 510100 > Jinjiang 510104 (2 townships, 1 village).
Registries also use two codes no reference lists: county 449901 and Tianhe township 440106099.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import duckdb

D = dt.date
INGESTED_AT = dt.datetime(2024, 4, 5, 8, 0, 0)

# Person keys (HMACs in production; any opaque string here).
# Person keys shaped like the real ones (64 hex characters of an HMAC-SHA256), so GX format checks hold too.
HA, HB, HC, HD, HE, HF, HG, HH = (hashlib.sha256(f"person-{c}".encode()).hexdigest() for c in "abcdefgh")
HX, HY = (hashlib.sha256(f"person-{c}".encode()).hexdigest() for c in "xy")

# Agencies (unified social credit codes).
U1, U2, U3, U4 = "52440106MJA000001A", "52440106MJA000002B", "52440111MJA000003C", "52510104MJA000004D"
U9 = "52440111MJA000009X"  # a provider in funding only, never on an agency roster

# Certificates (17 digits).
CA1, CB1, CB2, CC1, CD1, CE1, CF1, CG1, CH1 = (f"2024{n:013d}" for n in range(1, 10))

TOWNSHIPS = {
    "440106001": "五山街道",
    "440106002": "石牌街道",
    "440106003": "天园街道",
    "440106004": "车陂街道",
    "440111001": "三元里街道",
    "440111002": "松洲街道",
    "510104001": "督院街街道",
    "510104002": "盐市口街道",
}
VILLAGES = {
    "440106001001": "华工社区",
    "440106001002": "五山社区",
    "440106002001": "石牌社区",
    "440106003001": "天园社区",
    "440106004001": "车陂社区",
    "440111001001": "三元里社区",
    "440111002001": "松洲社区",
    "510104001001": "督院社区",
}

# Worker records: (month, name, id_hash, cert, level, certified_on, registered_on, status, employer, station, region)
# Expected SCD2 history of person B: (assistant, U1, active) 2024-01, (assistant, U2, active) 2024-02,
# (intermediate, U2, active) 2024-03. Person C: active 2024-01, suspended 2024-02, cancelled 2024-03.
WORKERS = [
    # 2024-01 (reported by Tianhe 440106, Baiyun 440111 and the city 440100 for unlisted/ county-level codes)
    (
        "2024-01",
        "张*",
        HA,
        CA1,
        "assistant",
        D(2019, 6, 20),
        D(2021, 5, 15),
        "active",
        U1,
        "ST001",
        "440106001",
    ),
    (
        "2024-01",
        "李*",
        HB,
        CB1,
        "assistant",
        D(2018, 6, 1),
        D(2022, 1, 10),
        "active",
        U1,
        "ST002",
        "440106002",
    ),
    (
        "2024-01",
        "王*",
        HC,
        CC1,
        "intermediate",
        D(2016, 9, 1),
        D(2021, 8, 1),
        "active",
        U3,
        "ST005",
        "440111001",
    ),
    (
        "2024-01",
        "赵*",
        HE,
        CE1,
        "assistant",
        D(2023, 11, 20),
        D(2023, 11, 20),
        "active",
        None,
        None,
        "440106",
    ),
    ("2024-01", "钱*", HF, CF1, "assistant", D(2020, 3, 1), D(2021, 4, 1), "active", U2, None, "440106099"),
    ("2024-01", "孙*", HG, CG1, "intermediate", D(2022, 5, 1), D(2022, 5, 1), "active", None, None, "449901"),
    # 2024-02: B changes employer, C is suspended, D (Sichuan) first registered
    (
        "2024-02",
        "李*",
        HB,
        CB1,
        "assistant",
        D(2018, 6, 1),
        D(2022, 1, 10),
        "active",
        U2,
        "ST002",
        "440106002",
    ),
    (
        "2024-02",
        "王*",
        HC,
        CC1,
        "intermediate",
        D(2016, 9, 1),
        D(2021, 8, 1),
        "suspended",
        U3,
        "ST005",
        "440111001",
    ),
    ("2024-02", "周*", HD, CD1, "senior", D(2015, 11, 1), D(2023, 1, 1), "active", U4, None, "510104"),
    # 2024-03: B earns an intermediate certificate, C is cancelled, F re-registers early, H first registered
    (
        "2024-03",
        "李*",
        HB,
        CB2,
        "intermediate",
        D(2024, 3, 5),
        D(2024, 3, 5),
        "active",
        U2,
        "ST002",
        "440106002",
    ),
    (
        "2024-03",
        "王*",
        HC,
        CC1,
        "intermediate",
        D(2016, 9, 1),
        D(2021, 8, 1),
        "cancelled",
        U3,
        None,
        "440111001",
    ),
    ("2024-03", "钱*", HF, CF1, "assistant", D(2020, 3, 1), D(2024, 3, 20), "active", U2, None, "440106099"),
    (
        "2024-03",
        "吴*",
        HH,
        CH1,
        "intermediate",
        D(2018, 4, 1),
        D(2021, 6, 30),
        "active",
        U3,
        "ST006",
        "440111002",
    ),
]
# Certified workers (not cancelled) per county x level x month:
EXPECTED_WORKFORCE = {
    ("2024-01-01", "440106", "assistant"): 4,  # A, B, E, F
    ("2024-01-01", "440111", "intermediate"): 1,  # C
    ("2024-01-01", "449901", "intermediate"): 1,  # G
    ("2024-02-01", "440106", "assistant"): 4,  # A, B, E, F
    ("2024-02-01", "440111", "intermediate"): 1,  # C (suspended still holds the certificate)
    ("2024-02-01", "449901", "intermediate"): 1,  # G
    ("2024-02-01", "510104", "senior"): 1,  # D
    ("2024-03-01", "440106", "assistant"): 3,  # A, E, F
    ("2024-03-01", "440106", "intermediate"): 1,  # B (highest level now intermediate)
    ("2024-03-01", "440111", "intermediate"): 1,  # H (C cancelled)
    ("2024-03-01", "449901", "intermediate"): 1,  # G
    ("2024-03-01", "510104", "senior"): 1,  # D
}

# Stations: (month, code, name, level, region, opened_on, status, operator, resident_workers)
_TIANHE = [
    ("ST001", "五山街道社工站", "township", "440106001", D(2021, 1, 1), 3),
    ("ST002", "石牌街道社工站", "township", "440106002", D(2023, 6, 1), 2),
    ("ST004", "车陂街道社工站", "township", "440106004", D(2022, 1, 1), 2),
    ("RM001", "华工社区社工室", "village", "440106001001", D(2022, 1, 1), 1),
    ("RM002", "石牌社区社工室", "village", "440106002001", D(2022, 3, 1), 1),
]
STATIONS = []
for month, status4 in (("2024-01", "suspended"), ("2024-02", "operating"), ("2024-03", "closed")):
    for code, name, level, region, opened, resident in _TIANHE:
        STATIONS.append(
            (
                month,
                code,
                name,
                level,
                region,
                opened,
                status4 if code == "ST004" else "operating",
                U1,
                resident,
            )
        )
    if month != "2024-01":
        STATIONS.append(
            (month, "ST003", "天园街道社工站", "township", "440106003", D(2024, 2, 15), "operating", U2, 1)
        )
# Baiyun sends rosters for January and March only (February carries January's roster forward).
for month in ("2024-01", "2024-03"):
    STATIONS.append(
        (month, "ST005", "三元里街道社工站", "township", "440111001", D(2020, 5, 1), "operating", U3, 2)
    )
    STATIONS.append(
        (month, "RM003", "三元里社区社工室", "village", "440111001001", D(2023, 9, 1), "operating", U3, 1)
    )
STATIONS.append(
    ("2024-03", "ST006", "松洲街道社工站", "township", "440111002", D(2024, 3, 10), "operating", U3, 1)
)
# Township coverage (operating township stations / townships in raw.regions * 100):
EXPECTED_COVERAGE = {
    ("2024-01-01", "440106"): (2, 4, 50.0, 2, 5, 40.0),  # ST004 suspended
    ("2024-02-01", "440106"): (4, 4, 100.0, 2, 5, 40.0),
    ("2024-03-01", "440106"): (3, 4, 75.0, 2, 5, 40.0),  # ST004 closed
    ("2024-01-01", "440111"): (1, 2, 50.0, 1, 2, 50.0),
    ("2024-02-01", "440111"): (1, 2, 50.0, 1, 2, 50.0),  # January roster carried forward
    ("2024-03-01", "440111"): (2, 2, 100.0, 1, 2, 50.0),
    ("2024-03-01", "510104"): (0, 2, 0.0, 0, 1, 0.0),
}

# Agencies: (months, uscc, name, region, founded_on, status_by_month, staff)
AGENCIES = []
for month in ("2024-01", "2024-02", "2024-03"):
    AGENCIES.append((month, U1, "天河区阳光社会工作服务中心", "440106", D(2015, 3, 1), "active", 10))
    AGENCIES.append(
        (
            month,
            U2,
            "天河区启航社会工作服务社",
            "440106",
            D(2018, 7, 1),
            "cancelled" if month == "2024-03" else "active",
            5,
        )
    )
for month in ("2024-01", "2024-03"):
    AGENCIES.append((month, U3, "白云区康乐社会工作服务中心", "440111", D(2016, 1, 1), "active", 7))
for month in ("2024-02", "2024-03"):
    AGENCIES.append((month, U4, "锦江区同心社会工作服务中心", "510104", D(2019, 9, 1), "active", 3))

# Funding: (month, contract, project, source, purchaser, provider, amount, signed, start, end)
FUNDING = [
    (
        "2023-12",
        "GZ-2023-005",
        "白云区社工站运营项目",
        "fiscal",
        "440111",
        U9,
        "80000.00",
        D(2023, 12, 5),
        D(2024, 1, 1),
        D(2024, 12, 31),
    ),
    (
        "2024-01",
        "GZ-2024-001",
        "天河区社工站运营项目",
        "fiscal",
        "440106",
        U1,
        "100000.00",
        D(2024, 1, 15),
        D(2024, 2, 1),
        D(2025, 1, 31),
    ),
    (
        "2024-02",
        "GZ-2024-002",
        "天河区长者关爱项目",
        "lottery",
        "440106",
        U2,
        "50000.00",
        D(2024, 2, 1),
        D(2024, 2, 1),
        D(2024, 12, 31),
    ),
    (
        "2024-03",
        "GZ-2024-003",
        "广州市社工督导项目",
        "fiscal",
        "440100",
        U3,
        "200000.00",
        D(2024, 3, 10),
        D(2024, 4, 1),
        D(2025, 3, 31),
    ),
    (
        "2024-02",
        "CD-2024-001",
        "锦江区儿童关爱项目",
        "charity",
        "510104",
        U4,
        "30000.00",
        D(2024, 2, 20),
        D(2024, 3, 1),
        D(2024, 8, 31),
    ),
]

# Training sessions: (month, code, title, program, organizer, start, end, credit_hours, budget)
SESSIONS = [
    (
        "2022-05",
        "TR-2022-01",
        "社会工作继续教育(2022)",
        "continuing_education",
        "440106",
        D(2022, 5, 10),
        D(2022, 5, 12),
        "30",
        "20000",
    ),
    (
        "2023-06",
        "TR-2023-01",
        "社工督导培训",
        "supervision",
        "440106",
        D(2023, 6, 5),
        D(2023, 6, 7),
        "20",
        "10000",
    ),
    (
        "2023-12",
        "TR-2023-02",
        "白云区继续教育",
        "continuing_education",
        "440111",
        D(2023, 12, 4),
        D(2023, 12, 4),
        "10",
        "5000",
    ),
    (
        "2024-02",
        "TR-2024-01",
        "社会工作继续教育(2024)",
        "continuing_education",
        "440106",
        D(2024, 2, 20),
        D(2024, 2, 22),
        "24",
        "12000",
    ),
    (
        "2024-03",
        "TR-2024-02",
        "职业水平考试辅导",
        "exam_preparation",
        "440106",
        D(2024, 3, 5),
        D(2024, 3, 6),
        "16",
        "8000",
    ),
]
# Attendance: (session, name, id_hash, certificate, credited_hours, completed)
ATTENDANCE = [
    ("TR-2022-01", "张*", HA, CA1, "30", "true"),
    ("TR-2022-01", "王*", HC, CC1, "30", "true"),
    ("TR-2023-01", "张*", HA, CA1, "20", "true"),
    ("TR-2023-01", "李*", HB, CB1, "20", "true"),
    ("TR-2023-02", "张*", HA, CA1, "10", "false"),
    ("TR-2023-02", "王*", HC, CC1, "10", "true"),
    ("TR-2024-01", "李*", HB, CB1, "24", "true"),
    ("TR-2024-01", "赵*", HE, CE1, "24", "true"),
    ("TR-2024-01", "陈*", HX, None, "24", "true"),
    ("TR-2024-02", "赵*", HE, CE1, "16", "true"),
    ("TR-2024-02", "林*", HY, None, "16", "false"),
]
# Continuing education per certificate registration period (exam preparation does not count):
EXPECTED_CE = {
    (CA1, "2021-05-15"): (50, 72, 22),  # 30 + 20; the 10-hour session was not completed
    (CB1, "2022-01-10"): (44, 72, 28),  # 20 + 24
    (CB2, "2024-03-05"): (0, 90, 90),
    (CC1, "2021-08-01"): (40, 90, 50),
    (CE1, "2023-11-20"): (24, 72, 48),  # exam preparation's 16 hours excluded
    (CF1, "2021-04-01"): (0, 72, 72),
    (CF1, "2024-03-20"): (0, 72, 72),
}
# Due for re-registration in 2024-04-01 .. 2024-06-30 (period end = registered_on + 3 years - 1 day):
EXPECTED_DUE = {HA: (CA1, "2024-05-14", 50, 72, 22), HH: (CH1, "2024-06-29", 0, 90, 90)}

METRICS = [
    ("certified_social_workers", "workers", "person", "持证社会工作者", "Certified social workers"),
    ("certified_assistant", "workers", "person", "助理社会工作师", "Certified assistant social workers"),
    ("certified_intermediate", "workers", "person", "社会工作师", "Certified social workers (intermediate)"),
    ("certified_senior", "workers", "person", "高级社会工作师", "Certified senior social workers"),
    ("social_work_talent_total", "workers", "person", "社会工作专业人才总量", "Social-work talent, total"),
    ("exam_registrants", "workers", "person", "报考人数", "Exam registrants"),
    ("exam_passed", "workers", "person", "考试通过人数", "Exam passes"),
    ("exam_pass_rate", "workers", "percent", "考试通过率", "Exam pass rate"),
    ("agency_staff", "workers", "person", "社工机构专职人员", "Agency full-time staff"),
    ("station_social_workers", "stations", "person", "驻站社工", "Resident station social workers"),
    ("social_work_posts", "workers", "count", "社会工作岗位", "Social-work posts"),
    ("township_stations", "stations", "count", "乡镇(街道)社工站", "Township stations"),
    ("village_stations", "stations", "count", "村(社区)社工室", "Village rooms"),
    ("station_coverage_rate", "stations", "percent", "社工站覆盖率", "Township station coverage rate"),
    ("social_work_agencies", "stations", "count", "社会工作服务机构", "Social-work agencies"),
    ("social_organizations", "other", "count", "社会组织", "Social organisations"),
    ("government_purchase_funding", "funding", "yuan", "政府购买服务资金", "Government purchase funding"),
    ("lottery_funding", "funding", "yuan", "福彩公益金", "Lottery funding"),
    ("charity_funding", "funding", "yuan", "慈善资金", "Charity funding"),
    ("project_funding", "funding", "yuan", "项目资金", "Project funding"),
    ("service_projects", "funding", "count", "服务项目", "Service projects"),
    ("training_sessions", "training", "count", "培训班次", "Training sessions"),
    ("training_participants", "training", "person_time", "培训人次", "Training participants"),
    ("training_hours", "training", "hour", "培训学时", "Training hours"),
    ("training_funding", "training", "yuan", "培训经费", "Training funding"),
    ("training_bases", "training", "count", "实训基地", "Training bases"),
    ("volunteers", "other", "person", "志愿者", "Volunteers"),
    ("volunteer_hours", "other", "hour", "志愿服务时长", "Volunteer hours"),
    ("beneficiaries", "other", "person_time", "服务对象", "Beneficiaries"),
]

DOCS = [
    # doc, title, published, publication_date, language, main_region, main_adcode
    (
        "gz_2024_q1",
        "广州市社会工作发展情况通报",
        "2024年4月15日",
        D(2024, 4, 15),
        "zh-Hans",
        "广州市",
        "440100",
    ),
    ("sc_2024_jan", "四川省社会工作简报", "2024年2月10日", D(2024, 2, 10), "zh-Hans", "四川省", "510000"),
    ("undated", "社工工作报告", "", None, "zh-Hant", "广东省", "440000"),
]
# Facts: (doc, metric, value, unit, qualifier, is_target, region, adcode, year, expected status, registry value)
# gz_2024_q1: as-of = min(2024-12-31, 2024-03-31, 2024-03-31) = 2024-03-31.
# sc_2024_jan: as-of = min(2024-12-31, 2024-01-31, 2024-03-31) = 2024-01-31 (D is first registered in February).
FACTS = [
    (
        "gz_2024_q1",
        "certified_social_workers",
        5,
        "person",
        "exact",
        False,
        "广州市",
        "440100",
        2024,
        "consistent",
        5,
    ),
    (
        "gz_2024_q1",
        "certified_assistant",
        3,
        "person",
        "exact",
        False,
        "天河区",
        "440106",
        2024,
        "consistent",
        3,
    ),
    (
        "gz_2024_q1",
        "township_stations",
        5,
        "count",
        "exact",
        False,
        "天河区",
        "440106",
        2024,
        "over_reported",
        3,
    ),
    (
        "gz_2024_q1",
        "station_coverage_rate",
        60.0,
        "percent",
        "exact",
        False,
        "天河区",
        "440106",
        2024,
        "under_reported",
        75.0,
    ),
    (
        "gz_2024_q1",
        "government_purchase_funding",
        310000,
        "yuan",
        "approx",
        False,
        "广州市",
        "440100",
        2024,
        "consistent",
        300000,
    ),
    (
        "gz_2024_q1",
        "social_work_agencies",
        2,
        "count",
        "at_least",
        False,
        "广州市",
        "440100",
        2024,
        "consistent",
        2,
    ),
    ("gz_2024_q1", "agency_staff", 17, "person", "exact", False, "广州市", "440100", 2024, "consistent", 17),
    (
        "gz_2024_q1",
        "training_participants",
        4,
        "person_time",
        "at_most",
        False,
        "天河区",
        "440106",
        2024,
        "under_reported",
        5,
    ),
    ("gz_2024_q1", "exam_passed", 2, "person", "exact", False, "广东省", "440000", 2024, "over_reported", 1),
    (
        "gz_2024_q1",
        "volunteers",
        1000,
        "person",
        "approx",
        False,
        "广州市",
        "440100",
        2024,
        "not_comparable",
        None,
    ),
    (
        "gz_2024_q1",
        "certified_social_workers",
        8,
        "person",
        "exact",
        True,
        "广州市",
        "440100",
        2025,
        "not_comparable",
        None,
    ),
    (
        "gz_2024_q1",
        "certified_social_workers",
        3,
        "person",
        "exact",
        False,
        "北京市",
        "110000",
        2024,
        "not_comparable",
        None,
    ),
    (
        "gz_2024_q1",
        "certified_social_workers",
        3,
        "person",
        "exact",
        False,
        "广州市",
        "440100",
        2020,
        "not_comparable",
        None,
    ),
    (
        "gz_2024_q1",
        "certified_social_workers",
        3,
        "person",
        "exact",
        False,
        "某区",
        None,
        2024,
        "not_comparable",
        None,
    ),
    (
        "sc_2024_jan",
        "certified_senior",
        1,
        "person",
        "exact",
        False,
        "四川省",
        "510000",
        2024,
        "over_reported",
        0,
    ),
    (
        "sc_2024_jan",
        "service_projects",
        1,
        "count",
        "exact",
        False,
        "四川省",
        "510000",
        2024,
        "over_reported",
        0,
    ),
    # undated: as-of = min(2023-12-31, 2024-03-31); contract GZ-2023-005 signed 2023-12-05 within 440100.
    (
        "undated",
        "government_purchase_funding",
        80000,
        "yuan",
        "exact",
        False,
        "广州市",
        "440100",
        2023,
        "consistent",
        80000,
    ),
]


def _month(label: str) -> D:
    year, month = label.split("-")
    return D(int(year), int(month), 1)


class _Rows:
    """Assigns provenance: one landing file per registry x reporting region x month, rows numbered from 2."""

    def __init__(self, registry: str):
        self.registry = registry
        self.counters: dict[str, int] = {}

    def provenance(self, region: str, month: str) -> tuple:
        name = f"{self.registry}/{region}/{month}.xlsx"
        row = self.counters.get(name, 1) + 1
        self.counters[name] = row
        return (name, f"sha256-{self.registry}-{region}-{month}", row, region, _month(month), INGESTED_AT)


def _reporter(region_code: str) -> str:
    """The unit sending a row: the county for county-level codes and below, else the city."""
    county = region_code[:6]
    return county if county in {"440106", "440111", "510104"} else county[:4] + "00"


def build_fixture_db(path: Path) -> Path:
    """Write the fixture warehouse to `path` (replacing it) and return the path."""
    from shegong.gazetteer import regions
    from shegong.schema import ensure_build_schema

    path = Path(path)
    if path.exists():
        path.unlink()
    con = duckdb.connect(str(path))
    try:
        ensure_build_schema(con)

        prov = _Rows("workers")
        for (
            month,
            name,
            idh,
            cert,
            level,
            certified,
            registered,
            status,
            employer,
            station,
            region,
        ) in WORKERS:
            employer_name = {
                U1: "天河区阳光社会工作服务中心",
                U2: "天河区启航社会工作服务社",
                U3: "白云区康乐社会工作服务中心",
                U4: "锦江区同心社会工作服务中心",
            }.get(employer)
            con.execute(
                "insert into raw.workers values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    name,
                    idh,
                    "1985-1989",
                    "female",
                    "phone_" + idh[:10],
                    cert,
                    level,
                    certified,
                    registered,
                    status,
                    employer,
                    employer_name,
                    station,
                    region,
                    *prov.provenance(_reporter(region), month),
                ],
            )
        prov = _Rows("stations")
        for month, code, name, level, region, opened, status, operator, resident in STATIONS:
            con.execute(
                "insert into raw.stations values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    code,
                    name,
                    level,
                    region,
                    opened,
                    status,
                    operator,
                    resident,
                    "phone_" + code,
                    *prov.provenance(region[:6], month),
                ],
            )
        prov = _Rows("agencies")
        for month, uscc, name, region, founded, status, staff in AGENCIES:
            con.execute(
                "insert into raw.agencies values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    uscc,
                    name,
                    region,
                    founded,
                    status,
                    "某*",
                    "phone_" + uscc[:8],
                    staff,
                    *prov.provenance(region, month),
                ],
            )
        prov = _Rows("funding")
        for month, contract, project, source, purchaser, provider, amount, signed, start, end in FUNDING:
            con.execute(
                "insert into raw.funding values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    contract,
                    project,
                    source,
                    purchaser,
                    provider,
                    amount,
                    signed,
                    start,
                    end,
                    *prov.provenance(_reporter(purchaser), month),
                ],
            )
        prov = _Rows("training_sessions")
        session_month = {}
        for month, code, title, program, organizer, start, end, credit, budget in SESSIONS:
            session_month[code] = (organizer, month)
            con.execute(
                "insert into raw.training_sessions values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    code,
                    title,
                    program,
                    organizer,
                    start,
                    end,
                    credit,
                    budget,
                    *prov.provenance(organizer, month),
                ],
            )
        prov = _Rows("training_attendance")
        for session, name, idh, cert, hours, completed in ATTENDANCE:
            organizer, month = session_month[session]
            con.execute(
                "insert into raw.training_attendance values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    session,
                    name,
                    idh,
                    "1985-1989",
                    "female",
                    cert,
                    hours,
                    completed,
                    *prov.provenance(organizer, month),
                ],
            )
        row = 1
        for code, name in {**TOWNSHIPS, **VILLAGES}.items():
            row += 1
            con.execute(
                "insert into raw.regions values (?,?,?,?,?,?,?,?,?)",
                [
                    code,
                    name,
                    "111" if len(code) == 12 else None,
                    "regions/divisions.csv",
                    "sha256-regions",
                    row,
                    None,
                    None,
                    INGESTED_AT,
                ],
            )

        con.execute(
            "create table raw.gazetteer (adcode varchar, name varchar, level varchar, parent_adcode varchar)"
        )
        con.executemany(
            "insert into raw.gazetteer values (?,?,?,?)",
            [[r.adcode, r.name, r.level, r.parent] for r in regions().values()],
        )
        con.execute(
            """create table raw.metric_catalogue (code varchar, category varchar, unit varchar, name_zh varchar,
               name_en varchar, description varchar)"""
        )
        con.executemany(
            "insert into raw.metric_catalogue values (?,?,?,?,?,?)",
            [
                [code, cat, unit, zh, en, f"{en} as stated in a regional report."]
                for code, cat, unit, zh, en in METRICS
            ],
        )
        for doc, title, published, pub_date, language, main_region, main_adcode in DOCS:
            facts = [f for f in FACTS if f[0] == doc]
            con.execute(
                """insert into raw.report_documents (doc, title, published, publication_date, language, main_region,
                   main_adcode, facts, stats, _source_file, _source_sha256, _ingested_at)
                   values (?,?,?,?,?,?,?,?,?,?,?,?)""",
                [
                    doc,
                    title,
                    published,
                    pub_date,
                    language,
                    main_region,
                    main_adcode,
                    len(facts),
                    json.dumps({"sentences": 10 * len(facts), "facts": len(facts)}),
                    f"reports/{doc}.txt",
                    f"sha256-{doc}",
                    INGESTED_AT,
                ],
            )
            for index, (
                _,
                metric,
                value,
                unit,
                qualifier,
                is_target,
                region,
                adcode,
                year,
                _,
                _,
            ) in enumerate(facts):
                con.execute(
                    """insert into raw.report_facts (doc, fact_index, metric, value, unit, qualifier, is_target,
                       region, adcode, year, quote, _source_file, _source_sha256, _ingested_at)
                       values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
                    [
                        doc,
                        index,
                        metric,
                        value,
                        unit,
                        qualifier,
                        is_target,
                        region,
                        adcode,
                        year,
                        f"{region}{year}年{metric}{value}",
                        f"reports/{doc}.txt",
                        f"sha256-{doc}",
                        INGESTED_AT,
                    ],
                )
    finally:
        con.close()
    return path


PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


def run_dbt(args: list[str], db_path: Path, work_dir: Path, env: dict[str, str] | None = None):
    """Run dbt in-process against `db_path`, with target/ and logs/ under `work_dir` (never the shared ones) and
    `env` (e.g. a month window) in its environment."""
    from dbt.cli.main import dbtRunner

    from shegong.config import environment_set

    full = [
        *args,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
    ]
    # dbt's profile reads SHEGONG_DUCKDB; restored afterwards so later tests see the session's warehouse. dbt
    # runs in this process, which opens the file afterwards: dbt must close it when done (profiles.yml).
    with environment_set({"SHEGONG_DUCKDB": str(db_path), "SHEGONG_DBT_KEEP_OPEN": "False", **(env or {})}):
        return dbtRunner().invoke(full)


def copy_db(src: Path, dst: Path) -> Path:
    shutil.copyfile(src, dst)
    return dst


if __name__ == "__main__":  # python tests/integration/dbt_fixture.py /tmp/dbtdev/shegong_build.duckdb
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/dbtdev/shegong_build.duckdb")
    target.parent.mkdir(parents=True, exist_ok=True)
    print(build_fixture_db(target))
