"""Importing report text from uploaded .docx and .txt files (app/documents/importing.py)."""

from __future__ import annotations

import contextlib
import io
import random
import socket
import struct
import zipfile
import zlib

import docx
import pytest
from docx.enum.text import WD_BREAK
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Pt
from hypothesis import given
from hypothesis import strategies as st

from app.documents import importing
from app.documents.importing import (
    MAX_DOCX_UNPACKED_BYTES,
    MAX_UPLOAD_BYTES,
    ImportRefused,
    decode_text,
    import_file,
    read_docx,
)
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
        ([("bullet", "\uf0b7")], importing.BULLET_LOST),
        ([("lowerLetter", "%1)")], importing.NUMBER_LOST.format(label="a)")),
        ([("decimal", "%1)")], importing.NUMBER_LOST.format(label="1)")),
        ([("decimalEnclosedCircle", "%1")], importing.NUMBER_LOST.format(label="①")),
        ([("ideographTraditional", "%1、")], importing.NUMBER_LOST.format(label="甲、")),
        ([("chineseCounting", "第%1条")], importing.NUMBER_LOST.format(label="第一条")),
        ([("hebrew1", "%1.")], importing.NUMBER_UNKNOWN),
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
        (2, importing.BULLET_LOST),
        (3, importing.BULLET_LOST),
        (4, importing.NUMBER_UNKNOWN),
    ]


def test_multilevel_legal_style_is_reported_not_guessed():
    document = docx.Document()
    num = add_list(document, [("decimal", "%1."), ("decimal", "%1.%2")])
    numbered(document, "总则", num)
    numbered(document, "适用范围", num, 1)
    result = import_file("汇报.docx", docx_bytes(document))
    assert result.text == "1.总则\n适用范围"
    assert [f.message for f in result.findings] == [importing.NUMBER_LOST.format(label="1.1")]


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
        (1, importing.BULLET_LOST),
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
def test_zip_bomb_is_refused_before_python_docx_sees_it(monkeypatch, members):
    data = zip_bytes(members)
    assert len(data) < MAX_UPLOAD_BYTES

    def not_called(*args, **kwargs):
        raise AssertionError("python-docx must not open a zip bomb")

    monkeypatch.setattr(importing.docx, "Document", not_called)
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


@given(st.binary(max_size=600), st.sampled_from(["a.docx", "a.txt"]))
def test_import_file_returns_a_result_or_refuses(data, filename):
    try:
        result = import_file(filename, data)
    except ImportRefused:
        return
    assert result.text and "\n\n" not in result.text


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
