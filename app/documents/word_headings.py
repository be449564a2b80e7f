"""Word's headings, written into the text as the official heading labels they stand for.

A report's text marks a heading by its label alone (一、（一）1.（1）, app.documents.structure).
In Word a heading is a paragraph style (标题 1, Heading 1, and the styles based on them) or an
outline level set on a paragraph or its style, often with no number at all: imported as it is,
such a heading reads as a paragraph that lost its full stop, and the lists under it run on into
the next section's. So the import finds the paragraphs Word treats as headings and, where
neither Word's numbering nor the writer gave one a label, writes the label of its level,
counted as Word counts headings: each level from one under the heading above it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from app.documents.structure import (
    heading_level,
    heading_number_of,
    looks_like_title,
    official_label,
)
from app.documents.word_numbering import KeptElement, _int, _val, full_width_parens, qn

# Word writes the built-in names in English whatever the language of its menus; WPS and
# LibreOffice may write them in the user's language (标题 1, Überschrift 1, Titre 1…). Style ids
# are localised too: Chinese Word calls heading 1 "1", so the name and the outline level decide.
HEADING_NAME = re.compile(
    r"^(?:heading|标题|標題|überschrift|titre|título|titolo|kop|заголовок)\s*([1-9])$",
    re.IGNORECASE,
)
TITLE_NAMES = {"title", "标题", "標題", "titel", "titre", "título", "titolo"}
BODY_TEXT_OUTLINE = 9  # w:outlineLvl 9: body text, not a heading, whatever the style says
OFFICIAL_LEVELS = 4
HALF_WIDTH_LEVEL_ONE = re.compile(r"^([一二三四五六七八九十]{1,3})[.．](?!\d)")  # “一.”
LABEL = re.compile(r"^\S+?[、.．）]")  # an official label at the start of a line
HEADING_EXCERPT = 20
MAX_HEADING_NUMBER = 99  # the labels structure.heading_level reads: 九十九、 and 99.
TITLE = 0  # what level_of answers for the document title's style

LIST_RELEVELLED = (
    "此段起的 {count} 段在 Word 中是自动编号的列表，编号与上面的标题“{heading}”同一层次或更高，"
    "导入时已改为标题下一级的“{label}”等序号，请核对。"
)
NUMBERED_HEADINGS = (
    "Word 中设为标题（标题样式或大纲级别）、但没有“一、（一）1.（1）”序号的段落共 {count} 段，"
    "导入时已按标题层次补上序号（{labels}），请核对。"
)


@dataclass
class HeadingStyles:
    """Which paragraph styles are headings, and of which Word level (1–9)."""

    styles: dict[str, KeptElement]  # styleId -> w:style
    _levels: dict[str, int | None] = field(default_factory=dict)

    def level_of(self, style_id: str | None, outline: str | None) -> int | None:
        """A paragraph's heading level from its own outline level, else its style's; TITLE for
        the title style; None for body text."""
        own = _outline(outline)
        if own is not None:
            return None if own >= BODY_TEXT_OUTLINE else own + 1
        return self._style_level(style_id or "")

    def _style_level(self, style_id: str) -> int | None:
        """Along w:basedOn: the nearest outline level or heading name (followed once per style)."""
        path: dict[str, None] = {}  # in order, and a cycle of w:basedOn ends the walk at once
        current: str | None = style_id
        level: int | None = None
        while current in self.styles and current not in self._levels and current not in path:
            path[current] = None
            found, level = _own_level(self.styles[current])
            if found:
                break
            current = _val(self.styles[current], "w:basedOn")
        else:
            level = self._levels.get(current or "")
        for style in path:
            self._levels[style] = level
        return level


def _outline(value: str | None) -> int | None:
    level = _int(value)
    return None if level is None or level < 0 else min(level, BODY_TEXT_OUTLINE)


def _own_level(style: KeptElement) -> tuple[bool, int | None]:
    """What a style says itself: (whether it says anything, the level)."""
    outline = _outline(_val(style, "w:pPr", "w:outlineLvl"))
    if outline is not None:
        return True, None if outline >= BODY_TEXT_OUTLINE else outline + 1
    for name in (_val(style, "w:name"), style.get(qn("w:styleId"))):
        name = (name or "").strip()
        if match := HEADING_NAME.match(name):
            return True, int(match.group(1))
        if name.lower() in TITLE_NAMES:
            return True, TITLE
    return False, None


@dataclass(frozen=True)
class WordHeading:
    line: int  # 0-based index in the imported lines
    level: int  # Word's heading level, 1–9, or TITLE


def number_headings(
    lines: list[str], headings: list[WordHeading]
) -> tuple[list[str], list[int], str | None]:
    """The lines with a label written before each Word heading that has none.

    Word's levels are mapped onto the official ones: a level whose labelled headings mostly
    carry one official level keeps it; the others take the next official level below the Word
    level above them. The first line stays the document's title when it is the title style or
    the only heading of its level (标题 1 over sections in 标题 2). Returns the lines, the
    indexes of the lines that got a label, and a note for the user (None when nothing changed).
    """
    headings = [heading for heading in headings if heading.level != TITLE]
    if headings and headings[0].line == 0 and _is_title(lines[0]):
        first = headings[0]
        if all(heading.level != first.level for heading in headings[1:]):
            headings = headings[1:]
    votes: dict[int, Counter[int]] = {}
    for heading in headings:
        typed = heading_level(_typed(lines[heading.line]))
        if typed:
            votes.setdefault(heading.level, Counter())[typed] += 1
    official: dict[int, int] = {}
    above = 0
    for level in sorted({heading.level for heading in headings}):
        above = votes[level].most_common(1)[0][0] if level in votes else above + 1
        official[level] = above
    counters = [0] * (OFFICIAL_LEVELS + 1)
    numbered: list[int] = []
    used: dict[str, None] = {}
    lines = list(lines)
    for heading in headings:
        text = lines[heading.line]
        level = heading_level(_typed(text))
        if level:
            number = heading_number_of(_typed(text))
            counters[level] = counters[level] if number is None else number
        else:
            level = official[heading.level]
            if level > OFFICIAL_LEVELS or counters[level] >= MAX_HEADING_NUMBER:
                continue  # deeper than （1）, or past 99 (not read as a label): left as it is
            counters[level] += 1
            label = official_label(level, counters[level])
            lines[heading.line] = label + text
            numbered.append(heading.line)
            used.setdefault(official_label(level, 1), None)
        for deeper in range(level + 1, OFFICIAL_LEVELS + 1):
            counters[deeper] = 0
    if not numbered:
        return lines, [], None
    labels = "".join(f"“{label}”" for label in sorted(used, key=heading_level))
    return lines, numbered, NUMBERED_HEADINGS.format(count=len(numbered), labels=labels)


def _is_title(text: str) -> bool:
    return not heading_level(_typed(text)) and looks_like_title(text)


def _typed(text: str) -> str:
    """A heading's text with a label typed the half-width way, “(一)” or “一.”, read as the
    official one: it is the writer's own number, not to be numbered again."""
    return HALF_WIDTH_LEVEL_ONE.sub(r"\1、", full_width_parens(text), count=1)


