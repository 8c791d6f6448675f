"""Analysts' review files of report facts into the build warehouse, ingested like a registry.

Auditors land CSV or XLSX files under `landing/reports/review/`, one row per decision on one extracted figure:

    document | fact_key or quote | action (reject | correct | add) | metric | value | region | adcode | year |
    reviewer | reason | reviewed_at

The contract below names the columns (English or Chinese headers) and what each must hold. Rows that break it go
to audit.quarantined_rows with reason codes; good rows land in raw.report_reviews with their provenance (file,
digest, row, time). A review names its figure by the fact key (`shegong review` prints it) or by a quote from
the report, never by a row number, so it still applies after the report is extracted again; whether it still
matches a figure is decided in dbt (fct_report_reviews), where a review that matches nothing is reported.
Reviewer names are personal data: only a masked form (张*) is kept.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from shegong.contracts import FileLimits
from shegong.ingest.landing import IGNORED_SUFFIXES, entry_digest, entry_problem, unexpected_failure
from shegong.ingest.load import landing_name
from shegong.ingest.pii import mask_name, scrub_identifiers
from shegong.ingest.records import split_records
from shegong.ingest.reports import ensure_metric_catalogue
from shegong.ingest.xlsx_guard import check_workbook
from shegong.schema import insert_rows

LIMITS = FileLimits()

REGISTRY = "report_reviews"
REVIEW_SUFFIXES = (".csv", ".xlsx")
ACTIONS = {
    "reject": ("reject", "rejected", "驳回", "删除", "否决", "错误"),
    "correct": ("correct", "corrected", "更正", "修改", "修正", "纠正"),
    "add": ("add", "added", "新增", "补充", "增加", "补录"),
}


@dataclass(frozen=True)
class ReviewColumn:
    name: str
    aliases: tuple[str, ...]
    required: bool  # the header must be present (a value may still be optional for some actions)
    meaning: str


CONTRACT = (
    ReviewColumn(
        "document", ("document", "doc", "文档", "报告", "报告文件", "文件"), True, "report file name"
    ),
    ReviewColumn("fact_key", ("fact_key", "事实编号", "事实键"), False, "fact key from `shegong review`"),
    ReviewColumn(
        "quote", ("quote", "原文", "引文", "引用"), False, "a quote from the report stating the figure"
    ),
    ReviewColumn("action", ("action", "操作", "动作", "审核结论"), True, "reject | correct | add"),
    ReviewColumn("metric", ("metric", "指标", "指标代码"), False, "corrected metric code"),
    ReviewColumn("value", ("value", "数值", "值", "更正值"), False, "corrected value in base units"),
    ReviewColumn("region", ("region", "地区", "区域"), False, "corrected region name (全国 for national)"),
    ReviewColumn("adcode", ("adcode", "区划代码", "行政区划代码"), False, "corrected 6-digit adcode"),
    ReviewColumn("year", ("year", "年份", "年度"), False, "corrected year"),
    ReviewColumn("reviewer", ("reviewer", "审核人", "审核员"), True, "who decided (kept masked)"),
    ReviewColumn("reason", ("reason", "理由", "原因", "说明"), True, "why"),
    ReviewColumn(
        "reviewed_at", ("reviewed_at", "审核时间", "审核日期"), True, "when (date or date and time)"
    ),
)
CORRECTABLE = ("metric", "value", "region", "adcode", "year")

RAW_COLUMNS = {
    "review_id": pa.string(),
    "document": pa.string(),
    "fact_key": pa.string(),
    "quote": pa.string(),
    "action": pa.string(),
    "metric": pa.string(),
    "value": pa.float64(),
    "region": pa.string(),
    "adcode": pa.string(),
    "year": pa.int32(),
    "reviewer_masked": pa.string(),
    "reason": pa.string(),
    "reviewed_at": pa.timestamp("us"),
    "_source_file": pa.string(),
    "_source_sha256": pa.string(),
    "_source_row": pa.int32(),
    "_ingested_at": pa.timestamp("us"),
}


class ReviewFileError(ValueError):
    """A review file that cannot be read as a table with the contract's headers: rejected whole."""


