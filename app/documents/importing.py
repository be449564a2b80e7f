"""Import a report body from an uploaded .docx or .txt file.

The result is the plain-text model of app.documents.structure: one paragraph per line. Only the
text is kept; images, headers and footers, comments, embedded objects and external links are
dropped and never fetched. What the import had to change (tables flattened, automatic numbers it
could not rebuild) is reported as warnings anchored to lines of the imported text.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field, replace

import docx
from docx.document import Document as WordDocument
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from lxml import etree

from app.core.exceptions import RuleViolation
from app.documents.findings import Finding
from app.documents.structure import HEADING_PATTERNS, looks_like_title

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_DOCX_UNPACKED_BYTES = 50 * 1024 * 1024

UNSUPPORTED = "不支持该文件格式，请另存为 .docx 或 .txt 后上传。"
LEGACY_WORD = "不支持 .doc 和 .wps 格式，请在 Word 或 WPS 中另存为 .docx 或 .txt 后上传。"
TOO_LARGE = "文件超过 5 MB，请删去图片等非文字内容，或另存为 .txt 后再上传。"
EMPTY_FILE = "上传的文件是空的，请检查后重新上传。"
NO_TEXT = "文件中没有可导入的文字（图片中的文字无法导入），请检查后重新上传。"
UNKNOWN_ENCODING = "无法识别文件编码，请在记事本或 WPS 中另存为 UTF-8 编码的 .txt 后再上传。"
BAD_DOCX = "文件已损坏或不是有效的 .docx 文件，请在 Word 或 WPS 中重新另存为 .docx 后上传。"
ENCRYPTED_DOCX = (
    "该文件设置了打开密码（已加密），或不是真正的 .docx 文件。"
    "请在 Word 或 WPS 中取消密码、另存为 .docx 后再上传。"
)
UNPACKED_TOO_LARGE = (
    "文件解压后超过 50 MB，可能含有大量图片或已损坏，请删去图片后另存为 .docx 或 .txt 再上传。"
)
TABLE_FLATTENED = "表格已按行转为段落，请检查格式。"
BULLET_LOST = "此段在 Word 中使用了自动编号（项目符号），导入后编号已丢失，请手工补上序号。"
NUMBER_LOST = (
    "此段在 Word 中使用了自动编号“{label}”，不属于“一、（一）1.（1）”层次序号，"
    "导入后编号已丢失，请手工补上序号。"
)
NUMBER_UNKNOWN = (
    "此段在 Word 中使用了自动编号，但无法识别其格式，导入后编号已丢失，请手工补上序号。"
)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
# Content a .txt must not be; the second item names it in the refusal.
NOT_TEXT_MAGICS = [
    (ZIP_MAGICS, "压缩包或 .docx 文档"),
    ((b"%PDF",), "PDF 文件"),
    ((OLE_MAGIC,), "Word 97-2003（.doc）或 WPS 文档"),
    ((b"{\\rtf",), "RTF 文档"),
]
LEGACY_EXTENSIONS = {"doc", "wps"}

BOMS = [
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
]
# C0 and C1 controls other than tab and line breaks: never in a real text file.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
PRIVATE_USE = re.compile(r"[\ue000-\uf8ff\U000f0000-\U0010ffff]")
# A non-ASCII character inside a Latin word ("Gr鲞e"): the mark of a Latin-1 file read as GBK.
INSIDE_LATIN_WORD = re.compile(r"(?<=[A-Za-z])[^\x00-\x7f](?=[A-Za-z])")
MIN_COMMON_SHARE = 0.5
LINE_BREAKS = re.compile(r"\r\n|[\n\r\v\f\x85\u2028\u2029]")
EXCERPT_LENGTH = 30

W_P, W_TBL, W_TR, W_TC, W_R = qn("w:p"), qn("w:tbl"), qn("w:tr"), qn("w:tc"), qn("w:r")
W_VAL = qn("w:val")
# Elements that only wrap content (content controls, custom XML, tracked insertions, fields):
# their children are read as if they stood in the wrapper's place.
BLOCK_WRAPPERS = {qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml")}
INLINE_WRAPPERS = BLOCK_WRAPPERS | {
    qn(f"w:{tag}") for tag in ("hyperlink", "ins", "moveTo", "smartTag", "fldSimple", "dir", "bdo")
}
SOFT_BREAK = "\n"
RUN_TEXT = {
    qn("w:t"): None,
    qn("w:tab"): "\t",
    qn("w:ptab"): "\t",
    qn("w:cr"): SOFT_BREAK,
    qn("w:noBreakHyphen"): "-",
}
W_BR = qn("w:br")
W_PPR, W_NUMPR = qn("w:pPr"), qn("w:numPr")
RUN_HIDDEN = f"{qn('w:rPr')}/{qn('w:vanish')}"

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


class ImportRefused(RuleViolation):
    """An uploaded file that cannot be imported; ``message`` tells the user what to do."""


@dataclass(frozen=True)
class ImportResult:
    text: str  # one paragraph per line, no empty lines, no trailing newline
    findings: list[Finding]  # warnings from the import itself (rule "import"), lines of ``text``
    title: str | None  # the first line when it looks like a title
    source_kind: str  # "docx" or "txt"
    encoding: str | None  # for txt: "utf-8", "utf-8-sig", "utf-16" or "gb18030"


def import_file(filename: str, data: bytes) -> ImportResult:
    """Turn an uploaded file into report text, or raise ImportRefused with what to do instead."""
    extension = _extension(filename)
    if extension in LEGACY_EXTENSIONS:
        raise ImportRefused(LEGACY_WORD)
    if extension not in ("docx", "txt"):
        raise ImportRefused(UNSUPPORTED)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImportRefused(TOO_LARGE)
    if not data:
        raise ImportRefused(EMPTY_FILE)
    if extension == "docx":
        lines, findings = read_docx(data)
        encoding = None
    else:
        for magics, kind in NOT_TEXT_MAGICS:
            if data.startswith(magics):
                raise ImportRefused(f"文件扩展名是 .txt，但内容是{kind}。{UNSUPPORTED}")
        text, encoding = decode_text(data)
        lines, findings = _text_lines(text), []
    if not lines:
        raise ImportRefused(NO_TEXT)
    title = lines[0] if looks_like_title(lines[0]) else None
    return ImportResult("\n".join(lines), findings, title, extension, encoding)


def _extension(filename: str) -> str:
    name = re.split(r"[\\/]", filename)[-1]
    return name.rpartition(".")[2].lower() if "." in name else ""


def _text_lines(text: str) -> list[str]:
    """The non-empty lines of ``text``, stripped, for any line-break convention."""
    return [line for line in (part.strip() for part in LINE_BREAKS.split(text)) if line]


# --- Plain text -------------------------------------------------------------------------------


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode an uploaded text file: BOM, then strict UTF-8, then GB18030 if it reads as Chinese.

    Returns the text and the encoding's name; a file that no rule accepts is refused rather than
    decoded into wrong characters.
    """
    for bom, codec in BOMS:
        if data.startswith(bom):
            # A BOM is a declaration: if the rest does not match it, the file is broken.
            text = _strict_decode(data, codec)
            if text is None or CONTROL_CHARS.search(text):
                raise ImportRefused(UNKNOWN_ENCODING)
            return text, codec
    text = _strict_decode(data, "utf-8")
    if text is not None and not CONTROL_CHARS.search(text):
        return text, "utf-8"
    text = _strict_decode(data, "gb18030")
    if text is not None and _plausible_chinese(text):
        return text, "gb18030"
    raise ImportRefused(UNKNOWN_ENCODING)


