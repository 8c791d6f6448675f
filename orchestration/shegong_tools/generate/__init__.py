"""Deterministic sample landing data: registry files as departments export them, regional reports whose
figures come from those registries, and a manifest of every planted defect and discrepancy.

    from shegong_tools.generate import generate
    summary = generate(Path("sources/landing"), scale="small", seed=20241)
"""

from __future__ import annotations

from .build import GenerationSummary, generate
from .manifest import MANIFEST_NAME
from .scales import SCALES

__all__ = ["MANIFEST_NAME", "SCALES", "GenerationSummary", "generate"]
