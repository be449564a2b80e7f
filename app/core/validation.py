"""Rules that operations of several features share for text people type or paste.

Invisible characters. Text pasted from web pages, Word or chat apps often carries characters
that show nothing: zero-width spaces and joiners (U+200B–U+200D, U+2060), a byte-order mark
(U+FEFF), soft hyphens (U+00AD), C1 controls (U+0080–U+009F), and bidirectional controls
(U+202A–U+202E, U+2066–U+2069, U+200E/U+200F) that reorder what is shown: ``admin\\u200b``
looks like ``admin``, and ``U+202E`` makes ``报告‮fdp.exe`` read as ``报告exe.pdf``. Every
character of Unicode's categories Cf (format) and Cc (control) is therefore **stripped**, in
one place (:data:`INVISIBLE`), from every name, title, comment and body before it is stored
and from every download's file name. Stripped rather than refused: they cannot be seen, so a
refusal would ask people to delete what they cannot find; and what remains is exactly the
text that was visible (a bidi override only changed the display order; the stored order is
the logical one). The whitespace controls (tab, line feed, carriage return…) are not stripped
but folded like any whitespace; the forms refuse the other C0 controls earlier, with a message
(app.core.forms). Nothing else changes: no Unicode normalisation of titles or names, because
NFKC turns full-width “１（２）” into “1(2)” and NFC replaces CJK compatibility ideographs, and
that would silently change visible Chinese text. Kept on purpose: private-use characters
(units' own 造字 glyphs) and variation selectors (异体字 in names); lost: the zero-width
joiner inside emoji sequences, which government reports do not need.

Usernames are stricter: NFKC first (full-width ``ａdmin`` is ``admin``), then only ASCII
letters, digits and ``. _ -``, and unique ignoring case (:func:`username_key`).
"""

from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute

from app.core.exceptions import RuleViolation
from app.core.extensions import db

# Unicode's Cf and Cc characters (tests/test_input_limits.py checks against unicodedata that
# none is missing), except the whitespace controls, which whitespace folding handles.
INVISIBLE = re.compile(
    "["
    "\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\xad"
    "\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f"
    "]"
)
USERNAME = re.compile(r"[A-Za-z0-9._-]+")
USERNAME_MESSAGE = "用户名只能使用英文字母、数字和“.”“_”“-”，不能有汉字、空格或其他符号。"
# What a downloaded file's name must not carry: path separators and the characters Windows
# refuses in names.
_FILENAME_UNSAFE = re.compile(r'[\\/:*?"<>|]')


def strip_invisible(text: str) -> str:
    """``text`` without its invisible format and control characters (see the module's doc)."""
    return INVISIBLE.sub("", text)


def clean_line(value: str | None, what: str, max_length: int, *, required: bool = True) -> str:
    """One line of text (a title, a name): invisible characters stripped, runs of whitespace
    (line breaks included) folded to one space, length checked."""
    value = " ".join(strip_invisible(value or "").split())
    if not value and required:
        raise RuleViolation(f"请填写{what}。")
    if len(value) > max_length:
        raise RuleViolation(f"{what}不能超过{max_length}个字。")
    return value


def clean_name(value: str | None, what: str, max_length: int) -> str:
    """A name (unit, group, period, person): a required :func:`clean_line`."""
    return clean_line(value, what, max_length)


def clean_text(value: str | None) -> str:
    """Several lines (a comment, a report's body): invisible characters stripped, line breaks
    and tabs kept, carriage returns made line feeds, the ends trimmed."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    return strip_invisible(text).strip()


def normalise_username(value: str | None) -> str:
    """A username as typed, in the form it is stored and looked up: invisible characters
    stripped, NFKC (full-width letters become ASCII), surrounding spaces trimmed."""
    return unicodedata.normalize("NFKC", strip_invisible(value or "")).strip()


def username_key(value: str) -> str:
    """What two usernames must not share: ``Admin``, ``ａdmin`` and ``admin`` are one."""
    return normalise_username(value).casefold()


def safe_filename(name: str, suffix: str = "", max_length: int = 150) -> str:
    """A download's file name made of user text: no invisible characters, no path separators
    or characters Windows refuses (each becomes ``_``), whitespace folded, no leading dot,
    ``name`` cut at ``max_length`` before ``suffix``."""
    name = _FILENAME_UNSAFE.sub("_", " ".join(strip_invisible(name).split()))
    name = name.lstrip(". ")[:max_length].rstrip(" ") or "_"
    return name + suffix


def check_unique(
    column: InstrumentedAttribute[str], value: str, current_id: int | None, message: str
) -> None:
    query = sa.select(column.class_.id).where(column == value)
    if current_id is not None:
        query = query.where(column.class_.id != current_id)
    if db.session.scalar(query) is not None:
        raise RuleViolation(message)


class Checks:
    """Runs each check of a form's input and keeps every refusal, so that a form is refused
    once with all its problems, not one problem per try::

        checks = Checks()
        name = checks(clean_name, raw, "姓名", 64)
        checks(check_password_strength, password)
        checks.done()  # RuleViolation with every message, if any check failed
    """

    def __init__(self) -> None:
        self.problems: list[str] = []

    def __call__(self, check, *args, **kwargs):
        try:
            return check(*args, **kwargs)
        except RuleViolation as refusal:
            self.problems.extend(refusal.messages)
            return None

    def done(self) -> None:
        if self.problems:
            raise RuleViolation("".join(self.problems), messages=list(self.problems))
