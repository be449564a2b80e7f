"""Pre-submission checks of a report body: the defects real drafts carry.

``check(body)`` returns findings sorted by position. Each rule is a function of the parsed
blocks and the source lines; positions are 1-based lines of the input and 1-based characters
within the line. Every rule must stay quiet on clean official prose: a false alarm costs trust.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from itertools import accumulate, islice

from app.core.memo import Recent
from app.documents.findings import Finding
from app.documents.phrasebook import PhraseBook, default_book
from app.documents.structure import (
    Block,
    cn_number,
    cn_numeral,
    heading_number,
    normalise_newlines,
    official_label,
    paragraph_of_lines,
    parse,
)
from app.documents.wording import find_wording

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_PUNCT = "，。、；：？！“”‘’《》（）【】…—·"
HAN = re.compile(f"[{CJK}]")
EXCERPT_CONTEXT = 8
MAX_FINDINGS_PER_RULE = 500


EXCERPT_SPAN = 30
WORDING_EXCERPT_SPAN = 100


def _excerpt(text: str, start: int, end: int, span: int = EXCERPT_SPAN) -> str:
    left = max(0, start - EXCERPT_CONTEXT)
    if end - start > span:
        return ("…" if left else "") + text[left : start + span] + "…"
    right = min(len(text), end + EXCERPT_CONTEXT)
    return ("…" if left else "") + text[left:right] + ("…" if right < len(text) else "")


class _Line:
    """A source line and where its text starts, so positions refer to the input."""

    def __init__(self, number: int, raw: str, paragraph: int = 0):
        self.number = number
        self.raw = raw
        self.paragraph = paragraph  # 第N段, as the pages name places in the text

    def finding(
        self,
        rule: str,
        severity: str,
        start: int,
        end: int,
        message: str,
        suggestion: str = "",
        excerpt_span: int = EXCERPT_SPAN,
    ) -> Finding:
        return Finding(
            line=self.number,
            column=start + 1,
            rule=rule,
            severity=severity,  # type: ignore[arg-type]
            excerpt=_excerpt(self.raw, start, end, excerpt_span),
            message=message,
            length=max(1, end - start),
            suggestion=suggestion,
        )


# --- placeholder ------------------------------------------------------------------------

STARS = re.compile(r"[*＊]+")
MARKDOWN_BOLD = re.compile(r"(\*\*|＊＊)[^*＊\n]{1,60}?\1")
X_RUN = re.compile(r"(?<![A-Za-zＡ-Ｚａ-ｚ])(?:[XＸ]{1,4}|x{2,4}|×{1,4})(?![A-Za-zＡ-Ｚａ-ｚ])")
LONE_LETTER = re.compile(rf"(?<=[{CJK}{CJK_PUNCT}])[A-Za-zＡ-Ｚａ-ｚ](?=[{CJK}{CJK_PUNCT}])")
# Single letters that are words in Chinese prose: A股, B超, X光, T恤, K线, A级, Q版, C位…
LETTER_WORDS = re.compile(r"[A-Za-z](?:股|超|光|射线|恤|线|级|版|位|型|类|字|档|轮)")


def _is_digit(char: str) -> bool:
    return char.isdigit()


PLACEHOLDER_MESSAGE = "“{}”像是没有填写的占位符，请填入实际的数字或名称。"


def check_placeholders(lines: list[_Line], blocks: list[Block]) -> Iterator[Finding]:
    for line in lines:
        yield from _unfilled_stars(line)
        yield from _unfilled_x(line)
        yield from _lone_letters(line)


def _unfilled_stars(line: _Line) -> Iterator[Finding]:
    """＊ or *: the usual mark for a number still to be filled in (not Markdown emphasis,
    which the markup rule reports)."""
    bold = [m.span() for m in MARKDOWN_BOLD.finditer(line.raw)]
    for match in STARS.finditer(line.raw):
        if not any(start <= match.start() < end for start, end in bold):
            yield line.finding(
                "placeholder", "error", *match.span(), PLACEHOLDER_MESSAGE.format(match.group())
            )


def _is_x_placeholder(raw: str, match: re.Match[str]) -> bool:
    before = raw[match.start() - 1] if match.start() else ""
    after = raw[match.end()] if match.end() < len(raw) else ""
    if match.group().startswith("×") and (_is_digit(before) or _is_digit(after)):
        return False  # 3×4, 5×8小时: a multiplication sign
    if raw.startswith(("X光", "X射线"), match.start()):
        return False
    # In a Latin context it is a product name or a formula, not our business.
    return bool(HAN.match(before or " ") or HAN.match(after or " "))


def _unfilled_x(line: _Line) -> Iterator[Finding]:
    """XX单位, X月X日, ××同志: names and dates still to be filled in."""
    for match in X_RUN.finditer(line.raw):
        if _is_x_placeholder(line.raw, match):
            yield line.finding(
                "placeholder", "error", *match.span(), PLACEHOLDER_MESSAGE.format(match.group())
            )


def _lone_letters(line: _Line) -> Iterator[Finding]:
    """A single Latin letter between Chinese characters (A股, X光 and the like aside)."""
    for match in LONE_LETTER.finditer(line.raw):
        letter = match.group()
        if letter in "XxＸ" or LETTER_WORDS.match(line.raw, match.start()):
            continue  # X is reported above; the rest are words
        yield line.finding(
            "placeholder",
            "error",
            *match.span(),
            f"中文之间有一个孤立的字母“{letter}”，像是没有替换的占位符，请改为实际内容。",
        )


# --- markup -----------------------------------------------------------------------------

MARKUP_PATTERNS = [
    (re.compile(r"#{2,}[^#\n]{0,60}?#{2,}"), "“{}”是从其他软件粘贴带入的标记，请删除。"),
    (re.compile(r"(?<![#＃])#{2,}(?![#＃])"), "“{}”是从其他软件粘贴带入的标记，请删除。"),
    (
        re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>\n]*)?/?>"),
        "“{}”是网页代码（HTML 标签），请删除。",
    ),
    (
        re.compile(r"&(?:nbsp|lt|gt|amp|quot|ldquo|rdquo|mdash|#\d{2,6});"),
        "“{}”是网页代码，请改为对应的字符。",
    ),
    (re.compile(r"^#{1,6}\s+"), "行首的“{}”是 Markdown 标题符号，请删除。"),
    (re.compile(r"^\s*(?:[-+*]|>)\s+(?=\S)"), "行首的“{}”是 Markdown 列表或引用符号，请删除。"),
    (MARKDOWN_BOLD, "“{}”使用了 Markdown 加粗符号，请删除星号。"),
    (re.compile(r"__[^_\n]{1,60}__"), "“{}”使用了 Markdown 符号，请删除下划线。"),
    (re.compile(r"\[[^\]\n]{1,80}\]\([^)\s]{1,200}\)"), "“{}”是 Markdown 链接，请只保留文字。"),
    (re.compile(r"`{1,3}[^`\n]*`{1,3}"), "“{}”使用了 Markdown 代码符号，请删除反引号。"),
]


def check_markup(lines: list[_Line], blocks: list[Block]) -> Iterator[Finding]:
    for line in lines:
        # Characters already reported by an earlier pattern (linear, however many matches).
        taken = bytearray(len(line.raw))
        for pattern, message in MARKUP_PATTERNS:
            for match in pattern.finditer(line.raw):
                start, end = match.span()
                if start == end or any(taken[start:end]):
                    continue
                taken[start:end] = b"\x01" * (end - start)
                shown = match.group().strip()
                yield line.finding("markup", "error", start, end, message.format(shown))


# --- repeated word ----------------------------------------------------------------------

REPEATED = re.compile(rf"([{CJK}]{{2,6}})\1")
# Counted repetition is idiomatic: 一个一个, 一步一步, 一件一件.
IDIOMATIC_REPEAT = re.compile(r"^一[\u4e00-\u9fff]$")


def check_repeated_words(lines: list[_Line], blocks: list[Block]) -> Iterator[Finding]:
    for line in lines:
        for match in REPEATED.finditer(line.raw):
            word = match.group(1)
            if IDIOMATIC_REPEAT.match(word) or len(set(word)) == 1:
                continue
            yield line.finding(
                "repeated-word",
                "warning",
                match.start() + len(word),
                match.end(),
                f"“{word}”连续出现了两次，请删除重复的词语。",
            )


# --- duplicate sentence -----------------------------------------------------------------

SENTENCE = re.compile(r"[^。！？!?；;]*[。！？!?；;]?")
DUPLICATE_MIN_LENGTH = 12


def check_duplicate_sentences(lines: list[_Line], blocks: list[Block]) -> Iterator[Finding]:
    seen: dict[str, _Line] = {}
    for line in lines:
        for match in SENTENCE.finditer(line.raw):
            sentence = match.group().strip()
            key = re.sub(r"\s+", "", sentence).rstrip("。！？!?；;")
            if len(key) < DUPLICATE_MIN_LENGTH:
                continue
            if key in seen:
                first = seen[key]
                where = "本段前面" if first is line else f"第{first.paragraph}段"
                start = match.start() + (len(match.group()) - len(match.group().lstrip()))
                yield line.finding(
                    "duplicate-sentence",
                    "warning",
                    start,
                    start + len(sentence),
                    f"这句话与{where}的句子重复，请删除或改写其中一处。",
                )
            else:
                seen[key] = line


# --- numbering --------------------------------------------------------------------------

CN_NUMERALS = "零一二三四五六七八九十"
LEAD_IN_ENDS = ("：", ":")
# The lowest levels, 1. and （1）, number the items of a list as often as sub-headings.
LIST_LEVELS = (3, 4)
ENUMERATION = re.compile(rf"(?:^|(?<=[。；！？：]))\s*([{CN_NUMERALS[1:]}]{{1,3}})是")


def _label(level: int, number: int) -> str:
    return f"{cn_numeral(number)}是" if level == 0 else official_label(level, number)


def _sequence_finding(
    line: _Line, start: int, end: int, level: int, got: int, previous: int | None
) -> Finding | None:
    expected = 1 if previous is None else previous + 1
    if got == expected:
        return None
    label, expected_label = _label(level, got), _label(level, expected)
    if previous is not None and got == previous:
        message = f"序号“{label}”重复了，请检查序号。"
    elif previous is not None and got < previous:
        message = f"序号“{label}”排在“{_label(level, previous)}”之后，顺序有误，请检查序号。"
    else:
        message = f"序号不连续：“{label}”前面缺少“{expected_label}”，请检查序号。"
    return line.finding("numbering", "warning", start, end, message)


def check_numbering(lines: list[_Line], blocks: list[Block]) -> Iterator[Finding]:
    last: dict[int, int | None] = {1: None, 2: None, 3: None, 4: None}
    enumeration: int | None = None
    for block in blocks:
        line = lines[block.line - 1]
        if block.kind == "heading":
            number = heading_number(block)
            label_end = block.indent + len(re.match(r"^\S+?[、.．）]", block.text).group())
            if number is not None:
                found = _sequence_finding(
                    line, block.indent, label_end, block.level, number, last[block.level]
                )
                if found:
                    yield found
                last[block.level] = number
            for deeper in range(block.level + 1, 5):
                last[deeper] = None
            enumeration = None
        if block.kind == "title":
            continue
        text = block.rest if block.kind == "heading" else block.text
        if text.rstrip().endswith(LEAD_IN_ENDS):
            # “主要做法如下：” introduces a list of its own, numbered from 1 (a new list in Word).
            for level in LIST_LEVELS:
                last[level] = None
        offset = block.indent + (len(block.heading) if block.kind == "heading" else 0)
        for match in ENUMERATION.finditer(text):
            number = cn_number(match.group(1))
            if number is None:
                continue
            start = offset + match.start(1)
            if number == 1:
                enumeration = 1
                continue
            if enumeration is None:
                yield line.finding(
                    "numbering",
                    "warning",
                    start,
                    start + len(match.group(1)) + 1,
                    f"“{match.group(1)}是”之前没有“一是”，请检查序号。",
                )
            else:
                found = _sequence_finding(
                    line, start, start + len(match.group(1)) + 1, 0, number, enumeration
                )
                if found:
                    yield found
            enumeration = number


# --- punctuation ------------------------------------------------------------------------

HALF_TO_FULL = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！", "(": "（", ")": "）"}
BETWEEN_CJK = re.compile(
    rf"(?<=[{CJK}])\s*([,;:?!])\s*(?=[{CJK}\d])|(?<=[{CJK}\d])\s*([,;:?!])\s*(?=[{CJK}])"
)
OPEN_PAREN = re.compile(rf"\((?=[{CJK}])")
CLOSE_PAREN = re.compile(rf"(?<=[{CJK}])\)")
PAIRS = {"“": "”", "‘": "’", "《": "》", "（": "）", "【": "】"}
CLOSERS = {close: open_ for open_, close in PAIRS.items()}


def check_punctuation(lines: list[_Line], blocks: list[Block]) -> Iterator[Finding]:
    for line in lines:
        raw = line.raw
        for match in BETWEEN_CJK.finditer(raw):
            group = 1 if match.group(1) else 2
            mark = match.group(group)
            if mark == ":" and re.match(r"\d", raw[match.end(group) : match.end(group) + 1]):
                continue  # 9:30
            yield line.finding(
                "punctuation",
                "warning",
                match.start(group),
                match.end(group),
                f"中文中使用了半角“{mark}”，请改为全角“{HALF_TO_FULL[mark]}”。",
            )
        for pattern in (OPEN_PAREN, CLOSE_PAREN):
            for match in pattern.finditer(raw):
                mark = match.group()
                yield line.finding(
                    "punctuation",
                    "warning",
                    *match.span(),
                    f"中文中使用了半角括号“{mark}”，请改为全角“{HALF_TO_FULL[mark]}”。",
                )
        yield from _unbalanced(line)


def _unbalanced(line: _Line) -> Iterator[Finding]:
    open_positions: dict[str, list[int]] = {opener: [] for opener in PAIRS}
    for index, char in enumerate(line.raw):
        if char in PAIRS:
            open_positions[char].append(index)
        elif char in CLOSERS:
            stack = open_positions[CLOSERS[char]]
            if stack:
                stack.pop()
            else:
                yield line.finding(
                    "punctuation",
                    "warning",
                    index,
                    index + 1,
                    f"“{char}”前面缺少对应的“{CLOSERS[char]}”，请检查引号或括号是否成对。",
                )
    for opener, positions in open_positions.items():
        for index in positions:
            yield line.finding(
                "punctuation",
                "warning",
                index,
                index + 1,
                f"“{opener}”后面缺少对应的“{PAIRS[opener]}”，请检查引号或括号是否成对。",
            )


# --- paragraph end ----------------------------------------------------------------------

SENTENCE_END = "。！？；：…"
CLOSING = "”’）》】"


def _ends_a_sentence(text: str) -> bool:
    stripped = text.rstrip()
    while stripped and stripped[-1] in CLOSING:
        if stripped[-1] in "）】" and len(stripped) > 1 and stripped[-2] not in SENTENCE_END:
            return False  # a bracketed note closes the sentence only after its own 。
        stripped = stripped[:-1]
        if stripped and stripped[-1] in SENTENCE_END:
            return True
    return bool(stripped) and stripped[-1] in SENTENCE_END


def check_paragraph_ends(lines: list[_Line], blocks: list[Block]) -> Iterator[Finding]:
    for block in blocks:
        if block.kind == "paragraph":
            text = block.text
        elif block.kind == "heading" and block.rest.strip():
            text = block.rest
        else:
            continue
        if _ends_a_sentence(text):
            continue
        line = lines[block.line - 1]
        end = len(line.raw.rstrip())
        yield line.finding(
            "paragraph-end",
            "warning",
            end - 1,
            end,
            "段落末尾缺少句末标点，请补上“。”等标点。",
        )


# --- empty section ----------------------------------------------------------------------


def _carries_text(block: Block, items: set[int]) -> bool:
    """A body paragraph, a run-in heading, a numbered line that is itself a sentence
    (“（一）学习……，制作课件12套。”, at the list levels “1.召开会议3次。”) or an item of a list
    carries text; a bare heading does not."""
    if block.kind == "paragraph" or block.number in items:
        return True
    if block.kind != "heading":
        return False
    if block.level in LIST_LEVELS and _ends_a_sentence(block.text):
        return True
    return bool(block.rest.strip()) or ("，" in block.text and _ends_a_sentence(block.text))


def _list_items(blocks: list[Block]) -> set[int]:
    """The numbers of the paragraphs that are items of a list: two or more 1./（1） lines of one
    level in a row, nothing between them (a list in Word, the last item included)."""
    items: set[int] = set()
    run: list[Block] = []
    for block in [*blocks, None]:
        if (
            block is not None
            and block.kind == "heading"
            and block.level in LIST_LEVELS
            and (not run or block.level == run[0].level)
        ):
            run.append(block)
            continue
        if len(run) >= 2:
            items.update(item.number for item in run)
        run = [block] if block is not None and block.kind == "heading" else []
        if run and run[0].level not in LIST_LEVELS:
            run = []
    return items


def check_empty_sections(lines: list[_Line], blocks: list[Block]) -> Iterator[Finding]:
    items = _list_items(blocks)
    for index, block in enumerate(blocks):
        if block.kind != "heading" or _carries_text(block, items):
            continue
        has_text = False
        for following in blocks[index + 1 :]:
            if following.kind == "heading" and following.level <= block.level:
                break
            if _carries_text(following, items):
                has_text = True
                break
        if not has_text:
            line = lines[block.line - 1]
            yield line.finding(
                "empty-section",
                "warning",
                block.indent,
                block.indent + len(block.text),
                f"标题“{block.text}”下面没有内容，请补充内容或删除这个标题。",
            )


# --- wording ----------------------------------------------------------------------------


def check_wording(lines: list[_Line], book: PhraseBook) -> Iterator[Finding]:
    """Wrong characters, transposed words, misquoted fixed expressions (see wording.py). A doubt,
    never an error: a wording finding does not block submission."""
    text = "\n".join(line.raw for line in lines)
    line_starts = list(accumulate((len(line.raw) + 1 for line in lines[:-1]), initial=0))
    for hit in find_wording(text, book):
        index = bisect_right(line_starts, hit.start) - 1
        offset = line_starts[index]
        yield lines[index].finding(
            "wording",
            "warning",
            hit.start - offset,
            hit.end - offset,
            hit.message,
            hit.replacement,
            # The excerpt holds the whole wrong text, even a long formulation's.
            excerpt_span=WORDING_EXCERPT_SPAN,
        )


RULES: list[Callable[[list[_Line], list[Block]], Iterator[Finding]]] = [
    check_placeholders,
    check_markup,
    check_repeated_words,
    check_duplicate_sentences,
    check_numbering,
    check_punctuation,
    check_paragraph_ends,
    check_empty_sections,
]


def check(body: str, phrase_book: PhraseBook | None = None) -> list[Finding]:
    """All findings for ``body``, sorted by line and column. The wording rule uses
    ``phrase_book`` (the current book with the admins' changes), or the default book."""
    raw_lines = normalise_newlines(body or "").split("\n")
    at = paragraph_of_lines(body or "")
    lines = [_Line(number, raw, at[number]) for number, raw in enumerate(raw_lines, start=1)]
    blocks = parse(body or "")
    book = phrase_book if phrase_book is not None else default_book()
    # No one reads past a few hundred findings of one kind; capping keeps a hostile text
    # (200,000 characters of one defect) from costing seconds on every keystroke.
    findings = {
        finding for rule in RULES for finding in islice(rule(lines, blocks), MAX_FINDINGS_PER_RULE)
    }
    findings.update(islice(check_wording(lines, book), MAX_FINDINGS_PER_RULE))
    return sorted(findings)


_RECENT_CHECKS: Recent[bytes, tuple[Finding, ...]] = Recent(256)


def check_shown(body: str, phrase_book: PhraseBook | None = None) -> list[Finding]:
    """:func:`check` for a text shown again and again (the report page): the findings of the
    last few hundred texts are remembered, by a digest of the text and the book's revision."""
    book = phrase_book if phrase_book is not None else default_book()
    digest = hashlib.blake2b((body or "").encode("utf-8"), digest_size=16)
    digest.update(book.revision.encode("ascii"))
    return list(_RECENT_CHECKS.get(digest.digest(), lambda: tuple(check(body, book))))


def errors_in(findings: list[Finding]) -> list[Finding]:
    return [finding for finding in findings if finding.is_error]
