"""Import a report body from an uploaded .docx or .txt file.

The result is the plain-text model of app.documents.structure: one paragraph per line. Only the
text is kept; images, headers and footers, comments, embedded objects and external links are
dropped and never fetched. What the import had to change (tables flattened, automatic numbers it
could not rebuild) is reported as warnings anchored to lines of the imported text.

An upload is small, but what it unpacks to is not: a 150 KB .docx can hold millions of empty
paragraphs. So nothing is read whole. The .docx parts are streamed through lxml as they are
inflated, keeping only the elements used; the text is refused as soon as it exceeds what saving
accepts (app.documents.limits), and the XML as soon as it holds more elements or attributes than
any real report needs, before anything else (checks, the preview) sees it.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from io import BytesIO
from itertools import repeat

from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import NAMESPACE
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from lxml import etree

from app.core.exceptions import RuleViolation
from app.documents.findings import Finding
from app.documents.limits import BODY_MAX_LENGTH, BODY_MAX_PARAGRAPHS
from app.documents.structure import looks_like_title
from app.documents.word_headings import (
    HeadingStyles,
    WordHeading,
    number_headings,
    relevel_lists,
)
from app.documents.word_numbering import (
    KeptElement,
    Numbering,
    ParagraphNumbering,
    full_width_parens,
    is_on_value,
)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_DOCX_UNPACKED_BYTES = 50 * 1024 * 1024
# What one import may read of a .docx's XML (document, styles, numbering and package parts
# together). A 200,000-character report as Word writes it, every run with its own fonts, sizes
# and revision ids, has about 180,000 elements and 230,000 attributes; these bounds keep the
# worst file an upload can be to about a second of parsing (bench/import_adversarial.py).
MAX_XML_ELEMENTS = 400_000
MAX_XML_ATTRIBUTES = 800_000
# Markup that never reaches Python (end tags, comments, processing instructions) still costs
# libxml2 time: every "<" is counted in the raw bytes. The report above has 245,000.
MAX_XML_MARKUP = 1_000_000
# Elements kept from styles.xml and numbering.xml, a few hundred bytes each: a style keeps at
# most five, a list level seven, so this is 20,000 styles or 1,500 nine-level lists, where real
# documents define tens of each.
MAX_KEPT_ELEMENTS = 100_000
# lxml hands each element's attributes to Python as one dict, built before anything can count
# them: a single tag with a million attributes costs a gigabyte. Real tags have a dozen at most.
MAX_TAG_ATTRIBUTES = 1_000
# libxml2's own limit, which it enforces only when it builds a tree; Word nests far less deep.
MAX_XML_DEPTH = 256
CHUNK_BYTES = 64 * 1024

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
TEXT_TOO_LONG = (
    f"文件中的文字超过 {BODY_MAX_LENGTH} 字，超出了正文能保存的上限，未能导入。"
    "请删去附件、大型表格等内容，或分成几份后再上传。"
)
TOO_MANY_PARAGRAPHS = (
    f"文件中的段落（表格每行算一段）超过 {BODY_MAX_PARAGRAPHS} 段，超出了正文能保存的上限，"
    "未能导入。请删去附件、大型表格等内容，或分成几份后再上传。"
)
TOO_COMPLEX = (
    "文件内部的格式标记过多（例如数十万个空段落、空单元格或格式设置），已停止读取，未能导入。"
    "请在 Word 或 WPS 中另存为 .txt 后再上传。"
)
TABLE_FLATTENED = "表格已按行转为段落，请检查格式。"

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
# A line with text, from its first visible character to its line break (white space between
# lines, however much, is skipped by the regular expression engine, not by Python).
TEXT_LINE = re.compile(r"\S[^\n\r\v\f\x85\u2028\u2029]*")
EXCERPT_LENGTH = 30
# A table row with more distinct numbering warnings than this gets only the first ones.
MAX_ROW_WARNINGS = 3


def _inside_skipped(reader) -> bool:
    """Count an opening element against the budget; True when it lies inside a subtree the
    reader skips (whose depth is bounded too)."""
    reader.budget.elements -= 1
    if reader.budget.elements < 0:
        raise ImportRefused(TOO_COMPLEX)
    if reader.skipped:
        reader.skipped += 1
        if reader.skipped > MAX_XML_DEPTH:
            raise ImportRefused(BAD_DOCX)
        return True
    return False


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
    """Turn an uploaded file into report text, or raise ImportRefused with what to do instead.

    The text is never longer than saving accepts (app.documents.limits): a file with more is
    refused as soon as the reading gets past the limit.
    """
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


@dataclass
class _Lines:
    """The imported text, line by line, refused the moment it exceeds what saving accepts."""

    lines: list[str] = field(default_factory=list)
    length: int = 0  # of "\n".join(lines)

    def add(self, line: str) -> None:
        if len(self.lines) == BODY_MAX_PARAGRAPHS:
            raise ImportRefused(TOO_MANY_PARAGRAPHS)
        self.length += len(line) + (1 if self.lines else 0)
        if self.length > BODY_MAX_LENGTH:
            raise ImportRefused(TEXT_TOO_LONG)
        self.lines.append(line)

    def expect(self, characters: int) -> None:
        """Refuse now if a line still being read, already this many characters long, cannot fit."""
        if self.length + (1 if self.lines else 0) + characters > BODY_MAX_LENGTH:
            raise ImportRefused(TEXT_TOO_LONG)


def _text_lines(text: str) -> list[str]:
    """The non-empty lines of ``text``, stripped, for any line-break convention."""
    lines = _Lines()
    for match in TEXT_LINE.finditer(text):
        lines.add(match.group().rstrip())
    return lines.lines


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

W_DOCUMENT, W_BODY = qn("w:document"), qn("w:body")
W_P, W_TBL, W_TR, W_TC, W_R, W_T = (
    qn("w:p"),
    qn("w:tbl"),
    qn("w:tr"),
    qn("w:tc"),
    qn("w:r"),
    qn("w:t"),
)
W_PPR, W_NUMPR, W_RPR = qn("w:pPr"), qn("w:numPr"), qn("w:rPr")
W_PSTYLE, W_NUMID, W_ILVL, W_VANISH = qn("w:pStyle"), qn("w:numId"), qn("w:ilvl"), qn("w:vanish")
W_OUTLINE = qn("w:outlineLvl")
W_VAL, W_TYPE, W_BR = qn("w:val"), qn("w:type"), qn("w:br")
# Elements that only wrap content (content controls, custom XML, tracked insertions, fields):
# their children are read as if they stood in the wrapper's place.
BLOCK_WRAPPERS = {qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml")}
INLINE_WRAPPERS = BLOCK_WRAPPERS | {
    qn(f"w:{tag}") for tag in ("hyperlink", "ins", "moveTo", "smartTag", "fldSimple", "dir", "bdo")
}
SOFT_BREAK = "\n"
# Run content other than w:t and w:br, and the text it stands for.
RUN_CHARACTERS = {
    qn("w:tab"): "\t",
    qn("w:ptab"): "\t",
    qn("w:cr"): SOFT_BREAK,
    qn("w:noBreakHyphen"): "-",
}

# lxml's settings for every part: no DTD (a DOCTYPE is refused, so no entity is ever defined,
# let alone expanded), nothing fetched, libxml2's limits on the size of one text, value or name
# kept (huge_tree off; its depth limit applies to trees only, so the targets count depth), and
# comments and processing instructions dropped as they are parsed.
SAFE_XML = {
    "resolve_entities": False,
    "load_dtd": False,
    "no_network": True,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}


def read_docx(data: bytes) -> tuple[list[str], list[Finding]]:
    """The paragraphs of a .docx body in document order, and warnings about what was lost."""
    with _open_docx(data) as archive:
        budget = _XmlBudget(MAX_XML_ELEMENTS, MAX_KEPT_ELEMENTS, MAX_XML_ATTRIBUTES, MAX_XML_MARKUP)
        document, styles, numbering = _word_parts(archive, budget)
        numbering_ = Numbering.of(
            _kept_tree(archive, styles, STYLES_KEPT, budget),
            _kept_tree(archive, numbering, NUMBERING_KEPT, budget),
        )
        reader = _BodyReader(numbering_, HeadingStyles(numbering_.styles), budget)
        _parse(archive, document, reader, budget)
    return _with_heading_labels(reader)


def _with_heading_labels(reader: _BodyReader) -> tuple[list[str], list[Finding]]:
    """The lines with Word's unnumbered headings labelled (word_headings), and the findings."""
    lines, numbered, note = number_headings(reader.body.lines, reader.headings)
    lines, moved = relevel_lists(lines, reader.list_items)
    if sum(map(len, lines)) + len(lines) - 1 > BODY_MAX_LENGTH:
        raise ImportRefused(TEXT_TOO_LONG)
    reader.body.lines = lines
    if note:
        reader.warn(note, numbered[0] + 1)
    for line, message in moved:
        reader.warn(message, line + 1)
    return lines, sorted(reader.findings)


