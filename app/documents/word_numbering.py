"""Word's automatic numbering, replayed paragraph by paragraph to rebuild the labels it shows.

Reads the definitions kept from styles.xml and numbering.xml (see importing.py, which keeps only
the elements used here) and, for each paragraph of the body in order, advances the list's
counters and gives back the label when it is one of the official heading labels (一、（一）1.（1）),
or a warning when the number is lost in the import. Lists and styles are resolved only when a
paragraph uses them, and each chain of styles or linked lists is followed once, so the cost is
linear in what the document defines, however the definitions are chained.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from typing import NamedTuple

from docx.oxml.ns import qn as _qn

from app.documents.structure import HEADING_PATTERNS, heading_level, official_label

BULLET_LOST = "此段在 Word 中使用了自动编号（项目符号），导入后编号已丢失，请手工补上序号。"
NUMBER_LOST = (
    "此段在 Word 中使用了自动编号“{label}”，不属于“一、（一）1.（1）”层次序号，"
    "导入后编号已丢失，请手工补上序号。"
)
NUMBER_RELEVELLED = (
    "此段在 Word 中是嵌套列表的编号“{shown}”，与上一级编号分不出层次，"
    "导入时已按“一、（一）1.（1）”的层次改为下一级的“{label}”，请核对。"
)
NUMBER_UNKNOWN = (
    "此段在 Word 中使用了自动编号，但无法识别其格式，导入后编号已丢失，请手工补上序号。"
)

qn = cache(_qn)
W_VAL = qn("w:val")
CN_DIGITS = "〇一二三四五六七八九"
CHINESE_FORMATS = {
    "chineseCounting",
    "chineseCountingThousand",
    "taiwaneseCounting",
    "taiwaneseCountingThousand",
    "japaneseCounting",
    "ideographDigital",
}
DECIMAL_FORMATS = {"decimal", "decimalHalfWidth"}
HEAVENLY_STEMS = "甲乙丙丁戊己庚辛壬癸"
MAX_LEVELS = 9
MAX_OFFICIAL_LEVEL = 4  # （1）
# Word's longest level text is nine levels of "%N." (27 characters); a longer one cannot be an
# official label, and repeating it in every warning would only bloat the preview.
MAX_LEVEL_TEXT = 64


class ParagraphNumbering(NamedTuple):
    """What a paragraph's w:pPr says about its numbering: each the first of its kind, or None."""

    style: str | None = None  # w:pStyle/@w:val
    num_id: str | None = None  # w:numPr/w:numId/@w:val
    ilvl: str | None = None  # w:numPr/w:ilvl/@w:val


class KeptElement:
    """An element kept from styles.xml or numbering.xml, with the children kept under it.

    The few lxml calls the numbering uses, each cheap whatever the file holds: ``find`` gives
    the first child with a tag from a dict, not by a scan. Children read only for their
    attributes (w:numFmt, w:basedOn…) are kept as those attributes' dict, the first of each tag.
    """

    __slots__ = ("attrib", "children", "first", "tag")

    def __init__(self, tag: str, attrib: dict[str, str]) -> None:
        self.tag, self.attrib = tag, attrib
        self.children: list[KeptElement] = []
        self.first: dict[str, KeptElement | dict[str, str]] = {}

    def append(self, child: KeptElement) -> None:
        self.children.append(child)
        self.first.setdefault(child.tag, child)

    def keep_value(self, tag: str, attrib: dict[str, str]) -> None:
        self.first.setdefault(tag, attrib)

    def get(self, name: str) -> str | None:
        return self.attrib.get(name)

    def find(self, tag: str) -> KeptElement | dict[str, str] | None:
        return self.first.get(tag)

    def iterchildren(self, tag: str | None = None) -> Iterator[KeptElement]:
        return (child for child in self.children if tag is None or child.tag == tag)


Kept = KeptElement | dict[str, str]


def _find(element: Kept | None, *path: str) -> Kept | None:
    for tag in path:
        if not isinstance(element, KeptElement):
            return None
        element = element.find(qn(tag))
    return element


def _val(element: Kept | None, *path: str) -> str | None:
    element = _find(element, *path)
    return None if element is None else element.get(W_VAL)


def _int(value: str | None) -> int | None:
    # Word's numbers (levels, start values) are small; longer digit strings are damage.
    if value is None or len(value) > 9:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def is_on(element: Kept | None) -> bool:
    return element is not None and element.get(W_VAL) not in ("0", "false", "off")


def is_on_value(value: str | None) -> bool:
    """is_on for an element that is present and carries this w:val (None when absent)."""
    return value not in ("0", "false", "off")


