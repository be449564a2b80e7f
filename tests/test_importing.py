"""Importing report text from uploaded .docx and .txt files (app/documents/importing.py)."""

from __future__ import annotations

import contextlib
import io
import random
import socket
import struct
import zipfile
import zlib
from collections import Counter
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_BREAK
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Pt
from hypothesis import given, settings
from hypothesis import strategies as st

from app.documents import importing, word_numbering
from app.documents.checks import check
from app.documents.importing import (
    MAX_DOCX_UNPACKED_BYTES,
    MAX_UPLOAD_BYTES,
    ImportRefused,
    decode_text,
    import_file,
    read_docx,
)
from app.documents.limits import BODY_MAX_LENGTH, BODY_MAX_PARAGRAPHS, body_limit_error
from app.documents.structure import (
    heading_level,
    heading_number,
    looks_like_title,
    paragraphs,
    parse,
)
from tests.samples import SAMPLES, needs_samples

TITLE = "关于全区2024年上半年基层党建工作情况的汇报"
INTRO = "今年以来，区委坚持把抓好基层党建作为第一责任，各项工作稳步推进。现将有关情况汇报如下："
VML = 'xmlns:v="urn:schemas-microsoft-com:vml"'
# Word's own multilevel list for official headings: level N shows its counter as %N+1.
OFFICIAL = [
    ("chineseCounting", "%1、"),
    ("chineseCounting", "（%2）"),
    ("decimal", "%3."),
    ("decimal", "（%4）"),
]


# --- building .docx files ---------------------------------------------------------------------


def docx_bytes(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def numbering_element(document):
    return document.part.part_related_by(RT.NUMBERING).element


def add_abstract(document, abstract_id: int, levels, *, starts=None, links=None) -> None:
    """A w:abstractNum with one w:lvl per (numFmt, lvlText); abstractNums precede the w:nums."""
    starts, links = starts or {}, links or {}
    lvls = "".join(
        f'<w:lvl w:ilvl="{ilvl}"><w:start w:val="{starts.get(ilvl, 1)}"/>'
        f'<w:numFmt w:val="{fmt}"/>'
        + (f'<w:pStyle w:val="{links[ilvl]}"/>' if ilvl in links else "")
        + f'<w:lvlText w:val="{text}"/><w:lvlJc w:val="left"/></w:lvl>'
        for ilvl, (fmt, text) in enumerate(levels)
    )
    abstract = parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{abstract_id}">'
        f'<w:multiLevelType w:val="multilevel"/>{lvls}</w:abstractNum>'
    )
    numbering_element(document).find(qn("w:num")).addprevious(abstract)


def add_num(document, num_id: int, abstract_id: int, start_overrides=None) -> None:
    overrides = "".join(
        f'<w:lvlOverride w:ilvl="{ilvl}"><w:startOverride w:val="{start}"/></w:lvlOverride>'
        for ilvl, start in (start_overrides or {}).items()
    )
    numbering_element(document).append(
        parse_xml(
            f'<w:num {nsdecls("w")} w:numId="{num_id}">'
            f'<w:abstractNumId w:val="{abstract_id}"/>{overrides}</w:num>'
        )
    )


def add_list(document, levels=OFFICIAL, *, num_id: int = 90, starts=None) -> int:
    add_abstract(document, num_id, levels, starts=starts)
    add_num(document, num_id, num_id)
    return num_id


def set_numbering(element_with_ppr, num_id: int | None, ilvl: int | None) -> None:
    num_pr = element_with_ppr.get_or_add_pPr().get_or_add_numPr()
    if ilvl is not None:
        num_pr.get_or_add_ilvl().val = ilvl
    if num_id is not None:
        num_pr.get_or_add_numId().val = num_id


def numbered(document, text: str, num_id: int, ilvl: int = 0, style=None):
    paragraph = document.add_paragraph(text, style=style)
    set_numbering(paragraph._p, num_id, ilvl)
    return paragraph


def raw_paragraph(document, inner_xml: str) -> None:
    """Append a w:p written by hand, for markup python-docx has no API for."""
    body = document.element.body
    body.insert(len(body) - 1, parse_xml(f"<w:p {nsdecls('w')} {VML}>{inner_xml}</w:p>"))


def png_bytes(width: int = 4, height: int = 4) -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xc0\x30\x30" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def imported_lines(document) -> list[str]:
    return import_file("汇报.docx", docx_bytes(document)).text.split("\n")


# --- automatic numbering ----------------------------------------------------------------------


def test_official_levels_are_rebuilt_and_deeper_levels_restart():
    document = docx.Document()
    document.add_paragraph(TITLE)
    document.add_paragraph(INTRO)
    num = add_list(document)
    for ilvl, text in [
        (0, "总体进展情况"),
        (1, "压实工作责任"),
        (2, "健全领导机制。班子成员分片包抓，定期研究重点任务。"),
        (3, "建立周调度制度。"),
        (3, "建立月通报制度。"),
        (2, "细化任务清单。"),
        (3, "逐项明确完成时限。"),
        (1, "抓实基层基础"),
        (2, "推进阵地规范化建设。"),
        (0, "存在的主要问题"),
        (1, "工作推进还不够平衡"),
    ]:
        numbered(document, text, num, ilvl)

    result = import_file("汇报.docx", docx_bytes(document))

    assert result.text.split("\n") == [
        TITLE,
        INTRO,
        "一、总体进展情况",
        "（一）压实工作责任",
        "1.健全领导机制。班子成员分片包抓，定期研究重点任务。",
        "（1）建立周调度制度。",
        "（2）建立月通报制度。",
        "2.细化任务清单。",
        "（1）逐项明确完成时限。",
        "（二）抓实基层基础",
        "1.推进阵地规范化建设。",
        "二、存在的主要问题",
        "（一）工作推进还不够平衡",
    ]
    assert result.findings == []
    assert result.title == TITLE
    assert (result.source_kind, result.encoding) == ("docx", None)
    levels = [heading_level(line) for line in result.text.split("\n")[2:]]
    assert levels == [1, 2, 3, 4, 4, 3, 4, 2, 3, 1, 2]


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        ([("chineseCountingThousand", "%1、")], "一、"),
        ([("taiwaneseCounting", "%1、")], "一、"),
        ([("chineseCounting", "(%1)")], "（一）"),
        ([("decimal", "%1．")], "1．"),
        ([("decimal", "%1、")], "1、"),
        ([("decimal", "(%1)")], "（1）"),
    ],
)
def test_each_official_label_style(levels, expected):
    document = docx.Document()
    numbered(document, "加强队伍建设", add_list(document, levels))
    assert imported_lines(document) == [expected + "加强队伍建设"]


@pytest.mark.parametrize("fmt", ["chineseCounting", "chineseCountingThousand", "taiwaneseCounting"])
def test_chinese_counting_past_ten(fmt):
    document = docx.Document()
    num = add_list(document, [(fmt, "%1、")], starts={0: 9})
    for _ in range(4):
        numbered(document, "工作要点", num)
    lines = imported_lines(document)
    assert lines == ["九、工作要点", "十、工作要点", "十一、工作要点", "十二、工作要点"]
    structure = [heading_number(_block(line)) for line in lines]
    assert structure == [9, 10, 11, 12]


def _block(line: str):
    return parse("标题\n" + line)[1]


def test_start_values_and_start_overrides():
    document = docx.Document()
    add_abstract(document, 90, OFFICIAL, starts={0: 3, 1: 2})
    add_num(document, 90, 90)
    add_num(document, 91, 90, start_overrides={0: 1})  # Word's "restart numbering"
    add_num(document, 92, 90)  # another w:num on the same list: it continues
    numbered(document, "第三部分", 90)
    numbered(document, "第二小项", 90, 1)
    numbered(document, "第四部分", 90)
    numbered(document, "重新编号", 91)
    numbered(document, "重新编号后的第二项", 91)
    numbered(document, "续接原编号", 92)
    assert imported_lines(document) == [
        "三、第三部分",
        "（二）第二小项",
        "四、第四部分",
        "一、重新编号",
        "二、重新编号后的第二项",
        "五、续接原编号",
    ]


def test_numbering_through_styles_and_inherited_styles():
    document = docx.Document()
    add_abstract(document, 90, OFFICIAL, links={1: "ReportLevel2"})
    add_num(document, 90, 90)
    level1 = document.styles.add_style("ReportLevel1", 1)
    set_numbering(level1.element, 90, 0)
    level2 = document.styles.add_style("ReportLevel2", 1)
    set_numbering(level2.element, 90, None)  # the level comes from w:lvl/w:pStyle
    bold1 = document.styles.add_style("ReportLevel1Bold", 1)
    bold1.base_style = level1
    bold1.font.size = Pt(16)

    document.add_paragraph("主要做法", style=level1)
    document.add_paragraph("强化政治引领", style=level2)
    document.add_paragraph("夯实基层组织", style=level2)
    document.add_paragraph("下一步打算", style=bold1)
    not_numbered = document.add_paragraph("不编号的段落", style=level1)
    set_numbering(not_numbered._p, 0, None)  # numId 0 switches the style's numbering off

    assert imported_lines(document) == [
        "一、主要做法",
        "（一）强化政治引领",
        "（二）夯实基层组织",
        "二、下一步打算",
        "不编号的段落",
    ]


