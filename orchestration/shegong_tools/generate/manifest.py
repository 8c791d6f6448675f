"""The generation manifest: every file written, every defect planted (physical row and expected reason),
every figure the reports state, and which of those were planted to disagree with the registries."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

GENERATED_AT = "2024-01-01T00:00:00+08:00"  # fixed so identical arguments give identical bytes
MANIFEST_NAME = "generation_manifest.json"


@dataclass
class FileEntry:
    path: str
    registry: str
    region_code: str
    month: str | None
    encoding: str
    format: str
    rows: int
    header_row: int


@dataclass
class DefectEntry:
    path: str
    row: int
    registry: str
    reason: str


@dataclass
class Manifest:
    seed: int
    scale: str
    months: list[str]
    files: list[FileEntry] = field(default_factory=list)
    defects: list[DefectEntry] = field(default_factory=list)
    reports: list[dict] = field(default_factory=list)

    def write(self, out_dir: Path) -> Path:
        path = out_dir / MANIFEST_NAME
        data = {
            "seed": self.seed,
            "scale": self.scale,
            "months": self.months,
            "generated_at": GENERATED_AT,
            "files": [asdict(f) for f in self.files],
            "defects": [asdict(d) for d in self.defects],
            "reports": self.reports,
            "planted_discrepancies": [r for r in self.reports if r["planted"]],
        }
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        return path
