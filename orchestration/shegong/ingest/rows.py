"""Row-level validation against a contract, done column by column. Every bad row gets every reason that
applies; nothing is dropped.

Reason codes (the quarantine's `reason_codes`):
  missing_required, bad_id_number, bad_uscc, bad_certificate_no, bad_phone, unknown_region_code,
  unparseable_date, implausible_date, not_a_number, negative_value, out_of_range, unknown_enum_value,
  end_before_start, duplicate_in_file, duplicate_across_files (the last is decided in the warehouse);
  and a record's structure (reading.py, records.py): unterminated_quote, line_too_long, cell_too_long,
  too_many_columns, too_few_columns.

Personal data, default deny: quarantined cells of the contract's personal-data columns are redacted, cells of
columns the contract does not know (and every cell of a record whose structure is broken, whose cells cannot
be trusted to be what their header says) are masked, and ID and mobile numbers are masked inside every other
value, in the quarantine and in the clean rows alike.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
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
from shegong.identifiers import CERTIFICATE_NO, LANDLINE, MOBILE, is_certificate_no, is_phone
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
    "unterminated_quote",
    "line_too_long",
    "cell_too_long",
    "too_many_columns",
    "too_few_columns",
)


# The Arrow type of each contract type's values in the raw layer (DuckDB casts them to the table's SQL types).
ARROW_TYPES = {
    "string": pa.string(),
    "enum": pa.string(),
    "integer": pa.int64(),
    "decimal": pa.decimal128(18, 2),
    "date": pa.date32(),
}


@dataclass
class ValidatedRows:
    """The clean rows in raw-layer form (provenance aside) and the quarantined rows with their reasons."""

    clean: pa.Table
    clean_positions: np.ndarray  # positions of the clean rows among the file's data rows
    quarantined: list[dict] = field(default_factory=list)  # in file order


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


# Cells a format check certainly accepts, found column-wise; the check itself decides every other cell (and
# words its reason). The patterns are identifiers.py's, for ASCII cells: Python's \d also takes other digits.
_CERTIFICATE_NO = "^" + CERTIFICATE_NO.pattern.replace(r"\d", "[0-9]") + "$"
_PHONE = "^(?:" + "|".join(p.pattern.replace(r"\d", "[0-9]") for p in (MOBILE, LANDLINE)) + ")$"
_RIC_SHAPE = "^[0-9]{17}[0-9X]$"
_RIC_WEIGHTS = np.array([pow(13, 16 - i, 11) for i in range(17)])  # int(body, 13) mod 11, digit by digit
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def ric_accepted(upper: pa.StringArray) -> np.ndarray:
    """Which upper-cased cells stdnum's cn.ric.validate returns unchanged, decided column-wise: 17 digits and a
    check character, the check character right, a calendar birth date, and a birth place that existed in the
    birth year (stdnum asked once per place and year). False means 'ask stdnum', which gives the reason."""
    shaped = pc.match_substring_regex(upper, _RIC_SHAPE).to_numpy(zero_copy_only=False)
    accepted = np.zeros(len(upper), bool)
    if not shaped.any():
        return accepted
    rows = np.flatnonzero(shaped)
    codes = pii.id_number_codes(upper.take(rows))
    digits = codes[:, :17].astype(np.int64) - ord("0")
    check = (1 - 2 * (digits @ _RIC_WEIGHTS)) % 11
    ok = codes[:, 17] == np.where(check == 10, ord("X"), check + ord("0"))
    year = digits[:, 6:10] @ np.array([1000, 100, 10, 1])
    month = digits[:, 10] * 10 + digits[:, 11]
    day = digits[:, 12] * 10 + digits[:, 13]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days = _DAYS_IN_MONTH[np.clip(month, 0, 12)] + (leap & (month == 2))
    ok &= (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= days)
    place_years = digits[:, :6] @ np.array([10**9, 10**8, 10**7, 10**6, 10**5, 10**4]) + year
    pairs, positions = np.unique(place_years[ok], return_inverse=True)
    known = np.array(
        [_birth_place_error(f"{p // 10**4:06d}", p % 10**4) is None for p in pairs.tolist()], bool
    )
    ok[ok] = known[positions.reshape(-1)] if len(pairs) else False
    accepted[rows] = ok
    return accepted


def _certainly_valid(column_format: str, texts: pa.StringArray) -> tuple[np.ndarray, pa.StringArray]:
    """The cells of a format column its check accepts without asking it, and the values the check returns."""
    ascii_cells = pc.string_is_ascii(texts)
    if column_format == "cn_ric":
        values = pc.utf8_upper(texts)
        return ric_accepted(values) & ascii_cells.to_numpy(zero_copy_only=False), values
    if column_format == "phone":
        values = pc.replace_substring(texts, " ", "")
        shaped = pc.match_substring_regex(values, _PHONE)
    else:
        values = texts
        shaped = pc.match_substring_regex(values, _CERTIFICATE_NO)
    return pc.and_(ascii_cells, shaped).to_numpy(zero_copy_only=False), values


_VECTOR_FORMATS = ("cn_ric", "phone", "certificate_no")


class _CheckedColumn:
    """A contract column's cells read: the blank ones, which hold a value, and why the others failed."""

    blank: np.ndarray
    present: np.ndarray
    failures: list[tuple[int, str, str]]  # (position, reason code, detail)

    def values(self, positions: np.ndarray, kind: pa.DataType) -> pa.Array:
        """Typed values at the given positions, null where the cell holds none."""
        raise NotImplementedError

    def objects(self) -> np.ndarray:
        """Typed values as Python objects (None where none), for rules comparing two columns."""
        raise NotImplementedError

    def key_codes(self) -> np.ndarray:
        """An integer per row, equal for equal values (Python equality); -1 where the cell holds none."""
        raise NotImplementedError