def test_level_text_naming_another_level_shows_that_counter():
    document = docx.Document()
    num = add_list(document, [("chineseCounting", "%1、"), ("chineseCounting", "（%1）")])
    numbered(document, "第一部分", num)
    numbered(document, "沿用上级序号", num, 1)
    numbered(document, "第二部分", num)
    numbered(document, "沿用上级序号", num, 1)
    assert imported_lines(document) == [
        "一、第一部分",
        "（一）沿用上级序号",
        "二、第二部分",
        "（二）沿用上级序号",
    ]


def test_label_typed_by_hand_is_not_doubled():
    document = docx.Document()
    num = add_list(document)
    numbered(document, "一、主要成效", num)
    numbered(document, "（一）学习教育扎实开展", num, 1)
    numbered(document, "稳步推进", num, 1)
    numbered(document, "(三)半角括号", num, 1)
    assert imported_lines(document) == [
        "一、主要成效",
        "（一）学习教育扎实开展",
        "（二）稳步推进",
        "(三)半角括号",
    ]


def test_empty_numbered_paragraph_still_counts_as_word_shows_it():
    document = docx.Document()
    num = add_list(document)
    numbered(document, "第一项", num)
    numbered(document, "", num)
    numbered(document, "第三项", num)
    assert imported_lines(document) == ["一、第一项", "三、第三项"]


def test_default_template_list_styles():
    document = docx.Document()
    document.add_paragraph("召开专题会议", style="List Number")
    document.add_paragraph("印发实施方案", style="List Number")
    document.add_paragraph("副标题样式不编号", style="Subtitle")  # w:numPr with w:ilvl only
    assert imported_lines(document) == ["1.召开专题会议", "2.印发实施方案", "副标题样式不编号"]


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        ([("bullet", "\uf0b7")], word_numbering.BULLET_LOST),
        ([("lowerLetter", "%1)")], word_numbering.NUMBER_LOST.format(label="a)")),
        ([("decimal", "%1)")], word_numbering.NUMBER_LOST.format(label="1)")),
        ([("decimalEnclosedCircle", "%1")], word_numbering.NUMBER_LOST.format(label="①")),
        ([("ideographTraditional", "%1、")], word_numbering.NUMBER_LOST.format(label="甲、")),
        ([("chineseCounting", "第%1条")], word_numbering.NUMBER_LOST.format(label="第一条")),
        ([("hebrew1", "%1.")], word_numbering.NUMBER_UNKNOWN),
    ],
)
def test_numbers_that_cannot_be_kept_are_reported(levels, message):
    document = docx.Document()
    document.add_paragraph(TITLE)
    numbered(document, "深入开展调查研究", add_list(document, levels))
    result = import_file("汇报.docx", docx_bytes(document))
    assert result.text == f"{TITLE}\n深入开展调查研究"
    (finding,) = result.findings
    assert (finding.line, finding.column, finding.rule, finding.severity) == (
        2,
        1,
        "import",
        "warning",
    )
    assert finding.message == message
    assert finding.excerpt == "深入开展调查研究"


def test_bullet_style_and_undefined_numbering_each_get_a_warning():
    document = docx.Document()
    document.add_paragraph("主要成效如下：")
    document.add_paragraph("理论学习更加深入", style="List Bullet")
    document.add_paragraph("为民服务更加有力", style="List Bullet")
    numbered(document, "编号定义缺失的段落", 77)
    result = import_file("汇报.docx", docx_bytes(document))
    assert result.text.split("\n")[1:] == [
        "理论学习更加深入",
        "为民服务更加有力",
        "编号定义缺失的段落",
    ]
    assert [(f.line, f.message) for f in result.findings] == [
        (2, word_numbering.BULLET_LOST),
        (3, word_numbering.BULLET_LOST),
        (4, word_numbering.NUMBER_UNKNOWN),
    ]


def test_multilevel_legal_style_is_written_one_official_level_down():
    document = docx.Document()
    num = add_list(document, [("decimal", "%1."), ("decimal", "%1.%2")])
    numbered(document, "总则", num)
    numbered(document, "适用范围", num, 1)
    result = import_file("汇报.docx", docx_bytes(document))
    assert result.text == "1.总则\n（1）适用范围"
    assert [f.message for f in result.findings] == [
        word_numbering.NUMBER_RELEVELLED.format(shown="1.1", label="（1）")
    ]


@pytest.mark.parametrize(
    ("inner", "labels"),
    [
        (("decimal", "%2."), ["（1）", "（2）"]),  # LibreOffice's nested <ol>: “1.” in “1.”
        (("lowerLetter", "%2."), ["（1）", "（2）"]),  # Word's default multilevel list
        (("decimal", "（%2）"), ["（1）", "（2）"]),  # already a level down: kept, no note
    ],
)
def test_a_list_nested_in_a_list_is_one_official_level_down(inner, labels):
    document = docx.Document()
    num = add_list(document, [("decimal", "%1."), inner])
    numbered(document, "开展专题学习。", num)
    numbered(document, "局党组带头学", num, 1)
    numbered(document, "支部跟进学", num, 1)
    numbered(document, "举办法治讲座。", num)
    numbered(document, "覆盖全体干部", num, 1)
    result = import_file("汇报.docx", docx_bytes(document))
    assert result.text.split("\n") == [
        "1.开展专题学习。",
        f"{labels[0]}局党组带头学",
        f"{labels[1]}支部跟进学",
        "2.举办法治讲座。",
        f"{labels[0]}覆盖全体干部",
    ]
    relevelled = inner[1] != "（%2）"
    assert [f.line for f in result.findings] == ([2, 3, 5] if relevelled else [])
    assert [f for f in check(result.text) if f.rule == "numbering"] == []


# --- headings: styles and outline levels -----------------------------------------------------

DATA = Path(__file__).parent / "data"


def heading_style(document, name: str, *, based_on=None, outline: int | None = None):
    """A paragraph style as other programs write them: any id, a name, maybe an outline level."""
    style = document.styles.add_style(name, 1)
    if based_on is not None:
        style.base_style = based_on
    if outline is not None:
        style.element.get_or_add_pPr().append(
            parse_xml(f'<w:outlineLvl {nsdecls("w")} w:val="{outline}"/>')
        )
    return style


def set_outline(paragraph, level: int) -> None:
    paragraph._p.get_or_add_pPr().append(
        parse_xml(f'<w:outlineLvl {nsdecls("w")} w:val="{level}"/>')
    )


def test_word_headings_without_numbers_get_the_label_of_their_level():
    document = docx.Document()
    document.add_paragraph(TITLE, style="Title")
    document.add_paragraph(INTRO)
    document.add_paragraph("主要做法", style="Heading 1")
    document.add_paragraph("强化政治引领", style="Heading 2")
    document.add_paragraph("开展专题学习，覆盖全体党员。")
    document.add_paragraph("夯实基层组织", style="Heading 2")
    document.add_paragraph("整顿软弱涣散党组织三个。")
    document.add_paragraph("下一步打算", style="Heading 1")
    document.add_paragraph("持续抓好整改落实。")
    result = import_file("汇报.docx", docx_bytes(document))
    assert result.text.split("\n") == [
        TITLE,
        INTRO,
        "一、主要做法",
        "（一）强化政治引领",
        "开展专题学习，覆盖全体党员。",
        "（二）夯实基层组织",
        "整顿软弱涣散党组织三个。",
        "二、下一步打算",
        "持续抓好整改落实。",
    ]
    assert result.title == TITLE
    (note,) = result.findings
    assert (note.line, note.rule) == (3, "import")
    assert "共 4 段" in note.message and "“一、”“（一）”" in note.message
    assert check(result.text) == []