def _open_docx(data: bytes) -> zipfile.ZipFile:
    if data.startswith(OLE_MAGIC):
        # Word saves password-protected documents as an OLE container, even with a .docx name.
        raise ImportRefused(ENCRYPTED_DOCX)
    if not data.startswith(ZIP_MAGICS):
        for magics, kind in NOT_TEXT_MAGICS:
            if data.startswith(magics):
                raise ImportRefused(f"文件扩展名是 .docx，但内容是{kind}。{UNSUPPORTED}")
        raise ImportRefused(BAD_DOCX)
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        ValueError,
        OSError,
        EOFError,
        NotImplementedError,  # a directory entry needing a newer zip version
    ) as exc:
        raise ImportRefused(BAD_DOCX) from exc
    members = archive.infolist()
    # Checked on the directory before anything is inflated; zipfile then never reads a member
    # past the size the directory declares (and fails on a CRC mismatch).
    if sum(member.file_size for member in members) > MAX_DOCX_UNPACKED_BYTES:
        raise ImportRefused(UNPACKED_TOO_LARGE)
    if any(member.flag_bits & 0x1 for member in members):
        raise ImportRefused(ENCRYPTED_DOCX)
    return archive


@dataclass
class _XmlBudget:
    """What is left of the elements and attributes one import may read, across all parts."""

    elements: int
    kept: int  # of the elements kept from styles.xml and numbering.xml
    attributes: int
    markup: int  # "<" signs
    equals_in_open_tag: int = 0  # "=" since the last "<" of the previous chunk

    def check_markup(self, chunk: bytes) -> None:
        """Count markup and attributes in raw XML before lxml parses it: "<" and "=" signs.

        An attribute value cannot contain "<", so the "=" between two "<" bound the attributes
        of one tag (text with many "=" is refused too; no report has a thousand in a row).
        """
        stretches = list(map(bytes.count, chunk.split(b"<"), repeat(b"=")))
        stretches[0] += self.equals_in_open_tag
        self.equals_in_open_tag = stretches[-1]
        self.attributes -= chunk.count(b"=")
        self.markup -= len(stretches) - 1
        if max(stretches) > MAX_TAG_ATTRIBUTES or self.attributes < 0 or self.markup < 0:
            raise ImportRefused(TOO_COMPLEX)


