"""The sample-data generator: deterministic, readable under the contracts, and honest in its manifest.

One small landing (800 workers) is generated per test session and read back the way an ingest would: by the
recorded encoding, from the recorded header row, with header spellings mapped through the contracts.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import unicodedata
from collections import defaultdict
from pathlib import Path

import openpyxl
import pytest
from stdnum.cn import ric, uscc

from shegong.contracts import contracts, normalize_header
from shegong.gazetteer import contains, is_known, regions
from shegong_tools.generate import MANIFEST_NAME, SCALES, generate

# SHEGONG_TEST_GENERATE_SCALE=small runs the same checks on the default landing (slower).
N = int(os.environ.get("SHEGONG_TEST_GENERATE_SCALE", "800").replace("small", "5000"))
SEED = 7
REGISTRIES = ("workers", "stations", "agencies", "funding", "training_sessions", "training_attendance")


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("landing")
    calls: list[tuple[str, int, int]] = []
    summary = generate(out, scale=N, seed=SEED, progress=lambda s, d, t: calls.append((s, d, t)))
    assert summary.manifest == out / MANIFEST_NAME
    assert calls and all(0 <= d <= t for _, d, t in calls)
    return out


@pytest.fixture(scope="module")
def manifest(landing) -> dict:
    return json.loads((landing / MANIFEST_NAME).read_text(encoding="utf-8"))


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_sheet(path: Path, encoding: str) -> list[list[str]]:
    """Physical rows as a spreadsheet shows them (row n is element n-1), cells as text."""
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path, read_only=True)
        rows = [[_cell(v) for v in row] for row in wb.active.iter_rows(values_only=True)]
        wb.close()
        return rows
    raw = path.read_bytes()
    if encoding == "utf-8":
        assert not raw.startswith(b"\xef\xbb\xbf"), path
    text = raw.decode(encoding)
    return list(csv.reader(io.StringIO(text, newline="")))


def clean(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


class Table:
    """One file read back: column name -> physical position, and its data rows keyed by physical row."""

    def __init__(self, landing: Path, entry: dict):
        self.entry = entry
        self.contract = contracts()[entry["registry"]]
        rows = read_sheet(landing / entry["path"], entry["encoding"])
        header = rows[entry["header_row"] - 1]
        self.position: dict[str, int] = {}
        self.unmapped: list[str] = []
        for i, text in enumerate(header):
            name = self.contract.alias_index.get(normalize_header(text))
            if name is None:
                self.unmapped.append(text)
            else:
                self.position[name] = i
        self.header = header
        self.rows: dict[int, list[str]] = {}
        for n, row in enumerate(rows[entry["header_row"] :], start=entry["header_row"] + 1):
            if any(c.strip() for c in row):
                self.rows[n] = row

    def get(self, row: list[str], column: str) -> str:
        i = self.position.get(column)
        return clean(row[i]) if i is not None and i < len(row) else ""


_DATE_PATTERNS = (
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
    re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日"),
)


def parse_date(text: str) -> dt.date | None:
    """A date in any style the generator writes; None when the text is not a calendar date."""
    for pattern in _DATE_PATTERNS:
        m = pattern.fullmatch(text)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                return None
    return None


def _enum_ok(contract_column, text: str) -> bool:
    return any(text in spellings for spellings in contract_column.values.values())


def _enum_code(contract_column, text: str) -> str | None:
    for code, spellings in contract_column.values.items():
        if text in spellings:
            return code
    return None


def _month_end(label: str) -> dt.date:
    y, m = (int(p) for p in label.split("-"))
    return dt.date(y + m // 12, m % 12 + 1, 1) - dt.timedelta(days=1)


def row_problems(table: Table, row: list[str]) -> set[str]:
    """Every reason the ingest would reject this row for, from the row alone (not duplicates)."""
    problems: set[str] = set()
    contract, entry = table.contract, table.entry
    period_end = _month_end(entry["month"]) if entry["month"] else None
    dates: dict[str, dt.date] = {}
    for col in contract.columns:
        if col.name not in table.position:
            continue
        text = table.get(row, col.name)
        if not text:
            if col.required:
                problems.add("missing_required")
            continue
        if col.format == "cn_ric" and not ric.is_valid(text):
            problems.add("bad_id_number")
        if col.format == "cn_uscc" and not uscc.is_valid(text):
            problems.add("bad_uscc")
        if col.format == "certificate_no" and not re.fullmatch(r"\d{17}", text):
            problems.add("bad_certificate_no")
        if col.format in ("region_code", "division_code") and not is_known(text):
            problems.add("unknown_region_code")
        if col.type == "enum" and not _enum_ok(col, text):
            problems.add("unknown_enum_value")
        if col.type in ("integer", "decimal"):
            value = float(text)
            if col.min is not None and value < float(col.min):
                problems.add("negative_value")
        if col.type == "date":
            value = parse_date(text)
            if value is None:
                problems.add("unparseable_date")
                continue
            dates[col.name] = value
            low = dt.date.fromisoformat(str(col.min)) if col.min else None
            high = period_end if col.max == "period_end" else None
            if (low and value < low) or (high and value > high):
                problems.add("implausible_date")
    for rule in contract.rules:
        start, end = rule.columns
        if start in dates and end in dates and dates[end] < dates[start]:
            problems.add(rule.code)
    return problems


@pytest.fixture(scope="module")
def tables(landing, manifest) -> dict[str, Table]:
    return {entry["path"]: Table(landing, entry) for entry in manifest["files"]}


@pytest.fixture(scope="module")
def defects(manifest) -> dict[tuple[str, int], str]:
    return {(d["path"], d["row"]): d["reason"] for d in manifest["defects"]}


def test_named_scales_and_layout(landing, manifest):
    assert set(SCALES) == {"small", "medium", "large"}
    for folder in (*REGISTRIES, "regions", "reports"):
        assert (landing / folder).is_dir()
    assert not list(landing.glob("*/" + MANIFEST_NAME))
    on_disk = {str(p.relative_to(landing)) for p in landing.rglob("*") if p.is_file()}
    listed = {f["path"] for f in manifest["files"]} | {f"reports/{r['doc']}" for r in manifest["reports"]}
    assert listed <= on_disk
    assert on_disk - listed - {MANIFEST_NAME} <= {
        str(p.relative_to(landing)) for p in landing.glob("reports/*")
    }


def test_file_names(manifest):
    pattern = re.compile(r"(?P<code>\d{6})_(?P<month>\d{4}-\d{2})_[\u4e00-\u9fff]+\.(csv|xlsx)")
    months = set(manifest["months"])
    assert len(months) == 12
    for entry in manifest["files"]:
        folder, name = entry["path"].split("/")
        assert folder == entry["registry"]
        if entry["registry"] == "regions":
            assert re.fullmatch(r"\d{6}_统计用区划代码\.csv", name)
            assert regions()[name[:6]].level == "county"
            continue
        m = pattern.fullmatch(name)
        assert m, name
        assert m["code"] == entry["region_code"] and m["month"] == entry["month"] in months
        assert regions()[m["code"]].level in ("county", "city")
        assert name.endswith(".xlsx") == (entry["format"] == "xlsx")


def test_encodings_are_mixed(manifest):
    encodings = {f["encoding"] for f in manifest["files"]}
    assert {"utf-8", "utf-8-sig", "gb18030", "xlsx"} <= encodings
    assert {f["header_row"] for f in manifest["files"]} == {1, 2}


def test_headers_map_onto_contracts(tables):
    spellings: dict[str, set[str]] = defaultdict(set)
    for table in tables.values():
        assert all(text == "序号" for text in table.unmapped), table.unmapped
        for col in table.contract.columns:
            if col.required:
                assert col.name in table.position, (table.entry["path"], col.name)
        for name, i in table.position.items():
            assert not table.header[i].isascii(), "departments write Chinese headers"
            spellings[(table.entry["registry"], name)].add(table.header[i])
    # Header mapping has real work: several spellings of the same column across reporting units.
    assert sum(len(s) > 1 for s in spellings.values()) >= 10


def test_row_counts_match_manifest(tables):
    for table in tables.values():
        assert len(table.rows) == table.entry["rows"], table.entry["path"]


def test_defect_share_is_small_but_real(manifest):
    rows = defaultdict(int)
    for f in manifest["files"]:
        rows[f["registry"]] += f["rows"]
    count = defaultdict(int)
    for d in manifest["defects"]:
        count[d["registry"]] += 1
    for registry in REGISTRIES:
        share = count[registry] / rows[registry]
        assert 0.003 < share < 0.06, (registry, share)
    reasons = {d["reason"] for d in manifest["defects"]}
    assert {"bad_id_number", "duplicate_in_file", "duplicate_across_files", "missing_required"} <= reasons


def test_clean_rows_are_clean_and_defects_carry_their_reason(tables, defects):
    """Row-level checks agree with the manifest: a clean row has no problem, a defect row has exactly its own
    (duplicates aside, which are checked against the rows they repeat)."""
    checked = defaultdict(int)
    for path, table in tables.items():
        for n, row in table.rows.items():
            reason = defects.get((path, n))
            problems = row_problems(table, row)
            if reason in (None, "duplicate_in_file", "duplicate_across_files"):
                assert not problems, (path, n, row, problems)
            else:
                assert problems == {reason}, (path, n, row, reason, problems)
            checked[reason] += 1
    assert checked[None] > 1000


def _key(table: Table, row: list[str]) -> tuple[str, ...]:
    return tuple(table.get(row, c) for c in table.contract.primary_key)


def test_duplicates_point_at_the_later_copy(tables, defects):
    by_registry: dict[str, list[Table]] = defaultdict(list)
    for path in sorted(tables, key=lambda p: p.split("/")[1]):
        by_registry[tables[path].entry["registry"]].append(tables[path])
    for registry, files in by_registry.items():
        scope = contracts()[registry].key_scope
        seen: dict[tuple, str] = {}
        for table in files:
            path = table.entry["path"]
            earlier_rows: list[list[str]] = []
            for n, row in sorted(table.rows.items()):
                reason = defects.get((path, n))
                scoped = (table.entry["month"] if scope == "period" else "", *_key(table, row))
                if reason == "duplicate_in_file":  # the same contract cells (a 序号 column still counts on)
                    cells = [table.get(row, c) for c in table.position]
                    assert any(cells == [table.get(e, c) for c in table.position] for e in earlier_rows), (
                        path,
                        n,
                    )
                elif reason == "duplicate_across_files":
                    assert scoped in seen and seen[scoped] < path.split("/")[1], (path, n)
                elif reason is None:
                    assert scoped not in seen or registry == "regions", (path, n, "unplanted duplicate")
                    seen[scoped] = path.split("/")[1]
                earlier_rows.append(row)


def test_identifiers_are_valid(tables, defects):
    ids = certs = 0
    for path, table in tables.items():
        for n, row in table.rows.items():
            if (path, n) in defects:
                continue
            if "id_number" in table.position:
                assert ric.is_valid(table.get(row, "id_number"))
                ids += 1
            if "certificate_no" in table.position and table.get(row, "certificate_no"):
                certs += 1
    assert ids > 1000 and certs > 1000


def test_levels_and_sources_have_realistic_shares(tables, defects):
    levels: dict[str, str] = {}
    sources = defaultdict(int)
    for path, table in tables.items():
        registry = table.entry["registry"]
        for n, row in table.rows.items():
            if (path, n) in defects:
                continue
            if registry == "workers":
                col = table.contract.by_name["certificate_level"]
                levels[table.get(row, "certificate_no")] = _enum_code(
                    col, table.get(row, "certificate_level")
                )
            if registry == "funding":
                col = table.contract.by_name["funding_source"]
                sources[_enum_code(col, table.get(row, "funding_source"))] += 1
    share = {lvl: sum(v == lvl for v in levels.values()) / len(levels) for lvl in set(levels.values())}
    assert 0.6 < share["assistant"] < 0.85 and 0.12 < share["intermediate"] < 0.35
    total = sum(sources.values())
    assert 0.6 < sources["fiscal"] / total < 0.8 and sources["charity"] / total < 0.2


def test_planted_discrepancies_differ_and_the_rest_hold(manifest):
    figures = manifest["reports"]
    assert len(manifest["planted_discrepancies"]) >= 2
    assert all(f["planted"] for f in manifest["planted_discrepancies"])
    assert sum(f["planted"] for f in figures) == len(manifest["planted_discrepancies"])
    for f in figures:
        value, true = f["value"], f["registry_value"]
        if f["planted"]:
            assert abs(value - true) / true >= 0.15, f
        elif f["qualifier"] == "exact":
            assert abs(value - true) <= f["precision"] / 2 + 1e-6, f
        elif f["qualifier"] == "approx":
            assert 0.95 * value <= true < value, f
        else:
            assert value <= true < 1.1 * value, f
        assert regions()[f["adcode"]].name == f["region"]


def test_reports_state_their_figures(landing, manifest):
    docs = {f["doc"] for f in manifest["reports"]}
    assert len(docs) >= 12
    traditional = 0
    for doc in docs:
        text = (landing / "reports" / doc).read_text(encoding="utf-8")
        figures = [f for f in manifest["reports"] if f["doc"] == doc]
        region = figures[0]["region"]
        if "來源" in text:
            traditional += 1
            continue
        assert region in text
        for f in figures:
            assert f["quote"] in text or f["quote"].replace("\n", "") in text.replace("\n", ""), (doc, f)
            assert f["stated"] in f["quote"]
    assert traditional >= 1


def _registry_rows(tables, defects, registry):
    for path, table in sorted(tables.items()):
        if table.entry["registry"] != registry:
            continue
        for n, row in table.rows.items():
            if (path, n) not in defects:
                yield table, row


def test_report_figures_recompute_from_the_files(tables, defects, manifest):
    """Registry values in the manifest are what a warehouse computes from the clean rows of the files."""
    funding = defaultdict(float)  # (region code, month, source) -> yuan
    for table, row in _registry_rows(tables, defects, "funding"):
        source = _enum_code(table.contract.by_name["funding_source"], table.get(row, "funding_source"))
        code = table.get(row, "purchaser_region_code")
        funding[(code, table.entry["month"], source)] += float(table.get(row, "amount_yuan"))
    history: dict[str, dict[str, tuple]] = defaultdict(dict)
    for table, row in _registry_rows(tables, defects, "workers"):
        status = _enum_code(
            table.contract.by_name["registration_status"], table.get(row, "registration_status")
        )
        level = _enum_code(table.contract.by_name["certificate_level"], table.get(row, "certificate_level"))
        cert = table.get(row, "certificate_no")
        record = (table.get(row, "id_number"), status, level, table.get(row, "region_code"))
        history[cert][table.entry["month"]] = record
    checked = 0
    for f in manifest["reports"]:
        if f["metric"] == "government_purchase_funding":
            total = sum(
                v
                for (code, month, source), v in funding.items()
                if source == "fiscal"
                and month[:4] == str(f["year"])
                and month <= f["as_of"]
                and contains(f["adcode"], code)
            )
            assert abs(total - f["registry_value"]) < 0.01, f
            checked += 1
        if f["metric"] == "certified_social_workers":
            workers = set()
            for months in history.values():
                past = [m for m in months if m <= f["as_of"]]
                if not past:
                    continue
                person, status, _level, code = months[max(past)]
                if status != "cancelled" and contains(f["adcode"], code):
                    workers.add(person)
            assert len(workers) == f["registry_value"], f
            checked += 1
    assert checked >= 10


def test_deterministic(landing, tmp_path):
    again = tmp_path / "again"
    generate(again, scale=N, seed=SEED)
    first = sorted(p.relative_to(landing) for p in landing.rglob("*") if p.is_file())
    second = sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert first == second
    for rel in first:
        assert (landing / rel).read_bytes() == (again / rel).read_bytes(), rel


def test_other_seed_differs(tmp_path, manifest):
    generate(tmp_path, scale=200, seed=SEED + 1, months=3)
    other = json.loads((tmp_path / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert len(other["months"]) == 3 and other["seed"] == SEED + 1


def test_bad_arguments():
    with pytest.raises(ValueError):
        generate(Path("/nonexistent/never"), scale="huge")
    with pytest.raises(ValueError):
        generate(Path("/nonexistent/never"), start_month="2024-13")


def test_rounded_statements_hold():
    """近/余/超过 statements keep their promise for any value (the reports module's own rounding)."""
    import numpy as np

    from shegong_tools.generate.reports import state_count, state_money

    rng = np.random.default_rng(0)
    for value in [*range(1, 3000, 7), *rng.integers(3000, 2_000_000, size=300).tolist()]:
        stated, qualifier, text, precision = state_count(int(value), rng, exact_share=0.0)
        assert text and (qualifier != "exact" or stated == value)
        if qualifier == "approx":
            assert 0.95 * stated <= value < stated and text.startswith("近")
        elif qualifier == "at_least":
            assert stated <= value < 1.1 * stated
    for yuan in rng.uniform(50_000, 5e9, size=500).round(2).tolist():
        stated, qualifier, text, precision = state_money(yuan, rng)
        assert text.endswith("元")
        if qualifier == "exact":
            assert abs(stated - yuan) <= precision / 2 + 1e-6
        elif qualifier == "approx":
            assert 0.95 * stated <= yuan < stated
        else:
            assert stated <= yuan < 1.1 * stated