def test_outline_levels_and_localised_style_names_make_headings():
    document = docx.Document()
    chinese1 = heading_style(document, "标题 1")  # WPS: a localised name, no outline level
    own2 = heading_style(document, "本单位二级标题", based_on=chinese1, outline=1)
    inherited = heading_style(document, "本单位二级标题加粗", based_on=own2)
    document.add_paragraph("工作进展", style=chinese1)
    document.add_paragraph("学习教育", style=own2)
    document.add_paragraph("集中学习十二次。")
    document.add_paragraph("调查研究", style=inherited)
    document.add_paragraph("形成调研报告五篇。")
    set_outline(document.add_paragraph("存在问题"), 0)  # 大纲级别 set on the paragraph
    document.add_paragraph("个别支部学习不够深入。")
    body_text = document.add_paragraph("正文级别的标题样式段落。", style="Heading 1")
    set_outline(body_text, 9)  # 大纲级别“正文文本” overrides the style
    assert imported_lines(document) == [
        "一、工作进展",
        "（一）学习教育",
        "集中学习十二次。",
        "（二）调查研究",
        "形成调研报告五篇。",
        "二、存在问题",
        "个别支部学习不够深入。",
        "正文级别的标题样式段落。",
    ]


@pytest.mark.parametrize(
    ("name", "style_id"),
    [("heading 2", "2"), ("标题 2", "a3"), ("Überschrift 2", "berschrift2"), ("x", "Heading2")],
)
def test_a_heading_is_known_by_its_name_or_id_whatever_the_language(name, style_id):
    document = docx.Document()
    # Chinese Word's own heading 2: id "2", and here without the outline level Word gives it.
    style = document.styles["Heading 2"] if name == "heading 2" else heading_style(document, name)
    for outline in style.element.iter(qn("w:outlineLvl")):
        outline.getparent().remove(outline)
    style.element.set(qn("w:styleId"), style_id)
    document.add_paragraph(INTRO)
    document.add_paragraph("主要做法", style=style)
    document.add_paragraph("正文。")
    assert imported_lines(document)[1] == "一、主要做法"


def test_typed_labels_set_the_level_and_the_count_of_a_word_level():
    document = docx.Document()
    document.add_paragraph(TITLE, style="Heading 1")  # the title, alone at its level
    document.add_paragraph("一、主要成效", style="Heading 2")
    document.add_paragraph("理论学习", style="Heading 3")
    document.add_paragraph("正文。")
    document.add_paragraph("（二）调查研究", style="Heading 3")  # typed: the count goes on
    document.add_paragraph("正文。")
    document.add_paragraph("检视整改", style="Heading 3")
    document.add_paragraph("正文。")
    document.add_paragraph("存在问题", style="Heading 2")
    document.add_paragraph("正文。")
    assert imported_lines(document) == [
        TITLE,
        "一、主要成效",
        "（一）理论学习",
        "正文。",
        "（二）调查研究",
        "正文。",
        "（三）检视整改",
        "正文。",
        "二、存在问题",
        "正文。",
    ]


def test_a_heading_numbered_by_hand_the_half_width_way_is_not_numbered_again():
    document = docx.Document()
    for text, style in [
        ("一.总体情况", "Heading 1"),
        ("(一)学习教育", "Heading 2"),
        ("正文。", None),
        ("调查研究", "Heading 2"),
        ("正文。", None),
        ("下一步打算", "Heading 1"),
        ("正文。", None),
    ]:
        document.add_paragraph(text, style=style)
    assert imported_lines(document) == [
        "一.总体情况",
        "(一)学习教育",
        "正文。",
        "（二）调查研究",
        "正文。",
        "二、下一步打算",
        "正文。",
    ]


def test_a_first_heading_alone_at_its_level_is_the_title_only_if_it_reads_as_one():
    document = docx.Document()
    document.add_paragraph("一、工作开展情况", style="Heading 1")  # numbered: a section
    document.add_paragraph("学习教育", style="Heading 2")
    document.add_paragraph("正文。")
    document.add_paragraph("调查研究", style="Heading 2")
    document.add_paragraph("正文。")
    assert imported_lines(document) == [
        "一、工作开展情况",
        "（一）学习教育",
        "正文。",
        "（二）调查研究",
        "正文。",
    ]


def test_a_first_heading_shared_with_other_headings_is_not_taken_for_the_title():
    document = docx.Document()
    document.add_paragraph("工作进展", style="Heading 1")
    document.add_paragraph("正文。")
    document.add_paragraph("下一步打算", style="Heading 1")
    document.add_paragraph("正文。")
    assert imported_lines(document) == ["一、工作进展", "正文。", "二、下一步打算", "正文。"]


def test_a_heading_with_word_numbering_outside_the_official_labels_gets_its_level_label():
    document = docx.Document()
    num = add_list(document, [("chineseCounting", "第%1章")])
    numbered(document, "总体情况", num, style="Heading 1")
    document.add_paragraph("正文。")
    numbered(document, "主要问题", num, style="Heading 1")
    document.add_paragraph("正文。")
    result = import_file("汇报.docx", docx_bytes(document))
    assert result.text.split("\n") == ["一、总体情况", "正文。", "二、主要问题", "正文。"]
    assert len(result.findings) == 1  # the note, not a “number lost” warning per heading


def test_headings_in_tables_and_deeper_than_four_levels_are_left_as_they_are():
    document = docx.Document()
    document.add_paragraph(INTRO)
    table = document.add_table(rows=1, cols=1)
    table.cell(0, 0).paragraphs[0].add_run("表内标题")
    table.cell(0, 0).paragraphs[0].style = document.styles["Heading 1"]
    for level in range(1, 6):
        document.add_paragraph(f"第{level}层", style=f"Heading {level}")
        document.add_paragraph("正文。")
    lines = imported_lines(document)
    assert lines[1] == "表内标题"
    assert lines[2::2] == ["一、第1层", "（一）第2层", "1.第3层", "（1）第4层", "第5层"]


def test_headings_past_ninety_nine_at_one_level_are_left_unnumbered():
    document = docx.Document()
    for _ in range(101):
        document.add_paragraph("要点", style="Heading 1")
        document.add_paragraph("正文。")
    lines = imported_lines(document)
    assert lines[196:202:2] == ["九十九、要点", "要点", "要点"]


def test_labels_written_before_headings_are_held_to_the_length_limit():
    document = docx.Document()
    document.add_paragraph("字" * (BODY_MAX_LENGTH - 8))
    document.add_paragraph("标题", style="Heading 1")
    assert imported_lines(document)[1] == "一、标题"
    document.add_paragraph("标题", style="Heading 1")  # fits as read, not with the labels
    assert refused_message(docx_bytes(document)) == importing.TEXT_TOO_LONG


def test_a_list_numbered_at_its_headings_level_is_written_a_level_below_it():
    document = docx.Document()
    before = add_list(document, [("chineseCounting", "%1、")], num_id=91)
    numbered(document, "列表在所有标题之前，不动。", before)
    num = add_list(document, [("chineseCounting", "%1、"), ("decimal", "%2.")])
    document.add_paragraph("一、主要工作", style="Heading 1")
    numbered(document, "抓学习。", num)
    numbered(document, "集中学。", num, 1)
    numbered(document, "抓调研。", num)
    document.add_paragraph("二、下一步", style="Heading 1")
    document.add_paragraph("继续推进。")
    result = import_file("汇报.docx", docx_bytes(document))
    assert result.text.split("\n") == [
        "一、列表在所有标题之前，不动。",
        "一、主要工作",
        "（一）抓学习。",  # “一、” in Word, under the heading “一、”
        "（1）集中学。",  # the lists under a heading move down together
        "（二）抓调研。",
        "二、下一步",
        "继续推进。",
    ]
    (note,) = result.findings
    assert note.line == 3 and "此段起的 3 段" in note.message and "“一、主要工作”" in note.message