class _ReadPerValue(_CheckedColumn):
    """Cells read by the column's reader once per distinct text: dates, numbers, categories and codes repeat
    down a column."""

    def __init__(self, texts: pa.StringArray, read: Callable[[str], object]):
        encoded = pc.dictionary_encode(texts)
        self.indices = encoded.indices.to_numpy()
        distinct = encoded.dictionary.to_pylist()
        self.typed: list[object] = [None] * len(distinct)
        ok = np.zeros(len(distinct), bool)
        failed: dict[int, tuple[str, str]] = {}
        for j, text in enumerate(distinct):
            if not text:
                continue
            try:
                self.typed[j] = read(text)
                ok[j] = True
            except CellError as exc:
                failed[j] = (exc.code, str(exc))
        self.ok = ok
        self.blank = self.indices == distinct.index("") if "" in distinct else np.zeros(len(texts), bool)
        self.present = ok[self.indices]
        self.failures = []
        if failed:
            bad = np.zeros(len(distinct), bool)
            bad[list(failed)] = True
            self.failures = [
                (p, *failed[self.indices[p]]) for p in np.flatnonzero(bad[self.indices]).tolist()
            ]

    def values(self, positions, kind):
        chosen = self.indices[positions]
        used = np.zeros(len(self.typed), bool)
        used[chosen] = True
        # Only values of the chosen rows become Arrow values, so that a value Arrow cannot hold (a decimal
        # with three places) fails the load only when a clean row has it.
        return pa.array([v if u else None for v, u in zip(self.typed, used, strict=True)], kind).take(chosen)

    def objects(self):
        typed = np.empty(len(self.typed), object)
        typed[:] = self.typed
        return typed[self.indices]

    def key_codes(self):
        code_of: dict[object, int] = {}
        codes = np.array(
            [
                code_of.setdefault(v, len(code_of)) if ok else -1
                for v, ok in zip(self.typed, self.ok, strict=True)
            ]
            or [-1],
            np.int64,
        )
        return codes[self.indices]


