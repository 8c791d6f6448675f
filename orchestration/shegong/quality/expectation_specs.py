"""Expectations as the suites write them: a GX type and kwargs with `meta.severity` (blocking | warning) and
`meta.meaning` (one plain sentence), built from a few blocks, and the formats the warehouse's codes follow.

Shared by the raw suites (`shegong.quality.authoring`) and the mart suites (`shegong.quality.marts`); imported at
authoring time only.
"""

from __future__ import annotations

import yaml

from shegong.config import DBT_PROJECT_DIR


def _code_formats() -> dict[str, str]:
    """The formats of the warehouse's codes, defined once in dbt_project.yml (`vars.code_formats`): the marts'
    dbt test code_formats reads them there, the raw suites here."""
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return project["vars"]["code_formats"]


# Formats: codes as the contracts define them; personal data only ever as hashes or masks. Read when the suites
# are written (`python -m shegong.quality.authoring`), never by the pipeline.
_FORMATS = _code_formats()
CERTIFICATE_NO = _FORMATS["certificate_no"]
DIVISION_CODE = _FORMATS["division_code"]  # 6-digit county/city/province, 9-digit township, 12-digit village
USCC = _FORMATS["uscc"]
HASH = _FORMATS["hash"]
MASKED_NAME = r"^.\*+$"


def x(kind: str, severity: str, meaning: str, label: str | None = None, **kwargs) -> dict:
    """One expectation: GX type and kwargs, `meta.severity` (blocking | warning) and `meta.meaning`."""
    meta = {"severity": severity, "meaning": meaning}
    if label:
        meta["label"] = label
    return {
        "type": kind,
        "kwargs": kwargs,
        "meta": meta,
        "severity": "critical" if severity == "blocking" else "warning",
    }


def date_bound(value: str) -> str:
    """Date bounds compare against datetime64 columns: GX needs them as datetimes, not dates."""
    return f"{value} 00:00:00"


TODAY = {"$PARAMETER": "today"}


def columns_exactly(columns: list[str], what: str) -> dict:
    return x(
        "expect_table_columns_to_match_set",
        "blocking",
        f"The table has exactly the columns {what}; a missing or unexpected column means the loader or model changed.",
        column_set=columns,
        exact_match=True,
    )


def not_null(column: str, what: str, severity: str = "blocking") -> dict:
    return x("expect_column_values_to_not_be_null", severity, f"Every row has {what}.", column=column)


def unique(columns: list[str], what: str, severity: str = "blocking") -> dict:
    if len(columns) == 1:
        return x(
            "expect_column_values_to_be_unique", severity, f"No two rows share {what}.", column=columns[0]
        )
    return x(
        "expect_compound_columns_to_be_unique", severity, f"No two rows share {what}.", column_list=columns
    )


def matches(
    column: str, regex: str, meaning: str, severity: str = "blocking", label: str | None = None
) -> dict:
    return x(
        "expect_column_values_to_match_regex", severity, meaning, label=label, column=column, regex=regex
    )


def in_set(column: str, values, meaning: str, severity: str = "blocking") -> dict:
    return x("expect_column_values_to_be_in_set", severity, meaning, column=column, value_set=values)


def between(column: str, meaning: str, severity: str = "blocking", low=None, high=None) -> dict:
    kwargs = {"column": column}
    if low is not None:
        kwargs["min_value"] = low
    if high is not None:
        kwargs["max_value"] = high
    return x("expect_column_values_to_be_between", severity, meaning, **kwargs)
