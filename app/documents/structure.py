"""The structure of a report body: plain text, one paragraph per line.

Paragraphs are the non-empty lines, numbered from 1; comments anchor to these numbers.
Numbered headings (一、 / （一） / 1. / （1）) may be alone on their line or run in at the start
of a paragraph, in which case the heading is the text up to the first 。.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CN_NUMERAL = "[一二三四五六七八九十百零〇]+"
HEADING_PATTERNS = [
    (1, re.compile(rf"^{CN_NUMERAL}、")),
    (2, re.compile(rf"^（{CN_NUMERAL}）")),
    (3, re.compile(r"^\d{1,2}[.．、](?!\d)")),
    (4, re.compile(r"^（\d{1,2}）")),
]
SENTENCE_END = "。！？；…"
TITLE_MAX_LENGTH = 40


@dataclass(frozen=True)
class Block:
    kind: str  # "title", "heading" or "paragraph"
    line: int  # 1-based line of the source text
    number: int  # paragraph number, 1-based over non-empty lines
    text: str
    level: int = 0
    heading: str = ""  # for headings: the heading itself
    rest: str = ""  # for run-in headings: the paragraph text after the heading
    indent: int = 0  # white space stripped from the start of the source line

    @property
    def anchor(self) -> str:
        return f"p{self.number}"


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def paragraphs(body: str) -> list[str]:
    return [line.strip() for line in normalise_newlines(body).split("\n") if line.strip()]


def paragraph_of_lines(body: str) -> dict[int, int]:
    """Line number → paragraph number (第N段), for every line of ``body``: what the pages call
    a place in the text. A blank line belongs to the paragraph before it (the first if none)."""
    numbers: dict[int, int] = {}
    number = 0
    for index, raw in enumerate(normalise_newlines(body).split("\n"), start=1):
        number += bool(raw.strip())
        numbers[index] = max(number, 1)
    return numbers


def heading_level(text: str) -> int:
    for level, pattern in HEADING_PATTERNS:
        if pattern.match(text):
            return level
    return 0


def looks_like_title(text: str) -> bool:
    return (
        len(text) <= TITLE_MAX_LENGTH
        and not any(mark in text for mark in SENTENCE_END)
        and not text.endswith(("：", ":", "，"))
        and heading_level(text) == 0
    )


def parse(body: str) -> list[Block]:
    blocks: list[Block] = []
    number = 0
    for index, raw in enumerate(normalise_newlines(body).split("\n"), start=1):
        text = raw.strip()
        if not text:
            continue
        number += 1
        indent = len(raw) - len(raw.lstrip())
        level = heading_level(text)
        if number == 1 and level == 0 and looks_like_title(text):
            blocks.append(Block("title", index, number, text, indent=indent))
        elif level:
            end = text.find("。")
            heading, rest = (text, "") if end == -1 else (text[: end + 1], text[end + 1 :])
            blocks.append(Block("heading", index, number, text, level, heading, rest, indent))
        else:
            blocks.append(Block("paragraph", index, number, text, indent=indent))
    return blocks


CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


def cn_number(numeral: str) -> int | None:
    """一 → 1, 十二 → 12, 二十 → 20, 九十九 → 99; None for what is not such a numeral."""
    if not numeral:
        return None
    if "十" not in numeral:
        return CN_DIGITS.get(numeral) if len(numeral) == 1 else None
    tens, _, units = numeral.partition("十")
    if "十" in units or len(tens) > 1 or len(units) > 1:
        return None
    tens_value = CN_DIGITS.get(tens) if tens else 1
    units_value = CN_DIGITS.get(units) if units else 0
    if tens_value is None or units_value is None or tens_value == 0:
        return None
    return tens_value * 10 + units_value


def heading_number(block: Block) -> int | None:
    """The number of a numbered heading: “三、” → 3, “（十二）” → 12, “4.” → 4."""
    return heading_number_of(block.text)


def heading_number_of(text: str) -> int | None:
    """heading_number for a line of text."""
    match = re.match(r"^（?([一二三四五六七八九十零〇]+|\d{1,2})", text)
    if not match:
        return None
    value = match.group(1)
    return int(value) if value.isdigit() else cn_number(value)


def cn_numeral(number: int) -> str:
    """1 → 一, 12 → 十二, 20 → 二十, 110 → 一百一十 (the reverse of cn_number up to 99; the
    hundreds only name a number in a message, as no heading is read past 99)."""
    numerals = "零一二三四五六七八九"
    if number < 0 or number >= 1000:
        return str(number)
    if number < 10:
        return numerals[number]
    hundreds, rest = divmod(number, 100)
    if not hundreds:
        tens, units = divmod(number, 10)
        return (numerals[tens] if tens > 1 else "") + "十" + (numerals[units] if units else "")
    head = numerals[hundreds] + "百"
    if not rest:
        return head
    if rest < 10:
        return head + "零" + numerals[rest]
    return head + ("一" if rest < 20 else "") + cn_numeral(rest)


def official_label(level: int, number: int) -> str:
    """The label of a heading of ``level`` (1–4): 一、 （一） 1. （1）."""
    if level in (1, 2):
        return ("{}、", "（{}）")[level - 1].format(cn_numeral(number))
    return ("{}.", "（{}）")[level - 3].format(number)