def _parse(archive: zipfile.ZipFile, name: str, target: object, budget: _XmlBudget) -> object:
    """Stream one part through ``target`` (an lxml parser target) as it is inflated."""
    parser = etree.XMLParser(target=target, **SAFE_XML)
    try:
        with archive.open(name) as stream:
            while chunk := stream.read(CHUNK_BYTES):
                budget.check_markup(chunk)
                parser.feed(chunk)
        return parser.close()
    except ImportRefused:
        raise
    except (
        etree.LxmlError,
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        KeyError,
        ValueError,
        NotImplementedError,
        RuntimeError,
    ) as exc:
        raise ImportRefused(BAD_DOCX) from exc


@dataclass(frozen=True)
class _Kept:
    """The elements of a small part that the import uses: the root, then children by parent.

    Of a ``values`` element (w:numFmt, w:basedOn…) only the first under its parent is used, and
    only its attributes: they are kept as a dict, not an element.
    """

    root: str
    children: dict[str, set[str]]
    attributes: set[str]
    values: set[str] = field(default_factory=set)


class _KeptTreeBuilder:
    """An lxml parser target building a tree of the kept elements only, with kept attributes."""

    def __init__(self, kept: _Kept, budget: _XmlBudget) -> None:
        self.kept, self.budget = kept, budget
        self.open: list[KeptElement] = []
        self.skipped = 0  # depth inside an element that is not kept
        self.root: KeptElement | None = None

    def doctype(self, *args: object) -> None:
        raise ImportRefused(BAD_DOCX)

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if _inside_skipped(self):
            return
        if self.open:
            wanted = tag in self.kept.children.get(self.open[-1].tag, ())
        else:
            wanted = tag == self.kept.root and self.root is None
        if not wanted:
            self.skipped = 1
            return
        self.budget.kept -= 1
        if self.budget.kept < 0:
            raise ImportRefused(TOO_COMPLEX)
        kept = {name: attrib[name] for name in self.kept.attributes if name in attrib}
        if tag in self.kept.values:
            self.open[-1].keep_value(tag, kept)
            self.skipped = 1
            return
        element = KeptElement(tag, kept)
        if self.open:
            self.open[-1].append(element)
        else:
            self.root = element
        self.open.append(element)  # the kept elements nest a few levels deep at most

    def end(self, tag: str) -> None:
        if self.skipped:
            self.skipped -= 1
        else:
            self.open.pop()

    def data(self, text: str) -> None:
        pass  # none of the kept elements has text that matters

    def close(self) -> KeptElement | None:
        return self.root


