"""A plate's fonts are embedded uncut, since the plate drops them (app/pdf/plate_fonts.py)."""

import io

import pikepdf

from app.pdf.fonts import resolve_roles
from app.pdf.html import characters_by_role, prepare_fonts, write_prepared
from app.pdf.plate_fonts import kept_whole

HTML = (
    '<html lang="zh-CN"><body style="font-family: var(--rf-body)">学习教育扎实推进'
    '<p style="font-family: var(--rf-title)">关于主题教育的情况汇报</p></body></html>'
)


def embedded_programs(pdf: bytes) -> dict[str, bytes]:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        programs = {}
        for font in document.pages[0].Resources.Font.values():
            descriptor = font.DescendantFonts[0].FontDescriptor
            program = descriptor.get("/FontFile3") or descriptor.get("/FontFile2")
            programs[str(font.BaseFont).split("+")[-1]] = program.read_bytes()
        return programs


def test_only_the_files_named_are_embedded_uncut_and_only_meanwhile():
    roles = resolve_roles(None)
    chars = characters_by_role([], {"body": "学习教育扎实推进", "title": "关于主题教育的情况汇报"})
    files, css_text = prepare_fonts(roles, chars, keep_glyph_ids=True)
    body = next(data for name, data in files.items() if name.endswith("_body.otf"))
    title = next(data for name, data in files.items() if name.endswith("_title.otf"))
    with kept_whole([body]):
        programs = embedded_programs(write_prepared(HTML, files, css_text))
    by_role = {name.split("_")[-1].split("-")[0]: data for name, data in programs.items()}
    assert by_role["body"] == body
    assert len(by_role["title"]) < len(title)  # still cut down by WeasyPrint
    cut = embedded_programs(write_prepared(HTML, files, css_text))
    assert len(cut["FandolFang-Regular_body"]) < len(body)  # not kept whole any more