@dataclass(frozen=True)
class ReviewOutcome:
    source_file: str
    status: str  # current | rejected
    rows_clean: int = 0
    rows_quarantined: int = 0
    error: str | None = None


def review_files(folder: Path) -> list[Path]:
    """Every entry of reports/review/: the review files, and anything else landed there (a link, a hidden or
    lock file, another type), which read_review_table rejects with its reason without opening it."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if not p.name.lower().endswith(IGNORED_SUFFIXES))


# ------------------------------------------------------------------------------------------ reading


def read_review_table(path: Path) -> list[dict[str, str]]:
    """A review file → rows keyed by contract column names (cells as stripped text). Raises ReviewFileError.
    Review files are held to the registries' default file limits (contracts.FileLimits)."""
    problem = entry_problem(path)
    if problem is None and path.suffix.lower() not in REVIEW_SUFFIXES:
        problem = (
            f"unsupported review file type {path.suffix or '(none)'}",
            "land review files as CSV or XLSX",
        )
    if problem is None and path.stat().st_size > LIMITS.max_file_bytes:
        problem = (f"over the limit of {LIMITS.max_file_bytes:,} bytes", "split the review file")
    if problem is None and path.suffix.lower() == ".xlsx":
        problem = check_workbook(path, LIMITS) if zipfile.is_zipfile(path) else None
    if problem is not None:
        raise ReviewFileError(f"{path.name}: {problem[0]} — {problem[1]}")
    if path.suffix.lower() == ".xlsx":
        header, rows = _xlsx_rows(path)
    else:
        from shegong.extraction.reading import ReportReadError, decode_bytes

        try:
            text = decode_bytes(path.read_bytes(), path)
        except ReportReadError as exc:
            raise ReviewFileError(f"{path.name}: {exc.reason}") from None
        split = split_records(text, ",", LIMITS)
        if split.errors:
            line, (code, detail) = min(split.errors.items())
            raise ReviewFileError(
                f"{path.name}: line {line}: {code} ({detail}) — fix the line and land the file again"
            )
        table = [row for row in split.cells if any(cell.strip() for cell in row)]
        if not table:
            raise ReviewFileError(f"{path.name}: no rows; a review file needs a header row and review rows")
        header, rows = table[0], table[1:]
    columns = _map_header(header, path.name)
    out = []
    for row in rows:
        cells = {
            name: (row[i].strip() if i < len(row) and row[i] is not None else "")
            for name, i in columns.items()
        }
        out.append(cells)
    return out


def _xlsx_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken or mislabelled file
        raise ReviewFileError(f"{path.name}: not a readable XLSX workbook ({type(exc).__name__})") from None
    try:
        sheet = book.worksheets[0]
        table = [
            ["" if cell is None else _cell_text(cell) for cell in row]
            for row in sheet.iter_rows(values_only=True)
            if any(cell not in (None, "") for cell in row)
        ]
    finally:
        book.close()
    if not table:
        raise ReviewFileError(f"{path.name}: the first sheet is empty; put the header row and reviews there")
    return table[0], table[1:]