class _ReadAsColumn(_CheckedColumn):
    """Free text, and the formats checked column-wise first (ID numbers, phones, certificate numbers), whose
    values rarely repeat; only cells the column-wise pass does not accept are read one by one."""

    def __init__(self, texts: pa.StringArray, column_format: str | None):
        self.blank = pc.equal(texts, "").to_numpy(zero_copy_only=False)
        self.failures = []
        if column_format is None:
            self.present = ~self.blank
            self.typed = pc.if_else(pa.array(self.blank), pa.scalar(None, pa.string()), texts)
            return
        accepted, values = _certainly_valid(column_format, texts)
        check = _FORMAT_CHECKS[column_format]
        read: list[str] = []
        read_positions = []
        for position in np.flatnonzero(~accepted & ~self.blank).tolist():
            try:
                read.append(check(texts[position].as_py()))
                read_positions.append(position)
            except CellError as exc:
                self.failures.append((position, exc.code, str(exc)))
        self.present = accepted.copy()
        self.present[read_positions] = True
        self.typed = pc.if_else(pa.array(accepted), values, pa.scalar(None, pa.string()))
        if read:
            self.typed = pc.replace_with_mask(self.typed, pa.array(self.present & ~accepted), pa.array(read))

    def values(self, positions, kind):
        return self.typed.take(positions)

    def objects(self):
        return self.typed.to_numpy(zero_copy_only=False)

    def key_codes(self):
        return _string_codes(self.typed)


def _string_codes(values: pa.StringArray) -> np.ndarray:
    return pc.fill_null(pc.dictionary_encode(values).indices, -1).to_numpy().astype(np.int64)


def _check_column(column: Column, texts: pa.StringArray, period_end: dt.date | None) -> _CheckedColumn:
    if column.type == "string" and (column.format is None or column.format in _VECTOR_FORMATS):
        return _ReadAsColumn(texts, column.format)
    return _ReadPerValue(texts, _reader(column, period_end))


def _redacted(column: Column | None, value: str) -> str:
    """A quarantined cell as an auditor may see it: enough to find the row, never the personal data."""
    if not value:
        return value
    if column is None:
        return pii.mask_unknown(value)
    if column.pii == "name":
        return pii.mask_name(value)
    if column.pii is not None:
        return pii.mask_identifier(value)
    return pii.scrub_identifiers(value[:MAX_QUARANTINED_CELL])


# A quarantined cell keeps at most this many characters: enough to see what is wrong with it.
MAX_QUARANTINED_CELL = 200


def redacted_cells(
    columns: list[str | None], cells: list[str], contract: Contract, trusted: bool = True
) -> dict[str, str]:
    """A source row keyed by contract column (or column_N when unmapped), personal data redacted; an untrusted
    row (its structure broken) has every cell masked."""
    out = {}
    for position, cell in enumerate(cells):
        name = columns[position] if position < len(columns) else None
        column = contract.by_name.get(name) if name and trusted else None
        out[name or f"column_{position + 1}"] = _redacted(column, cell)
    return out


