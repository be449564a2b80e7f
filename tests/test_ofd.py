"""The approved report as OFD (GB/T 33190-2016), read back with an independent reader
(``tests/ofd_reader.py``: zipfile, lxml, Pillow) and compared with the PDF it comes from:
package structure, text per page against pdftotext, glyph positions against pdfplumber,
fonts, outline, pages drawn from the embedded fonts against Poppler's drawing of the PDF;
the command, the download and its permission."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import date
from urllib.parse import quote

import pdfplumber
import pytest
import sqlalchemy as sa
from fontTools.ttLib import TTFont
from PIL import Image, ImageChops, ImageFilter, ImageStat
from pypdf import PdfReader

from app.core.extensions import db
from app.pdf.ofd import NS, OfdError, OfdInfo, ofd_of, pdf_to_ofd
from app.pdf.render import PdfSource, render_pdf
from app.reports.models import HistoryEntry
from app.reports.workflow import ReportState
from tests import ofd_reader
from tests.conftest import IN_CI, make_report

# Our own text in the style of a work report: both heading levels, a run-in heading, digits
# and percentages, Latin, quotation marks and book-title marks (compressed in pairs), and
# names whose characters the 仿宋 stand-in lacks (堃, 珺: printed by the fallback face).
PARAGRAPHS = (
    "今年以来，我局坚持以“抓落实、求实效”为主线，统筹推进业务工作和队伍建设，各项重点任务总体进展顺利。现将有关情况报告如下：",
    "一、夯实基础，推动重点任务落地",
    "（一）完善制度体系。修订《机关工作规则》《财务管理办法》等制度9项，梳理办事流程42个，平均办理时限压缩到3.5个工作日，群众满意度达到96.3%。",
    "（二）强化数据支撑。依托政务服务平台建成统一的数据目录，汇聚业务数据1.2万条，实现与市级平台的API接口对接，基层填报的重复表格减少了三分之一。",
    "二、转变作风，提升服务质效",
    "坚持问需于民，班子成员带队走访企业和社区47次，收集意见建议63条，已办结58条。赵堃、孙珺等同志牵头的两个服务专班按周调度，推动解决了一批历史遗留问题。",
    "下一步，我们将聚焦薄弱环节，健全长效机制，确保全年目标任务圆满完成。",
)

BODY = "\n".join(PARAGRAPHS[i % len(PARAGRAPHS)] for i in range(24))

SOURCE = PdfSource(
    title="市数据局关于2026年第四季度重点工作推进情况的报告",
    body=BODY,
    unit="市数据局",
    period="2026年第四季度",
    signed_on=date(2026, 11, 20),
)

INFO = OfdInfo(
    title=SOURCE.title, author=SOURCE.unit, subject=SOURCE.period, created=date(2026, 11, 20)
)

# Drawn right, the OFD page (Pillow/FreeType from the package's fonts) and Poppler's drawing
# of the PDF, blurred by 1.5 px and aligned within a pixel (the two place glyphs a fraction
# of a pixel apart), differ by 0.14–0.17 of Poppler's ink at 72 dpi, with 1.06× its ink
# (FreeType's hinting in Pillow); every character moved on by one place: 0.59; the body in
# another face: 0.88 and 1.7× the ink.
MAX_DIFFERENCE = 0.3
INK_RATIO = (0.9, 1.15)


@pytest.fixture(scope="module")
def made(app):
    with app.app_context():
        pdf = render_pdf(SOURCE, None)
    ofd = pdf_to_ofd(pdf, INFO)
    return pdf, ofd, ofd_reader.read(ofd)


def _pdftotext_pages(pdf: bytes, count: int) -> list[list[str]]:
    if shutil.which("pdftotext") is None:
        if IN_CI:
            pytest.fail("pdftotext (poppler-utils) must be there when CI=true")
        pytest.skip("pdftotext missing (make test installs poppler-utils)")
    pages = []
    for number in range(1, count + 1):
        text = subprocess.run(
            ["pdftotext", "-f", str(number), "-l", str(number), "-", "-"],
            input=pdf,
            capture_output=True,
            check=True,
        ).stdout.decode()
        pages.append([line.strip() for line in text.splitlines() if line.strip()])
    return pages


def test_the_package_is_complete_well_formed_and_its_ids_unique(made):
    pdf, data, package = made
    # Every XML file parses (read() would raise), in the OFD namespace.
    assert all(
        ofd_reader.etree.fromstring(body).tag.startswith(f"{{{NS}}}")
        for name, body in package.files.items()
        if name.endswith(".xml")
    )
    # Every referenced file is there, and nothing is there that nothing refers to.
    assert sorted(set(package.referenced)) == sorted(package.files)
    assert len(package.ids) == len(set(package.ids))
    assert package.max_unit_id == max(package.ids)
    assert package.info["Title"] == SOURCE.title
    assert package.info["Author"] == SOURCE.unit
    assert package.info["CreationDate"] == "2026-11-20"
    assert re.fullmatch(r"[0-9a-f]{32}", package.info["DocID"])
    assert all(page.box == (0, 0, 210, 297) for page in package.pages)  # A4 in mm
    # The same PDF gives the same bytes.
    assert pdf_to_ofd(pdf, INFO) == data


def test_each_page_holds_the_pdfs_text_line_by_line(made):
    pdf, _, package = made
    reader = PdfReader(io.BytesIO(pdf))
    assert len(package.pages) == len(reader.pages) >= 3
    expected = _pdftotext_pages(pdf, len(reader.pages))
    for number, page in enumerate(package.pages):
        # pdftotext drops the PDF's space glyphs (“— 1 —”), the OFD keeps them.
        lines = [re.sub(r"\s", "", line) for line in page.lines()]
        assert lines == [re.sub(r"\s", "", line) for line in expected[number]], number + 1
    # The page number, as in the PDF: “— 2 —” at the foot of page 2.
    assert package.pages[1].lines()[-1].replace(" ", "") == "—2—"
    assert SOURCE.title in "".join(package.pages[0].lines())


def test_each_character_stands_where_the_pdf_prints_it(made):
    pdf, _, package = made
    mm = 25.4 / 72
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for page, ofd_page in zip(document.pages, package.pages, strict=True):
            printed = [
                (c["text"], c["matrix"][4] * mm, (float(page.height) - c["matrix"][5]) * mm)
                for c in page.chars
                if c["text"].strip()
            ]
            placed = [
                (char, x, obj.y)
                for obj in ofd_page.objects
                for char, x in zip(obj.text, obj.x, strict=True)
                if char.strip()
            ]
            assert len(placed) == len(printed)
            for (char, x, y), (pchar, px, py) in zip(placed, printed, strict=True):
                assert char == pchar
                assert abs(x - px) < 0.002 and abs(y - py) < 0.002, (char, x, px, y, py)


def test_fonts_are_the_pdfs_faces_cut_down_to_the_characters_they_print(made):
    pdf, _, package = made
    pdf_fonts = set()
    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            pdf_fonts.add(str(ref.get_object()["/BaseFont"]).lstrip("/").split("+", 1)[1])
    assert {name for name, _ in package.fonts.values()} == pdf_fonts
    assert any(name.startswith("FandolFang") for name in pdf_fonts)  # the body's face
    assert any("_body" in n and not n.startswith("FandolFang") for n in pdf_fonts)  # fallback

    used: dict[int, set[str]] = {}
    for page in package.pages:
        for obj in page.objects:
            used.setdefault(obj.font, set()).update(obj.text)
    assert set(used) == set(package.fonts)
    for font_id, (name, path) in package.fonts.items():
        assert path.startswith("Doc_0/Res/") and path.endswith(".ttf")
        font = TTFont(io.BytesIO(package.files[path]))
        assert "glyf" in font and "CFF " not in font, name  # TrueType outlines
        cmap = font.getBestCmap()
        # Exactly the characters this font prints, each with a drawn glyph.
        assert {chr(code) for code in cmap} == used[font_id], name
        glyf = font["glyf"]
        for char in used[font_id]:
            if char.strip():
                assert glyf[cmap[ord(char)]].numberOfContours != 0, (name, char)
        drawn = sum(1 for g in font.getGlyphOrder() if glyf[g].numberOfContours != 0)
        assert drawn <= len(used[font_id]) + 1, name  # a subset: .notdef and what it prints


def test_the_outline_follows_the_headings(made):
    pdf, _, package = made
    reader = PdfReader(io.BytesIO(pdf))

    def titles(items):
        for item in items:
            if isinstance(item, list):
                yield from titles(item)
            else:
                yield item.title

    assert package.outline_titles == list(titles(reader.outline))
    assert "一、夯实基础，推动重点任务落地" in package.outline_titles


def _ink(image: Image.Image) -> float:
    return 1 - ImageStat.Stat(image).mean[0] / 255


def _difference(reference: Image.Image, drawn: Image.Image) -> float:
    """Of the reference's ink: the smallest mean difference of the blurred pictures, the
    drawn one moved by up to a pixel each way."""
    blurred = reference.filter(ImageFilter.GaussianBlur(1.5))
    return min(
        ImageStat.Stat(
            ImageChops.difference(
                blurred, ImageChops.offset(drawn, dx, dy).filter(ImageFilter.GaussianBlur(1.5))
            )
        ).mean[0]
        / 255
        for dx in (-1, 0, 1)
        for dy in (-1, 0, 1)
    ) / _ink(reference)


def test_pages_drawn_from_the_ofd_look_like_the_pdf(made, tmp_path):
    if shutil.which("pdftoppm") is None:
        if IN_CI:
            pytest.fail("pdftoppm (poppler-utils) must be there when CI=true")
        pytest.skip("pdftoppm missing")
    pdf, _, package = made
    (tmp_path / "in.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-gray", "-r", "72", "-png", tmp_path / "in.pdf", tmp_path / "p"],
        check=True,
    )
    pictures = sorted(tmp_path.glob("p*.png"))
    assert len(pictures) == len(package.pages)
    for number, path in enumerate(pictures):
        reference = Image.open(path).convert("L")
        drawn = ofd_reader.draw(package, number, 72).resize(reference.size)
        ratio = _ink(drawn) / _ink(reference)
        assert INK_RATIO[0] <= ratio <= INK_RATIO[1], (number, ratio)
        assert _difference(reference, drawn) <= MAX_DIFFERENCE, number
    # The comparison sees a page whose characters are each one place on.
    for obj in package.pages[0].objects:
        obj.text = obj.text[1:] + obj.text[:1]
    reference = Image.open(pictures[0]).convert("L")
    assert _difference(reference, ofd_reader.draw(package, 0, 72)) > 1.5 * MAX_DIFFERENCE


def test_a_pdf_with_drawings_is_refused_rather_than_converted_without_them(app):
    from weasyprint import HTML

    pdf = HTML(string='<div style="width:5cm;height:1cm;background:black"></div>').write_pdf()
    with pytest.raises(OfdError, match="文字以外的内容"):
        pdf_to_ofd(pdf, INFO)


def test_the_conversion_is_kept_beside_the_pdf_cache(made, tmp_path, monkeypatch):
    pdf, data, _ = made
    assert ofd_of(pdf, INFO, tmp_path) == data
    assert len(list(tmp_path.glob("*.ofd"))) == 1
    monkeypatch.setattr("app.pdf.ofd.pdf_to_ofd", lambda *a: pytest.fail("converted again"))
    assert ofd_of(pdf, INFO, tmp_path) == data


@pytest.fixture
def approved(org):
    return make_report(org, "a", ReportState.APPROVED, body=BODY, title="甲单位季度工作报告")


def test_export_ofd_command_writes_the_package(runner, org, approved, tmp_path):
    output = tmp_path / "out.ofd"
    result = runner.invoke(args=["export-ofd", str(approved.id), "-o", str(output)])
    assert result.exit_code == 0, result.output
    package = ofd_reader.read(output.read_bytes())
    assert package.info["Title"] == "甲单位季度工作报告"
    assert "甲单位季度工作报告" in "".join(package.pages[0].lines())
    draft = make_report(org, "b")
    result = runner.invoke(args=["export-ofd", str(draft.id), "-o", str(output)])
    assert result.exit_code != 0 and "尚未审定" in result.output


def test_the_report_page_offers_the_ofd_next_to_the_pdf_and_records_the_download(
    org, client, login, approved
):
    login(org["author_a"])
    html = client.get(f"/reports/{approved.id}").text
    assert f'href="/reports/{approved.id}/ofd"' in html
    assert html.index("data-pdf-link") < html.index("data-ofd-link")

    response = client.get(f"/reports/{approved.id}/ofd")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/ofd"
    name = f"甲单位-{org.period.name}-甲单位季度工作报告.ofd"
    assert f"filename*=UTF-8''{quote(name)}" in response.headers["Content-Disposition"]
    package = ofd_reader.read(response.data)
    assert package.info["Author"] == "甲单位"
    entry = db.session.scalar(sa.select(HistoryEntry).where(HistoryEntry.event == "download_ofd"))
    assert entry.actor.username == "author_a" and entry.to_state is ReportState.APPROVED


def test_no_ofd_before_approval(org, client, login):
    report = make_report(org, "a", ReportState.GROUP_REVIEW)
    login(org["author_a"])
    assert "data-ofd-link" not in client.get(f"/reports/{report.id}").text
    assert client.get(f"/reports/{report.id}/ofd").status_code == 409


def test_a_truetype_face_from_the_font_dir_is_carried_over_as_it_is(app, tmp_path):
    """An official font in FONT_DIR that is TrueType (here LXGW WenKai, cut down and named
    黑体 for the test) is embedded in the PDF as a CIDFontType2; its outlines go into the OFD
    untouched, with the character map rebuilt."""
    from fontTools import subset

    from app.pdf.fonts import resolve_roles

    source = PdfSource(
        title="关于数据工作的报告",
        body="一、总体情况\n今年以来，各项工作进展顺利。\n二、下一步打算\n继续抓好落实。",
        unit="市数据局",
        period="2026年第四季度",
        signed_on=date(2026, 11, 20),
    )
    wenkai = resolve_roles(None)["heading2"].faces[-1]
    if "WenKai" not in wenkai.family:
        pytest.skip("LXGW WenKai missing")
    font = TTFont(wenkai.path)
    options = subset.Options()
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="一二、总体情况下步打算0123456789")
    subsetter.subset(font)
    for record in list(font["name"].names):
        if record.nameID in (1, 4, 6, 16):
            font["name"].removeNames(nameID=record.nameID)
    font["name"].setName("SimHei", 1, 3, 1, 0x409)
    font["name"].setName("黑体", 1, 3, 1, 0x804)
    font["name"].setName("SimHei", 6, 3, 1, 0x409)
    font.save(tmp_path / "simhei.ttf")
    with app.app_context():
        assert resolve_roles(tmp_path)["heading1"].official
        pdf = render_pdf(source, tmp_path)
    kinds = {
        str(ref.get_object()["/BaseFont"]).split("+")[-1]: str(
            ref.get_object()["/DescendantFonts"][0].get_object()["/Subtype"]
        )
        for page in PdfReader(io.BytesIO(pdf)).pages
        for ref in page["/Resources"]["/Font"].values()
    }
    assert kinds["SimHei_heading1"] == "/CIDFontType2"
    package = ofd_reader.read(pdf_to_ofd(pdf, INFO))
    [path] = [path for name, path in package.fonts.values() if name.startswith("SimHei")]
    embedded = TTFont(io.BytesIO(package.files[path]))
    assert "glyf" in embedded
    assert {chr(c) for c in embedded.getBestCmap()} == set("一二、总体情况下步打算")
    lines = package.pages[0].lines()
    assert "一、总体情况" in lines and "二、下一步打算" in lines


def test_a_glyph_the_character_map_does_not_give_is_named_by_a_cgtransform():
    """The same character in a second form, or a ligature of two characters, is written
    with an ``ofd:CGTransform`` that names the glyph the PDF drew."""
    from app.pdf.ofd import Glyph, _text_object

    def glyph(x: float, text: str, cid: int) -> Glyph:
        return Glyph(x, 100.0, 16.0, 16.0, "ABCDEF+Face_body", cid, text, (0, 0, 0))

    run = [glyph(80, "一", 5), glyph(96, "一", 9), glyph(112, "fi", 12), glyph(128, "。", 7)]
    xml = _text_object(run, 42, 3, {"一": 5, "。": 7})
    obj = ofd_reader.etree.fromstring(f'<r xmlns:ofd="{NS}">{xml}</r>')[0]
    transforms = obj.findall("ofd:CGTransform", ofd_reader.Q)
    assert [
        (
            t.get("CodePosition"),
            t.get("CodeCount"),
            t.findtext("ofd:Glyphs", namespaces=ofd_reader.Q),
        )
        for t in transforms
    ] == [("1", "1", "9"), ("2", "2", "12")]
    code = obj.find("ofd:TextCode", ofd_reader.Q)
    assert code.text == "一一fi。"
    # “fi” shares one place: the gap after its first character is 0.
    assert ofd_reader.deltas(code.get("DeltaX"), 5) == pytest.approx(
        [5.644, 5.644, 0, 5.644], abs=1e-3
    )