def _cell_text(cell: object) -> str:
    if isinstance(cell, dt.datetime):
        return cell.isoformat(sep=" ")
    if isinstance(cell, dt.date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def _map_header(header: list[str], name: str) -> dict[str, int]:
    normalised = [re.sub(r"\s+", "", str(h)).lower().lstrip("\ufeff") for h in header]
    columns: dict[str, int] = {}
    for column in CONTRACT:
        for alias in column.aliases:
            if alias.lower() in normalised:
                columns[column.name] = normalised.index(alias.lower())
                break
    missing = [c.name for c in CONTRACT if c.required and c.name not in columns]
    if missing:
        wanted = "; ".join(f"{c.name} ({'/'.join(c.aliases[:3])})" for c in CONTRACT if c.name in missing)
        raise ReviewFileError(
            f"{name}: header lacks required column(s) {wanted}; see `shegong review --template`"
        )
    if "fact_key" not in columns and "quote" not in columns:
        raise ReviewFileError(
            f"{name}: header needs a fact_key or a quote column to name the reviewed figure"
        )
    return columns


# ------------------------------------------------------------------------------------------ checking


def _untouched(row: dict[str, str]) -> bool:
    """A template row nobody filled in (no action, no reviewer): not a review yet, so neither kept nor
    quarantined."""
    return not (row.get("action") or "").strip() and not (row.get("reviewer") or "").strip()


_NUMBER_RE = re.compile(r"^-?\d+(?:\.\d+)?$")
_ADCODE_RE = re.compile(r"^\d{6}$")


def parse_reviewed_at(text: str) -> dt.datetime | None:
    text = text.strip().replace("/", "-").replace("T", " ")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text[:19], fmt)
        except ValueError:
            continue
    m = re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日", text)
    if m:
        try:
            return dt.datetime(*(int(g) for g in m.groups()))
        except ValueError:
            return None
    return None


def check_review_row(row: dict[str, str], metrics: frozenset[str]) -> tuple[dict | None, list[dict]]:
    """One review row → (clean fields, []) or (None, reasons). Pure: the contract's checks, one reason each."""
    reasons: list[dict] = []

    def fail(code: str, column: str, message: str) -> None:
        reasons.append({"code": code, "column": column, "message": message})

    get = lambda key: (row.get(key) or "").strip()  # noqa: E731
    action = next((code for code, spellings in ACTIONS.items() if get("action").lower() in spellings), None)
    if not get("document"):
        fail("missing_document", "document", "name the report file (e.g. r101.txt)")
    if action is None:
        fail("unknown_action", "action", f"action {get('action')!r} is not reject, correct or add")
    if action in ("reject", "correct") and not (get("fact_key") or get("quote")):
        fail(
            "missing_fact_reference", "fact_key", "a reject or correct names its figure by fact_key or quote"
        )
    if action == "correct" and not any(get(c) for c in CORRECTABLE):
        fail(
            "nothing_to_correct", "metric", "a correct row gives at least one of metric, value, region, year"
        )
    if action == "add" and not (get("metric") and get("value")):
        fail("add_incomplete", "metric", "an add row gives at least the metric and the value")
    metric = get("metric") or None
    if metric is not None and metric not in metrics:
        fail("unknown_metric", "metric", f"metric {metric!r} is not in the metric catalogue")
    value = None
    if get("value"):
        cleaned = get("value").replace(",", "")
        if not _NUMBER_RE.match(cleaned) or float(cleaned) < 0:
            fail("bad_value", "value", f"value {get('value')!r} is not a non-negative number in base units")
        else:
            value = float(cleaned)
    year = None
    if get("year"):
        if not re.fullmatch(r"\d{4}", get("year")) or not 1990 <= int(get("year")) <= 2100:
            fail("bad_year", "year", f"year {get('year')!r} is not a year between 1990 and 2100")
        else:
            year = int(get("year"))
    region, adcode = _resolve_region(get("region"), get("adcode"), fail)
    if not get("reviewer"):
        fail("missing_reviewer", "reviewer", "say who reviewed the figure")
    if not get("reason"):
        fail("missing_reason", "reason", "say why")
    reviewed_at = parse_reviewed_at(get("reviewed_at")) if get("reviewed_at") else None
    if reviewed_at is None:
        fail("bad_reviewed_at", "reviewed_at", f"{get('reviewed_at')!r} is not a date (YYYY-MM-DD [HH:MM])")
    if reasons:
        return None, reasons
    return {
        "document": Path(get("document")).name,
        "fact_key": get("fact_key") or None,
        "quote": get("quote") or None,
        "action": action,
        "metric": metric,
        "value": value,
        "region": region,
        "adcode": adcode,
        "year": year,
        "reviewer_masked": mask_name(get("reviewer")),
        "reason": get("reason"),
        "reviewed_at": reviewed_at,
    }, []