LIBREOFFICE_DOCUMENTS = {
    "headings.docx": (
        [
            "县农业农村局2026年上半年工作总结",
            "今年以来，我局围绕年度目标任务，扎实推进各项工作，现将有关情况报告如下。",
            "一、主要工作",
            "上半年重点抓了以下几项工作：",
            "1.抓好春耕备耕，落实粮食播种面积。",
            "2.推进高标准农田建设，完成年度任务的六成。",
            "3.开展农技培训",
            "二、存在的问题",
            "1.部分村组基础设施薄弱。",
            "2.农技人员年龄偏大",
            "三、下一步打算",
            "我们将继续抓好各项工作。",
        ],
        [3],
    ),
    "nested.docx": (
        [
            "区司法局第三季度工作情况",
            "一、主要做法",
            "（一）抓学习教育",
            "本季度组织集中学习，具体安排如下：",
            "1.开展专题学习，召开读书班两期。",
            "（1）局党组带头学",
            "（2）支部跟进学",
            "2.举办法治讲座，覆盖干部职工一百余人。",
            "（二）抓公共法律服务",
            "1.完善服务网络，新建服务站三个。",
            "2.开展送法下乡",
            "二、下一步打算",
            "加强队伍建设。",
            "推进信息化",
        ],
        [2, 6, 7, 13, 14],  # the headings' note, the nested list, the lost “a.” “b.”
    ),
    "outline.docx": (
        [
            "市场监管局2026年第一季度工作小结",
            "一季度，我局按照年初部署，稳步推进各项监管任务。",
            "一、重点工作推进情况",
            "（一）食品安全监管",
            "完成春节前专项检查，抽检样品三百余批次。",
            "（二）特种设备安全",
            "对全市电梯开展隐患排查，督促整改问题二十项。",
            "二、存在的困难",
            "基层执法力量不足，专业人员缺乏。",
        ],
        [3],
    ),
    "localized.docx": (
        [
            "街道办事处2026年11月份工作汇报",
            "一、社区治理",
            "（一）网格化管理",
            "调整网格二十个，配齐网格员。",
            "（二）矛盾纠纷化解",
            "调处矛盾纠纷四十余件，调处成功率九成以上。",
            "二、民生服务",
            "为辖区老人上门体检三百余人次。",
        ],
        [3],
    ),
    "numbered.docx": (
        [
            "县人社局2026年度就业工作总结",
            "今年以来，我局坚持就业优先，全年各项指标顺利完成。",
            "一、主要成效",
            "（一）稳岗扩岗",
            "全年新增就业岗位四千余个，具体做法如下：",
            "（1）落实稳岗返还政策，惠及企业三百家。",
            "（2）开展线上招聘，举办专场招聘会十二场。",
            "（3）扶持返乡创业",
            "（二）技能培训",
            "（1）培训农村劳动力两千人次。",
            "（2）新建技能大师工作室",
            "二、下一步打算",
            "（一）抓重点群体",
            "1.高校毕业生",
            "开展离校未就业毕业生帮扶。",
            "2.农民工",
            "做好劳务输出对接。",
        ],
        [],  # Word's own numbering on the headings: nothing to add
    ),
    "samelevel.docx": (
        [
            "县统计局2026年10月份工作汇报",
            "一、本月工作",
            "（一）统计调查",
            "本月完成以下调查：",
            "1.劳动力调查，入户一百二十户。",  # “（一）” in Word, under the heading “（一）”
            "（1）城镇样本",
            "（2）农村样本",
            "2.农产品价格调查，采价点十个。",
            "（二）数据质量",
            "开展数据质量抽查。",
        ],
        [5],
    ),
}


@pytest.mark.parametrize("name", LIBREOFFICE_DOCUMENTS)
def test_libreoffice_documents_import_without_false_warnings(name):
    """.docx files written by LibreOffice (tests/data/word/README.md): headings by style or
    outline level, lists restarting under each heading, nested lists, last items unpunctuated."""
    expected, import_lines = LIBREOFFICE_DOCUMENTS[name]
    result = import_file(name, (DATA / "word" / name).read_bytes())
    assert result.text.split("\n") == expected
    assert result.title == expected[0]
    assert [f.line for f in result.findings] == import_lines
    findings = check(result.text)
    # The only doubt left: the list item whose “b.” Word numbering could not be kept.
    assert [(f.line, f.rule) for f in findings] == (
        [(14, "paragraph-end")] if name == "nested.docx" else []
    )


TEXT_FIXTURES = {
    "report-gbk.txt": "gb18030",
    "report-gb18030.txt": "gb18030",
    "report-utf8-bom.txt": "utf-8-sig",
    "report-utf16le-bom.txt": "utf-16",
    "report-utf16be-bom.txt": "utf-16",
}


@pytest.mark.parametrize("name", TEXT_FIXTURES)
def test_text_files_in_every_encoding_import_alike(name):
    expected = (DATA / "text" / "report.txt").read_text(encoding="utf-8").splitlines()
    if name == "report-gb18030.txt":
        expected.append("联系人：刘䶮、王𠮷。")
    result = import_file(name, (DATA / "text" / name).read_bytes())
    assert (result.text.split("\n"), result.encoding) == (expected, TEXT_FIXTURES[name])
    assert result.title == expected[0]
    # The same report as headings.docx, typed: its lists are not empty sections nor misordered.
    assert check(result.text) == []


# --- paragraphs, tables and everything that is not text ----------------------------------------


def test_table_rows_become_paragraphs_in_document_order():
    document = docx.Document()
    document.add_paragraph("主要指标完成情况如下：")
    table = document.add_table(rows=4, cols=3)
    rows = [
        ["指标", "目标", "完成"],
        ["新建党群服务中心", "12个", "9个"],
        ["培训党员", "", "3200人次"],
    ]
    for row, values in zip(table.rows, rows, strict=False):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    table.cell(0, 0).add_paragraph("（单位）")
    table.cell(3, 0).merge(table.cell(3, 1)).text = "合计"
    table.cell(3, 2).text = "共3项"
    document.add_paragraph("总体看，各项指标进展符合预期。")
    document.add_table(rows=2, cols=2)  # an empty table: nothing to import, nothing to report

    result = import_file("汇报.docx", docx_bytes(document))

    assert result.text.split("\n") == [
        "主要指标完成情况如下：",
        "指标（单位）　目标　完成",
        "新建党群服务中心　12个　9个",
        "培训党员　3200人次",
        "合计　共3项",
        "总体看，各项指标进展符合预期。",
    ]
    (finding,) = result.findings
    assert (finding.line, finding.message) == (2, importing.TABLE_FLATTENED)


def test_nested_table_and_numbered_paragraphs_in_cells():
    document = docx.Document()
    num = add_list(document)
    table = document.add_table(rows=1, cols=2)
    outer = table.cell(0, 0)
    outer.text = "主要指标"
    inner = outer.add_table(rows=1, cols=2)
    inner.cell(0, 0).text = "子项一"
    inner.cell(0, 1).text = "子项二"
    numbered_cell = table.cell(0, 1).paragraphs[0]
    numbered_cell.add_run("已完成")
    set_numbering(numbered_cell._p, num, 2)
    table.cell(0, 1).add_paragraph("列表项", style="List Bullet")
    result = import_file("汇报.docx", docx_bytes(document))
    assert result.text == "主要指标子项一子项二　1.已完成列表项"
    assert {(f.line, f.message) for f in result.findings} == {
        (1, importing.TABLE_FLATTENED),
        (1, word_numbering.BULLET_LOST),
    }


def test_soft_line_breaks_are_joined():
    document = docx.Document()
    paragraph = document.add_paragraph("坚持以学铸魂，")
    paragraph.add_run().add_break()
    paragraph.add_run("  以学增智。")
    latin = document.add_paragraph("推广使用 Python")
    latin.add_run().add_break()
    latin.add_run("Flask 框架，版本 3")
    latin.add_run().add_break()
    latin.add_run("1 已上线")
    page = document.add_paragraph("分页符前")
    page.add_run().add_break(WD_BREAK.PAGE)
    page.add_run("分页符后")
    raw_paragraph(document, '<w:r><w:t xml:space="preserve">文本中\n直接换行</w:t></w:r>')
    raw_paragraph(document, "<w:r><w:t>回车符</w:t><w:cr/><w:t>换行</w:t></w:r>")
    assert imported_lines(document) == [
        "坚持以学铸魂，以学增智。",
        "推广使用 Python Flask 框架，版本 3 1 已上线",
        "分页符前分页符后",
        "文本中直接换行",
        "回车符换行",
    ]


def test_empty_paragraphs_and_indentation_are_dropped():
    document = docx.Document()
    for text in ["", "   ", TITLE, "", "　　" + INTRO + "  ", "\t", "　"]:
        document.add_paragraph(text)
    assert imported_lines(document) == [TITLE, INTRO]


def test_images_headers_footers_comments_and_external_links_are_not_kept(monkeypatch):
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "页眉文字"
    document.sections[0].footer.paragraphs[0].text = "页脚文字"
    document.add_picture(io.BytesIO(png_bytes()))
    paragraph = document.add_paragraph("图文混排：")
    paragraph.add_run().add_picture(io.BytesIO(png_bytes()))
    paragraph.add_run("图片后的文字。")
    document.add_comment(paragraph.runs[-1], text="批注内容", author="审核人")
    # An external hyperlink and an externally linked image: text kept, nothing fetched.
    r_id = document.part.relate_to("http://example.invalid/a", RT.HYPERLINK, is_external=True)
    document.part.relate_to("http://example.invalid/b.png", RT.IMAGE, is_external=True)
    linked = parse_xml(
        f'<w:hyperlink {nsdecls("w", "r")} r:id="{r_id}"><w:r><w:t>链接文字</w:t></w:r></w:hyperlink>'
    )
    with_link = document.add_paragraph("详见")
    with_link._p.append(linked)

    def no_network(*args, **kwargs):
        raise AssertionError("the import must not open network connections")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)

    result = import_file("汇报.docx", docx_bytes(document))
    assert result.text == "图文混排：图片后的文字。\n详见链接文字"
    assert result.findings == []