def _kept_tree(
    archive: zipfile.ZipFile, name: str | None, kept: _Kept, budget: _XmlBudget
) -> KeptElement | None:
    if name is None:
        return None
    tree = _parse(archive, name, _KeptTreeBuilder(kept, budget), budget)
    return tree if isinstance(tree, KeptElement) else None


def _w(*tags: str) -> set[str]:
    return {qn(f"w:{tag}") for tag in tags}


_LEVEL_CHILDREN = _w("start", "numFmt", "isLgl", "lvlText", "lvlRestart", "pStyle")
STYLES_KEPT = _Kept(
    root=qn("w:styles"),
    children={
        qn("w:styles"): _w("style"),
        qn("w:style"): _w("name", "basedOn", "pPr"),
        W_PPR: _w("numPr", "outlineLvl"),
        W_NUMPR: _w("numId", "ilvl"),
    },
    attributes=_w("styleId", "type", "default", "val"),
    values=_w("name", "basedOn", "numId", "ilvl", "outlineLvl"),
)
NUMBERING_KEPT = _Kept(
    root=qn("w:numbering"),
    children={
        qn("w:numbering"): _w("abstractNum", "num"),
        qn("w:abstractNum"): _w("numStyleLink", "lvl"),
        qn("w:lvl"): _LEVEL_CHILDREN,
        qn("w:num"): _w("abstractNumId", "lvlOverride"),
        qn("w:lvlOverride"): _w("startOverride", "lvl"),
    },
    attributes=_w("abstractNumId", "numId", "ilvl", "val"),
    values=_LEVEL_CHILDREN | _w("numStyleLink", "abstractNumId", "startOverride"),
)
_REL, _TYPES = NAMESPACE.OPC_RELATIONSHIPS, NAMESPACE.OPC_CONTENT_TYPES
RELATIONSHIPS_KEPT = _Kept(
    root=f"{{{_REL}}}Relationships",
    children={f"{{{_REL}}}Relationships": {f"{{{_REL}}}Relationship"}},
    attributes={"Type", "Target", "TargetMode"},
)
CONTENT_TYPES_KEPT = _Kept(
    root=f"{{{_TYPES}}}Types",
    children={f"{{{_TYPES}}}Types": {f"{{{_TYPES}}}Default", f"{{{_TYPES}}}Override"}},
    attributes={"Extension", "PartName", "ContentType"},
)