def _resolve_region(name: str, code: str, fail) -> tuple[str | None, str | None]:
    """A corrected region: 全国, a gazetteer name, or an adcode (name and code must agree when both given)."""
    from shegong.extraction.regions import NATIONAL, gazetteer

    if not name and not code:
        return None, None
    if name == NATIONAL and not code:
        return NATIONAL, None
    gaz = gazetteer()
    if code:
        if not _ADCODE_RE.match(code) or code not in gaz.places:
            fail("bad_adcode", "adcode", f"adcode {code!r} is not a 6-digit code of the gazetteer")
            return None, None
        place = gaz.places[code]
        if name and name != place.name and code not in gaz.by_name.get(name, []):
            fail("region_adcode_mismatch", "region", f"region {name!r} is not adcode {code} ({place.name})")
            return None, None
        return place.name, code
    codes = gaz.by_name.get(name, [])
    if len(codes) != 1:
        problem = "not a gazetteer name" if not codes else f"ambiguous ({len(codes)} places); give the adcode"
        fail("unknown_region", "region", f"region {name!r} is {problem}")
        return None, None
    return gaz.places[codes[0]].name, codes[0]


# ------------------------------------------------------------------------------------------ loading


def ingest_reviews(
    con: duckdb.DuckDBPyConnection,
    paths: list[Path],
    landing_root: Path | None = None,
    now: dt.datetime | None = None,
) -> list[ReviewOutcome]:
    """Check every review file and write the batch in one transaction: a file's rows replace its earlier rows;
    broken rows are quarantined with reasons; an unreadable file is recorded as rejected and keeps its earlier
    rows. Needs the build schema (shegong.schema.ensure_build_schema)."""
    now = now or dt.datetime.now()
    ensure_metric_catalogue(con)
    metrics = frozenset(r[0] for r in con.execute("select code from raw.metric_catalogue").fetchall())
    clean: list[dict] = []
    quarantined: list[dict] = []
    files: list[dict] = []
    outcomes: list[ReviewOutcome] = []
    for path in paths:
        name = landing_name(path, landing_root)
        sha256, size = entry_digest(path)
        record = {"source_file": name, "source_sha256": sha256, "size_bytes": size}
        try:
            rows = read_review_table(path)
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # one review file's problem is its rejection, never the batch's
            error = (
                scrub_identifiers((str(exc).splitlines() or [type(exc).__name__])[0])
                if isinstance(exc, ReviewFileError | OSError)
                else unexpected_failure(path, exc)
            )
            files.append(record | {"status": "rejected", "error": error, "rows_in": 0, "clean": 0, "bad": 0})
            outcomes.append(ReviewOutcome(name, "rejected", error=error))
            continue
        good = bad = 0
        reviewed = [(i, row) for i, row in enumerate(rows, start=2) if not _untouched(row)]  # row 1: header
        for index, row in reviewed:
            fields, reasons = check_review_row(row, metrics)
            if fields is None:
                bad += 1
                redacted = row | {"reviewer": mask_name(row.get("reviewer", ""))}
                quarantined.append(
                    {
                        "source_file": name,
                        "source_sha256": sha256,
                        "source_row": index,
                        "reason_codes": sorted({r["code"] for r in reasons}),
                        "reasons": json.dumps(reasons, ensure_ascii=False),
                        "raw_values": json.dumps(redacted, ensure_ascii=False),
                    }
                )
                continue
            good += 1
            review_id = hashlib.sha256(f"{name}\x1f{index}\x1f{sha256}".encode()).hexdigest()[:16]
            clean.append(
                fields
                | {
                    "review_id": review_id,
                    "_source_file": name,
                    "_source_sha256": sha256,
                    "_source_row": index,
                    "_ingested_at": now,
                }
            )
        files.append(
            record | {"status": "current", "error": None, "rows_in": good + bad, "clean": good, "bad": bad}
        )
        outcomes.append(ReviewOutcome(name, "current", good, bad))

    current = [f["source_file"] for f in files if f["status"] == "current"]
    con.execute("begin transaction")
    try:
        con.register(
            "incoming_reviews",
            pa.table({k: pa.array([r[k] for r in clean], t) for k, t in RAW_COLUMNS.items()}),
        )
        con.register("current_review_files", pa.table({"source_file": pa.array(current, pa.string())}))
        con.execute(
            "delete from raw.report_reviews where _source_file in (select source_file from current_review_files)"
        )
        con.execute("insert into raw.report_reviews by name select * from incoming_reviews")
        con.execute(
            "delete from audit.quarantined_rows where registry = ? "
            "and source_file in (select source_file from current_review_files)",
            [REGISTRY],
        )
        insert_rows(
            con,
            "audit.quarantined_rows",
            [
                [REGISTRY, q["source_file"], q["source_sha256"], q["source_row"], q["reason_codes"],
                 q["reasons"], q["raw_values"], now]
                for q in quarantined
            ],
            "registry, source_file, source_sha256, source_row, reason_codes, reasons, raw_values, ingested_at",
        )  # fmt: skip
        for f in files:
            if f["status"] == "current":
                con.execute(
                    "delete from audit.ingested_files where registry = ? and source_file = ?",
                    [REGISTRY, f["source_file"]],
                )
            con.execute(
                """insert or replace into audit.ingested_files (registry, source_file, source_sha256, size_bytes,
                   encoding, status, error, ingested_at, rows_in, rows_clean, rows_quarantined)
                   values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [REGISTRY, f["source_file"], f["source_sha256"], f["size_bytes"], "text", f["status"],
                 f["error"], now, f["rows_in"], f["clean"], f["bad"]],
            )  # fmt: skip
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.unregister("incoming_reviews")
        con.unregister("current_review_files")
    return outcomes


# ------------------------------------------------------------------------------------------ the review queue

TEMPLATE_COLUMNS = (*(c.name for c in CONTRACT), "confidence")  # confidence: a hint, not read back


def review_queue(con: duckdb.DuckDBPyConnection, limit: int = 30, doc: str | None = None) -> list[dict]:
    """Facts of the warehouse no analyst has reviewed yet, least confident first."""
    rows = con.execute(
        """select doc, fact_key, quote, metric_code, reported_value, reported_region_name, adcode, report_year,
                  confidence
           from marts.fct_reported_indicators
           where review_status = 'unreviewed' and fact_key is not null and (? is null or doc = ?)
           order by confidence nulls first, doc, fact_index
           limit ?""",
        [doc, doc, limit],
    ).fetchall()
    keys = ("document", "fact_key", "quote", "metric", "value", "region", "adcode", "year", "confidence")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def queue_from_results(results: list, limit: int = 30) -> list[dict]:
    """The same queue straight from extraction results (no warehouse needed)."""
    facts = [f for r in results for f in r.facts]
    facts.sort(key=lambda f: (f.confidence, f.doc))
    return [
        {
            "document": f.doc,
            "fact_key": f.fact_key,
            "quote": f.quote,
            "metric": f.metric,
            "value": f.value,
            "region": f.region,
            "adcode": f.adcode,
            "year": f.year,
            "confidence": f.confidence,
        }
        for f in facts[:limit]
    ]


def write_review_template(path: Path, queue: list[dict]) -> int:
    """A review file for the queued facts: CSV (UTF-8 with BOM, opens in Excel) or XLSX by the suffix. Each row
    names its figure by fact key and quote and starts from the extracted fields; the analyst fills in action,
    reviewer, reason and reviewed_at (and edits the fields to correct). Rows left without action and reviewer
    are skipped on ingestion."""
    if path.suffix.lower() not in REVIEW_SUFFIXES:
        raise ReviewFileError(f"{path.name}: a review template is .csv or .xlsx")
    rows = [[_template_cell(item.get(c)) for c in TEMPLATE_COLUMNS] for item in queue]
    if path.suffix.lower() == ".xlsx":
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = "review"
        sheet.append(list(TEMPLATE_COLUMNS))
        for row in rows:
            sheet.append(row)
        book.save(path)
    else:
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(TEMPLATE_COLUMNS)
            writer.writerows(rows)
    return len(rows)


def _template_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
