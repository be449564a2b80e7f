from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Finding:
    """One defect in a report text. ``line`` and ``column`` are 1-based, in characters."""

    line: int
    column: int
    rule: str
    severity: Severity
    excerpt: str
    message: str
    length: int = 1  # how many characters from ``column`` the finding covers

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"