@dataclass(frozen=True)
class _Level:
    fmt: str
    text: str
    start: int
    restart: int | None  # w:lvlRestart: restart after this (1-based) level; 0 = never
    style: str | None


@dataclass
class Numbering:
    """The document's lists and paragraph styles, and the counters of the lists read so far."""

    styles: dict[str, KeptElement]  # styleId -> w:style
    default_style: str | None
    abstracts: dict[str, KeptElement]  # abstractNumId -> w:abstractNum
    nums: dict[str, KeptElement]  # numId -> w:num
    counters: dict[str, list[int | None]] = field(default_factory=dict)
    # list -> the official level (1–4, 0 for none) of the label last written for each level
    written: dict[str, list[int]] = field(default_factory=dict)
    _style_numbering: dict[str, tuple[str | None, int | None]] = field(default_factory=dict)
    _final_abstract: dict[str, str | None] = field(default_factory=dict)
    _abstract_levels: dict[str, dict[int, _Level]] = field(default_factory=dict)
    # numId -> (ilvl -> level with the w:num's overrides, the list whose counters it advances)
    _lists: dict[str, tuple[dict[int, _Level], str] | None] = field(default_factory=dict)

    @classmethod
    def of(cls, styles: KeptElement | None, numbering: KeptElement | None) -> Numbering:
        """From the w:styles and w:numbering roots (either may be missing)."""
        elements: dict[str, KeptElement] = {}
        if styles is not None:
            elements = {
                element.get(qn("w:styleId")): element
                for element in styles.iterchildren(qn("w:style"))
                if element.get(qn("w:styleId"))
            }
        default = next(
            (
                style_id
                for style_id, element in elements.items()
                if element.get(qn("w:type")) == "paragraph"
                and element.get(qn("w:default")) in ("1", "true", "on")
            ),
            None,
        )
        abstracts: dict[str, KeptElement] = {}
        nums: dict[str, KeptElement] = {}
        if numbering is not None:
            abstracts = {
                element.get(qn("w:abstractNumId")): element
                for element in numbering.iterchildren(qn("w:abstractNum"))
            }
            nums = {
                element.get(qn("w:numId")): element
                for element in numbering.iterchildren(qn("w:num"))
            }
        return cls(elements, default, abstracts, nums)

    def label(self, paragraph: ParagraphNumbering, has_text: bool) -> tuple[str, str | None]:
        """The label Word shows before this paragraph, and a warning if it cannot be kept.

        Called for every paragraph in document order, empty ones included: Word counts them.
        """
        num_id, ilvl = self._num_pr(paragraph)
        if num_id is None or num_id == "0":
            return "", None
        found = self._list(num_id)
        if found is None or ilvl not in found[0]:
            return "", NUMBER_UNKNOWN
        levels, list_id = found
        counters = self.counters.setdefault(list_id, [None] * MAX_LEVELS)
        current = counters[ilvl]
        counters[ilvl] = levels[ilvl].start if current is None else current + 1
        for deeper in range(ilvl + 1, MAX_LEVELS):
            level = levels.get(deeper)
            restart_after = deeper if level is None or level.restart is None else level.restart
            if ilvl < restart_after:
                counters[deeper] = None
        if not has_text:
            return "", None
        label, lost = _official_label(levels, ilvl, counters)
        written = self.written.setdefault(list_id, [0] * MAX_LEVELS)
        label, lost = _one_level_down(levels, ilvl, counters, written, (label, lost))
        written[ilvl] = heading_level(label)
        return label, lost

    def numbers_default_style(self) -> bool:
        """Whether a paragraph with no style and no numbering of its own may still be numbered."""
        num_id, _ = self._numbering_of_style(self.default_style or "")
        return num_id not in (None, "0")

    def _num_pr(self, paragraph: ParagraphNumbering) -> tuple[str | None, int]:
        style_id = paragraph.style or self.default_style
        num_id, ilvl = paragraph.num_id, _int(paragraph.ilvl)
        style_num_id, style_ilvl = self._numbering_of_style(style_id or "")
        if num_id is None:
            num_id = style_num_id
        if ilvl is None:
            ilvl = style_ilvl
        if ilvl is None:
            # A list level can name the paragraph style that selects it (w:lvl/w:pStyle).
            found = self._list(num_id) if num_id is not None else None
            linked = found[0] if found else {}
            ilvl = next((i for i, level in linked.items() if level.style == style_id), 0)
        return num_id, ilvl

    def _numbering_of_style(self, style_id: str) -> tuple[str | None, int | None]:
        """A style's (numId, ilvl), each from the nearest style along w:basedOn that sets it."""
        path: dict[str, None] = {}  # in order; a cycle of w:basedOn ends the walk
        current: str | None = style_id
        while current in self.styles and current not in self._style_numbering:
            if current in path:
                break
            path[current] = None
            current = _val(self.styles[current], "w:basedOn")
        num_id, ilvl = self._style_numbering.get(current or "", (None, None))
        for style in reversed(path):
            num_pr = _find(self.styles[style], "w:pPr", "w:numPr")
            own_num_id, own_ilvl = _val(num_pr, "w:numId"), _int(_val(num_pr, "w:ilvl"))
            num_id = own_num_id if own_num_id is not None else num_id
            ilvl = own_ilvl if own_ilvl is not None else ilvl
            self._style_numbering[style] = (num_id, ilvl)
        return self._style_numbering.get(style_id, (None, None))

    def _list(self, num_id: str) -> tuple[dict[int, _Level], str] | None:
        if num_id not in self._lists:
            num = self.nums.get(num_id)
            abstract_id = self._resolve_abstract(_val(num, "w:abstractNumId"))
            if num is None or abstract_id is None:
                self._lists[num_id] = None
            else:
                levels, restarted = _with_overrides(self._levels_of(abstract_id), num)
                # Word continues one list across w:num elements sharing an abstractNum, unless
                # the w:num restarts it with a start override.
                list_id = f"num:{num_id}" if restarted else f"abstract:{abstract_id}"
                self._lists[num_id] = (levels, list_id)
        return self._lists[num_id]

    def _resolve_abstract(self, abstract_id: str | None) -> str | None:
        """Follow w:numStyleLink (a list defined by a numbering style) to its w:abstractNum."""
        path: dict[str, None] = {}
        result = None
        while abstract_id is not None:
            if abstract_id in self._final_abstract:
                result = self._final_abstract[abstract_id]
                break
            if abstract_id not in self.abstracts or abstract_id in path:
                break
            path[abstract_id] = None
            link = _val(self.abstracts[abstract_id], "w:numStyleLink")
            if link is None:
                result = abstract_id
                break
            num_id = _val(self.styles.get(link), "w:pPr", "w:numPr", "w:numId")
            abstract_id = _val(self.nums.get(num_id or ""), "w:abstractNumId")
        for seen in path:
            self._final_abstract[seen] = result
        return result

    def _levels_of(self, abstract_id: str) -> dict[int, _Level]:
        if abstract_id not in self._abstract_levels:
            levels = {}
            for lvl in self.abstracts[abstract_id].iterchildren(qn("w:lvl")):
                ilvl = _int(lvl.get(qn("w:ilvl")))
                if ilvl is not None and 0 <= ilvl < MAX_LEVELS:
                    levels[ilvl] = _level(lvl, None)
            self._abstract_levels[abstract_id] = levels
        return self._abstract_levels[abstract_id]


