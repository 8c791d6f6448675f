"""Data contracts: what each registry's files must hold, loaded from `sources/contracts/*.yml`.

A contract names each column in English snake_case, lists the Chinese (and English) headers regions send for
it, and states its type, whether it is required, its enumeration or format, and the registry's primary key.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from shegong.config import CONTRACTS_DIR
from shegong.ingest.cells import to_halfwidth

TYPES = ("string", "integer", "decimal", "date", "enum")
FORMATS = ("cn_ric", "cn_uscc", "certificate_no", "phone", "region_code", "division_code")
PII_KINDS = ("name", "id_number", "phone")


class ContractError(ValueError):
    """A contract file is malformed: a project bug, not a data problem."""


@dataclass(frozen=True)
class Column:
    name: str
    aliases: tuple[str, ...]
    type: str
    required: bool
    format: str | None = None
    pii: str | None = None
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)  # enum code → accepted spellings
    min: object = None
    max: object = None

    @property
    def raw_columns(self) -> tuple[str, ...]:
        """The columns this contract column becomes in the raw layer: personal data never lands in clear."""
        if self.pii == "id_number":
            return (f"{self.name}_hash", "birth_year_band", "gender")
        if self.pii == "phone":
            return (f"{self.name}_hash",)
        if self.pii == "name":
            return (f"{self.name}_masked",)
        return (self.name,)


@dataclass(frozen=True)
class Rule:
    code: str
    columns: tuple[str, ...]
    meaning: str


@dataclass(frozen=True)
class FileLimits:
    """What one file may ask of a reader, checked before the expensive read: past a limit the file is rejected
    naming the limit (file, sheet and XLSX limits), or the record is quarantined (line and cell limits)."""

    max_file_bytes: int = 512 * 2**20
    max_rows: int = 2_000_000  # data records (CSV) or sheet rows (XLSX)
    max_columns: int = 256
    # Rows × columns of the first sheet's used range: the XLSX reader holds it as a grid of Python objects
    # (about 100 bytes a cell at peak), so this is the memory a workbook may cost.
    max_sheet_cells: int = 20_000_000
    max_xlsx_unpacked_bytes: int = 2 * 2**30  # the workbook's parts once decompressed (zip bombs)
    max_line_bytes: int = 1 * 2**20  # one CSV record, quoted line breaks included
    max_cell_bytes: int = 32 * 2**10
    max_quoted_lines: int = 100  # physical lines one quoted CSV cell may span

    @classmethod
    def from_spec(cls, spec: dict | None, registry: str) -> FileLimits:
        spec = spec or {}
        unknown = set(spec) - set(cls.__dataclass_fields__)
        if unknown:
            raise ContractError(f"contract {registry}: unknown limits {sorted(unknown)}")
        values = {name: int(value) for name, value in spec.items()}
        if any(value <= 0 for value in values.values()):
            raise ContractError(f"contract {registry}: limits must be positive")
        return cls(**values)


@dataclass(frozen=True)
class Contract:
    registry: str
    title_zh: str
    description: str
    partitioned_by: str  # month | none
    key_scope: str  # period | global
    primary_key: tuple[str, ...]
    freshness_days: int
    columns: tuple[Column, ...]
    rules: tuple[Rule, ...] = ()
    limits: FileLimits = FileLimits()

    @functools.cached_property
    def by_name(self) -> dict[str, Column]:
        return {c.name: c for c in self.columns}

    @functools.cached_property
    def alias_index(self) -> dict[str, str]:
        """Normalised header spelling → column name."""
        index: dict[str, str] = {}
        for column in self.columns:
            for alias in (column.name, *column.aliases):
                index.setdefault(normalize_header(alias), column.name)
        return index

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def raw_table(self) -> str:
        return f"raw.{self.registry}"


def normalize_header(text: str) -> str:
    """Header cells vary in width, spacing, brackets and case; compare them in one canonical spelling."""
    folded = to_halfwidth(text).strip().lower()
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "*#:：")


def _column(spec: dict, registry: str) -> Column:
    name = spec.get("name")
    kind = spec.get("type")
    if not name or kind not in TYPES:
        raise ContractError(f"contract {registry}: column {name!r} needs a name and a type in {TYPES}")
    if spec.get("format") not in (None, *FORMATS):
        raise ContractError(f"contract {registry}: column {name} has unknown format {spec['format']!r}")
    if spec.get("pii") not in (None, *PII_KINDS):
        raise ContractError(f"contract {registry}: column {name} has unknown pii kind {spec['pii']!r}")
    values = {
        str(code): tuple(str(v) for v in spellings) for code, spellings in (spec.get("values") or {}).items()
    }
    if kind == "enum" and not values:
        raise ContractError(f"contract {registry}: enum column {name} lists no values")
    return Column(
        name=name,
        aliases=tuple(spec.get("aliases") or ()),
        type=kind,
        required=bool(spec.get("required", False)),
        format=spec.get("format"),
        pii=spec.get("pii"),
        values=values,
        min=spec.get("min"),
        max=spec.get("max"),
    )


def load_contract(path: Path) -> Contract:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    registry = spec["registry"]
    columns = tuple(_column(c, registry) for c in spec["columns"])
    names = {c.name for c in columns}
    key = tuple(spec["primary_key"])
    if not set(key) <= names:
        raise ContractError(f"contract {registry}: primary key {key} names unknown columns")
    rules = tuple(Rule(r["code"], tuple(r["columns"]), r.get("meaning", "")) for r in spec.get("rules") or ())
    return Contract(
        registry=registry,
        title_zh=spec.get("title_zh", registry),
        description=" ".join(str(spec.get("description", "")).split()),
        partitioned_by=spec.get("partitioned_by", "month"),
        key_scope=spec.get("key_scope", "global"),
        primary_key=key,
        freshness_days=int(spec.get("freshness_days", 45)),
        columns=columns,
        rules=rules,
        limits=FileLimits.from_spec(spec.get("limits"), registry),
    )


@functools.cache
def contracts(directory: Path = CONTRACTS_DIR) -> dict[str, Contract]:
    loaded = {}
    for path in sorted(directory.glob("*.yml")):
        contract = load_contract(path)
        loaded[contract.registry] = contract
    return loaded


def contract(registry: str) -> Contract:
    try:
        return contracts()[registry]
    except KeyError:
        raise ContractError(f"no data contract for registry {registry!r} in {CONTRACTS_DIR}") from None
