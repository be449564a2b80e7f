"""Glyph spacing written as laid out.

WeasyPrint 70 writes how far each glyph inside a text box moves beyond the font's advance
(letter-spacing, in our lines) as a whole number of 1/1000 em, cut towards zero
(``draw_first_line``: ``int(kerning)``). Over a justified 28-character line the cuts add up to
half a point: the line stops short of the type area. Text boxes themselves are placed exactly,
so each justified line's last glyph used to be a box of its own, which costs WeasyPrint a
third of a page's layout.

Instead, WeasyPrint's function is compiled again here with that one number written to 1/100
of a unit: every line is one text box and ends within 0.03 pt of where it should (Pango's own
1/1024 pt units). When the function's source is not the one expected (another WeasyPrint),
nothing is changed, ``EXACT`` is False and the typesetting puts each line's last glyph in a
box of its own as before (``typesetting.line_spans``).
"""

from __future__ import annotations

import inspect
import logging

from weasyprint.draw import text as weasyprint_text

log = logging.getLogger(__name__)

CUT = "f'>{int(kerning)}<'"
EXACT_FORMAT = "f'>{kerning:.2f}<'"


def _write_spacing_exactly() -> bool:
    function = weasyprint_text.draw_first_line
    if getattr(function, "exact_spacing", False):
        return True
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        source = ""
    if source.count(CUT) != 1:
        log.warning("WeasyPrint's draw_first_line is not the one expected: spacing left as is")
        return False
    # Blank lines first, so that a traceback names the line of WeasyPrint's file.
    padding = "\n" * (inspect.getsourcelines(function)[1] - 1)
    code = compile(
        padding + source.replace(CUT, EXACT_FORMAT),
        weasyprint_text.__file__,
        "exec",
        dont_inherit=True,  # none of this module's __future__ flags
    )
    exec(code, vars(weasyprint_text))  # WeasyPrint's own source, one format changed
    weasyprint_text.draw_first_line.exact_spacing = True
    return True


EXACT = _write_spacing_exactly()
