from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Finding:
    """One defect in a report text. ``line`` and ``column`` are 1-based, in characters.

    A finding with a ``suggestion`` can be applied: replace the ``length`` characters from
    ``column`` of ``line`` with it (the editor's 采纳 button does).
    """

    line: int
    column: int
    rule: str
    severity: Severity
    excerpt: str
    message: str
    length: int = 1  # how many characters from ``column`` the finding covers
    # The text to put in place of those ``length`` characters ("" when there is no suggestion).
    suggestion: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"