def _with_overrides(
    abstract_levels: dict[int, _Level], num: KeptElement
) -> tuple[dict[int, _Level], bool]:
    levels = dict(abstract_levels)
    restarted = False
    for override in num.iterchildren(qn("w:lvlOverride")):
        ilvl = _int(override.get(qn("w:ilvl")))
        if ilvl is None or not 0 <= ilvl < MAX_LEVELS:
            continue
        lvl = override.find(qn("w:lvl"))
        if lvl is not None:
            levels[ilvl] = _level(lvl, levels.get(ilvl))
        start = _int(_val(override, "w:startOverride"))
        if start is not None and ilvl in levels:
            levels[ilvl] = replace(levels[ilvl], start=start)
            restarted = True
    return levels, restarted


def _level(lvl: KeptElement, base: _Level | None) -> _Level:
    fmt = _val(lvl, "w:numFmt") or (base.fmt if base else "decimal")
    if is_on(lvl.find(qn("w:isLgl"))):
        fmt = "decimal"
    text = _val(lvl, "w:lvlText")
    start = _int(_val(lvl, "w:start"))
    return _Level(
        fmt=fmt,
        text=text if text is not None else (base.text if base else ""),
        # ECMA-376 17.9.25: an omitted w:start means 0.
        start=start if start is not None else (base.start if base else 0),
        restart=_int(_val(lvl, "w:lvlRestart")),
        style=_val(lvl, "w:pStyle"),
    )