def test_deleted_hidden_and_text_box_text_is_left_out():
    document = docx.Document()
    raw_paragraph(
        document,
        "<w:r><w:t>保留</w:t></w:r>"
        '<w:del w:id="1" w:author="a"><w:r><w:delText>删除的文字</w:delText></w:r></w:del>'
        '<w:ins w:id="2" w:author="a"><w:r><w:t>插入的文字</w:t></w:r></w:ins>'
        "<w:r><w:rPr><w:vanish/></w:rPr><w:t>隐藏文字</w:t></w:r>"
        '<w:r><w:rPr><w:vanish w:val="0"/></w:rPr><w:t>不隐藏</w:t></w:r>'
        "<w:r><w:pict><v:shape><v:textbox><w:txbxContent><w:p><w:r><w:t>文本框</w:t></w:r>"
        "</w:p></w:txbxContent></v:textbox></v:shape></w:pict></w:r>"
        "<w:r><w:t>。</w:t></w:r>",
    )
    assert imported_lines(document) == ["保留插入的文字不隐藏。"]


def test_content_controls_are_read_in_place():
    document = docx.Document()
    document.add_paragraph("控件前")
    body = document.element.body
    body.insert(
        len(body) - 1,
        parse_xml(
            f"<w:sdt {nsdecls('w')}><w:sdtContent><w:p><w:r><w:t>控件中的段落</w:t></w:r></w:p>"
            "</w:sdtContent></w:sdt>"
        ),
    )
    document.add_paragraph("控件后")
    assert imported_lines(document) == ["控件前", "控件中的段落", "控件后"]


# --- refused files ----------------------------------------------------------------------------


