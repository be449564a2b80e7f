"""The volume's contents (目录), laid out on the grid before WeasyPrint sees it, so that its
pages are known (the reports are numbered from them) and its lines are broken as we want:
an entry that needs more than a line continues with a hanging indent, its text never runs
into the column of page numbers, and its last line always keeps some of the title before the
leader and the page number."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from app.pdf.fonts import RoleFont, advance_em
from app.pdf.linebreak import allowed_ends, is_runt
from app.pdf.pagination import LINES_PER_PAGE
from app.pdf.typesetting import (
    BODY_SIZE,
    FIRST_LINE_INDENT,
    GRID_SPACING,
    TYPE_WIDTH,
    TypesetDocument,
)

# Rows above the first entry: the heading 目录 and a blank line.
HEADING_ROWS = 2
# Continuation lines start two grid characters in.
HANGING_INDENT = FIRST_LINE_INDENT
# The column of page numbers (four digits and a gap) that text lines stay out of, and the
# shortest leader between a title's end and its page number.
NUMBER_COLUMN = 3 * BODY_SIZE
MIN_LEADER = 2 * BODY_SIZE
SEPARATOR = "　"


@dataclass(frozen=True)
class ContentsLine:
    unit: str  # printed in the 一级标题 face
    text: str
    hanging: bool
    last: bool


@dataclass(frozen=True)
class ContentsEntry:
    number: int  # the report's position in the volume, from 1
    lines: tuple[ContentsLine, ...]
    new_page: bool  # starts a page of the contents


@dataclass(frozen=True)
class Contents:
    entries: tuple[ContentsEntry, ...]
    pages: int


def _width(widths: list[float], start: int, end: int) -> float:
    """Width of characters start..end at the grid's letter-spacing (none after the last)."""
    return sum(widths[start:end]) + GRID_SPACING * max(end - start - 1, 0)


def break_entry(unit: str, title: str, roles: dict[str, RoleFont]) -> list[ContentsLine]:
    """The lines of one entry: ``unit　title``, the unit in the 一级标题 face."""
    text = f"{unit}{SEPARATOR}{title}"
    body, heading = advance_em(roles["body"]), advance_em(roles["heading1"])
    widths = [(heading if i < len(unit) else body)(char) * BODY_SIZE for i, char in enumerate(text)]
    ends = allowed_ends(text, body, BODY_SIZE)
    cuts, start = [], 0
    while True:
        room = TYPE_WIDTH - NUMBER_COLUMN - (HANGING_INDENT if cuts else 0.0)
        if _width(widths, start, len(text)) <= room - MIN_LEADER:
            break
        fitting = [j for j in ends if start < j and _width(widths, start, j) <= room]
        # No allowed end fits (a very long Latin word): cut where the room ends.
        end = fitting[-1] if fitting else _forced_end(widths, start, room)
        cuts.append(end)
        start = end
    if cuts and is_runt(text[cuts[-1] :]):
        # One character with the leader looks stranded: bring one more down.
        earlier = [j for j in ends if (cuts[-2] if len(cuts) > 1 else 0) < j < cuts[-1]]
        if earlier:
            cuts[-1] = earlier[-1]
    bounds = [0, *cuts, len(text)]
    return [
        ContentsLine(
            unit=text[a : min(b, len(unit))] if a < len(unit) else "",
            text=text[max(a, len(unit)) : b],
            hanging=index > 0,
            last=index == len(bounds) - 2,
        )
        for index, (a, b) in enumerate(pairwise(bounds))
    ]


def _forced_end(widths: list[float], start: int, room: float) -> int:
    end = start + 1
    while end < len(widths) - 1 and _width(widths, start, end + 1) <= room:
        end += 1
    return end


def lay_out_contents(docs: list[TypesetDocument], roles: dict[str, RoleFont]) -> Contents:
    """Every entry broken into lines and kept whole on a page of 22 grid lines."""
    entries, row, pages = [], HEADING_ROWS, 1
    for number, doc in enumerate(docs, start=1):
        lines = tuple(break_entry(doc.unit, doc.title, roles))
        new_page = row + len(lines) > LINES_PER_PAGE
        if new_page:
            row, pages = 0, pages + 1
        row += len(lines)
        entries.append(ContentsEntry(number, lines, new_page))
    return Contents(tuple(entries), pages)
