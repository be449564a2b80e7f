from __future__ import annotations

from app.documents.findings import Finding


def segments(text: str, findings: list[Finding], offset: int) -> list[tuple[str, Finding | None]]:
    """Split ``text`` (which starts at character ``offset`` of its source line) into plain
    runs and runs covered by a finding, for highlighting. Overlapping findings keep the first."""
    spans: list[tuple[int, int, Finding]] = []
    for finding in sorted(findings, key=lambda f: (f.column, -f.length)):
        start = max(0, finding.column - 1 - offset)
        end = min(len(text), finding.column - 1 - offset + finding.length)
        if start >= end or (spans and start < spans[-1][1]):
            continue
        spans.append((start, end, finding))
    pieces: list[tuple[str, Finding | None]] = []
    position = 0
    for start, end, finding in spans:
        if start > position:
            pieces.append((text[position:start], None))
        pieces.append((text[start:end], finding))
        position = end
    if position < len(text):
        pieces.append((text[position:], None))
    return pieces
