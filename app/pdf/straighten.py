"""Smaller outlines for the Fandol fonts, once, when ``make fonts`` unpacks them.

FandolFang's outlines were traced with many more points than Noto's (about 2.5× per character),
so each character it prints costs ~400 bytes of PDF against Noto's ~150. Four in ten of its
curves are straight lines within 1/1000 em (their control points lie on the chord), and many
lines continue one another. Drawing those curves as lines and joining lines that continue each
other moves no point of the outline by more than ``TOLERANCE`` font units (0.016 pt at 16 pt)
and makes the PDFs ~20 % smaller. Widths, names, metrics and everything but the glyph programs
stay as they were, and so does the file for the same input (no new timestamp), so that every
host makes byte-identical PDFs.

    python -m app.pdf.straighten SOURCE.otf TARGET.otf
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from fontTools.pens.basePen import AbstractPen
from fontTools.pens.t2CharStringPen import T2CharStringPen
from fontTools.ttLib import TTFont

TOLERANCE = 1.0  # font units (1000 per em): how far the outline may move

Point = tuple[float, float]


def _off_chord(point: Point, start: Point, end: Point) -> float:
    """How far ``point`` is from the segment start–end (infinite when it lies beyond an end:
    a line there would cut the outline short)."""
    (x, y), (x1, y1), (x2, y2) = point, start, end
    dx, dy = x2 - x1, y2 - y1
    length2 = dx * dx + dy * dy
    if length2 == 0:
        return math.hypot(x - x1, y - y1)
    along = ((x - x1) * dx + (y - y1) * dy) / length2
    if not -0.01 <= along <= 1.01:
        return math.inf
    return abs(dx * (y1 - y) - (x1 - x) * dy) / math.sqrt(length2)


class StraighteningPen(AbstractPen):
    """Passes an outline on to ``out`` with straight curves drawn as lines and lines that
    continue one another joined. Every point left out lies within ``tolerance`` of the line
    that replaces it, and a curve's shape lies within its control points, so the outline moves
    by at most ``tolerance``."""

    def __init__(self, out: AbstractPen, tolerance: float = TOLERANCE):
        self.out = out
        self.tolerance = tolerance
        self.current: Point | None = None
        self.line_start: Point | None = None  # where the line being extended starts
        self.skipped: list[Point] = []  # points the line being extended passes through

    def _near(self, points, start: Point, end: Point) -> bool:
        return all(_off_chord(p, start, end) <= self.tolerance for p in points)

    def _flush(self) -> None:
        if self.line_start is not None and self.current != self.line_start:
            self.out.lineTo(self.current)
        self.line_start, self.skipped = None, []

    def moveTo(self, point: Point) -> None:
        self._flush()
        self.out.moveTo(point)
        self.current = point

    def lineTo(self, point: Point) -> None:
        if self.line_start is not None and self._near(
            [*self.skipped, self.current], self.line_start, point
        ):
            self.skipped.append(self.current)
        else:
            self._flush()
            self.line_start = self.current
        self.current = point

    def curveTo(self, *points: Point) -> None:
        *controls, end = points
        if len(controls) == 2 and end != self.current and self._near(controls, self.current, end):
            self.lineTo(end)
            return
        self._flush()
        self.out.curveTo(*points)
        self.current = end

    def qCurveTo(self, *points: Point) -> None:
        self._flush()
        self.out.qCurveTo(*points)
        self.current = points[-1]

    def closePath(self) -> None:
        self._flush()
        self.out.closePath()

    def endPath(self) -> None:
        self._flush()
        self.out.endPath()

    def addComponent(self, glyph_name: str, transformation) -> None:
        self._flush()
        self.out.addComponent(glyph_name, transformation)


def straighten(source: Path, target: Path, tolerance: float = TOLERANCE) -> tuple[int, int]:
    """Write ``source`` (a CFF-flavoured OpenType font) to ``target`` with every glyph program
    redrawn through :class:`StraighteningPen` where that makes it shorter. Returns the total
    size of the glyph programs before and after."""
    font = TTFont(source, recalcTimestamp=False)
    cff = font["CFF "].cff
    charstrings = cff.topDictIndex[0].CharStrings
    advances = font["hmtx"].metrics
    before = after = 0
    for name in font.getGlyphOrder():
        old = charstrings[name]
        old.compile()
        old_size = len(old.bytecode)
        private = old.private  # a CID-keyed font has one Private DICT per font dict
        width = advances[name][0]
        default = getattr(private, "defaultWidthX", 0)
        pen = T2CharStringPen(
            None if width == default else width - getattr(private, "nominalWidthX", 0), None
        )
        old.draw(StraighteningPen(pen, tolerance))
        new = pen.getCharString(private=private, globalSubrs=cff.GlobalSubrs)
        new.compile()
        before += old_size
        if len(new.bytecode) < old_size:
            charstrings[name] = new
        after += min(len(new.bytecode), old_size)
    target.parent.mkdir(parents=True, exist_ok=True)
    font.save(target)
    return before, after


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m app.pdf.straighten SOURCE.otf TARGET.otf", file=sys.stderr)
        return 2
    before, after = straighten(Path(argv[0]), Path(argv[1]))
    print(f"{Path(argv[0]).name}: glyph programs {before // 1024} KB → {after // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