def validate_rows(source: RegistryFile, contract: Contract, protector: pii.PiiProtector) -> ValidatedRows:
    """Every contract check on every row, column by column. A row's reasons come in contract column order,
    then the contract's rules, then a duplicate key within the file."""
    period_end = None
    if source.period_month:
        month = source.period_month
        period_end = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    reasons: dict[int, list[dict]] = defaultdict(list)
    # A record whose structure is broken has that reason alone: its cells' checks would judge misplaced cells.
    broken: dict[int, list[dict]] = {}
    if source.record_errors:
        position_of = {int(number): position for position, number in enumerate(source.row_numbers.tolist())}
        for number, errors in source.record_errors.items():
            if number in position_of:
                broken[position_of[number]] = errors
    checked: dict[str, _CheckedColumn] = {}
    for column in contract.columns:
        result = _check_column(column, source.text(column.name), period_end)
        if column.required:
            for position in np.flatnonzero(result.blank).tolist():
                reasons[position].append(
                    {"code": "missing_required", "column": column.name, "detail": "blank"}
                )
        for position, code, detail in result.failures:
            reasons[position].append({"code": code, "column": column.name, "detail": detail})
        checked[column.name] = result

    for rule in contract.rules:
        if rule.code != "end_before_start":
            continue
        first, second = (checked[c] for c in rule.columns)
        both = np.flatnonzero(first.present & second.present)
        before = second.objects()[both] < first.objects()[both]
        for position in both[before.astype(bool)].tolist():
            reasons[position].append(
                {"code": rule.code, "column": ",".join(rule.columns), "detail": rule.meaning}
            )

    protected = {c.name: _protected(c, checked[c.name], protector) for c in contract.columns if c.pii}
    key_codes = [
        _string_codes(protected[k][0]) if k in protected else checked[k].key_codes()
        for k in contract.primary_key
    ]
    for position, first in _repeated_keys(key_codes):
        reasons[position].append(
            {
                "code": "duplicate_in_file",
                "column": ",".join(contract.primary_key),
                "detail": f"same key as row {source.row_numbers[first]}",
            }
        )

    reasons.update(broken)
    quarantined = [
        {
            "source_row": int(source.row_numbers[position]),
            "raw_values": redacted_cells(
                source.columns, source.row_cells(position), contract, trusted=position not in broken
            ),
            "reasons": [
                {**reason, "detail": pii.scrub_identifiers(reason["detail"])} for reason in reasons[position]
            ],
        }
        for position in sorted(reasons)
    ]
    keep = np.ones(source.num_rows, bool)
    keep[list(reasons)] = False
    clean = np.flatnonzero(keep)
    arrays: dict[str, pa.Array] = {}
    for column in contract.columns:
        if column.pii:
            for name, array in zip(column.raw_columns, protected[column.name], strict=True):
                arrays[name] = array.take(clean)
        elif column.type == "string" and column.format is None:  # free text may quote a number
            arrays[column.name] = pii.scrub_column(checked[column.name].values(clean, pa.string()))
        else:
            arrays[column.name] = checked[column.name].values(clean, ARROW_TYPES[column.type])
    return ValidatedRows(pa.table(arrays), clean, quarantined)


def _protected(column: Column, checked: _CheckedColumn, protector: pii.PiiProtector) -> list[pa.Array]:
    """A personal-data column in raw-layer form, every row: identifiers hashed (with the ID number's birth-year
    band and gender), names masked; null where the cell holds no value."""
    present = pa.array(checked.present)
    values = checked.values(np.flatnonzero(checked.present), pa.string())

    def spread(array: pa.Array) -> pa.Array:
        return pc.replace_with_mask(pa.nulls(len(checked.present), pa.string()), present, array)

    if column.pii == "name":
        return [spread(pii.mask_names(values))]
    hashes = spread(pa.array(protector.hash_all(column.pii, values.to_pylist()), pa.string()))
    if column.pii == "phone":
        return [hashes]
    return [hashes, spread(pii.birth_year_bands(values)), spread(pii.genders(values))]


def _repeated_keys(key_codes: list[np.ndarray]) -> list[tuple[int, int]]:
    """(position, position of the first row with the same key) for each later row repeating a key; rows with
    part of the key missing take no part."""
    complete = np.logical_and.reduce([codes >= 0 for codes in key_codes])
    positions = np.flatnonzero(complete)
    if not len(positions):
        return []
    combined = key_codes[0][positions]
    for codes in key_codes[1:]:
        combined = combined * (int(codes.max()) + 1) + codes[positions]
        combined = np.unique(combined, return_inverse=True)[1].reshape(-1)
    _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    firsts = positions[first[inverse.reshape(-1)]]
    repeated = firsts != positions
    return list(zip(positions[repeated].tolist(), firsts[repeated].tolist(), strict=True))