def zip_bytes(members: dict[str, bytes | int]) -> bytes:
    """A zip whose members are given bytes, or that many zero bytes (streamed, never in memory)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            if isinstance(content, bytes):
                archive.writestr(name, content)
                continue
            with archive.open(name, "w", force_zip64=True) as member:
                chunk = bytes(1024 * 1024)
                for start in range(0, content, len(chunk)):
                    member.write(chunk[: content - start])
    return buffer.getvalue()


@pytest.mark.parametrize(
    "members",
    [
        {"word/document.xml": MAX_DOCX_UNPACKED_BYTES + 1},
        {f"word/media/image{i}.png": MAX_DOCX_UNPACKED_BYTES // 4 for i in range(5)},
    ],
    ids=["one-member", "many-members"],
)
def test_zip_bomb_is_refused_before_anything_is_inflated(monkeypatch, members):
    data = zip_bytes(members)
    assert len(data) < MAX_UPLOAD_BYTES

    def not_called(*args, **kwargs):
        raise AssertionError("no member of a zip bomb may be opened")

    monkeypatch.setattr(zipfile.ZipFile, "open", not_called)
    with pytest.raises(ImportRefused) as refused:
        import_file("汇报.docx", data)
    assert refused.value.message == importing.UNPACKED_TOO_LARGE


OLE = importing.OLE_MAGIC


def _plain_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph(INTRO)
    return docx_bytes(document)


_PLAIN_DOCX = _plain_docx()


def _entity_bomb_docx() -> bytes:
    """word/document.xml with a "billion laughs" DTD: refused, never expanded."""
    entities = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10 if i else "汇报"}">' for i in range(10))
    with zipfile.ZipFile(io.BytesIO(_PLAIN_DOCX)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    xml = members["word/document.xml"].decode()
    xml = xml.replace("<w:document", f"<!DOCTYPE w:document [{entities}]><w:document", 1)
    members["word/document.xml"] = xml.replace(INTRO, "&e9;").encode()
    return zip_bytes(members)


def _encrypted_flag_zip() -> bytes:
    """A zip whose member is marked encrypted (zipfile cannot write encrypted members)."""
    data = bytearray(zip_bytes({"word/document.xml": b"<w:document/>"}))
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.index(signature) + flag_offset
        data[at] |= 0x1
    return bytes(data)


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        pytest.param("汇报.doc", OLE + bytes(600), importing.LEGACY_WORD, id="doc"),
        pytest.param("汇报.WPS", OLE + bytes(600), importing.LEGACY_WORD, id="wps"),
        pytest.param("汇报.pdf", b"%PDF-1.7\n" + bytes(100), importing.UNSUPPORTED, id="pdf"),
        pytest.param("汇报.rtf", b"{\\rtf1\\ansi report}", importing.UNSUPPORTED, id="rtf"),
        pytest.param("汇报.odt", b"PK\x03\x04" + bytes(100), importing.UNSUPPORTED, id="odt"),
        pytest.param("汇报", "汇报".encode(), importing.UNSUPPORTED, id="no-extension"),
        pytest.param("汇报.docx.exe", b"MZ" + bytes(100), importing.UNSUPPORTED, id="exe"),
        pytest.param("汇报.docx", b"", importing.EMPTY_FILE, id="empty-docx"),
        pytest.param("汇报.txt", b"", importing.EMPTY_FILE, id="empty-txt"),
        pytest.param("汇报.txt", b"\r\n \t\r\n\xe3\x80\x80\n", importing.NO_TEXT, id="blank-txt"),
        pytest.param("汇报.txt", b"a" * (MAX_UPLOAD_BYTES + 1), importing.TOO_LARGE, id="big-txt"),
        pytest.param(
            "汇报.docx", b"PK\x03\x04" + bytes(MAX_UPLOAD_BYTES), importing.TOO_LARGE, id="big-docx"
        ),
        pytest.param("汇报.docx", OLE + bytes(600), importing.ENCRYPTED_DOCX, id="ole-docx"),
        pytest.param(
            "汇报.docx", _encrypted_flag_zip(), importing.ENCRYPTED_DOCX, id="encrypted-member"
        ),
        pytest.param("汇报.docx", "这是一段纯文本".encode(), importing.BAD_DOCX, id="text-docx"),
        pytest.param("汇报.docx", b"PK\x03\x04" + bytes(100), importing.BAD_DOCX, id="bad-zip"),
        pytest.param("汇报.docx", _PLAIN_DOCX[:2000], importing.BAD_DOCX, id="truncated"),
        pytest.param("汇报.docx", _entity_bomb_docx(), importing.BAD_DOCX, id="entity-bomb"),
        pytest.param(
            "汇报.docx",
            zip_bytes({"readme.txt": b"not a word document"}),
            importing.BAD_DOCX,
            id="zip-without-document",
        ),
    ],
)
def test_refused_files(filename, data, message):
    with pytest.raises(ImportRefused) as refused:
        import_file(filename, data)
    assert refused.value.message == message
    assert refused.value.http_status == 400


@pytest.mark.parametrize(
    ("filename", "data", "kind"),
    [
        ("汇报.txt", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "PDF"),
        ("汇报.txt", _PLAIN_DOCX, ".docx"),
        ("汇报.TXT", OLE + bytes(600), ".doc"),
        ("汇报.txt", b"{\\rtf1\\ansi\\deff0 report}", "RTF"),
        ("汇报.docx", b"%PDF-1.4\n", "PDF"),
    ],
)
def test_content_that_contradicts_the_extension_is_refused(filename, data, kind):
    with pytest.raises(ImportRefused) as refused:
        import_file(filename, data)
    assert kind in refused.value.message
    assert refused.value.message.endswith(importing.UNSUPPORTED)


def test_document_without_text_is_refused():
    document = docx.Document()
    document.add_paragraph("")
    document.add_picture(io.BytesIO(png_bytes()))
    with pytest.raises(ImportRefused) as refused:
        import_file("汇报.docx", docx_bytes(document))
    assert refused.value.message == importing.NO_TEXT


# --- plain text -------------------------------------------------------------------------------

REPORT = "\n".join([TITLE, INTRO, "一、主要做法", "（一）坚持高位推动，压实工作责任。"])


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (REPORT.encode("utf-8"), "utf-8"),
        (REPORT.encode("utf-8-sig"), "utf-8-sig"),
        (b"\xff\xfe" + REPORT.encode("utf-16-le"), "utf-16"),
        (b"\xfe\xff" + REPORT.encode("utf-16-be"), "utf-16"),
        (REPORT.encode("gbk"), "gb18030"),
        ((REPORT + "\n王喆同志、朱镕基旧居€").encode("gb18030"), "gb18030"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le", "utf-16-be", "gbk", "gb18030"],
)
def test_text_encodings(data, encoding):
    text, found = decode_text(data)
    assert found == encoding
    assert text.startswith(REPORT)
    result = import_file("汇报.txt", data)
    assert result.text.startswith(REPORT)
    assert (result.title, result.source_kind, result.encoding) == (TITLE, "txt", encoding)
    assert result.findings == []


def test_line_endings_blank_lines_and_indentation_are_normalised():
    data = f"\r\n　　{TITLE}  \r\n\r\n\t{INTRO}\r一、主要做法\n\n\f（一）坚持高位推动\n".encode(
        "gbk"
    )
    result = import_file("汇报.txt", data)
    assert result.text == f"{TITLE}\n{INTRO}\n一、主要做法\n（一）坚持高位推动"


def test_title_is_none_when_the_text_starts_with_a_heading():
    result = import_file("汇报.txt", "一、主要做法\n抓好学习。".encode())
    assert result.title is None


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(random.Random(7).randbytes(4096), id="random-binary"),
        pytest.param(png_bytes(), id="png"),
        pytest.param("café".encode("latin-1"), id="latin-1-cafe"),
        pytest.param("cafés".encode("latin-1"), id="latin-1-cafes"),
        pytest.param("Größe".encode("latin-1"), id="latin-1-groesse"),
        pytest.param(
            "Die Größe der Straße ist schön. Müller fährt über die Brücke.".encode("cp1252"),
            id="cp1252-sentence",
        ),
        pytest.param("“Smart quotes” from Word".encode("cp1252"), id="cp1252-quotes"),
        pytest.param(
            "中華民國政府推動經濟發展計畫，各機關應依照規定辦理。".encode("big5"), id="big5"
        ),
        pytest.param("東京都庁は新しい計画を発表しました。".encode("shift_jis"), id="shift-jis"),
        pytest.param(REPORT.encode("utf-16-le"), id="utf-16-without-bom"),
        pytest.param(b"\xff\xfe" + REPORT.encode("utf-16-le")[:-1], id="utf-16-odd-length"),
        pytest.param(b"\xff\xfe\x00\x00" + REPORT.encode("utf-32-le"), id="utf-32"),
        pytest.param(b"\xef\xbb\xbf" + REPORT.encode("gbk"), id="utf-8-bom-then-gbk"),
        pytest.param(b"text\x00with\x00nul", id="nul"),
        pytest.param(b"\x1b[31mcolour\x1b[0m", id="escape-codes"),
    ],
)
def test_undecodable_text_is_refused_not_guessed(data):
    with pytest.raises(ImportRefused) as refused:
        decode_text(data)
    assert refused.value.message == importing.UNKNOWN_ENCODING


def test_latin_text_in_utf8_is_decoded_correctly():
    assert decode_text("café, Größe, naïve".encode()) == ("café, Größe, naïve", "utf-8")


@given(st.binary(max_size=2000))
def test_decode_text_returns_text_or_refuses(data):
    try:
        text, encoding = decode_text(data)
    except ImportRefused as refused:
        assert refused.message == importing.UNKNOWN_ENCODING
    else:
        assert encoding in {"utf-8", "utf-8-sig", "utf-16", "gb18030"}
        assert not importing.CONTROL_CHARS.search(text)


@given(st.text(max_size=500).filter(lambda text: not text.startswith("\ufeff")))
def test_any_clean_unicode_text_round_trips_through_utf8_and_utf16(text):
    if importing.CONTROL_CHARS.search(text):
        return
    assert decode_text(text.encode("utf-8")) == (text, "utf-8")
    assert decode_text(b"\xfe\xff" + text.encode("utf-16-be")) == (text, "utf-16")


# Behaviour, not speed: Hypothesis's 200 ms deadline per example fails on a loaded machine (each
# .docx example parses the default template's 9,000-element styles.xml).
UNTIMED = settings(deadline=None)


@UNTIMED
@given(st.binary(max_size=600), st.sampled_from(["a.docx", "a.txt"]))
def test_import_file_returns_a_result_or_refuses(data, filename):
    try:
        result = import_file(filename, data)
    except ImportRefused:
        return
    assert result.text and "\n\n" not in result.text


@UNTIMED
@given(st.integers(min_value=0), st.integers(min_value=0, max_value=255))
def test_corrupted_docx_is_read_or_refused(position, value):
    data = bytearray(_PLAIN_DOCX)
    data[position % len(data)] = value
    with contextlib.suppress(ImportRefused):
        read_docx(bytes(data))


# --- real report texts and size -------------------------------------------------------------


@needs_samples
@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: path.name)
def test_samples_round_trip_through_docx_and_gbk_text(path):
    expected = paragraphs(path.read_text(encoding="utf-8"))
    document = docx.Document()
    for paragraph in expected:
        document.add_paragraph(paragraph)
    from_docx = import_file("汇报.docx", docx_bytes(document))
    from_text = import_file("汇报.txt", "\r\n".join(expected).encode("gbk"))
    for result in (from_docx, from_text):
        assert result.text.split("\n") == expected
        assert result.findings == []
        assert result.title == (expected[0] if looks_like_title(expected[0]) else None)
    assert from_text.encoding == "gb18030"


def large_document(paragraph_count: int) -> bytes:
    document = docx.Document()
    num = add_list(document)
    document.add_paragraph(TITLE)
    for index in range(paragraph_count):
        if index % 50 == 0:
            numbered(document, "工作部署", num, 0)
        elif index % 10 == 0:
            numbered(document, "重点任务", num, 1)
        elif index % 100 == 55:
            table = document.add_table(rows=5, cols=4)
            for row in table.rows:
                for cell in row.cells:
                    cell.text = "数据"
        else:
            paragraph = document.add_paragraph(INTRO[:40])
            paragraph.add_run(INTRO[40:])
            paragraph.add_run().add_break()
            paragraph.add_run("加强督促检查，确保各项任务落地见效。")
    return docx_bytes(document)


def test_large_document_keeps_its_numbering_to_the_end():
    # Speed is measured in bench/importing.py, not asserted here.
    result = import_file("汇报.docx", large_document(2000))
    assert result.text.count("\n") > 2000
    assert "四十、工作部署" in result.text


# --- hostile files: the import stops at the limits ------------------------------------------
#
# Each class of file an upload can be and a report cannot: refused with a message saying what to
# do, and refused early, which the tests see in how much of document.xml was inflated, or how
# many elements were read, never in how long it took (bench/import_adversarial.py times them).

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
DOCUMENT_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def word_package(
    body: str = "",
    *,
    document: str | None = None,
    styles: str | None = None,
    numbering: str | None = None,
    extra: dict[str, bytes] | None = None,
) -> bytes:
    """A .docx written by hand: w:body content (or a whole document.xml) and optional parts."""
    if document is None:
        document = f'<w:document xmlns:w="{W_NS}"><w:body>{body}</w:body></w:document>'
    parts = {"word/document.xml": document.encode()}
    related = []
    for kind, content in (("styles", styles), ("numbering", numbering)):
        if content is not None:
            parts[f"word/{kind}.xml"] = content.encode()
            related.append(kind)
    parts.update(extra or {})
    parts["[Content_Types].xml"] = (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/word/document.xml" ContentType="{DOCUMENT_MAIN}"/></Types>'
    ).encode()
    relationship = '<Relationship Id="rId{}" Type="{}/{}" Target="{}"/>'
    parts["_rels/.rels"] = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + relationship.format(1, RELATIONSHIPS, "officeDocument", "word/document.xml")
        + "</Relationships>"
    ).encode()
    parts["word/_rels/document.xml.rels"] = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(
            relationship.format(i, RELATIONSHIPS, kind, f"{kind}.xml")
            for i, kind in enumerate(related, 2)
        )
        + "</Relationships>"
    ).encode()
    return zip_bytes(parts)


def text_run(text: str) -> str:
    return f"<w:r><w:t>{text}</w:t></w:r>"


def paragraph_xml(text: str) -> str:
    return f"<w:p>{text_run(text)}</w:p>"


@pytest.fixture
def inflated(monkeypatch) -> Counter:
    """Bytes inflated from each member of the .docx, as the import reads them."""
    counts: Counter = Counter()
    original_open = zipfile.ZipFile.open

    def counting_open(self, name, *args, **kwargs):
        stream = original_open(self, name, *args, **kwargs)
        member = name if isinstance(name, str) else name.filename
        original_read = stream.read

        def read(size=-1):
            data = original_read(size)
            counts[member] += len(data)
            return data

        stream.read = read
        return stream

    monkeypatch.setattr(zipfile.ZipFile, "open", counting_open)
    return counts


def refused_message(data: bytes, filename: str = "汇报.docx") -> str:
    with pytest.raises(ImportRefused) as refused:
        import_file(filename, data)
    assert refused.value.http_status == 400
    return refused.value.message


def document_size(data: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.getinfo("word/document.xml").file_size


def test_the_reported_file_is_refused_after_reading_a_sliver_of_it(inflated):
    # ~150 KB uploaded, ~50 MB unpacked: 1.4 million one-character paragraphs.
    unit = "<w:p><w:r><w:t>字</w:t></w:r></w:p>"
    data = word_package(unit * ((MAX_DOCX_UNPACKED_BYTES - 10_000) // len(unit.encode())))
    assert len(data) < MAX_UPLOAD_BYTES
    assert refused_message(data) == importing.TOO_MANY_PARAGRAPHS
    assert "10000" in importing.TOO_MANY_PARAGRAPHS
    # 10,001 paragraphs of 36 bytes, read in 64 KiB chunks: under 1% of the 50 MB.
    assert inflated["word/document.xml"] < 0.01 * document_size(data)


def test_text_and_paragraph_limits_are_exactly_the_saving_limits():
    line = "字" * 99_999
    at_limit = word_package(paragraph_xml(line) + paragraph_xml("字" * 100_000))
    result = import_file("汇报.docx", at_limit)
    assert len(result.text) == BODY_MAX_LENGTH
    assert body_limit_error(result.text) is None
    over = word_package(paragraph_xml(line) + paragraph_xml("字" * 100_001))
    assert refused_message(over) == importing.TEXT_TOO_LONG

    lines = [f"第{i}项" for i in range(BODY_MAX_PARAGRAPHS)]
    result = import_file("汇报.docx", word_package("".join(map(paragraph_xml, lines))))
    assert result.text.split("\n") == lines
    assert body_limit_error(result.text) is None
    one_more = word_package("".join(map(paragraph_xml, [*lines, "再一项"])))
    assert refused_message(one_more) == importing.TOO_MANY_PARAGRAPHS


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            "<w:p>" + text_run("字" * 10) * 40_000 + "</w:p>",
            importing.TEXT_TOO_LONG,
            id="one-paragraph-of-many-runs",
        ),
        pytest.param(
            paragraph_xml("字" * 3_000_000), importing.TEXT_TOO_LONG, id="one-giant-text-node"
        ),
        pytest.param(
            "<w:tbl><w:tr>"
            + f"<w:tc>{paragraph_xml('格' * 10)}</w:tc>" * 30_000
            + "</w:tr></w:tbl>",
            importing.TEXT_TOO_LONG,
            id="one-table-row-of-many-cells",
        ),
        pytest.param(
            "<w:tbl>" + f"<w:tr><w:tc>{paragraph_xml('行')}</w:tc></w:tr>" * 50_000 + "</w:tbl>",
            importing.TOO_MANY_PARAGRAPHS,
            id="table-of-many-rows",
        ),
        pytest.param(
            paragraph_xml("甲" + " " * 3_000_000 + "乙"),
            importing.TEXT_TOO_LONG,
            id="paragraph-padded-with-spaces",
        ),
    ],
)
def test_text_over_the_limit_is_refused_while_it_is_read(inflated, body, message):
    # Each body holds text beyond the limit within its first megabyte or so, and much more after.
    data = word_package(body + paragraph_xml("后面还有") * 300_000)
    assert refused_message(data) == message
    assert inflated["word/document.xml"] < document_size(data) / 2


def test_spaces_and_hidden_text_do_not_count_against_the_length():
    hidden = "<w:r><w:rPr><w:vanish/></w:rPr><w:t>隐藏</w:t></w:r>" * 60_000
    body = (
        paragraph_xml("甲" * 150_000 + " " * 180_000)
        + f"<w:p>{hidden}{text_run('乙' * 49_000)}</w:p>"
    )
    result = import_file("汇报.docx", word_package(body))
    assert result.text == "甲" * 150_000 + "\n" + "乙" * 49_000


@pytest.fixture
def small_budgets(monkeypatch):
    """XML budgets a hundredth of the real ones, so that the files stay small."""
    for name in ("MAX_XML_ELEMENTS", "MAX_XML_ATTRIBUTES", "MAX_XML_MARKUP", "MAX_KEPT_ELEMENTS"):
        monkeypatch.setattr(importing, name, getattr(importing, name) // 100)


@pytest.fixture
def elements_read(monkeypatch) -> list:
    """The budget of each import, to see how much of it was spent."""
    budgets = []
    original = importing._XmlBudget

    def recording(*args):
        budgets.append(original(*args))
        return budgets[-1]

    monkeypatch.setattr(importing, "_XmlBudget", recording)
    return budgets


NUMBERING_ONE_LIST = (
    f'<w:numbering xmlns:w="{W_NS}"><w:abstractNum w:abstractNumId="1"><w:lvl w:ilvl="0">'
    '<w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="%1、"/></w:lvl>'
    '</w:abstractNum><w:num w:numId="1"><w:abstractNumId w:val="1"/></w:num></w:numbering>'
)
NUMBERED_EMPTY = (
    '<w:p><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr></w:pPr></w:p>'
)


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        pytest.param({"body": "<w:p/>" * 10_000}, importing.TOO_COMPLEX, id="empty-paragraphs"),
        pytest.param(
            {"body": NUMBERED_EMPTY * 2_000, "numbering": NUMBERING_ONE_LIST},
            importing.TOO_COMPLEX,
            id="numbered-empty-paragraphs",
        ),
        pytest.param(
            {"body": "<w:p>" + "<w:r/>" * 10_000 + "</w:p>"},
            importing.TOO_COMPLEX,
            id="empty-runs",
        ),
        pytest.param(
            {"body": "<w:tbl><w:tr>" + "<w:tc/>" * 10_000 + "</w:tr></w:tbl>"},
            importing.TOO_COMPLEX,
            id="empty-cells",
        ),
        pytest.param(
            {"body": '<w:bookmarkStart w:id="1"/>' * 10_000},
            importing.TOO_COMPLEX,
            id="elements-the-import-skips",
        ),
        pytest.param({"body": "<!-- 注释 -->" * 20_000}, importing.TOO_COMPLEX, id="xml-comments"),
        pytest.param(
            {"body": '<w:p w:rsidR="1" w:rsidP="2"/>' * 5_000},
            importing.TOO_COMPLEX,
            id="attributes",
        ),
        pytest.param(
            {
                "body": paragraph_xml("正文"),
                "numbering": f'<w:numbering xmlns:w="{W_NS}">'
                + '<w:abstractNum w:abstractNumId="1"><w:lvl w:ilvl="0"/></w:abstractNum>' * 1_000
                + "</w:numbering>",
            },
            importing.TOO_COMPLEX,
            id="huge-numbering",
        ),
        pytest.param(
            {
                "body": paragraph_xml("正文"),
                "styles": f'<w:styles xmlns:w="{W_NS}">'
                + '<w:style w:styleId="a"><w:basedOn w:val="b"/></w:style>' * 1_000
                + "</w:styles>",
            },
            importing.TOO_COMPLEX,
            id="huge-styles",
        ),
    ],
)
def test_markup_beyond_any_report_is_refused(small_budgets, inflated, parts, message):
    body = parts.pop("body")
    data = word_package(body + paragraph_xml("正文") * 5_000, **parts)
    assert refused_message(data) == message
    assert inflated["word/document.xml"] < document_size(data) / 2


def test_the_budgets_leave_room_for_a_long_report_written_by_word(elements_read):
    # Word writes each run with its fonts and sizes, and revision ids on everything.
    run = (
        '<w:r w:rsidRPr="00A1B2C3"><w:rPr><w:rFonts w:ascii="仿宋_GB2312" w:eastAsia="仿宋_GB2312"'
        ' w:hAnsi="仿宋_GB2312" w:hint="eastAsia"/><w:sz w:val="32"/><w:szCs w:val="32"/>'
        '<w:lang w:val="en-US" w:eastAsia="zh-CN"/></w:rPr><w:t>{}</w:t></w:r>'
    )
    paragraph = (
        '<w:p w:rsidR="00C41A2B" w:rsidRDefault="00C41B2A" w:rsidP="00D1E2F3"><w:pPr>'
        '<w:spacing w:line="560" w:lineRule="exact"/><w:ind w:firstLineChars="200"/>'
        '<w:jc w:val="both"/></w:pPr><w:proofErr w:type="spellStart"/>{}'
        '<w:proofErr w:type="spellEnd"/></w:p>'
    )
    text = INTRO * 2
    body = paragraph.format(
        "".join(run.format(text[i : i + 10]) for i in range(0, len(text), 10))
    ) * (BODY_MAX_LENGTH // (len(text) + 1))
    result = import_file("汇报.docx", word_package(body))
    assert len(result.text) > 0.95 * BODY_MAX_LENGTH
    (budget,) = elements_read
    assert budget.elements > importing.MAX_XML_ELEMENTS / 2
    assert budget.attributes > importing.MAX_XML_ATTRIBUTES / 2
    assert budget.markup > importing.MAX_XML_MARKUP / 2


@pytest.mark.parametrize(
    "parts",
    [
        pytest.param({"body": "<w:sdt><w:sdtContent>" * 300}, id="document"),
        pytest.param(
            {
                "styles": f'<w:styles xmlns:w="{W_NS}">'
                + "<w:x>" * 300
                + "</w:x>" * 300
                + "</w:styles>"
            },
            id="styles",
        ),
    ],
)
def test_nesting_deeper_than_libxml2_allows_is_refused(parts):
    body = parts.pop("body", "")
    closing = "</w:sdtContent></w:sdt>" * body.count("<w:sdt>")
    data = word_package(body + paragraph_xml("正文") + closing, **parts)
    assert refused_message(data) == importing.BAD_DOCX


def test_one_tag_with_too_many_attributes_is_refused_before_lxml_reads_it(monkeypatch):
    attributes = " ".join(f'a{i}=""' for i in range(importing.MAX_TAG_ATTRIBUTES + 1))
    data = word_package(paragraph_xml("正文") * 5_000 + f"<w:p {attributes}/>")  # 2nd chunk
    largest = []
    original_start = importing._BodyReader.start

    def recording_start(self, tag, attrib):
        largest.append(len(attrib))
        return original_start(self, tag, attrib)

    monkeypatch.setattr(importing._BodyReader, "start", recording_start)
    assert refused_message(data) == importing.TOO_COMPLEX
    assert largest and max(largest) < 10  # the big tag never reached Python


@pytest.mark.parametrize("part", ["word/document.xml", "word/styles.xml", "word/numbering.xml"])
def test_a_doctype_is_refused_in_every_part(part, monkeypatch):
    entities = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10 if i else "汇报"}">' for i in range(10))
    doctype = f'<!DOCTYPE x [{entities}<!ENTITY ext SYSTEM "file:///etc/passwd">]>'
    parts = {
        "word/document.xml": f'<w:document xmlns:w="{W_NS}"><w:body>{paragraph_xml("正文")}</w:body></w:document>',
        "word/styles.xml": f'<w:styles xmlns:w="{W_NS}"/>',
        "word/numbering.xml": f'<w:numbering xmlns:w="{W_NS}"/>',
    }
    parts[part] = doctype + parts[part].replace("正文", "&e9;&ext;")
    data = word_package(
        document=parts["word/document.xml"],
        styles=parts["word/styles.xml"],
        numbering=parts["word/numbering.xml"],
    )

    def no_network(*args, **kwargs):
        raise AssertionError("nothing may be fetched")

    monkeypatch.setattr(socket, "socket", no_network)
    assert refused_message(data) == importing.BAD_DOCX


def test_headers_footers_and_comments_are_never_inflated(inflated):
    big = ("<w:p><w:r><w:t>页眉</w:t></w:r></w:p>" * 200_000).encode()
    data = word_package(
        paragraph_xml("正文"),
        extra={"word/header1.xml": big, "word/footer1.xml": big, "word/comments.xml": big},
    )
    assert import_file("汇报.docx", data).text == "正文"
    assert set(inflated) == {
        "[Content_Types].xml",
        "_rels/.rels",
        "word/_rels/document.xml.rels",
        "word/document.xml",
    }


def test_long_chains_of_styles_and_lists_are_followed_once(monkeypatch):
    count = 3_000
    styles = (
        f'<w:styles xmlns:w="{W_NS}"><w:style w:type="paragraph" w:styleId="s0"><w:pPr><w:numPr>'
        '<w:numId w:val="1"/></w:numPr></w:pPr></w:style>'
        + "".join(
            f'<w:style w:type="paragraph" w:styleId="s{i}"><w:basedOn w:val="s{i - 1}"/></w:style>'
            for i in range(1, count)
        )
        # Lists defined through numbering styles, each through the one before.
        + "".join(
            f'<w:style w:type="numbering" w:styleId="L{i}"><w:pPr><w:numPr>'
            f'<w:numId w:val="{100 + i}"/></w:numPr></w:pPr></w:style>'
            for i in range(count)
        )
        + "</w:styles>"
    )
    numbering = (
        f'<w:numbering xmlns:w="{W_NS}"><w:abstractNum w:abstractNumId="1"><w:lvl w:ilvl="0">'
        '<w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl>'
        "</w:abstractNum>"
        + "".join(
            f'<w:abstractNum w:abstractNumId="{100 + i}"><w:numStyleLink w:val="L{i - 1}"/>'
            "</w:abstractNum>"
            for i in range(1, count)
        )
        + '<w:num w:numId="1"><w:abstractNumId w:val="1"/></w:num>'
        + '<w:num w:numId="100"><w:abstractNumId w:val="1"/></w:num>'
        + "".join(
            f'<w:num w:numId="{100 + i}"><w:abstractNumId w:val="{100 + i}"/></w:num>'
            for i in range(1, count)
        )
        + "</w:numbering>"
    )
    body = "".join(
        f'<w:p><w:pPr><w:pStyle w:val="s{count - 1 - i}"/></w:pPr>{text_run("要点")}</w:p>'
        + f'<w:p><w:pPr><w:numPr><w:numId w:val="{100 + count - 1 - i}"/></w:numPr></w:pPr>'
        + f"{text_run('事项')}</w:p>"
        for i in range(45)
    )
    looked_up = Counter()
    original_find = word_numbering.KeptElement.find

    def counting_find(self, tag):
        looked_up[tag] += 1
        return original_find(self, tag)

    monkeypatch.setattr(word_numbering.KeptElement, "find", counting_find)
    result = import_file("汇报.docx", word_package(body, styles=styles, numbering=numbering))
    lines = result.text.split("\n")
    # Both chains end in the decimal list, so the 90 paragraphs count 1. to 90.
    assert lines[:4] == ["1.要点", "2.事项", "3.要点", "4.事项"]
    assert lines[-1] == "90.事项"
    # Each style and list looked up a few times, not along the whole chain for each paragraph.
    assert sum(looked_up.values()) < 10 * 2 * count


def test_a_level_text_too_long_to_be_a_label_is_reported_not_rendered():
    numbering = NUMBERING_ONE_LIST.replace("%1、", "%1" * 100_000)
    numbered = NUMBERED_EMPTY.replace("</w:pPr></w:p>", f"</w:pPr>{text_run('事项')}</w:p>")
    result = import_file("汇报.docx", word_package(numbered * 3, numbering=numbering))
    assert result.text == "事项\n事项\n事项"
    assert [f.message for f in result.findings] == [word_numbering.NUMBER_UNKNOWN] * 3


def test_a_table_row_gets_at_most_three_numbering_warnings():
    numbering = NUMBERING_ONE_LIST.replace("chineseCounting", "lowerLetter").replace("%1、", "%1)")
    cell = (
        '<w:tc><w:p><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr></w:pPr>'
        f"{text_run('要点')}</w:p></w:tc>"
    )
    result = import_file(
        "汇报.docx", word_package(f"<w:tbl><w:tr>{cell * 6}</w:tr></w:tbl>", numbering=numbering)
    )
    assert result.text == "　".join(["要点"] * 6)
    messages = [f.message for f in result.findings if f.message != importing.TABLE_FLATTENED]
    assert messages == [
        word_numbering.NUMBER_LOST.format(label=label) for label in ("a)", "b)", "c)")
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(b"\n" * (MAX_UPLOAD_BYTES - 1), importing.NO_TEXT, id="blank-lines"),
        pytest.param(b" \r\n" * (MAX_UPLOAD_BYTES // 3), importing.NO_TEXT, id="space-lines"),
        pytest.param(
            b"a\n" * (MAX_UPLOAD_BYTES // 2), importing.TOO_MANY_PARAGRAPHS, id="short-lines"
        ),
        pytest.param(
            "字".encode() * (MAX_UPLOAD_BYTES // 3), importing.TEXT_TOO_LONG, id="one-long-line"
        ),
        pytest.param(
            (INTRO + "\r\n").encode("gb18030") * 40_000,
            importing.TEXT_TOO_LONG,
            id="long-gb18030-report",
        ),
    ],
)
def test_text_files_are_held_to_the_same_limits(data, message):
    assert len(data) <= MAX_UPLOAD_BYTES
    assert refused_message(data, "汇报.txt") == message


def test_a_text_file_at_the_limits_is_imported_whole():
    lines = ["字" * (BODY_MAX_LENGTH // BODY_MAX_PARAGRAPHS - 1)] * BODY_MAX_PARAGRAPHS
    result = import_file("汇报.txt", "\r\n\r\n  ".join(lines).encode("gb18030"))
    assert result.text == "\n".join(lines)
    assert len(result.text) == BODY_MAX_LENGTH - 1


def test_a_zip_needing_a_newer_zip_version_is_refused():
    # Found by test_corrupted_docx_is_read_or_refused: zipfile raises NotImplementedError.
    data = bytearray(_PLAIN_DOCX)
    directory = data.rindex(b"PK\x01\x02")
    data[directory + 6] = 198  # "version needed to extract": 19.8
    assert refused_message(bytes(data)) == importing.BAD_DOCX
