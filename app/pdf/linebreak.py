"""Justified line breaking of Chinese paragraphs for the official-format PDF.

WeasyPrint's ``text-align: justify`` only stretches spaces, so Chinese lines come out ragged.
We break lines ourselves and give each line one CSS ``letter-spacing`` that makes it end
flush with the type area (GB/T 9704: 28 characters × 22 lines in 156 × 225 mm). The rules
follow W3C “Requirements for Chinese Text Layout” (clreq):

* 行首行尾禁则 (basic set, plus the GB rule that a solidus ends no line): pause/stop marks,
  closing quotes and brackets, connectors, interpuncts and ``%`` never start a line; opening
  quotes and brackets never end one. ——, …… and Latin/digit runs (``98.6%``, ``GDP``,
  ``5G``) are not split; nor are leaders' names and number ranges (``KEEP_TOGETHER``).
* 标点挤压 (clreq 3.1.6): a full-width mark whose ink sits in one half of its em has a blank
  half. Two marks in a row (”， 》、《 。”) always lose one blank half between them (2 em →
  1.5 em; 1.55 em: see ``INNER_TRIM_EM``). A line that is too long first takes blank halves
  off its own marks, in clreq's
  order (3.5.3): the mark at the line end (GB/T 15834 5.1.10 sets it half width), an opening
  bracket at the line start, brackets, then ，、；：, then 。？！ — equally within a group — and
  only then closes up the letter-spacing, down to ``MIN_SPACING_EM``.
* 先挤进，后推出: each line takes the break, among the few around the point where the grid
  spacing runs out, whose line needs the least change of letter-spacing, compressed marks
  costing a little too; pushing a character down spreads the line. A Latin/digit run is
  broken only when it is wider than a line or pushing it whole would spread the line by
  over ⅓ em a gap.
* 孤字 (clreq 3.4.4): a paragraph's last line never holds a single character (with its
  stops) when re-breaking the last lines avoids it.
* The last line of a paragraph is set on the grid, left aligned.

How WeasyPrint 70 (Pango 1.50) renders it, measured (``bench/pdf_grid.py``,
``tests/test_pdf_linebreak.py``):

* letter-spacing moves each glyph after the first by the spacing and nothing follows the last
  glyph, so a line of *n* glyph clusters ends at ``indent + Σ advances + (n − 1) × spacing
  − Σ trims``. That is the arithmetic below; ``letter_spacing`` is the exact value, in pt.
  A trimmed mark is set in an element of its own with a negative margin on its blank side.
* Inside one text box WeasyPrint writes each glyph's spacing as a whole number of 1/1000 em,
  rounded towards zero, and the error adds up: a 28-character line ends up to 0.5 pt short
  of the edge (beyond it when the spacing is negative). ``exact_spacing`` makes it write the
  spacing to 1/100 of a unit, so that a line in one text box ends within 0.03 pt; where that
  cannot be done, each line's last glyph is an element of its own (``split_end``: boxes are
  placed exactly).
* The advances must be the ones HarfBuzz uses: ``lang="zh-CN"`` (its ``locl`` makes — one em
  wide; Noto CJK then draws —— as one two-em glyph, which takes no spacing inside) and
  ``font-kerning: none``. Digits next to Latin letters are shaped as Latin, where Noto CJK's
  ``locl`` swaps them for wider figures: ``font-feature-settings: "locl" 0`` on such runs
  keeps the cmap figures.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import accumulate, pairwise

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

# Which side of a full-width mark is blank: the ink of an opening bracket or quote sits in the
# right half of its em, that of a closing one and of the Simplified Chinese pause and stop
# marks in the left half (GB/T 15834 偏左). ``blank`` functions answer one of these.
LEFT, RIGHT = 1, 2
OPENING = frozenset("“‘（《〈「『【〔〖〘〚［｛")
CLOSING = frozenset("”’）》〉」』】〕〗〙〛］｝")
PAUSES = frozenset("，、；：")
STOPS = frozenset("。？！")
MARKS = OPENING | CLOSING | PAUSES | STOPS
_MARK = re.compile("[" + re.escape("".join(sorted(MARKS))) + "]")
# Groups of marks a line compresses, in clreq's order, after the line end and line start.
_GROUPS = (OPENING | CLOSING, PAUSES, STOPS)
# A mark inside a line gives up at most this much of its blank half (a mark at the line end
# or start gives the whole half). Each glyph keeps its full em box in the PDF however close
# the next one is set, and poppler (pdftotext) ends a word, and the line with it, where two
# boxes overlap by half an em: 0.45 em, with the tightest letter-spacing, overlap 0.48 em.
INNER_TRIM_EM = 0.45

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
# How far past the grid's last character a line may reach and still be squeezed: marks give
# at most half an em each, letter-spacing about half an em a line.
SQUEEZE_SCAN_EM = 3.0
# Break choice: a line's badness is the square of its change of letter-spacing, in 1/16 em
# (1 pt at 三号); each em taken off marks inside the line costs MARK_COST, off the mark at
# the line end (half width by GB/T 15834 5.1.10 anyway) END_COST. So a line rather loses a
# mark's blank half than spreads by a pushed character (0.6 pt a gap: 0.38).
MARK_COST = 0.15
END_COST = 0.02
# A spread beyond this (pt per gap at 三号) costs steeply more: such a line looks loose.
LOOSE = 0.8
_EPS = 1e-6

_NS, _NE, _WORD, _JOIN, _NOGAP, _SPACE, _GLUE, _PAIR = (1 << i for i in range(8))


@dataclass(frozen=True)
class Trim:
    """Blank taken off a punctuation mark's em (pt): the template sets the mark in an element
    of its own with these as negative margins."""

    index: int  # position of the mark in the line's text
    left: float = 0.0
    right: float = 0.0


@dataclass(frozen=True)
class Line:
    """One line of a paragraph, set as a ``white-space: nowrap`` block with this letter-spacing
    and text-indent (see ``exact_spacing`` on how it then ends flush). The first
    line's indent is two characters of the grid (2 × (font size + grid spacing)), so that
    indented and full lines share columns."""

    text: str
    letter_spacing: float  # pt, applied to every character of the line (CSS letter-spacing)
    indent: float  # pt, text-indent of this line (2 em on a paragraph's first line, else 0)
    last: bool  # the paragraph's last line (not justified: uses the grid spacing)
    trims: tuple[Trim, ...] = ()  # compressed punctuation marks, by position in ``text``


def grid_spacing(font_size: float, line_width: float, chars_per_line: int) -> float:
    """Letter-spacing (pt) that puts exactly ``chars_per_line`` full-width characters on a
    line: the last one ends at ``line_width`` (there is no spacing after a line's last glyph).
    """
    if chars_per_line <= 1:
        return 0.0
    return (line_width - chars_per_line * font_size) / (chars_per_line - 1)


def conventional_blank(char: str) -> int:
    """The blank side of a full-width mark in Simplified Chinese fonts (GB/T 15834): right of
    pause and stop marks and closing brackets, left of opening ones; 0 for other characters.
    ``punctuation.blank_sides`` reads it from a font's glyphs instead."""
    if char in OPENING:
        return LEFT
    return RIGHT if char in MARKS else 0


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


def is_runt(text: str) -> bool:
    """A paragraph's last line that holds one character, with its marks at most (孤字)."""
    return sum(1 for char in text if unicodedata.category(char)[0] not in "PZ") <= 1


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


@dataclass(frozen=True)
class _Setting:
    """The measure every line of a paragraph is set to."""

    font_size: float
    line_width: float
    grid: float  # letter-spacing of the grid (pt)
    first_indent: float  # pt

    @property
    def half(self) -> float:
        """What a mark at the line end or start gives up (pt)."""
        return self.font_size / 2

    @property
    def inner(self) -> float:
        """What a mark inside the line gives up at most (pt)."""
        return self.font_size * INNER_TRIM_EM


@dataclass(frozen=True)
class _Option:
    """One way to end a line: its letter-spacing, how much each group of marks gives up
    (pt, in the order of ``_Paragraph.resources``) and what it costs."""

    end: int
    spacing: float
    cost: float
    taken: tuple[float, ...] = ()


class _Marks:
    """Where a paragraph's compressible marks are, and which blank halves the pairs of marks
    in a row (clreq 3.1.6.2: 2 em → 1.5 em) already use."""

    def __init__(self, text: str, advance: Callable[[str], float], blank: Callable[[str], int]):
        self.side: dict[int, int] = {}  # position → blank side, for one-em marks
        for match in _MARK.finditer(text):
            side = blank(match.group()) if abs(advance(match.group()) - 1.0) < 0.02 else 0
            if side:
                self.side[match.start()] = side
        self.pairs = self._pairs()  # junction (position of the 2nd mark) → (mark, side)
        self.junctions = sorted(self.pairs)
        # A blank half facing one already taken stays: two boxes overlap by 0.45 em at most.
        used = {mark for mark, _ in self.pairs.values()}
        used.update(j for j, (mark, _) in self.pairs.items() if mark != j)
        free = [i for i in self.side if i not in used]
        # Free blank halves by group: right-hand ones, and the left-hand ones of openings.
        self.right = [[i for i in free if self.side[i] == RIGHT and text[i] in g] for g in _GROUPS]
        self.left = [i for i in free if self.side[i] == LEFT]

    def _pairs(self) -> dict[int, tuple[int, int]]:
        """Two marks in a row give up one blank half between them: the first one's right,
        else the second one's left."""
        side, pairs = self.side, {}
        for index in side:
            if index - 1 in side:
                if side[index - 1] == RIGHT:
                    pairs[index] = (index - 1, RIGHT)
                elif side[index] == LEFT:
                    pairs[index] = (index, LEFT)
        return pairs

    def pairs_inside(self, start: int, end: int) -> int:
        """Pairs compressed inside text[start:end] (a break between two marks parts them)."""
        return bisect_left(self.junctions, end) - bisect_left(self.junctions, start + 1)

    def groups_inside(self, start: int, end: int) -> list[list[int]]:
        """The free marks of each group inside the line, its first and last character apart
        (those are the line-start and line-end resources)."""
        groups = [_between(marks, start, end - 1) for marks in self.right]
        groups[0] = sorted(groups[0] + _between(self.left, start + 1, end - 1))
        return groups

    def counts_inside(self, start: int, end: int) -> list[int]:
        """How many marks ``groups_inside`` finds in each group (without listing them)."""
        counts = [bisect_left(marks, end - 1) - bisect_left(marks, start) for marks in self.right]
        counts[0] += bisect_left(self.left, end - 1) - bisect_left(self.left, start + 1)
        return counts


def _between(positions: list[int], start: int, end: int) -> list[int]:
    return positions[bisect_left(positions, start) : bisect_left(positions, end)]


class _Paragraph:
    """One paragraph being broken: prefix sums of its advances, its marks, its break rules."""

    def __init__(
        self,
        text: str,
        advance: Callable[[str], float],
        blank: Callable[[str], int],
        setting: _Setting,
    ):
        self.text, self.n, self.setting = text, len(text), setting
        grid = setting.grid
        steps = _steps(advance, setting.font_size, grid)
        self.no_gap = steps.no_gap
        # reach[k]: where text[:k] would end at grid spacing, plus one spacing. The line
        # text[a:e] then ends at reach[e] − reach[a] − grid. The sums run in C (accumulate).
        self.reach = [0.0, *accumulate(map(steps.__getitem__, text))]
        self.clusters: list[int] | None = None  # glyph clusters in text[:k] (spacing per cluster)
        if (self.no_gap and not self.no_gap.isdisjoint(text)) or "——" in text or "――" in text:
            self._count_clusters(steps)
        self.kept = _kept_together(text)
        self.marks = _Marks(text, advance, blank)
        self.options: dict[tuple[int, int], _Option | None] = {}

    def _count_clusters(self, steps: _Steps) -> None:
        text, no_gap, grid = self.text, self.no_gap, self.setting.grid
        starts = [char not in no_gap for char in text]
        for pair in _DASH_PAIR.finditer(text):
            starts[pair.start() + 1] = False
        self.clusters = [0, *accumulate(starts)]
        self.reach = [
            0.0,
            *accumulate(
                steps[char] - (0.0 if char in no_gap else grid) + (grid if start else 0.0)
                for char, start in zip(text, starts, strict=True)
            ),
        ]

    # --- where a line may end -------------------------------------------------------------

    def allowed(self, j: int, relaxed: bool = False) -> bool:
        """May a line end before text[j]? ``relaxed`` lets Latin/digit runs break."""
        if j >= self.n:
            return True
        if j in self.kept and not relaxed:
            return False
        text = self.text
        prev, char = text[j - 1], text[j]
        p, c = _CLASSES[prev], _CLASSES[char]
        if not (p | c):
            return True  # two ideographs
        if c & (_NOGAP | _GLUE | _SPACE) or p & (_NE | _GLUE) or char in self.no_gap:
            return False
        if c & _PAIR:
            if not self._dash_may_start(j):
                return False
        elif c & _NS:
            return False
        if p & _SPACE or relaxed:
            return True
        return not self._inside_word(j, p, c)

    def _dash_may_start(self, j: int) -> bool:
        """—— may start a line; its second half, an ellipsis or a lone dash (a connector) not."""
        text, char = self.text, self.text[j]
        if text[j - 1] == char or char in "…⋯":
            return False
        return j + 1 < self.n and text[j + 1] == char

    def _inside_word(self, j: int, p: int, c: int) -> bool:
        """Is j inside a Latin/digit run (joiners such as . , - included)?"""
        if p & _WORD and c & _WORD:
            return True
        text, n = self.text, self.n
        if c & _JOIN and p & _WORD and j + 1 < n and _CLASSES[text[j + 1]] & _WORD:
            return True
        return bool(p & _JOIN and c & _WORD and j >= 2 and _CLASSES[text[j - 2]] & _WORD)

    # --- what a line costs ----------------------------------------------------------------

    def measure(self, start: int, end: int) -> tuple[float, int]:
        """Width of text[start:end] at zero spacing, pairs of marks compressed, and its number
        of gaps; trailing spaces, collapsed at the end of a nowrap line, do not count."""
        while end > start + 1 and self.text[end - 1] == " ":
            end -= 1
        clusters = self.clusters
        gaps = (clusters[end] - clusters[start] if clusters else end - start) - 1
        pairs = self.marks.pairs_inside(start, end)
        width = self.reach[end] - self.reach[start] - self.setting.grid * (gaps + 1)
        return width - pairs * self.setting.inner, gaps

    def resources(self, start: int, end: int) -> list[tuple[float, float, int]]:
        """What the line can give up before its letter-spacing closes up, in clreq's order:
        (pt, cost per em, marks sharing it) for the line end, the line start, then each group."""
        half, side = self.setting.half, self.marks.side
        found = [
            (half if side.get(end - 1) == RIGHT else 0.0, END_COST, 1),
            (half if side.get(start) == LEFT else 0.0, MARK_COST, 1),
        ]
        for count in self.marks.counts_inside(start, end):
            found.append((self.setting.inner * count, MARK_COST, count))
        return found

    def option(self, start: int, end: int) -> _Option | None:
        """The line text[start:end] set flush, or None when it cannot be."""
        key = (start, end)
        if key not in self.options:
            self.options[key] = self._option(start, end)
        return self.options[key]

    def _option(self, start: int, end: int) -> _Option | None:
        setting = self.setting
        available = setting.line_width - (setting.first_indent if start == 0 else 0.0)
        width, gaps = self.measure(start, end)
        excess = width + setting.grid * gaps - available
        if excess <= _EPS:
            if end >= self.n or gaps <= 0:
                return _Option(end, setting.grid, 0.0)  # a last line sits on the grid
            spacing = setting.grid - excess / gaps
            return _Option(end, spacing, _badness(spacing - setting.grid, setting.font_size))
        taken, cost = [], 0.0
        for capacity, price, _ in self.resources(start, end):
            take = min(capacity, excess)
            taken.append(take)
            excess -= take
            cost += price * take / setting.font_size
        if excess <= _EPS:
            return _Option(end, setting.grid, cost, tuple(taken))
        if gaps <= 0:
            return None
        spacing = setting.grid - excess / gaps
        latin = _LATIN_LETTER.search(self.text, start, end)
        floor = (MIN_LATIN_SPACING_EM if latin else MIN_SPACING_EM) * setting.font_size
        if spacing < floor - _EPS:
            return None
        badness = _badness(spacing - setting.grid, setting.font_size)
        return _Option(end, spacing, cost + badness, tuple(taken))

    # --- choosing the breaks --------------------------------------------------------------

    def fit(self, start: int) -> int:
        """Where a line from ``start`` would end at grid spacing (the longest that fits)."""
        setting = self.setting
        available = setting.line_width - (setting.first_indent if start == 0 else 0.0)
        limit = self.reach[start] + setting.grid + available + _EPS
        return max(bisect_right(self.reach, limit, start + 1) - 1, start + 1)

    def candidates(self, start: int, pushes: int = 2) -> Iterator[int]:
        """Ends worth trying for a line from ``start``: the last ``pushes`` breaks at or before
        the point where the grid spacing runs out (pushing), then those after it that
        squeezing might reach."""
        fit = self.fit(start)
        found, push = 0, fit
        while push > start and found < pushes:
            if self.allowed(push):
                found += 1
                yield push
            push -= 1
        reach_max = self.reach[fit] + SQUEEZE_SCAN_EM * self.setting.font_size
        squeeze = fit + 1
        while squeeze <= self.n and self.reach[squeeze] <= reach_max:
            if self.allowed(squeeze):
                yield squeeze
            squeeze += 1

    def best_end(self, start: int) -> int:
        best = None
        for end in self.candidates(start):
            option = self.option(start, end)
            if option is not None and (best is None or option.cost < best.cost):
                best = option
                if best.cost <= 0.0:
                    break  # on the grid, nothing compressed: nothing is better
        stretch_max = MAX_RUN_STRETCH_EM * self.setting.font_size
        if best is not None and best.spacing - self.setting.grid <= stretch_max:
            return best.end
        return self._forced_end(start)

    def _forced_end(self, start: int) -> int:
        """No break keeps the rules without a gaping line: break inside a Latin/digit run too
        long to push down, else at the last allowed break, else where the line is full."""
        fit = self.fit(start)
        relaxed = fit
        while relaxed > start and not self.allowed(relaxed, relaxed=True):
            relaxed -= 1
        if relaxed > start:
            return relaxed
        return next((end for end in self.candidates(start) if end <= fit), fit)

    def ends(self) -> list[int]:
        """Greedy breaks, line after line; then a runt last line mended (clreq 3.4.4)."""
        ends, start = [], 0
        while start < self.n:
            start = self.best_end(start)
            ends.append(start)
        if len(ends) >= 2 and is_runt(self.text[ends[-2] :]):
            ends = self._mend_runt(ends)
        return ends

    def _mend_runt(self, ends: list[int]) -> list[int]:
        """Re-break the last two lines, else the last three, so that the last line holds two
        characters or more: a character comes down from the line before (前一行取一字)."""
        for lines in (2, 3):
            if len(ends) < lines:
                break
            start = ends[-lines - 1] if len(ends) > lines else 0
            found = self._tail(start, lines)
            if found is not None:
                return ends[: len(ends) - lines] + found[1]
        return ends

    def _tail(self, start: int, lines: int) -> tuple[float, list[int]] | None:
        """The cheapest breaks of text[start:] into at most ``lines`` lines whose last line is
        no runt and fits (None if there are none)."""
        last = self.option(start, self.n)
        if last is not None and not is_runt(self.text[start:]):
            return last.cost, [self.n]
        if lines <= 1:
            return None
        best: tuple[float, list[int]] | None = None
        for end in self.candidates(start, pushes=4):  # a runt may need two characters more
            option = self.option(start, end) if end < self.n else None
            rest = self._tail(end, lines - 1) if option is not None else None
            if rest is not None and (best is None or option.cost + rest[0] < best[0]):
                best = (option.cost + rest[0], [end, *rest[1]])
        return best

    # --- the lines ------------------------------------------------------------------------

    def line(self, start: int, end: int) -> Line:
        option = self.option(start, end)
        setting = self.setting
        indent = setting.first_indent if start == 0 else 0.0
        if option is None:  # a forced break: as close to flush as the spacing allows
            width, gaps = self.measure(start, end)
            available = setting.line_width - indent
            spacing = (available - width) / gaps if gaps > 0 else setting.grid
            option = _Option(end, spacing if end < self.n else min(spacing, setting.grid), 0.0)
        trims = self._trims(start, end, option.taken)
        return Line(
            self.text[start:end],
            round(option.spacing, 4),
            round(indent, 4),
            end >= self.n,
            tuple(Trim(i - start, round(left, 4), round(right, 4)) for i, left, right in trims),
        )

    def _trims(self, start: int, end: int, taken: tuple[float, ...]) -> list[tuple]:
        """(mark, left, right) for every mark the line compresses: the pairs, then what the
        option took from the line end, the line start and each group (shared equally)."""
        marks = self.marks
        found: dict[int, float] = {}
        for junction in marks.junctions[
            bisect_left(marks.junctions, start + 1) : bisect_left(marks.junctions, end)
        ]:
            found[marks.pairs[junction][0]] = self.setting.inner
        if taken:
            groups = [[end - 1], [start], *marks.groups_inside(start, end)]
            for amount, group in zip(taken, groups, strict=True):
                for mark in group if amount > _EPS else ():
                    found[mark] = found.get(mark, 0.0) + amount / len(group)
        side = marks.side
        return [
            (i, amount if side[i] == LEFT else 0.0, amount if side[i] == RIGHT else 0.0)
            for i, amount in sorted(found.items())
        ]


def _badness(change: float, font_size: float) -> float:
    """How bad a change of letter-spacing (pt) looks, in (1/16 em)²; steeper past LOOSE."""
    sixteenths = change * 16 / font_size
    loose = max(0.0, sixteenths - LOOSE)
    return sixteenths * sixteenths + 10 * loose * loose


def break_paragraph(
    text: str,
    advance: Callable[[str], float],
    *,
    font_size: float,
    line_width: float,
    chars_per_line: int = 28,
    indent_chars: float = 2.0,
    blank: Callable[[str], int] = conventional_blank,
) -> list[Line]:
    """Break one paragraph (no newlines) into lines that fill ``line_width`` exactly.

    ``advance(char)`` is the character's advance in em; ``blank(char)`` which half of a
    full-width mark is blank (``LEFT``, ``RIGHT`` or 0: not compressible). Every line but the
    last ends flush at ``line_width``; the first is indented by ``indent_chars`` grid
    characters, so that a paragraph of plain Chinese puts 26 + 28 + 28 … characters on its
    lines.
    """
    if not text:
        return []
    grid = grid_spacing(font_size, line_width, chars_per_line)
    setting = _Setting(font_size, line_width, grid, indent_chars * (font_size + grid))
    paragraph = _Paragraph(text, advance, blank, setting)
    starts = [0, *paragraph.ends()]
    return [paragraph.line(a, e) for a, e in pairwise(starts)]


def allowed_ends(text: str, advance: Callable[[str], float], font_size: float) -> list[int]:
    """Where a line of ``text`` may end (before ``text[j]``, 0 < j < len), by the same rules
    as :func:`break_paragraph`: for lines that are not justified (the volume's contents)."""
    setting = _Setting(font_size, 0.0, 0.0, 0.0)
    paragraph = _Paragraph(text, advance, conventional_blank, setting)
    return [j for j in range(1, len(text)) if paragraph.allowed(j)]
