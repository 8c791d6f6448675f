"""File names and each department's export habits (header spellings, date style, encoding, title line).

A department keeps its template month to month: header spellings, enum spellings, date style and the
columns it exports are fixed per (registry, reporting unit). The encoding/format and the title line vary a
little by month, as different clerks export.
"""

from __future__ import annotations

import zlib

import numpy as np

from shegong.contracts import Contract

from .calendar import Month
from .writers import Column, FileStyle

FILE_TITLES = {
    "workers": "持证社工名册",
    "stations": "社工站室台账",
    "agencies": "社工机构名册",
    "funding": "社工服务资金项目台账",
    "training_sessions": "社工培训班台账",
    "training_attendance": "社工培训学时记录",
    "regions": "统计用区划代码",
}
SHEET_TITLES = {
    "workers": "持证社会工作者登记名册",
    "stations": "乡镇(街道)社工站及村(社区)社工室台账",
    "agencies": "社会工作服务机构登记名册",
    "funding": "政府购买社会工作服务及资金项目台账",
    "training_sessions": "社会工作者培训班(期)台账",
    "training_attendance": "社会工作者培训签到及学时记录",
}
# Optional columns a department may leave out of its export; none that a report figure depends on.
DROPPABLE = {
    "workers": ("phone", "station_code"),
    "stations": ("contact_phone",),
    "agencies": ("legal_representative", "contact_phone"),
    "training_attendance": ("certificate_no",),
}
REGISTRY_ORDER = ("workers", "stations", "agencies", "funding", "training_sessions", "training_attendance")


def file_name(registry: str, unit: str, month: Month, fmt: str) -> str:
    ext = "xlsx" if fmt == "xlsx" else "csv"
    return f"{unit}_{month.label}_{FILE_TITLES[registry]}.{ext}"


def _rng(seed: int, *parts: str | int) -> np.random.Generator:
    # zlib.crc32 rather than hash(): str hashes are salted per process, which would break determinism.
    return np.random.default_rng([seed, *(zlib.crc32(str(p).encode()) for p in parts)])


def _chinese(aliases: tuple[str, ...]) -> list[str]:
    return [a for a in aliases if not a.isascii()]


def department_template(contract: Contract, unit: str, seed: int) -> tuple[tuple[Column, ...], bool, str]:
    """(columns, leading 序号 column, date style) a unit uses for a registry."""
    rng = _rng(seed, "template", contract.registry, unit)
    columns = []
    droppable = DROPPABLE.get(contract.registry, ())
    drop = droppable[int(rng.integers(len(droppable)))] if droppable and rng.random() < 0.25 else None
    for col in contract.columns:
        if col.name == drop:
            continue
        names = _chinese(col.aliases)
        header = names[0] if rng.random() < 0.5 else names[int(rng.integers(len(names)))]
        labels = None
        if col.type == "enum":
            labels = {}
            for code, spellings in col.values.items():
                zh = _chinese(spellings)
                labels[code] = (
                    zh[0] if rng.random() < 0.8 or len(zh) == 1 else zh[int(rng.integers(1, len(zh)))]
                )
        columns.append(Column(col.name, header, col.type, labels))
    serial = rng.random() < 0.3
    date_style = str(rng.choice(["iso", "iso", "slash", "zh"]))
    return tuple(columns), serial, date_style


def file_style(contract: Contract, unit: str, unit_name: str, month: Month, seed: int) -> FileStyle:
    columns, serial, date_style = department_template(contract, unit, seed)
    base = _rng(seed, "format", contract.registry, unit)
    usual = str(base.choice(["utf-8", "utf-8-sig", "gb18030", "xlsx"], p=[0.35, 0.15, 0.25, 0.25]))
    rng = _rng(seed, "file", contract.registry, unit, month.label)
    encoding = usual if rng.random() < 0.8 else str(rng.choice(["utf-8", "utf-8-sig", "gb18030", "xlsx"]))
    fmt = "xlsx" if encoding == "xlsx" else "csv"
    if fmt == "xlsx":
        date_style = (
            "excel" if _rng(seed, "xlsx-dates", contract.registry, unit).random() < 0.6 else date_style
        )
    title = None
    if rng.random() < 0.25:
        title = f"{unit_name}{SHEET_TITLES[contract.registry]}({month.year}年{month.month}月)"
    trailing = int(rng.integers(1, 4)) if fmt == "csv" and rng.random() < 0.3 else 0
    newline = "\r\n" if _rng(seed, "newline", unit).random() < 0.5 else "\n"
    return FileStyle(fmt, encoding, columns, date_style, title, serial, trailing, newline)


def regions_style(contract: Contract, county: str, seed: int) -> FileStyle:
    rng = _rng(seed, "regions", county)
    encoding = str(rng.choice(["utf-8", "utf-8-sig", "gb18030"]))
    columns = tuple(Column(c.name, _chinese(c.aliases)[0], c.type) for c in contract.columns)
    return FileStyle("csv", encoding, columns, "iso", None, False, 0, "\r\n")
