"""What the lines need to know about glyphs beyond their advances.

* Which half of a full-width punctuation mark is blank. Punctuation compression (clreq 3.1.6,
  ``linebreak.py``) takes that half off; where it is depends on the font: Simplified Chinese
  fonts put the ink of ，。、；：？！ and of closing brackets in the left half and that of opening
  brackets in the right half, Traditional Chinese fonts centre some marks (those have no blank
  half to give). HarfBuzz shapes each mark as ``lang="zh-CN"`` text does and gives its ink.
* Glyphs of a heading face narrower than the body's. Lines are measured with the body face;
  a heading glyph of another width is set in a box of the body glyph's width. LXGW WenKai's
  “” ‘’ are 0.35 em where the body's are 1 em: a blank of 0.65 em beside them would read as a
  space when the text is extracted (poppler starts a word after a gap of 0.1 em), so such
  glyphs are widened in the document's copy of the face instead: advance set to the body's,
  outline moved so that the ink keeps to the side of the quoted words (``widen``). Only
  TrueType outlines are moved; differences under ``WIDEN_MIN_EM`` are left to margins.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import uharfbuzz as hb
from fontTools.ttLib import TTFont

from app.pdf.fonts import RoleFont, advance_em
from app.pdf.linebreak import LEFT, MARKS, RIGHT

# Ink this close to the middle of the em (in em) still counts as lying in one half.
_MIDDLE_TOLERANCE = 0.03
# A heading glyph at least this much narrower than the body's (em) is widened in the font.
WIDEN_MIN_EM = 0.05


@lru_cache(maxsize=16)
def _hb_font(path: Path, index: int, size: int, mtime_ns: int) -> hb.Font:
    return hb.Font(hb.Face(hb.Blob.from_file_path(str(path)), index))


def _font(role: RoleFont) -> hb.Font:
    stat = role.face.path.stat()
    return _hb_font(role.face.path, role.face.index, stat.st_size, stat.st_mtime_ns)


def blank_sides(role: RoleFont) -> Callable[[str], int]:
    """``linebreak.LEFT``/``RIGHT`` for a mark whose ink the role's face keeps in the other
    half of a one-em glyph, 0 for anything else (not compressed)."""
    sides = _sides(_font(role))
    return lambda char: sides.get(char, 0)


@lru_cache(maxsize=16)
def _sides(font: hb.Font) -> dict[str, int]:
    em = font.face.upem
    sides = {}
    for mark in sorted(MARKS):
        glyph, advance = _shaped(font, mark)
        extents = font.get_glyph_extents(glyph) if glyph else None
        if extents is None or extents.width <= 0 or abs(advance - em) > em * 0.02:
            continue  # not in the face, no ink, or not one em wide: nothing to compress
        ink_left = extents.x_bearing / em
        ink_right = ink_left + extents.width / em
        if ink_right <= 0.5 + _MIDDLE_TOLERANCE:
            sides[mark] = RIGHT
        elif ink_left >= 0.5 - _MIDDLE_TOLERANCE:
            sides[mark] = LEFT
    return sides


def _shaped(font: hb.Font, char: str) -> tuple[int, int]:
    """Glyph id and advance (font units) of ``char`` in Simplified Chinese text; 0 if the
    face has no single glyph for it."""
    buffer = hb.Buffer()
    buffer.add_str(char)
    buffer.guess_segment_properties()
    buffer.script, buffer.language = "Hani", "zh-Hans"  # the zh-Hans locl, as in the text
    hb.shape(font, buffer, {"kern": False})
    if len(buffer.glyph_infos) != 1:
        return 0, 0
    return buffer.glyph_infos[0].codepoint, buffer.glyph_positions[0].x_advance


def widening(role: RoleFont, body: RoleFont) -> Callable[[str], float]:
    """How much (em) ``widen`` makes the role's glyph for a character wider, so that it is as
    wide as the body's: 0 when the glyph is not narrower by ``WIDEN_MIN_EM`` or the face's
    outlines are not TrueType."""
    if "glyf" not in _font(role).face.table_tags:
        return lambda char: 0.0
    own, wanted = advance_em(role), advance_em(body)

    def extra(char: str) -> float:
        difference = wanted(char) - own(char)
        return difference if difference >= WIDEN_MIN_EM and own(char) > 0 else 0.0

    return extra


def ink_shift(char: str) -> float:
    """Which share of the extra width goes before the ink: all of it for opening brackets and
    quotes (the ink keeps to the words after them), none for closing ones, half otherwise."""
    category = unicodedata.category(char)
    if category in ("Ps", "Pi"):
        return 1.0
    return 0.0 if category in ("Pe", "Pf") else 0.5


def widen(font_data: bytes, extras: dict[str, float]) -> bytes:
    """A TrueType font (a document's subset) whose glyphs for ``extras`` are that many em
    wider, the outline moved by ``ink_shift`` of it."""
    font = TTFont(io.BytesIO(font_data), lazy=True, recalcBBoxes=False, recalcTimestamp=False)
    cmap, glyf, hmtx = font.getBestCmap(), font["glyf"], font["hmtx"]
    em = font["head"].unitsPerEm
    for char, extra in extras.items():
        name = cmap.get(ord(char))
        if name is None:
            continue
        advance, left_bearing = hmtx[name]
        units = round(extra * em)
        shift = round(units * ink_shift(char))
        glyph = glyf[name]
        if shift and glyph.numberOfContours:
            glyph.expand(glyf)
            if glyph.isComposite():
                for component in glyph.components:
                    component.x += shift
            else:
                glyph.coordinates.translate((shift, 0))
            glyph.recalcBounds(glyf)
            left_bearing = glyph.xMin
        hmtx[name] = (advance + units, left_bearing)
    output = io.BytesIO()
    font.save(output)
    return output.getvalue()
