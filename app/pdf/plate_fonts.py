"""Fonts a plate embeds only to drop them, not cut down first.

WeasyPrint cuts each font it embeds down to the glyphs the document prints. A plate's font
programs are dropped (``joining.drop_font_programs``): the volume embeds one program per face
of its own. For the faces we give WeasyPrint, that cut was wasted work, ~0.09 s of CPU a batch
of plates, since they keep the faces' 65,535 glyph slots (``fonts.subset_face``). Inside
:func:`kept_whole`, WeasyPrint embeds the files it is given as they are; a font it found
itself (fontconfig's, for a character no role face has) is still cut, since its program
stays in the plate.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from weasyprint.pdf.fonts import Font

_WHOLE: ContextVar[frozenset[bytes]] = ContextVar("fonts kept whole", default=frozenset())


def _subset_unless_kept_whole(cut):
    def subset(self: Font, to_unicode, hinting) -> None:
        whole = _WHOLE.get()
        if not (whole and self.file_content in whole):  # (no hashing a file in other PDFs)
            cut(self, to_unicode, hinting)

    subset.cuts_unless_kept_whole = True
    return subset


if not getattr(Font.subset, "cuts_unless_kept_whole", False):
    Font.subset = _subset_unless_kept_whole(Font.subset)


@contextmanager
def kept_whole(files: Iterable[bytes]) -> Iterator[None]:
    """WeasyPrint embeds these font files uncut in what it writes meanwhile (this thread)."""
    token = _WHOLE.set(frozenset(files))
    try:
        yield
    finally:
        _WHOLE.reset(token)
