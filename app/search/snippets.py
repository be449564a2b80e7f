"""Highlighted snippets of search results, as segments the template escapes and marks.

Nothing here produces markup: a snippet is a list of ``Segment(text, marked)`` and the
template wraps the marked ones in ``<mark>``, escaping every piece like any other text.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# Characters shown on each side of a match.
CONTEXT = 40
MAX_FRAGMENTS = 2
ELLIPSIS = "…"


class Segment(NamedTuple):
    text: str
    marked: bool


def finder(terms: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for all terms, longest first, ignoring the case of letters."""
    ordered = sorted(set(terms), key=len, reverse=True)
    return re.compile("|".join(re.escape(term) for term in ordered), re.IGNORECASE)


def match_spans(text: str, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    """Every stretch of ``text`` covered by an occurrence of a term, merged where they touch.

    Occurrences may overlap (“建设” and “设工” in “建设工作”): the search restarts one character
    after each match start, so no occurrence is skipped."""
    spans: list[tuple[int, int]] = []
    position = 0
    while (match := pattern.search(text, position)) is not None:
        start, end = match.span()
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
        position = start + 1
    return spans


def _segments(text: str, spans: list[tuple[int, int]], start: int, end: int) -> list[Segment]:
    pieces: list[Segment] = []
    position = start
    for span_start, span_end in spans:
        if span_end <= start or span_start >= end:
            continue
        span_start, span_end = max(span_start, start), min(span_end, end)
        if span_start > position:
            pieces.append(Segment(text[position:span_start], False))
        pieces.append(Segment(text[span_start:span_end], True))
        position = span_end
    if position < end:
        pieces.append(Segment(text[position:end], False))
    return pieces


def highlight(text: str, pattern: re.Pattern[str]) -> list[Segment]:
    """All of ``text`` with every occurrence marked."""
    return _segments(text, match_spans(text, pattern), 0, len(text))


def snippet(body: str, pattern: re.Pattern[str], context: int = CONTEXT) -> list[Segment]:
    """About ``context`` characters each side of the first occurrences in ``body`` (up to
    two places), every occurrence inside marked; the beginning of the body when none occurs
    there (the title matched). Line breaks become spaces."""
    text = body.replace("\r", " ").replace("\n", " ")
    spans = match_spans(text, pattern)
    if not spans:
        end = min(len(text), 2 * context)
        return [Segment(text[:end] + (ELLIPSIS if end < len(text) else ""), False)]
    windows: list[tuple[int, int]] = []
    for span_start, span_end in spans:
        if windows and span_start < windows[-1][1]:
            # Inside the current window: make sure the window holds all of it.
            windows[-1] = (windows[-1][0], max(windows[-1][1], span_end))
            continue
        if len(windows) == MAX_FRAGMENTS:
            break
        window = (max(0, span_start - context), min(len(text), span_end + context))
        if windows and window[0] <= windows[-1][1]:
            windows[-1] = (windows[-1][0], window[1])
        else:
            windows.append(window)
    pieces: list[Segment] = []
    for start, end in windows:
        if start > 0:
            pieces.append(Segment(ELLIPSIS, False))
        pieces.extend(_segments(text, spans, start, end))
    if windows[-1][1] < len(text):
        pieces.append(Segment(ELLIPSIS, False))
    return pieces
