"""A report laid out on the GB/T 9704-2012 grid, in Python, before WeasyPrint sees it.

Each line is broken by our own line breaker (``linebreak.py``) and becomes a ``nowrap`` block
whose letter-spacing makes it end flush with the type area (WeasyPrint does not justify Chinese
text); compressed punctuation marks are drawn narrower (``exact_spacing``) or, where that cannot
be, spans with negative margins. Page breaks are planned on
the grid (``pagination.py``), title lines broken between words (``titles.py``). The result,
a :class:`TypesetDocument`, is what the templates (``html.py``) print.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import pairwise

from app.documents.structure import Block, parse
from app.pdf.exact_spacing import EXACT, trims_attribute
from app.pdf.fonts import RoleFont, advance_em, lacked_by_own_face
from app.pdf.glyphs import blank_sides, ink_shift, widening
from app.pdf.linebreak import LEFT, RIGHT, Line, break_paragraph, grid_spacing, split_end
from app.pdf.pagination import LINES_PER_PAGE, BlockRows, keeps, page_starts
from app.pdf.titles import title_lines

MM = 72 / 25.4


TYPE_WIDTH = 156 * MM


TYPE_HEIGHT = 225 * MM


CHARS_PER_LINE = 28


BODY_SIZE = 16.0


GRID_SPACING = round(grid_spacing(BODY_SIZE, TYPE_WIDTH, CHARS_PER_LINE), 4)


FIRST_LINE_INDENT = 2 * (BODY_SIZE + grid_spacing(BODY_SIZE, TYPE_WIDTH, CHARS_PER_LINE))


# Rounded down so that 22 lines never overflow the type area by a rounding error.
LINE_PITCH = math.floor(TYPE_HEIGHT / LINES_PER_PAGE * 1000) / 1000


TITLE_SIZE = 22.0


@dataclass(frozen=True)
class HistoryLine:
    """One step of the 审批记录 page: who did what when, and the opinion given with it (the
    reason for a return, the group's 答复意见, the approval note), as written."""

    actor: str
    role: str
    event: str
    time: str
    opinion: str = ""


@dataclass(frozen=True)
class PdfSource:
    """Everything a PDF shows; two equal sources give byte-identical PDFs."""

    title: str
    body: str
    unit: str
    period: str
    signed_on: date | None
    stamped: bool = False
    history: tuple[HistoryLine, ...] = field(default=())


@dataclass(frozen=True)
class Span:
    """A run of one line in one role's font. A span with margins is one glyph: negative
    margins take a compressed mark's blank half off (clreq 3.1.6), positive ones widen a
    heading glyph to the width the line was measured with."""

    text: str
    role: str
    left: float = 0.0  # pt, CSS margin-left
    right: float = 0.0  # pt, CSS margin-right
    box: bool = False  # the last glyph of a justified line: a box of its own
    # A character the role's own face lacks: another face draws it, whose ascent would move
    # the line's baseline off the grid unless the text is an element (line-height 0).
    foreign: bool = False
    # Compressed marks drawn narrower (exact_spacing.trim_glyphs): position in ``text``, and
    # the blank (pt) taken off their left and right.
    trims: tuple[tuple[int, float, float], ...] = ()

    @property
    def trims_attribute(self) -> str:
        return trims_attribute(self.text, self.trims)

    @property
    def element(self) -> bool:
        """Needs an element of its own (plain body text is written as it is)."""
        return self.role != "body" or self.box or self.foreign or bool(self.left or self.right)

    @property
    def style(self) -> str:
        margins = (("margin-left", self.left), ("margin-right", self.right))
        return ";".join(f"{name}:{value:.4f}pt" for name, value in margins if value)


@dataclass(frozen=True)
class TypesetLine:
    spans: tuple[Span, ...]
    letter_spacing: float
    indent: float
    bookmark_level: int = 0
    bookmark_label: str = ""

    @property
    def grid(self) -> bool:
        """Set at the grid spacing, which the stylesheet gives every line by default."""
        return abs(self.letter_spacing - GRID_SPACING) < 0.00005

    @property
    def text(self) -> str:
        return "".join(span.text for span in self.spans)


def _role_of(block: Block) -> str:
    if block.kind == "heading" and block.level == 1:
        return "heading1"
    if block.kind == "heading" and block.level == 2:
        return "heading2"
    return "body"


HEADING_ROLES = ("heading1", "heading2")


class _Faces:
    """What the line breaker and the spans need of a document's faces."""

    def __init__(self, roles: dict[str, RoleFont]):
        self.body = advance_em(roles["body"])
        self.body_blank = blank_sides(roles["body"])
        self.own = {role: advance_em(roles[role]) for role in HEADING_ROLES}
        self.widened = {role: widening(roles[role], roles["body"]) for role in HEADING_ROLES}
        self.own_blank = {role: blank_sides(roles[role]) for role in HEADING_ROLES}
        self.lacks = {role: lacked_by_own_face(roles[role]) for role in ("body", *HEADING_ROLES)}

    def blank(self, role: str) -> Callable[[str], int]:
        """The blank side of each mark for a block in ``role``'s face: in a heading, a mark is
        compressed only where both faces leave the same half blank (a widened glyph keeps its
        ink beside the words, as the body's)."""
        if role == "body":
            return self.body_blank
        own, widened = self.own_blank[role], self.widened[role]

        def agreed(char: str) -> int:
            side = self.body_blank(char)
            shift = ink_shift(char)
            wide = LEFT if shift == 1.0 else RIGHT if shift == 0.0 else 0
            return side if side == (own(char) or (wide if widened(char) else 0)) else 0

        return agreed

    def padding(self, role: str, char: str) -> tuple[float, float]:
        """Margins (pt) that give a heading glyph the width of the body's, which the line was
        measured with, where the heading face's copy is not widened (``glyphs.widen``): the
        extra room on the blank side of a bracket or quote, evenly around anything else."""
        own = self.own[role](char) + self.widened[role](char)
        extra = (self.body(char) - own) * BODY_SIZE
        if abs(extra) < 0.005:
            return 0.0, 0.0
        before = ink_shift(char) * extra
        return before, extra - before


def line_spans(line: Line, heading_chars: int, role: str, faces: _Faces) -> tuple[Span, ...]:
    """A broken line as spans: its first ``heading_chars`` characters in the heading's
    ``role``; a compressed or widened glyph with its margins at the end of a span (a right
    margin) or at its start (a left one), with the plain text before or after it, since
    WeasyPrint's cost goes with the number of text boxes; the compressed marks of the line's
    last text box are drawn narrower instead (``Span.trims``). Only where WeasyPrint cuts each
    glyph's spacing to 1/1000 em (``exact_spacing.EXACT`` false) is the last glyph of a
    justified line a box of its own (boxes are placed exactly, so the line ends flush) and
    every compressed mark a box with margins."""
    text = line.text
    heading_chars = min(heading_chars, len(text))
    margins = _margins(line, heading_chars, role, faces)
    if EXACT and margins.get(len(text) - 1, (0.0, 0.0))[1]:
        # Nothing follows the last glyph: its right margin would move nothing and cost a box.
        left = margins.pop(len(text) - 1)[0]
        if left:
            margins[len(text) - 1] = (left, 0.0)
    last_role = "body" if heading_chars < len(text) else role
    drawn = _drawn_narrower(text, heading_chars, margins, faces.lacks[last_role]) if EXACT else {}
    end = len(text) if line.last or EXACT else len(split_end(text)[0]) or len(text)
    if not line.last and not EXACT and len(text) - 1 in margins:
        end = len(text) - 1
    cuts = {0, len(text), heading_chars, end, *margins, *(i + 1 for i in margins)}
    spans: list[Span] = []
    for a, b in pairwise(sorted(cuts)):
        left, right = margins.get(a, (0.0, 0.0)) if b == a + 1 else (0.0, 0.0)
        piece = Span(text[a:b], role if a < heading_chars else "body", left, right, a == end)
        last = spans[-1] if spans else None
        if last and last.role == piece.role and not (last.right or piece.left or piece.box):
            spans[-1] = Span(last.text + piece.text, last.role, last.left, piece.right)
        else:
            spans.append(piece)
    spans = [
        replace(span, foreign=True) if any(map(faces.lacks[span.role], span.text)) else span
        for span in spans
    ]
    if drawn:
        start = len(text) - len(spans[-1].text)
        assert min(drawn) >= start, "a mark drawn narrower outside the line's last text box"
        trims = tuple((index - start, left, right) for index, (left, right) in drawn.items())
        spans[-1] = replace(spans[-1], trims=trims)
    return tuple(spans)


# Bidirectional classes that resolve left to right in a Chinese line; anything else (Hebrew,
# Arabic letters and digits, combining marks, controls…) may be reordered or drawn by glyphs
# of no width.
_LEFT_TO_RIGHT = frozenset({"L", "EN", "ES", "ET", "CS", "ON"})


class _OneGlyphLeftToRight(dict):
    """By character: not white space (collapsed), a format character (a soft hyphen is
    dropped), a combining mark or variation selector (a glyph without advance), nor written
    right to left. Filled on first use of each character."""

    def __missing__(self, char: str) -> bool:
        plain = self[char] = not (
            char.isspace()
            or unicodedata.category(char) in ("Zs", "Zl", "Zp", "Cc", "Cf", "Mn", "Me")
            or unicodedata.bidirectional(char) not in _LEFT_TO_RIGHT
        )
        return plain


_ONE_GLYPH_LEFT_TO_RIGHT = _OneGlyphLeftToRight()


def _drawn_as_written(text: str, lacks: Callable[[str], bool]) -> bool:
    """Whether WeasyPrint and Pango draw ``text`` one glyph a character, left to right, in the
    role's own face (nothing it lacks: another font's widths, or no glyph at all). The
    positions of ``data-trims`` count characters, and each narrows a glyph of the face."""
    return all(map(_ONE_GLYPH_LEFT_TO_RIGHT.__getitem__, text)) and not any(map(lacks, text))


def _drawn_narrower(
    text: str,
    heading_chars: int,
    margins: dict[int, tuple[float, float]],
    lacks: Callable[[str], bool],
) -> dict[int, tuple[float, float]]:
    """The compressed marks of the line's last text box, taken out of ``margins``: they are
    drawn narrower instead of being boxes with negative margins (``exact_spacing``). That box
    starts after the heading's run-in text and after any heading glyph given room; a blank
    left half at its start stays a margin (there is no glyph before it to narrow), and a box
    with characters not drawn one glyph of the face a character keeps its margins
    (``_drawn_as_written``; ``lacks``: what the box's role's own face has no glyph for)."""
    start = heading_chars if heading_chars < len(text) else 0
    for index, (left, right) in margins.items():
        if left > 0 or right > 0:
            start = max(start, index + 1)
    if not _drawn_as_written(text[start:], lacks):
        return {}
    drawn = {}
    for index in sorted(i for i in margins if i >= start):
        left, right = margins.pop(index)
        if index == start and left:
            margins[index] = (left, 0.0)
            left = 0.0
        if left or right:
            drawn[index] = (-left, -right)
    return drawn


def _margins(
    line: Line, heading_chars: int, role: str, faces: _Faces
) -> dict[int, tuple[float, float]]:
    """Margins (pt) by position: negative for compressed marks, positive for heading glyphs
    narrower than the body's that are not widened in the face."""
    margins = {trim.index: (-trim.left, -trim.right) for trim in line.trims}
    for i in range(heading_chars if role != "body" else 0):
        left, right = faces.padding(role, line.text[i])
        if left or right:
            old_left, old_right = margins.get(i, (0.0, 0.0))
            margins[i] = (old_left + left, old_right + right)
    return margins


def _heading_chars(block: Block) -> int:
    if block.kind != "heading":
        return 0
    return len(block.text) if not block.rest else len(block.heading)


def typeset_block(block: Block, faces: _Faces) -> list[TypesetLine]:
    role = _role_of(block)
    lines: list[Line] = break_paragraph(
        block.text,
        faces.body,
        font_size=BODY_SIZE,
        line_width=TYPE_WIDTH,
        chars_per_line=CHARS_PER_LINE,
        blank=faces.blank(role),
    )
    heading_left = _heading_chars(block) if role != "body" else 0
    result = []
    for index, line in enumerate(lines):
        level = block.level if block.kind == "heading" and index == 0 and block.level <= 2 else 0
        result.append(
            TypesetLine(
                spans=line_spans(line, heading_left, role, faces),
                letter_spacing=line.letter_spacing,
                indent=line.indent,
                bookmark_level=level,
                bookmark_label=block.heading if level else "",
            )
        )
        heading_left = max(0, heading_left - len(line.text))
    return result


def _block_rows(block: Block, lines: list[TypesetLine]) -> BlockRows:
    """Rows of a block, and how many of them carry its heading (for the page breaks)."""
    heading_left, heading_rows = _heading_chars(block), 0
    for line in lines:
        if heading_left <= 0:
            break
        heading_rows += 1
        heading_left -= len(line.text)
    return BlockRows(len(lines), heading_rows)


def signature_offsets(unit: str, signed: str, roles: dict[str, RoleFont]) -> tuple[float, float]:
    """Right padding (pt) of the unit name and of the date, as GB/T 9704 7.3.5.2 places them
    without a seal: the name two characters in from the right, the date on the next line
    starting two characters right of the name's first character; a date longer than the
    name ends two characters in from the right and pushes the name left accordingly."""
    advance = advance_em(roles["body"])
    pitch = BODY_SIZE + grid_spacing(BODY_SIZE, TYPE_WIDTH, CHARS_PER_LINE)

    def width(text: str) -> float:
        spacing = pitch - BODY_SIZE  # between characters, none after the last
        return sum(advance(char) * BODY_SIZE for char in text) + spacing * max(len(text) - 1, 0)

    two = 2 * pitch
    name_width, date_width = width(unit), width(signed)
    if date_width <= name_width:
        name_right = two
        date_right = name_right + name_width - two - date_width
    else:
        date_right = two
        name_right = date_right + date_width + two - name_width
    return name_right, max(date_right, 0.0)


def chinese_date(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


@dataclass(frozen=True)
class TypesetDocument:
    """One report laid out on the grid, ready for the template. Its rows are the title lines,
    a blank line, the text lines and, when signed, a blank line, the unit and the date;
    ``page_starts`` are the rows that begin a new page (``pagination.py``)."""

    title: str
    title_lines: list[str]
    lines: list[TypesetLine]
    unit: str
    signed: str
    name_right: float
    date_right: float
    page_starts: frozenset[int] = frozenset()

    @property
    def first_text_row(self) -> int:
        return len(self.title_lines) + 1

    @property
    def first_signature_row(self) -> int:
        return self.first_text_row + len(self.lines)


SIGNATURE_ROWS = 3  # a blank line, the unit, the date


def typeset(source: PdfSource, roles: dict[str, RoleFont]) -> TypesetDocument:
    blocks = parse(source.body)
    title = source.title
    # A body that starts with its own title line prints it once, as the title — unless a
    # different title was given, which wins (the line then stays in the text).
    if (
        blocks
        and blocks[0].kind == "title"
        and (not title.strip() or "".join(title.split()) == "".join(blocks[0].text.split()))
    ):
        title = blocks[0].text
        blocks = blocks[1:]
    signed = chinese_date(source.signed_on) if source.signed_on else ""
    name_right, date_right = signature_offsets(source.unit, signed, roles) if signed else (0, 0)
    faces = _Faces(roles)
    typeset_blocks = [typeset_block(block, faces) for block in blocks]
    heading_lines = title_lines(title, advance_em(roles["title"]), TITLE_SIZE, TYPE_WIDTH)
    keep = keeps(
        len(heading_lines) + 1,
        [_block_rows(block, lines) for block, lines in zip(blocks, typeset_blocks, strict=True)],
        SIGNATURE_ROWS if signed else 0,
    )
    return TypesetDocument(
        title=title,
        title_lines=heading_lines,
        lines=[line for lines in typeset_blocks for line in lines],
        unit=source.unit,
        signed=signed,
        name_right=name_right,
        date_right=date_right,
        page_starts=frozenset(page_starts(keep, LINES_PER_PAGE)),
    )


def predicted_pages(doc: TypesetDocument) -> int:
    """Pages a report takes: its page breaks are decided on the grid (``pagination.py``) and
    forced in the HTML."""
    return 1 + len(doc.page_starts)
