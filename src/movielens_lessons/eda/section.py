"""The unit of the EDA report: a section's key numbers, the data behind its figures, or why it is empty."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Section:
    """One report section.

    ``numbers`` are the key figures (plain JSON-serialisable values, written to ``summary.json`` and quoted
    by the narrative); ``data`` holds arrays and frames for the figures and tables; ``missing`` says why
    the section could not be computed for this release (e.g. ``"ml-1m has no tags"``), else ``None``.
    """

    key: str
    title: str
    numbers: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    missing: str | None = None

    @property
    def available(self) -> bool:
        return self.missing is None


def plain(value: Any) -> Any:
    """``value`` with numpy scalars/arrays turned into Python numbers/lists (for JSON); NaN → ``None``."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value
