"""Justified line breaking of Chinese paragraphs for the official-format PDF.

WeasyPrint's ``text-align: justify`` only stretches spaces, so Chinese lines come out ragged.
We break lines ourselves and give each line one CSS ``letter-spacing`` that makes it end
flush with the type area (GB/T 9704: 28 characters × 22 lines in 156 × 225 mm). The rules
follow W3C “Requirements for Chinese Text Layout” (clreq):

* 行首行尾禁则 (basic set, plus the GB rule that a solidus ends no line): pause/stop marks,
  closing quotes and brackets, connectors, interpuncts and ``%`` never start a line; opening
  quotes and brackets never end one. ——, …… and Latin/digit runs (``98.6%``, ``GDP``,
  ``5G``) are not split.
* 先挤进，后推出: when the next character may not start a line, squeeze it into the line if
  the line has to lose at most half an em; otherwise push the last character(s) down and
  spread the rest evenly. A line that half-width characters leave short takes in the next
  character too when squeezing it is the smaller change. A Latin/digit run is broken only
  when it is wider than a line or pushing it whole would spread the line by over ⅓ em a gap.
* The last line of a paragraph is set on the grid, left aligned.

How WeasyPrint 70 (Pango 1.50) renders it, measured (``bench/pdf_grid.py``,
``tests/test_pdf_linebreak.py``):

* letter-spacing moves each glyph after the first by the spacing and nothing follows the last
  glyph, so a line of *n* glyph clusters ends at ``indent + Σ advances + (n − 1) × spacing``.
  That is the arithmetic below; ``letter_spacing`` is the exact value, in pt.
* Inside one text box WeasyPrint writes each glyph's spacing as a whole number of 1/1000 em,
  rounded towards zero, and the error adds up: a 28-character line ends up to 0.5 pt short
  of the edge (beyond it when the spacing is negative). Boxes themselves are placed exactly,
  so the template puts each line's last glyph in an element of its own (``split_end``): the
  end is then within 0.05 pt.
* The advances must be the ones HarfBuzz uses: ``lang="zh-CN"`` (its ``locl`` makes — one em
  wide; Noto CJK then draws —— as one two-em glyph, which takes no spacing inside) and
  ``font-kerning: none``. Digits next to Latin letters are shaped as Latin, where Noto CJK's
  ``locl`` swaps them for wider figures: ``font-feature-settings: "locl" 0`` on such runs
  keeps the cmap figures.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate

# A line never starts with these (clreq 行首禁则, basic set; ASCII and full-width forms).
NO_START = frozenset(
    "，。、；：？！）》」』】〉”’…%,.;:?!)]}％．，：；！？）］｝〕〗〙〛〞‰℃°′″·・～/／-－–⋯"
)
# A line never ends with these (行尾禁则; the solidus too, as GB/T 15834 wants).
NO_END = frozenset("（《「『【〈“‘([{［｛〔〖〘〚〝￥$£¥＄€/／")
# Two of these in a row are one mark (——, ……) and stay together; a lone dash is a connector.
PAIRED = frozenset("—―…⋯")
# Inside a Latin/digit run these join: 98.6, 1,234, 2023-2024, A/B, C++.
JOINERS = frozenset(".,:/-+'&@#")
# Noto CJK draws —— as one two-em glyph (a ligature, after the zh-Hans locl makes each dash
# one em), and Pango spaces glyph clusters: no letter-spacing inside the pair.
_DASH_PAIR = re.compile("——|――")
# No break on either side.
GLUE = frozenset("\u00a0\u202f\u2060\ufeff\u200d")

SQUEEZE_MAX_EM = 0.5  # a line may lose at most this much to take in the next character
# The tightest neighbouring ideographs of Noto Serif CJK SC in real reports keep 0.04 em of
# white between their ink (0.031 em for the smallest side bearings seen): at −0.03 em they
# still do not touch. Latin capitals such as A have 0.007–0.012 em: lines with Latin letters
# are not squeezed below −0.015 em.
MIN_SPACING_EM = -0.03
MIN_LATIN_SPACING_EM = -0.015
_LATIN_LETTER = re.compile("[A-Za-z]")
# Pushing a whole Latin/digit run down may leave the line this loose at most (per gap);
# beyond that the run is broken instead, as a run longer than a line always is.
MAX_RUN_STRETCH_EM = 1 / 3
_EPS = 1e-6

_NS, _NE, _WORD, _JOIN, _NOGAP, _SPACE, _GLUE, _PAIR = (1 << i for i in range(8))


@dataclass(frozen=True)
class Line:
    """One line of a paragraph, set as a ``white-space: nowrap`` block with this letter-spacing
    and text-indent, its last glyph in an element of its own (see ``split_end``). The first
    line's indent is two characters of the grid (2 × (font size + grid spacing)), so that
    indented and full lines share columns."""

    text: str
    letter_spacing: float  # pt, applied to every character of the line (CSS letter-spacing)
    indent: float  # pt, text-indent of this line (2 em on a paragraph's first line, else 0)
    last: bool  # the paragraph's last line (not justified: uses the grid spacing)


def grid_spacing(font_size: float, line_width: float, chars_per_line: int) -> float:
    """Letter-spacing (pt) that puts exactly ``chars_per_line`` full-width characters on a
    line: the last one ends at ``line_width`` (there is no spacing after a line's last glyph).
    """
    if chars_per_line <= 1:
        return 0.0
    return (line_width - chars_per_line * font_size) / (chars_per_line - 1)


def split_end(text: str) -> tuple[str, str]:
    """A line's text as (body, end), for the template to put ``end`` in an element of its
    own: WeasyPrint places boxes exactly but rounds the spacing of each glyph inside a box.
    ``end`` is the last glyph, with trailing spaces; it starts at a letter or ideograph up to
    three glyphs back, since a box of punctuation alone is shaped without a script and loses
    the zh-Hans forms (a one-em —)."""
    end = len(text.rstrip(" ")) - 1
    if end < 0:
        return "", text
    while end > 0 and _CLASSES[text[end]] & _NOGAP:
        end -= 1  # combining marks and format characters stay with their base
    if end > 0 and _DASH_PAIR.match(text, end - 1):
        end -= 1  # —— is one glyph
    start = end
    while start > 0 and end - start < 3 and not _is_letter(text[start]):
        start -= 1
    if not _is_letter(text[start]):
        start = end
    return text[:start], text[start:]


def _is_letter(char: str) -> bool:
    return unicodedata.category(char)[0] == "L"


class _Classes(dict):
    """char → its line-breaking class bits, computed on first use."""

    def __missing__(self, char: str) -> int:
        bits = 0
        if char in NO_START:
            bits |= _NS
        if char in NO_END:
            bits |= _NE
        if char in PAIRED:
            bits |= _PAIR
        if char in JOINERS:
            bits |= _JOIN
        if char in GLUE:
            bits |= _GLUE
        if char == " ":
            bits |= _SPACE
        category = unicodedata.category(char)
        if category[0] == "M" or category == "Cf":
            bits |= _NOGAP  # combining marks and format characters join the previous cluster
        if char in "*_" or (
            char.isalnum()
            and (
                unicodedata.east_asian_width(char) not in "WF"
                or "\uff10" <= char <= "\uff5a"  # full-width digits and letters
            )
        ):
            bits |= _WORD
        self[char] = bits
        return bits


_CLASSES = _Classes()


class _Steps(dict):
    """char → its advance plus the grid spacing (pt), computed on first use. Characters
    without a width of their own (combining marks, format characters) take no spacing:
    Pango spaces glyph clusters, not characters."""

    def __init__(self, advance: Callable[[str], float], font_size: float, grid: float):
        super().__init__()
        self.advance, self.font_size, self.grid = advance, font_size, grid
        self.no_gap: set[str] = set()

    def __missing__(self, char: str) -> float:
        width = self.advance(char) * self.font_size
        if width <= 0.0 or _CLASSES[char] & _NOGAP:
            self.no_gap.add(char)
            step = max(width, 0.0)
        else:
            step = width + self.grid
        self[char] = step
        return step


_STEPS: dict[tuple[Callable[[str], float], float, float], _Steps] = {}


def _steps(advance: Callable[[str], float], font_size: float, grid: float) -> _Steps:
    # Reports reuse one advance function per face (fonts.advance_em), so this table is
    # built once per face and size; a few stale entries are dropped oldest first.
    key = (advance, font_size, grid)
    steps = _STEPS.get(key)
    if steps is None:
        while len(_STEPS) >= 16:
            _STEPS.pop(next(iter(_STEPS)))
        steps = _STEPS[key] = _Steps(advance, font_size, grid)
    return steps


# Names that official typesetting never splits across lines, and number ranges (1—10月).
KEEP_TOGETHER = ("习近平", "毛泽东", "邓小平", "江泽民", "胡锦涛", "马克思", "恩格斯", "列宁")
_NUMBER_RANGE = re.compile(r"\d[—–\-~～至]\d")


def _kept_together(text: str) -> set[int]:
    """Positions before which a line may not end: inside a protected name or a number range."""
    inside: set[int] = set()
    for name in KEEP_TOGETHER:
        start = text.find(name)
        while start != -1:
            inside.update(range(start + 1, start + len(name)))
            start = text.find(name, start + 1)
    for match in _NUMBER_RANGE.finditer(text):
        inside.update(range(match.start() + 1, match.end()))
    return inside


def break_paragraph(
    text: str,
    advance: Callable[[str], float],
    *,
    font_size: float,
    line_width: float,
    chars_per_line: int = 28,
    indent_chars: float = 2.0,
) -> list[Line]:
    """Break one paragraph (no newlines) into lines that fill ``line_width`` exactly.

    ``advance(char)`` is the character's advance in em. Every line but the last ends flush at
    ``line_width``; the first is indented by ``indent_chars`` grid characters, so that a
    paragraph of plain Chinese puts 26 + 28 + 28 … characters on its lines.
    """
    if not text:
        return []
    n = len(text)
    grid = grid_spacing(font_size, line_width, chars_per_line)
    floor = MIN_SPACING_EM * font_size
    latin_floor = MIN_LATIN_SPACING_EM * font_size
    squeeze_max = SQUEEZE_MAX_EM * font_size
    stretch_max = MAX_RUN_STRETCH_EM * font_size

    # reach[k]: where text[:k] would end at grid spacing, plus one spacing. The line
    # text[a:e] then ends at reach[e] − reach[a] − grid. The sums run in C (accumulate).
    steps = _steps(advance, font_size, grid)
    reach = [0.0, *accumulate(map(steps.__getitem__, text))]
    clusters = None  # clusters[k]: how many glyph clusters text[:k] has (spacing per cluster)
    no_gap = steps.no_gap
    if (no_gap and not no_gap.isdisjoint(text)) or "——" in text or "――" in text:
        starts = [char not in no_gap for char in text]
        for pair in _DASH_PAIR.finditer(text):
            starts[pair.start() + 1] = False
        clusters = [0, *accumulate(starts)]
        reach = [
            0.0,
            *accumulate(
                steps[char] - (0.0 if char in no_gap else grid) + (grid if start else 0.0)
                for char, start in zip(text, starts, strict=True)
            ),
        ]
    cls = _CLASSES
    kept_together = _kept_together(text)

    def allowed(j: int, relaxed: bool = False) -> bool:
        """May a line end before text[j]? ``relaxed`` lets Latin/digit runs break."""
        if j >= n:
            return True
        if j in kept_together and not relaxed:
            return False
        prev, char = text[j - 1], text[j]
        p, c = cls[prev], cls[char]
        if not (p | c):
            return True  # two ideographs
        if c & (_NOGAP | _GLUE | _SPACE) or p & (_NE | _GLUE) or char in steps.no_gap:
            return False
        if c & _PAIR:
            if prev == char:
                return False  # the second half of —— or ……
            if char in "…⋯" or j + 1 == n or text[j + 1] != char:
                return False  # an ellipsis, or a lone dash (a connector)
        elif c & _NS:
            return False
        if p & _SPACE or relaxed:
            return True
        if p & _WORD and c & _WORD:
            return False
        if c & _JOIN and p & _WORD and j + 1 < n and cls[text[j + 1]] & _WORD:
            return False
        return not (p & _JOIN and c & _WORD and j >= 2 and cls[text[j - 2]] & _WORD)

    def measure(a: int, e: int) -> tuple[float, int]:
        """Width of text[a:e] without spacing, and its number of gaps; trailing spaces,
        collapsed at the end of a nowrap line, do not count."""
        while e > a + 1 and text[e - 1] == " ":
            e -= 1
        gaps = (clusters[e] - clusters[a] if clusters else e - a) - 1
        return reach[e] - reach[a] - grid * (gaps + 1), gaps

    lines: list[Line] = []
    first_indent = indent_chars * (font_size + grid)
    start = 0
    while start < n:
        indent = first_indent if start == 0 else 0.0
        available = line_width - indent
        limit = reach[start] + grid + available + _EPS
        fit = bisect_right(reach, limit, start + 1) - 1  # the longest line at grid spacing
        if fit >= n:
            lines.append(_line(text[start:], grid, indent, True))
            break
        fit = max(fit, start + 1)
        # Push candidate: the last break at or before the fitting end.
        push = fit
        while push > start and not allowed(push):
            push -= 1
        # Squeeze candidate: the first break after it, if the line loses ≤ half an em.
        squeeze = fit + 1
        while not allowed(squeeze) and reach[squeeze] - limit <= squeeze_max:
            squeeze += 1
        end = 0
        if allowed(squeeze):
            width, gaps = measure(start, squeeze)
            overflow = width + grid * gaps - available
            if (
                overflow <= squeeze_max
                and gaps > 0
                and (available - width) / gaps >= floor
                and (push < fit or overflow < limit - reach[fit])
                and (
                    (available - width) / gaps >= latin_floor
                    or not _LATIN_LETTER.search(text, start, squeeze)
                )
            ):
                end = squeeze
        if not end and push > start:
            width, gaps = measure(start, push)
            if push == fit or (gaps > 0 and (available - width) / gaps <= stretch_max):
                end = push
        if not end:
            relaxed = fit  # break inside a Latin/digit run too long to push down
            while relaxed > start and not allowed(relaxed, relaxed=True):
                relaxed -= 1
            end = relaxed if relaxed > start else push if push > start else fit
        width, gaps = measure(start, end)
        spacing = (available - width) / gaps if gaps > 0 else grid
        last = end >= n
        if last:
            spacing = min(grid, spacing)
        lines.append(_line(text[start:end], spacing, indent, last))
        start = end
    return lines


def _line(text: str, spacing: float, indent: float, last: bool) -> Line:
    return Line(text, round(spacing, 4), round(indent, 4), last)
