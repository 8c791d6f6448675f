"""Row-level validation against a contract. Every bad row gets every reason that applies; nothing is dropped.

Reason codes (the quarantine's `reason_codes`):
  missing_required, bad_id_number, bad_uscc, bad_certificate_no, bad_phone, unknown_region_code,
  unparseable_date, implausible_date, not_a_number, negative_value, out_of_range, unknown_enum_value,
  end_before_start, duplicate_in_file, duplicate_across_files (the last is decided in the warehouse).
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from stdnum.cn import ric, uscc
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)
from stdnum.util import isdigits

from shegong import gazetteer
from shegong.contracts import Column, Contract, normalize_header
from shegong.identifiers import is_certificate_no, is_phone
from shegong.ingest import pii
from shegong.ingest.cells import CellError, parse_date, parse_decimal, parse_integer
from shegong.ingest.reading import RegistryFile

REASON_CODES = (
    "missing_required",
    "bad_id_number",
    "bad_uscc",
    "bad_certificate_no",
    "bad_phone",
    "unknown_region_code",
    "unparseable_date",
    "implausible_date",
    "not_a_number",
    "negative_value",
    "out_of_range",
    "unknown_enum_value",
    "end_before_start",
    "duplicate_in_file",
    "duplicate_across_files",
)


@dataclass
class ValidatedRows:
    """Clean rows as typed columns (ready for Arrow), and quarantined rows with their reasons."""

    clean_rows: list[int] = field(default_factory=list)  # physical row numbers
    clean: dict[str, list] = field(default_factory=dict)  # raw-layer column → values
    keys: list[tuple] = field(default_factory=list)  # primary key of each clean row, in raw-layer form
    quarantined: list[dict] = field(default_factory=list)


@functools.cache
def _birth_place_error(prefix: str, year: int) -> tuple[type[Exception], tuple] | None:
    """stdnum's birth-place check depends only on the 6-digit prefix and the birth year, and searches its
    division database on every call (40% of ingest time on a roster): run it once per (prefix, year)."""
    try:
        ric.get_birth_place(f"{prefix}{year:04d}01010000")
    except (KeyError, ValidationError) as exc:
        return type(exc), exc.args
    return None


def _validate_ric(value: str) -> str:
    """stdnum.cn.ric.validate, the same checks in the same order, with the birth-place lookup cached."""
    number = ric.compact(value)
    if len(number) != 18:
        raise InvalidLength()
    if not isdigits(number[:-1]):
        raise InvalidFormat()
    if number[-1] != ric.calc_check_digit(number):
        raise InvalidChecksum()
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidComponent() from None
    error = _birth_place_error(number[:6], born.year)
    if error is not None:
        kind, args = error
        raise kind(*args)
    return number


@functools.lru_cache(maxsize=262144)
def _check_id_number(value: str) -> str:
    try:
        return _validate_ric(value)
    except KeyError:
        # stdnum's birth-place table raises KeyError (not ValidationError) for some retired county prefixes.
        raise CellError(
            "bad_id_number", f"{pii.mask_identifier(value)} has an unknown birth-place code"
        ) from None
    except ValidationError as exc:
        raise CellError(
            "bad_id_number", f"{pii.mask_identifier(value)} is not a valid ID number ({exc})"
        ) from None


@functools.lru_cache(maxsize=65536)
def _check_uscc(value: str) -> str:
    try:
        return uscc.validate(value)
    except ValidationError as exc:
        raise CellError("bad_uscc", f"{value!r} is not a valid unified social credit code ({exc})") from None


@functools.lru_cache(maxsize=65536)
def _check_region(value: str) -> str:
    if not gazetteer.is_known(value):
        raise CellError("unknown_region_code", f"{value!r} is not a division code known to the gazetteer")
    return value


def _check_division(value: str) -> str:
    if gazetteer.level_of(value) not in ("township", "village"):
        raise CellError(
            "unknown_region_code", f"{value!r} is not a 9-digit township or 12-digit village code"
        )
    return _check_region(value)


def _check_certificate(value: str) -> str:
    if not is_certificate_no(value):
        raise CellError("bad_certificate_no", f"{value!r} is not a 17-digit certificate management number")
    return value


def _check_phone(value: str) -> str:
    if not is_phone(value.replace(" ", "")):
        raise CellError("bad_phone", f"{pii.mask_identifier(value)} is not a mobile or landline number")
    return value.replace(" ", "")


_FORMAT_CHECKS: dict[str, Callable[[str], str]] = {
    "cn_ric": lambda v: _check_id_number(v.upper()),
    "cn_uscc": lambda v: _check_uscc(v.upper()),
    "certificate_no": _check_certificate,
    "phone": _check_phone,
    "region_code": _check_region,
    "division_code": _check_division,
}


def _enum_reader(column: Column) -> Callable[[str], str]:
    spellings = {normalize_header(s): code for code, values in column.values.items() for s in (code, *values)}

    @functools.cache
    def read(value: str) -> str:
        code = spellings.get(normalize_header(value))
        if code is None:
            code = spellings.get(normalize_header(_to_simplified(value)))
        if code is None:
            allowed = "、".join(v[0] for v in column.values.values())
            raise CellError("unknown_enum_value", f"{value!r} is not one of {allowed}")
        return code

    return read


@functools.cache
def _opencc():
    import opencc

    return opencc.OpenCC("t2s")


def _to_simplified(text: str) -> str:
    """Categories arrive in traditional script from some regions (社會工作師); codes are compared simplified."""
    return _opencc().convert(text)


def _bounds(column: Column, period_end: dt.date | None) -> tuple[object, object]:
    def bound(value):
        if value == "period_end":
            return period_end
        if column.type == "date" and isinstance(value, str):
            return dt.date.fromisoformat(value)
        return value

    return bound(column.min), bound(column.max)


def _reader(column: Column, period_end: dt.date | None) -> Callable[[str], object]:
    """The function that turns one cell into its typed value or raises CellError with a reason code."""
    low, high = _bounds(column, period_end)
    if column.type == "enum":
        return _enum_reader(column)
    if column.type == "date":

        def read_date(value: str) -> dt.date:
            parsed = parse_date(value.split(" ")[0] if len(value) > 10 and ":" in value else value)
            if (low and parsed < low) or (high and parsed > high):
                raise CellError("implausible_date", f"{parsed} is outside {low or '…'} – {high or '…'}")
            return parsed

        return read_date
    if column.type in ("integer", "decimal"):
        parse = parse_integer if column.type == "integer" else parse_decimal

        def read_number(value: str):
            number = parse(value)
            if low is not None and number < low:
                code = "negative_value" if low == 0 else "out_of_range"
                raise CellError(code, f"{value} is below the minimum {low}")
            if high is not None and number > high:
                raise CellError("out_of_range", f"{value} is above the maximum {high}")
            return number

        return read_number
    check = _FORMAT_CHECKS.get(column.format or "")
    return check if check else (lambda value: value)


def _redacted(column: Column | None, value: str) -> str:
    """A quarantined cell as an auditor may see it: enough to find the row, never the personal data."""
    if column is None or not value or column.pii is None:
        return value
    if column.pii == "name":
        return pii.mask_name(value)
    return pii.mask_identifier(value)


def redacted_cells(columns: list[str | None], cells: list[str], contract: Contract) -> dict[str, str]:
    """A source row keyed by contract column (or column_N when unmapped), personal data redacted."""
    out = {}
    for position, cell in enumerate(cells):
        name = columns[position] if position < len(columns) else None
        out[name or f"column_{position + 1}"] = _redacted(contract.by_name.get(name) if name else None, cell)
    return out


def validate_rows(source: RegistryFile, contract: Contract, protector: pii.PiiProtector) -> ValidatedRows:
    period_end = None
    if source.period_month:
        month = source.period_month
        period_end = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    positions = {name: i for i, name in enumerate(source.columns) if name}
    readers = {c.name: _reader(c, period_end) for c in contract.columns}
    out = ValidatedRows(clean={name: [] for c in contract.columns for name in c.raw_columns})
    seen_keys: dict[tuple, int] = {}

    for row_number, cells in source.rows:
        values: dict[str, object] = {}
        reasons: list[dict] = []
        for column in contract.columns:
            position = positions.get(column.name)
            text = cells[position] if position is not None and position < len(cells) else ""
            if not text:
                if column.required:
                    reasons.append({"code": "missing_required", "column": column.name, "detail": "blank"})
                values[column.name] = None
                continue
            try:
                values[column.name] = readers[column.name](text)
            except CellError as exc:
                reasons.append({"code": exc.code, "column": column.name, "detail": str(exc)})
                values[column.name] = None
        for rule in contract.rules:
            first, second = (values.get(c) for c in rule.columns)
            if (
                rule.code == "end_before_start"
                and first is not None
                and second is not None
                and second < first
            ):
                reasons.append({"code": rule.code, "column": ",".join(rule.columns), "detail": rule.meaning})

        record = _raw_record(contract, values, protector)
        key = tuple(record[_key_column(contract, k)] for k in contract.primary_key)
        if None not in key:
            if key in seen_keys:
                reasons.append(
                    {
                        "code": "duplicate_in_file",
                        "column": ",".join(contract.primary_key),
                        "detail": f"same key as row {seen_keys[key]}",
                    }
                )
            else:
                seen_keys[key] = row_number
        if reasons:
            raw_values = redacted_cells(source.columns, cells, contract)
            out.quarantined.append({"source_row": row_number, "raw_values": raw_values, "reasons": reasons})
            continue
        out.clean_rows.append(row_number)
        out.keys.append(key)
        for name, value in record.items():
            out.clean[name].append(value)
    return out


def _key_column(contract: Contract, name: str) -> str:
    return contract.by_name[name].raw_columns[0]


def _raw_record(
    contract: Contract, values: dict[str, object], protector: pii.PiiProtector
) -> dict[str, object]:
    """Contract values in raw-layer form: identifiers hashed, names masked, age band and gender derived."""
    record: dict[str, object] = {}
    for column in contract.columns:
        value = values.get(column.name)
        if column.pii == "id_number":
            record[f"{column.name}_hash"] = protector.hash("id_number", value) if value else None
            record["birth_year_band"] = pii.birth_year_band(value) if value else None
            record["gender"] = pii.gender(value) if value else None
        elif column.pii == "phone":
            record[f"{column.name}_hash"] = protector.hash("phone", value) if value else None
        elif column.pii == "name":
            record[f"{column.name}_masked"] = pii.mask_name(value) if value else None
        else:
            record[column.name] = value
    return record