def relevel_lists(lines: list[str], items: list[int]) -> tuple[list[str], list[tuple[int, str]]]:
    """Lists numbered by Word at a heading's own level or above (a “（一）” list under “（一）”
    or “一、”) written one official level below the heading they stand under.

    ``items`` are the lines Word's numbering labelled; the other labelled lines are headings.
    The lists under one heading move down together, so a nested list stays a level below its
    parent. Returns the lines and, for each heading with moved lists, the first moved line and
    a note.
    """
    lines = list(lines)
    listed = set(items)
    notes: list[tuple[int, str]] = []
    heading = ""  # the heading above
    shift: int | None = None  # how far its lists move down; None before its first list item
    moved: list[int] = []

    def note_moved() -> None:
        if moved:
            first = lines[moved[0]]
            label = first[: _label_length(first)]
            excerpt = heading[:HEADING_EXCERPT] + ("…" if len(heading) > HEADING_EXCERPT else "")
            notes.append(
                (moved[0], LIST_RELEVELLED.format(count=len(moved), heading=excerpt, label=label))
            )

    for index, text in enumerate(lines):
        level = heading_level(text)
        if not level:
            continue
        if index not in listed:
            note_moved()
            heading, shift, moved = text, None, []
            continue
        if not heading:
            continue  # a list above every heading: nothing to stand below
        if shift is None:
            shift = max(0, heading_level(heading) + 1 - level)
        if shift and level + shift <= OFFICIAL_LEVELS:
            label = official_label(level + shift, heading_number_of(text) or 1)
            lines[index] = label + text[_label_length(text) :]
            moved.append(index)
    note_moved()
    return lines, notes


def _label_length(text: str) -> int:
    match = LABEL.match(text)
    return len(match.group()) if match else 0
