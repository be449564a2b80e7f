"""Glyph spacing written as laid out, and compressed marks drawn narrower inside a text box.

WeasyPrint 70 writes how far each glyph inside a text box moves beyond the font's advance
(letter-spacing, in our lines) as a whole number of 1/1000 em, cut towards zero
(``draw_first_line``: ``int(kerning)``). Over a justified 28-character line the cuts add up to
half a point: the line stops short of the type area. Text boxes themselves are placed exactly,
so each justified line's last glyph used to be a box of its own, which costs WeasyPrint a
third of a page's layout.

Instead, WeasyPrint's function is compiled again here with that one number written to 1/100
of a unit: every line is one text box and ends within 0.03 pt of where it should (Pango's own
1/1024 px units).

The same function then narrows the compressed punctuation marks (clreq 3.1.6) of the text box
it draws, as its element's ``data-trims`` lists them (:func:`trims_attribute`): a mark's blank
half is taken off its glyph's advance, or off the one before it for a blank left half. Each
compressed mark had been an element with negative margins, a text box of its own: a quarter
of a page's layout. Only a line's last text box may be narrowed so, since WeasyPrint has
measured it before it is drawn and nothing after it on the line may move
(``typesetting.line_spans``).

It also reads each glyph's x offset in the right unit: WeasyPrint 70 divides Pango's 1/1024 px
by the font size alone, as if they were 1/1000 em, so every glyph after a text box's first
(Pango offsets it by half the letter-spacing) was drawn 2.4 % of that too far right.

When the function's source is not the one expected (another WeasyPrint), nothing is changed,
``EXACT`` is False and the typesetting goes back to boxes: each line's last glyph and each
compressed mark in a box of its own.
"""

from __future__ import annotations

import bisect
import inspect
import logging
from collections.abc import Iterable

from weasyprint.draw import text as weasyprint_text
from weasyprint.text.ffi import TO_UNITS, ffi, pango

log = logging.getLogger(__name__)

PX_PER_PT = 96 / 72  # WeasyPrint lays out in CSS pixels

# The three changes made to WeasyPrint's source, each found exactly once.
CHANGES = {
    # Spacing written to 1/100 of a unit instead of cut to a whole one.
    "f'>{int(kerning)}<'": "f'>{kerning:.2f}<'",
    # A glyph's x offset (Pango units, 1/1024 px) in 1/1000 em: WeasyPrint divides by the
    # font size alone, drawing every glyph after a text box's first 2.4 % of half the
    # letter-spacing too far right (0.05 pt on a line spread by 4 pt).
    "offset = glyph_info.geometry.x_offset / font_size": (
        "offset = glyph_info.geometry.x_offset * 1000 * FROM_UNITS / font_size"
    ),
    # Compressed marks narrowed before the line is drawn.
    "    stream.set_text_matrix(*matrix.values)\n": (
        "    trim_glyphs(textbox, first_line)\n    stream.set_text_matrix(*matrix.values)\n"
    ),
}


def trims_attribute(text: str, trims: Iterable[tuple[int, float, float]]) -> str:
    """``data-trims`` for a text box of ``text``: its length, then each compressed mark's
    position in it and the blank (pt) taken off its left and right."""
    return " ".join(
        [str(len(text)), *(f"{index}:{left:.4f}:{right:.4f}" for index, left, right in trims)]
    )


def _narrowed_by_byte(text: str, attribute: str) -> dict[int, float]:
    """What comes off each glyph's advance (pt), by the UTF-8 offset of its character."""
    length, *entries = attribute.split()
    if int(length) != len(text):
        raise ValueError(f"data-trims is for {length} characters, the text box has {len(text)}")
    offsets = [0]
    for char in text:
        offsets.append(offsets[-1] + len(char.encode()))
    narrowed: dict[int, float] = {}
    for entry in entries:
        index_text, left_text, right_text = entry.split(":")
        index, left, right = int(index_text), float(left_text), float(right_text)
        if not 0 <= index < len(text) or (left and index == 0):
            raise ValueError(f"data-trims {entry!r} outside the text box of {text!r}")
        if left:
            narrowed[offsets[index - 1]] = narrowed.get(offsets[index - 1], 0.0) + left
        if right:
            narrowed[offsets[index]] = narrowed.get(offsets[index], 0.0) + right
    return narrowed


