"""Where the pages of a report break, decided on the grid before WeasyPrint lays it out.

Every row of the page — title lines, the blank line, text lines, the signature — is one grid
line, 22 to a page, so the page breaks follow from which rows must stay with the next one:

* 孤行 (widow): a paragraph's last line never starts a page alone;
* a paragraph's first line never ends a page alone (orphan);
* 背题: a heading never ends a page: the lines that carry it and the next two lines stay
  together (a run-in heading included, so its paragraph shows at least two more lines);
* the signature never stands alone: the last two lines of text go with it;
* the title and the blank line below it go with what follows.

A page whose last rows must go with the next is ended early (its last grid lines stay
blank), and every page after the first starts with a forced break in the HTML, so that
WeasyPrint and ``predicted_pages`` agree by construction. If rows that must stay together fill
a whole page (two dozen headings in a row), the page is simply filled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

LINES_PER_PAGE = 22
HEADING_FOLLOWERS = 2  # lines after a heading that stay on its page
CLOSING_LINES = 2  # lines of text that go with the signature


@dataclass(frozen=True)
class BlockRows:
    """How many rows a block of text takes and how many of the first carry its heading."""

    rows: int
    heading_rows: int = 0


def keeps(title_rows: int, blocks: Sequence[BlockRows], signature_rows: int) -> list[bool]:
    """For each row of the report, whether it must stay on the page of the row after it."""
    keep = [True] * title_rows  # the title rows and the blank line below them
    heading_ends = []
    for block in blocks:
        first = len(keep)
        keep.extend([False] * block.rows)
        if block.rows >= 2:
            keep[first] = True  # no orphan
            keep[first + block.rows - 2] = True  # no widow
        if block.heading_rows:
            keep[first : first + block.heading_rows] = [True] * block.heading_rows
            heading_ends.append(first + block.heading_rows - 1)
    text_end = len(keep)
    for end in heading_ends:
        for row in range(end, min(end + HEADING_FOLLOWERS, text_end)):
            keep[row] = True
    if signature_rows:
        for row in range(max(title_rows, text_end - CLOSING_LINES), text_end):
            keep[row] = True
        keep.extend([True] * (signature_rows - 1) + [False])
    if keep:
        keep[-1] = False
    return keep


def page_starts(keep: Sequence[bool], per_page: int = LINES_PER_PAGE) -> list[int]:
    """The rows that start a page, the first excepted: each page as full as the keeps allow."""
    starts, start, total = [], 0, len(keep)
    while total - start > per_page:
        end = start + per_page  # the first row of the next page, if the page is full
        while end > start + 1 and keep[end - 1]:
            end -= 1
        if end == start + 1 and keep[start]:
            end = start + per_page  # everything here holds together: fill the page
        starts.append(end)
        start = end
    return starts