def _official_label(
    levels: dict[int, _Level], ilvl: int, counters: list[int | None]
) -> tuple[str, str | None]:
    """The label to put back when Word shows one of the official heading labels."""
    if levels[ilvl].fmt == "bullet":
        return "", BULLET_LOST
    if len(levels[ilvl].text) > MAX_LEVEL_TEXT:
        return "", NUMBER_UNKNOWN
    shown = _render_template(levels, levels[ilvl].text, counters)
    if shown is None:
        return "", NUMBER_UNKNOWN
    shown = shown.strip()
    if not shown:
        return "", None
    label = full_width_parens(re.sub(r"\s+", "", shown))
    if any(
        (match := pattern.match(label)) and match.end() == len(label)
        for _, pattern in HEADING_PATTERNS
    ):
        return label, None
    return "", NUMBER_LOST.format(label=shown)


def _one_level_down(
    levels: dict[int, _Level],
    ilvl: int,
    counters: list[int | None],
    written: list[int],
    shown: tuple[str, str | None],
) -> tuple[str, str | None]:
    """A list nested in a list, both numbered “1.” (or “a.” in “1.”): the inner one is written
    one official level below the label written for the level above it, with a note, as the
    text needs the levels told apart."""
    label, lost = shown
    above = next((written[i] for i in range(ilvl - 1, -1, -1) if counters[i] is not None), 0)
    if not 0 < above < MAX_OFFICIAL_LEVEL or lost in (BULLET_LOST, NUMBER_UNKNOWN):
        return shown
    if heading_level(label) > above:
        return shown
    inner = official_label(above + 1, counters[ilvl] or 0)
    before = label or lost_label(levels, ilvl, counters)
    return inner, NUMBER_RELEVELLED.format(shown=before, label=inner)


def lost_label(levels: dict[int, _Level], ilvl: int, counters: list[int | None]) -> str:
    """What Word shows for a level whose label is not an official one."""
    return (_render_template(levels, levels[ilvl].text, counters) or "").strip()


def full_width_parens(text: str) -> str:
    return text.replace("(", "（").replace(")", "）")


def _render_template(
    levels: dict[int, _Level], text: str, counters: list[int | None]
) -> str | None:
    """What Word shows for a w:lvlText: %N is level N's counter in level N's format."""
    parts = re.split(r"%([1-9])", text)
    shown = parts[0]
    for index in range(1, len(parts), 2):
        level = levels.get(int(parts[index]) - 1)
        if level is None:
            return None
        number = counters[int(parts[index]) - 1]
        rendered = _render_number(level.start if number is None else number, level.fmt)
        if rendered is None:
            return None
        shown += rendered + parts[index + 1]
    return shown


def _render_number(number: int, fmt: str) -> str | None:
    if fmt == "none":
        return ""
    if fmt in DECIMAL_FORMATS:
        return str(number)
    if fmt in CHINESE_FORMATS:
        return _chinese_number(number, fmt)
    if 1 <= number <= 26 and fmt in ("lowerLetter", "upperLetter"):
        letter = chr(ord("a") + number - 1)
        return letter if fmt == "lowerLetter" else letter.upper()
    if 1 <= number <= 20 and fmt == "decimalEnclosedCircle":
        return chr(0x2460 + number - 1)
    if 1 <= number <= 10 and fmt == "ideographTraditional":
        return HEAVENLY_STEMS[number - 1]
    if 1 <= number < 40 and fmt in ("lowerRoman", "upperRoman"):
        roman = (
            "x" * (number // 10)
            + ["", "i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix"][number % 10]
        )
        return roman if fmt == "lowerRoman" else roman.upper()
    return None


def _chinese_number(number: int, fmt: str) -> str:
    """Word's Chinese counting formats: 十 for 10 to 99 (十一, 二十); digit by digit beyond.

    The "thousand" formats read hundreds out (一百零一); ideographDigital is always digit by digit.
    """
    if number < 0:
        return str(number)
    if fmt == "ideographDigital" or (number >= 100 and "Thousand" not in fmt):
        return "".join(CN_DIGITS[int(digit)] for digit in str(number))
    if number < 10:
        return CN_DIGITS[number]
    if number < 100:
        tens, ones = divmod(number, 10)
        return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[ones] if ones else "")
    return _chinese_thousands(number)


def _chinese_thousands(number: int) -> str:
    if number >= 10000:
        high, low = divmod(number, 10000)
        head = _chinese_thousands(high) + "万"
        if not low:
            return head
        return head + ("零" if low < 1000 else "") + _chinese_thousands(low)
    out = ""
    pending_zero = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = number // value % 10
        if digit == 0:
            pending_zero = bool(out)
            continue
        if pending_zero:
            out += "零"
            pending_zero = False
        out += CN_DIGITS[digit] + unit
    return out