def trim_glyphs(textbox, first_line) -> None:
    """Narrow the glyphs of the compressed marks ``textbox``'s element lists, unless they
    already are: a text box drawn again keeps its layout, or Pango lays it out anew (then
    every glyph has its full width again)."""
    element = textbox.element
    attribute = element.get("data-trims") if element is not None else None
    if not attribute:
        return
    layout = textbox.pango_layout
    try:
        narrowed = _narrowed_glyphs(layout.text, attribute, first_line)
    except ValueError as error:
        # The typesetting lists marks only in text that is drawn character for character, left
        # to right, in the role's own face (typesetting._drawn_as_written): anything else is
        # a bug, and a line a little long is better than a PDF refused.
        log.error("Compressed marks left at full width: %s", error)
        return
    trimmed_widths = getattr(layout, "trimmed_widths", {})
    for position, (geometry, units) in narrowed.items():
        if trimmed_widths.get(position) != geometry.width:
            geometry.width -= units
            trimmed_widths[position] = geometry.width
    layout.trimmed_widths = trimmed_widths


def _narrowed_glyphs(text: str, attribute: str, first_line) -> dict[int, tuple[object, int]]:
    """By position in the line's glyphs: the geometry to narrow and by how much (Pango units).
    The blank after a character is its cluster's (after a ligature, the ligature's)."""
    clusters, glyph_infos = [], []  # in drawing order: where each glyph's cluster starts
    run = first_line.runs[0]
    while run != ffi.NULL:
        glyph_item = run.data
        run = run.next
        glyphs, start = glyph_item.glyphs, glyph_item.item.offset
        for index in range(glyphs.num_glyphs):
            clusters.append(start + glyphs.log_clusters[index])
            glyph_infos.append(glyphs.glyphs[index])
    if clusters != sorted(clusters):
        raise ValueError(f"the glyphs of {text!r} are not drawn left to right")
    narrowed: dict[int, tuple[object, int]] = {}
    for offset, points in _narrowed_by_byte(text, attribute).items():
        position = bisect.bisect_right(clusters, offset) - 1
        glyph = glyph_infos[position].glyph if position >= 0 else pango.PANGO_GLYPH_EMPTY
        # WeasyPrint writes an empty or missing glyph's advance into the font's widths.
        if glyph == pango.PANGO_GLYPH_EMPTY or glyph & pango.PANGO_GLYPH_UNKNOWN_FLAG:
            raise ValueError(f"byte {offset} of {text!r} is not drawn by a glyph of a font")
        geometry, units = narrowed.get(position, (glyph_infos[position].geometry, 0))
        narrowed[position] = (geometry, units + round(points * PX_PER_PT * TO_UNITS))
    return narrowed


def _write_spacing_exactly() -> bool:
    function = weasyprint_text.draw_first_line
    if getattr(function, "exact_spacing", False):
        return True
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        source = ""
    if any(source.count(before) != 1 for before in CHANGES):
        log.warning("WeasyPrint's draw_first_line is not the one expected: spacing left as is")
        return False
    # Blank lines first, so that a traceback names the line of WeasyPrint's file (the one
    # line added comes before the drawing starts).
    padding = "\n" * (inspect.getsourcelines(function)[1] - 1)
    for before, after in CHANGES.items():
        source = source.replace(before, after)
    code = compile(
        padding + source,
        weasyprint_text.__file__,
        "exec",
        dont_inherit=True,  # none of this module's __future__ flags
    )
    namespace = vars(weasyprint_text)
    namespace["trim_glyphs"] = trim_glyphs
    exec(code, namespace)  # WeasyPrint's own source with the three changes
    weasyprint_text.draw_first_line.exact_spacing = True
    return True


EXACT = _write_spacing_exactly()