def _word_parts(archive: zipfile.ZipFile, budget: _XmlBudget) -> tuple[str, str | None, str | None]:
    """The members holding the main document, its styles and its numbering (Open Packaging
    Conventions: the package's relationships name the document, the document's name the rest).
    """
    names = set(archive.namelist())
    if not {"[Content_Types].xml", "_rels/.rels"} <= names:
        raise ImportRefused(BAD_DOCX)
    content_types = _kept_tree(archive, "[Content_Types].xml", CONTENT_TYPES_KEPT, budget)
    package_rels = _kept_tree(archive, "_rels/.rels", RELATIONSHIPS_KEPT, budget)
    document = _related(package_rels, "/", RT.OFFICE_DOCUMENT)
    if document not in names or _content_type(content_types, document) != CT.WML_DOCUMENT_MAIN:
        raise ImportRefused(BAD_DOCX)
    folder, _, filename = document.rpartition("/")
    rels_name = posixpath.join(folder, "_rels", f"{filename}.rels")
    if rels_name not in names:
        return document, None, None
    document_rels = _kept_tree(archive, rels_name, RELATIONSHIPS_KEPT, budget)
    styles = _related(document_rels, f"/{folder}", RT.STYLES)
    numbering = _related(document_rels, f"/{folder}", RT.NUMBERING)
    return (
        document,
        styles if styles in names else None,
        numbering if numbering in names else None,
    )


def _related(rels: KeptElement | None, base: str, reltype: str) -> str | None:
    """The member a part's first internal relationship of this type points to."""
    for rel in () if rels is None else rels.iterchildren():
        target = rel.get("Target")
        if rel.get("Type") == reltype and rel.get("TargetMode") != "External" and target:
            return posixpath.normpath(posixpath.join(base, target)).lstrip("/")
    return None


def _content_type(types: KeptElement | None, member: str) -> str | None:
    """A part's content type: its Override, else the Default for its extension (any case)."""
    part_name = f"/{member}".lower()
    extension = member.rpartition(".")[2].lower()
    default = None
    for entry in () if types is None else types.iterchildren():
        if entry.tag.endswith("}Override") and (entry.get("PartName") or "").lower() == part_name:
            return entry.get("ContentType")
        if entry.tag.endswith("}Default") and (entry.get("Extension") or "").lower() == extension:
            default = default or entry.get("ContentType")
    return default


# Where the body reader is: what the current element may contain.
(_ROOT, _DOCUMENT, _BLOCKS, _TABLE, _ROW, _PARAGRAPH, _INLINE, _RUN, _TEXT, _PPR, _NUMPR, _RPR) = (
    range(12)
)
# Elements read for their attributes alone.
_BREAK, _CHARACTER, _VANISH, _PSTYLE, _NUMID, _ILVL, _OUTLINE = range(100, 107)
# (where, element) -> where its content is read, or what is read from it (the codes from 100);
# an element not listed is skipped whole.
_READ = {
    (_ROOT, W_DOCUMENT): _DOCUMENT,
    (_DOCUMENT, W_BODY): _BLOCKS,
    (_BLOCKS, W_P): _PARAGRAPH,
    (_BLOCKS, W_TBL): _TABLE,
    (_TABLE, W_TR): _ROW,
    (_ROW, W_TC): _BLOCKS,
    (_PARAGRAPH, W_PPR): _PPR,
    (_PARAGRAPH, W_R): _RUN,
    (_INLINE, W_R): _RUN,
    (_RUN, W_RPR): _RPR,
    (_RUN, W_T): _TEXT,
    (_RUN, W_BR): _BREAK,
    (_RPR, W_VANISH): _VANISH,
    (_PPR, W_PSTYLE): _PSTYLE,
    (_PPR, W_NUMPR): _NUMPR,
    (_PPR, W_OUTLINE): _OUTLINE,
    (_NUMPR, W_NUMID): _NUMID,
    (_NUMPR, W_ILVL): _ILVL,
    **{(_RUN, tag): _CHARACTER for tag in RUN_CHARACTERS},
    **{(where, tag): where for where in (_BLOCKS, _TABLE, _ROW) for tag in BLOCK_WRAPPERS},
    **{(where, tag): _INLINE for where in (_PARAGRAPH, _INLINE) for tag in INLINE_WRAPPERS},
}
# The same as one dict per place: the lookup runs for every element of the body.
_READ_IN = [
    {tag: read for (place, tag), read in _READ.items() if place == where}
    for where in range(_RPR + 1)
]