def _strict_decode(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def _plausible_chinese(text: str) -> bool:
    """Whether GB18030-decoded text reads as Chinese rather than another encoding misread.

    Latin-1, Shift-JIS or Big5 bytes often decode as GB18030 without error, but into control
    characters, user-defined (private-use) characters, or rare characters from the GBK extension.
    Real Chinese text is almost entirely ASCII plus GB2312 (the 6,763 common characters and the
    full-width punctuation), so at least half of its non-ASCII characters must be GB2312 ones.
    """
    if CONTROL_CHARS.search(text) or PRIVATE_USE.search(text):
        return False
    non_ascii = common = 0
    for char, count in Counter(text).items():
        if char.isascii():
            continue
        non_ascii += count
        encoded = char.encode("gb18030")
        if len(encoded) == 2 and encoded[0] >= 0xA1 and encoded[1] >= 0xA1:
            common += count
    common -= len(INSIDE_LATIN_WORD.findall(text))
    return common >= MIN_COMMON_SHARE * non_ascii


# --- Word documents ---------------------------------------------------------------------------


def read_docx(data: bytes) -> tuple[list[str], list[Finding]]:
    """The paragraphs of a .docx body in document order, and warnings about what was lost."""
    document = _open_docx(data)
    reader = _BodyReader(_Numbering.of(document))
    reader.read_blocks(document.element.body)
    return reader.lines, sorted(reader.findings)


def _open_docx(data: bytes) -> WordDocument:
    if data.startswith(OLE_MAGIC):
        # Word saves password-protected documents as an OLE container, even with a .docx name.
        raise ImportRefused(ENCRYPTED_DOCX)
    if not data.startswith(ZIP_MAGICS):
        for magics, kind in NOT_TEXT_MAGICS:
            if data.startswith(magics):
                raise ImportRefused(f"文件扩展名是 .docx，但内容是{kind}。{UNSUPPORTED}")
        raise ImportRefused(BAD_DOCX)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise ImportRefused(BAD_DOCX) from exc
    # Checked on the directory before anything is inflated; zipfile then never reads a member
    # past the size the directory declares, so this bounds the memory python-docx can use.
    if sum(member.file_size for member in members) > MAX_DOCX_UNPACKED_BYTES:
        raise ImportRefused(UNPACKED_TOO_LARGE)
    if any(member.flag_bits & 0x1 for member in members):
        raise ImportRefused(ENCRYPTED_DOCX)
    try:
        return docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml and zip errors alike
        raise ImportRefused(BAD_DOCX) from exc


def _related_element(document: WordDocument, reltype: str) -> etree._Element | None:
    try:
        return document.part.part_related_by(reltype).element
    except (KeyError, AttributeError):
        return None


def _val(element: etree._Element | None, *path: str) -> str | None:
    for tag in path:
        if element is None:
            return None
        element = element.find(qn(tag))
    return None if element is None else element.get(W_VAL)


def _int(value: str | None) -> int | None:
    # Word's numbers (levels, start values) are small; longer digit strings are damage.
    if value is None or len(value) > 9:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _is_on(element: etree._Element | None) -> bool:
    return element is not None and element.get(W_VAL) not in ("0", "false", "off")


@dataclass(frozen=True)
class _Level:
    fmt: str
    text: str
    start: int
    restart: int | None  # w:lvlRestart: restart after this (1-based) level; 0 = never
    style: str | None


@dataclass
class _Numbering:
    """Word's automatic numbering, replayed paragraph by paragraph to rebuild the labels."""

    levels: dict[str, dict[int, _Level]]  # numId -> ilvl -> level, overrides applied
    list_of: dict[str, str]  # numId -> the list whose counters it advances
    style_numbering: dict[str, tuple[str | None, int | None]]  # styleId -> (numId, ilvl)
    default_style: str | None
    counters: dict[str, list[int | None]] = field(default_factory=dict)

    @classmethod
    def of(cls, document: WordDocument) -> _Numbering:
        styles = _related_element(document, RT.STYLES)
        style_numbering, default_style, style_elements = _style_numbering(styles)
        levels: dict[str, dict[int, _Level]] = {}
        list_of: dict[str, str] = {}
        numbering = _related_element(document, RT.NUMBERING)
        if numbering is not None:
            abstracts = {
                element.get(qn("w:abstractNumId")): element
                for element in numbering.iterchildren(qn("w:abstractNum"))
            }
            nums = {
                element.get(qn("w:numId")): element
                for element in numbering.iterchildren(qn("w:num"))
            }
            for num_id, num in nums.items():
                abstract_id = _resolve_abstract(
                    _val(num, "w:abstractNumId"), abstracts, nums, style_elements
                )
                if abstract_id is None:
                    continue
                levels[num_id], restarted = _num_levels(abstracts[abstract_id], num)
                # Word continues one list across w:num elements sharing an abstractNum, unless
                # the w:num restarts it with a start override.
                list_of[num_id] = f"num:{num_id}" if restarted else f"abstract:{abstract_id}"
        return cls(levels, list_of, style_numbering, default_style)

    def label(self, p_pr: etree._Element | None) -> tuple[str, str | None]:
        """The label Word shows before this paragraph, and a warning if it cannot be kept."""
        num_id, ilvl = self._num_pr(p_pr)
        if num_id is None or num_id == "0":
            return "", None
        levels = self.levels.get(num_id)
        if levels is None or ilvl not in levels:
            return "", NUMBER_UNKNOWN
        counters = self.counters.setdefault(self.list_of[num_id], [None] * MAX_LEVELS)
        current = counters[ilvl]
        counters[ilvl] = levels[ilvl].start if current is None else current + 1
        for deeper in range(ilvl + 1, MAX_LEVELS):
            level = levels.get(deeper)
            restart_after = deeper if level is None or level.restart is None else level.restart
            if ilvl < restart_after:
                counters[deeper] = None
        return _official_label(levels, ilvl, counters)

    def _num_pr(self, p_pr: etree._Element | None) -> tuple[str | None, int]:
        style_id = _val(p_pr, "w:pStyle") or self.default_style
        num_pr = None if p_pr is None else p_pr.find(W_NUMPR)
        num_id, ilvl = _val(num_pr, "w:numId"), _int(_val(num_pr, "w:ilvl"))
        style_num_id, style_ilvl = self.style_numbering.get(style_id or "", (None, None))
        if num_id is None:
            num_id = style_num_id
        if ilvl is None:
            ilvl = style_ilvl
        if ilvl is None:
            # A list level can name the paragraph style that selects it (w:lvl/w:pStyle).
            linked = self.levels.get(num_id or "", {})
            ilvl = next((i for i, level in linked.items() if level.style == style_id), 0)
        return num_id, ilvl


def _style_numbering(
    styles: etree._Element | None,
) -> tuple[dict[str, tuple[str | None, int | None]], str | None, dict[str, etree._Element]]:
    """Each style's numbering (numId, ilvl), inherited along w:basedOn; and the default style."""
    if styles is None:
        return {}, None, {}
    elements = {
        element.get(qn("w:styleId")): element
        for element in styles.iterchildren(qn("w:style"))
        if element.get(qn("w:styleId"))
    }
    default = next(
        (
            style_id
            for style_id, element in elements.items()
            if element.get(qn("w:type")) == "paragraph" and _is_on_attribute(element)
        ),
        None,
    )
    resolved: dict[str, tuple[str | None, int | None]] = {}
    for style_id in elements:
        num_id = ilvl = None
        seen = set()
        current: str | None = style_id
        while current in elements and current not in seen and (num_id is None or ilvl is None):
            seen.add(current)
            num_pr = elements[current].find(f"{W_PPR}/{W_NUMPR}")
            num_id = num_id if num_id is not None else _val(num_pr, "w:numId")
            ilvl = ilvl if ilvl is not None else _int(_val(num_pr, "w:ilvl"))
            current = _val(elements[current], "w:basedOn")
        resolved[style_id] = (num_id, ilvl)
    return resolved, default, elements


def _is_on_attribute(element: etree._Element) -> bool:
    return element.get(qn("w:default")) in ("1", "true", "on")


def _resolve_abstract(
    abstract_id: str | None,
    abstracts: dict[str, etree._Element],
    nums: dict[str, etree._Element],
    styles: dict[str, etree._Element],
) -> str | None:
    """Follow w:numStyleLink (a list defined by a numbering style) to the abstractNum it uses."""
    seen = set()
    while abstract_id in abstracts and abstract_id not in seen:
        seen.add(abstract_id)
        link = _val(abstracts[abstract_id], "w:numStyleLink")
        if link is None:
            return abstract_id
        num_pr = styles.get(link)
        num_id = _val(num_pr, "w:pPr", "w:numPr", "w:numId")
        abstract_id = _val(nums.get(num_id or ""), "w:abstractNumId")
    return None


def _num_levels(abstract: etree._Element, num: etree._Element) -> tuple[dict[int, _Level], bool]:
    levels = {}
    for lvl in abstract.iterchildren(qn("w:lvl")):
        ilvl = _int(lvl.get(qn("w:ilvl")))
        if ilvl is not None and 0 <= ilvl < MAX_LEVELS:
            levels[ilvl] = _level(lvl, None)
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


def _level(lvl: etree._Element, base: _Level | None) -> _Level:
    fmt = _val(lvl, "w:numFmt") or (base.fmt if base else "decimal")
    if _is_on(lvl.find(qn("w:isLgl"))):
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
    shown = _render_template(levels, levels[ilvl].text, counters)
    if shown is None:
        return "", NUMBER_UNKNOWN
    shown = shown.strip()
    if not shown:
        return "", None
    label = _full_width_parens(re.sub(r"\s+", "", shown))
    if any(
        (match := pattern.match(label)) and match.end() == len(label)
        for _, pattern in HEADING_PATTERNS
    ):
        return label, None
    return "", NUMBER_LOST.format(label=shown)


def _full_width_parens(text: str) -> str:
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


@dataclass
class _BodyReader:
    numbering: _Numbering
    lines: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def read_blocks(self, container: etree._Element) -> None:
        for child in container.iterchildren():
            if child.tag == W_P:
                text, lost = self.paragraph(child)
                if text:
                    self.lines.append(text)
                    if lost:
                        self.warn(lost)
            elif child.tag == W_TBL:
                self.table(child)
            elif child.tag in BLOCK_WRAPPERS:
                self.read_blocks(child)

    def paragraph(self, p: etree._Element) -> tuple[str, str | None]:
        label, lost = self.numbering.label(p.find(W_PPR))
        pieces: list[str] = []
        _inline_text(p, pieces)
        text = _join_soft_breaks("".join(pieces))
        if not text:
            return "", None
        if label and _full_width_parens(text[: len(label)]) != label:
            text = label + text
        return text, lost

    def table(self, tbl: etree._Element) -> None:
        first_line = len(self.lines) + 1
        for tr in _children(tbl, W_TR):
            cells: list[str] = []
            lost_in_row: list[str] = []
            for tc in _children(tr, W_TC):
                cell_lines: list[str] = []
                for text, lost in self.cell_paragraphs(tc):
                    cell_lines.append(text)
                    if lost:
                        lost_in_row.append(lost)
                cell = _join_soft_breaks(SOFT_BREAK.join(cell_lines))
                if cell:
                    cells.append(cell)
            if cells:
                # An ideographic space, not a comma: cells are often labels or figures, and
                # may end in 。, so a comma would invent punctuation the checks then flag.
                self.lines.append("　".join(cells))
                for lost in dict.fromkeys(lost_in_row):
                    self.warn(lost)
        if len(self.lines) >= first_line:
            self.warn(TABLE_FLATTENED, first_line)

    def cell_paragraphs(self, container: etree._Element) -> list[tuple[str, str | None]]:
        found: list[tuple[str, str | None]] = []
        for child in container.iterchildren():
            if child.tag == W_P:
                text, lost = self.paragraph(child)
                if text:
                    found.append((text, lost))
            elif child.tag == W_TBL:
                for tr in _children(child, W_TR):
                    for tc in _children(tr, W_TC):
                        found.extend(self.cell_paragraphs(tc))
            elif child.tag in BLOCK_WRAPPERS:
                found.extend(self.cell_paragraphs(child))
        return found

    def warn(self, message: str, line: int | None = None) -> None:
        line = line or len(self.lines)
        text = self.lines[line - 1]
        excerpt = text if len(text) <= EXCERPT_LENGTH else text[:EXCERPT_LENGTH] + "…"
        length = min(len(text), EXCERPT_LENGTH)
        self.findings.append(Finding(line, 1, "import", "warning", excerpt, message, length))


def _children(element: etree._Element, tag: str) -> list[etree._Element]:
    found = []
    for child in element.iterchildren():
        if child.tag == tag:
            found.append(child)
        elif child.tag in BLOCK_WRAPPERS:
            found.extend(_children(child, tag))
    return found


def _inline_text(element: etree._Element, pieces: list[str]) -> None:
    """Collect the visible text of a paragraph's runs, skipping deleted and hidden text.

    Text boxes and drawings sit inside runs and are not descended into.
    """
    for child in element.iterchildren():
        if child.tag == W_R:
            if not _is_on(child.find(RUN_HIDDEN)):
                _run_text(child, pieces)
        elif child.tag in INLINE_WRAPPERS:
            _inline_text(child, pieces)


def _run_text(run: etree._Element, pieces: list[str]) -> None:
    for child in run.iterchildren():
        if child.tag == W_BR:
            if child.get(qn("w:type")) != "page":
                pieces.append(SOFT_BREAK)
        elif child.tag in RUN_TEXT:
            replacement = RUN_TEXT[child.tag]
            pieces.append(child.text or "" if replacement is None else replacement)


def _join_soft_breaks(text: str) -> str:
    """Join the lines of a paragraph broken with Shift+Enter back into one line.

    Chinese needs no separator; a space goes back only between two Latin letters or digits.
    """
    joined: list[str] = []
    for part in LINE_BREAKS.split(text):
        part = part.strip()
        if not part:
            continue
        if joined and _is_latin_alnum(joined[-1][-1]) and _is_latin_alnum(part[0]):
            joined.append(" ")
        joined.append(part)
    return "".join(joined)


def _is_latin_alnum(char: str) -> bool:
    return char.isalnum() and ord(char) < 0x2E80
