"""How much a report body may hold: the limits saving enforces and an import stops at.

Counted on the text as it is stored, one paragraph per line: a line break is one character,
whether the browser sent it as CRLF (every textarea does) or not, and a paragraph is a line with
text. An imported file is held to the same limits, so its preview never shows a text that
could not be saved.
"""

from __future__ import annotations

from app.documents.structure import normalise_newlines, paragraphs

BODY_MAX_LENGTH = 200_000
# The sample reports average 200–300 characters a paragraph, so a report at the length limit has
# about a thousand. Ten times that (20 characters a paragraph on average) leaves room for long
# tables, whose rows become one paragraph each, while bounding what the checks, the preview and
# the PDF spend per paragraph.
BODY_MAX_PARAGRAPHS = 10_000

BODY_TOO_LONG = f"正文不能超过{BODY_MAX_LENGTH}个字。"
BODY_TOO_MANY_PARAGRAPHS = f"正文不能超过{BODY_MAX_PARAGRAPHS}段。"


def body_limit_error(body: str) -> str | None:
    """The message for a body over the limits, or None when it may be saved."""
    text = normalise_newlines(body)
    if len(text) > BODY_MAX_LENGTH:
        return BODY_TOO_LONG
    if len(paragraphs(text)) > BODY_MAX_PARAGRAPHS:
        return BODY_TOO_MANY_PARAGRAPHS
    return None