class _BodyReader:
    """An lxml parser target reading the body of word/document.xml as it streams by.

    Keeps no tree: each paragraph becomes its line when it ends, each table row one line, and the
    text is counted as it comes (app.documents.limits), so a file with more than a report may
    hold is refused as soon as the reading gets past the limit. Runs once per element of the
    body (hundreds of thousands), hence the plain attributes and the dispatch by table.
    """

    def __init__(self, numbering: Numbering, headings: HeadingStyles, budget: _XmlBudget) -> None:
        self.numbering, self.heading_styles, self.budget = numbering, headings, budget
        self.default_numbered = numbering.numbers_default_style()
        self.default_heading = headings.level_of(numbering.default_style, None) is not None
        # The paragraphs outside tables that Word treats as headings (word_headings), and the
        # lines of the others that Word's numbering gave an official label.
        self.headings: list[WordHeading] = []
        self.list_items: list[int] = []
        self.body = _Lines()
        self.findings: list[Finding] = []
        self.where = [_ROOT]
        self.skipped = 0  # depth inside an element that is not read
        self.in_text = False
        # The top-level table: its first line, the current row's cells and the current cell's
        # paragraphs (nested tables' included), the row's length so far (at least), its warnings.
        self.tables = 0  # depth of tables at the current point
        self.first_table_line = 0
        self.cells: list[str] = []
        self.cell_lines: list[str] = []
        self.row_length = 0
        self.row_warnings: dict[str, None] = {}
        # The current paragraph: its runs' visible text, what its w:pPr says about numbering (the
        # first of each kind), the characters read so far (hidden ones and spaces included) and
        # the non-space ones among the first ``counted`` pieces.
        self.pieces: list[str] = []
        self.properties: dict[int, str | None] = {}
        self.read = self.visible = self.counted = 0
        # The current run: its text and whether it is hidden (None: not said).
        self.run: list[str] = []
        self.hidden: bool | None = None

    def doctype(self, *args: object) -> None:
        raise ImportRefused(BAD_DOCX)

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if _inside_skipped(self):
            return
        where = self.where[-1]
        read = _READ_IN[where].get(tag)
        if read is None:
            if where == _ROOT:
                raise ImportRefused(BAD_DOCX)  # not a WordprocessingML document
            self.skipped = 1
        elif read >= _BREAK:
            self._read_attributes(read, tag, attrib)
            self.skipped = 1
        elif read in self.properties:  # only the first w:pPr, and its first w:numPr, count
            self.skipped = 1
        else:
            if read == _RUN:
                self.run, self.hidden = [], None
            elif read == _TEXT:
                self.in_text = True
            elif read == _PARAGRAPH:
                self.pieces, self.properties = [], {}
                self.read = self.visible = self.counted = 0
            elif read in (_PPR, _NUMPR):
                self.properties[read] = None
            elif tag == W_TBL:
                self.tables += 1
                if self.tables == 1:
                    self.first_table_line = len(self.body.lines) + 1
            if len(self.where) > MAX_XML_DEPTH:
                raise ImportRefused(BAD_DOCX)
            self.where.append(read)

    def _read_attributes(self, read: int, tag: str, attrib: dict[str, str]) -> None:
        if read == _BREAK:
            if attrib.get(W_TYPE) != "page":
                self.run.append(SOFT_BREAK)
                self.read += 1
        elif read == _CHARACTER:
            self.run.append(RUN_CHARACTERS[tag])
            self.read += 1
        elif read == _VANISH:
            if self.hidden is None:
                self.hidden = is_on_value(attrib.get(W_VAL))
        else:  # w:pStyle, w:numId, w:ilvl, w:outlineLvl
            self.properties.setdefault(read, attrib.get(W_VAL))

    def data(self, text: str) -> None:
        if self.in_text and not self.skipped:
            self.run.append(text)
            self.read += len(text)
            # Hidden text and spaces are not kept, so they are not counted against the length;
            # but no real paragraph holds twice as much of them as a whole report's text.
            if self.read > 2 * BODY_MAX_LENGTH:
                raise ImportRefused(TEXT_TOO_LONG)

    def end(self, tag: str) -> None:
        if self.skipped:
            self.skipped -= 1
            return
        where = self.where.pop()
        if where == _TEXT:
            self.in_text = False
        elif where == _RUN:
            if self.run and not self.hidden:
                self.pieces.append("".join(self.run))
                self._expect_paragraph()
        elif where == _PARAGRAPH:
            self._end_paragraph()
        elif tag == W_TBL:
            self._end_table()
        elif self.tables == 1 and tag == W_TR and where == _ROW:
            self._end_row()
        elif self.tables == 1 and tag == W_TC and where == _BLOCKS:
            cell = _join_soft_breaks(SOFT_BREAK.join(self.cell_lines))
            if cell:
                self.cells.append(cell)
            self.cell_lines = []

    def close(self) -> None:
        pass  # lxml itself reports a document that ends early

    def _expect_paragraph(self) -> None:
        """Refuse as soon as the paragraph read so far, with what precedes, is over the limit.

        Its visible characters are counted only once what was read could be over: spaces and
        hidden text are then left out, as the import leaves them out.
        """
        if self.body.length + 1 + self.row_length + self.read <= BODY_MAX_LENGTH:
            return
        for piece in self.pieces[self.counted :]:
            self.visible += len("".join(piece.split()))
        self.counted = len(self.pieces)
        self.body.expect(self.row_length + self.visible)

    def _end_paragraph(self) -> None:
        properties = self.properties
        if _PSTYLE not in properties and _NUMID not in properties and not self.default_numbered:
            if not self.pieces:
                return  # the common empty paragraph: no text, no number for Word to count
            label, lost = "", None
            text = _join_soft_breaks("".join(self.pieces))
        else:
            text = _join_soft_breaks("".join(self.pieces))
            numbering = ParagraphNumbering(
                properties.get(_PSTYLE), properties.get(_NUMID), properties.get(_ILVL)
            )
            label, lost = self.numbering.label(numbering, has_text=bool(text))
        if not text:
            return
        if label and full_width_parens(text[: len(label)]) != label:
            text = label + text
        if not self.tables:
            if self._is_heading():
                lost = None if not label else lost  # labelled by its level (word_headings)
            elif label:
                self.list_items.append(len(self.body.lines))
        if self.tables:
            self.cell_lines.append(text)
            self.row_length += len(text)
            self.body.expect(self.row_length)
            if lost and len(self.row_warnings) < MAX_ROW_WARNINGS:
                self.row_warnings[lost] = None
            return
        self.body.add(text)
        if lost:
            self.warn(lost)

    def _is_heading(self) -> bool:
        """Whether Word treats the paragraph ending now as a heading; if so, note it."""
        properties = self.properties
        if not (self.default_heading or _PSTYLE in properties or _OUTLINE in properties):
            return False
        level = self.heading_styles.level_of(
            properties.get(_PSTYLE) or self.numbering.default_style, properties.get(_OUTLINE)
        )
        if level is None:
            return False
        self.headings.append(WordHeading(len(self.body.lines), level))
        return True

    def _end_row(self) -> None:
        if self.cells:
            self.body.add("　".join(self.cells))
            for lost in self.row_warnings:
                self.warn(lost)
        self.cells, self.row_length, self.row_warnings = [], 0, {}

    def _end_table(self) -> None:
        self.tables -= 1
        if not self.tables and len(self.body.lines) >= self.first_table_line:
            self.warn(TABLE_FLATTENED, self.first_table_line)

    def warn(self, message: str, line: int | None = None) -> None:
        line = line or len(self.body.lines)
        text = self.body.lines[line - 1]
        excerpt = text if len(text) <= EXCERPT_LENGTH else text[:EXCERPT_LENGTH] + "…"
        length = min(len(text), EXCERPT_LENGTH)
        self.findings.append(Finding(line, 1, "import", "warning", excerpt, message, length))


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
