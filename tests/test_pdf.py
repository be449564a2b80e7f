"""The official-format PDF, read back: layout, text, fonts, stamp, determinism, access."""

import io
import itertools
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pdfplumber
import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from app.core.extensions import db
from app.documents.structure import paragraphs
from app.pdf import cache, render, workers
from app.pdf.fetcher import RestrictedFetcher
from app.pdf.fonts import resolve_roles
from app.pdf.html import build_html
from app.pdf.render import PdfSource, render_pdf
from app.reports.exports import approval_issue
from app.reports.models import HistoryEntry
from app.reports.workflow import ReportState
from tests.conftest import make_report

MM = 72 / 25.4
ROOT = Path(__file__).resolve().parent.parent
LEFT, RIGHT = 28 * MM, (28 + 156) * MM
TOP, BOTTOM = 37 * MM, (37 + 225) * MM
LONG_BODY = "\n".join(
    [
        "主题教育开展以来，全区各级党组织坚持高标准谋划、高质量推进，推动理论学习、调查研究、检视整改等重点工作取得阶段性成效。现将有关情况汇报如下：",
        "一、坚持高位推动，压紧压实工作责任",
        "（一）健全组织体系。成立由党委书记任组长的领导小组，下设综合协调、学习培训、督导检查3个工作组，抽调12名骨干集中办公，形成一级抓一级、层层抓落实的工作格局，确保各项任务落地见效。",
        "（二）细化任务清单。对照上级实施方案，制定工作推进表，明确18项具体任务的责任领导、牵头科室和完成时限，实行周调度、月通报，参学率达到98.6%。",
    ]
    * 4
)


def pdf_text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return "".join(page.extract_text() or "" for page in document.pages)


def body_lines(page) -> dict[float, list[dict]]:
    """16-point characters grouped by baseline (distance from the top of the page)."""
    lines: dict[float, list[dict]] = {}
    for char in page.chars:
        if abs(char["size"] - 16) < 0.1:
            baseline = round(float(page.height) - char["matrix"][5], 1)
            lines.setdefault(baseline, []).append(char)
    return lines


@pytest.fixture
def approved(org):
    return make_report(org, "a", ReportState.APPROVED, body=LONG_BODY, title="甲单位阶段性总结")


def test_approved_pdf_is_downloaded_with_a_chinese_file_name_and_recorded(
    org, client, login, approved
):
    login(org["secretary"])
    response = client.get(f"/reports/{approved.id}/pdf")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    name = f"甲单位-{org.period.name}-甲单位阶段性总结.pdf"
    assert f"filename*=UTF-8''{quote(name)}" in response.headers["Content-Disposition"]
    entry = db.session.scalar(sa.select(HistoryEntry).where(HistoryEntry.event == "download_pdf"))
    assert entry.actor.username == "secretary" and entry.to_state is ReportState.APPROVED

    reader = PdfReader(io.BytesIO(response.data))
    page = reader.pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    assert reader.metadata.title == "甲单位阶段性总结"
    assert reader.metadata.author == "甲单位"
    assert reader.metadata.subject == org.period.name
    outline = reader.outline
    assert outline[0].title == "一、坚持高位推动，压紧压实工作责任"
    assert [child.title for child in outline[1]] == ["（一）健全组织体系。", "（二）细化任务清单。"]
    assert len([item for item in outline if not isinstance(item, list)]) == 4


def test_a_report_reopened_while_its_pdf_is_made_is_not_served_nor_recorded(
    org, client, login, approved, monkeypatch
):
    """The PDF is made without holding the report's row; a reopen committed meanwhile (here:
    the row changed behind the session's back) is seen when the download is recorded."""
    from app.reports import exports

    made = exports.approved_pdf

    def reopened_meanwhile(report, **options):
        document = made(report, **options)
        db.session.execute(
            sa.text(
                "UPDATE reports SET state = 'draft', lock_version = lock_version + 1 WHERE id = :id"
            ),
            {"id": report.id},
        )
        return document

    monkeypatch.setattr(exports, "approved_pdf", reopened_meanwhile)
    login(org["secretary"])
    response = client.get(f"/reports/{approved.id}/pdf")
    assert response.status_code == 409
    assert "汇报刚刚被重新打开或重新审定" in response.text
    downloads = sa.select(sa.func.count()).where(HistoryEntry.event == "download_pdf")
    assert db.session.scalar(downloads) == 0


def test_threads_storing_the_same_pdf_at_once_each_use_their_own_temporary_file(
    tmp_path, monkeypatch
):
    """Four threads finish the same PDF together: all four have written their temporary
    file before any renames it (one shared name would leave three renames without a file)."""
    renamed, failures = [], []
    all_written = threading.Barrier(4)
    real_replace = os.replace

    def replace(source, target):
        renamed.append(Path(source).name)
        all_written.wait(timeout=10)
        real_replace(source, target)

    def store(number: int) -> None:
        try:
            cache.store_in_cache(target, f"%PDF-{number}".encode())
        except Exception as error:  # reported by the assertion below
            failures.append(error)

    monkeypatch.setattr(cache.os, "replace", replace)
    target = tmp_path / "cache" / "same.pdf"
    threads = [threading.Thread(target=store, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(set(renamed)) == 4
    assert target.read_bytes().startswith(b"%PDF-")
    assert [p.name for p in target.parent.iterdir()] == ["same.pdf"]


def test_extracted_text_is_the_source_character_for_character(org, client, login, approved):
    login(org["author_a"])
    pdf = client.get(f"/reports/{approved.id}/pdf").data
    text = re.sub(r"—\s*\d+\s*—", "", pdf_text(pdf))
    flat = re.sub(r"\s+", "", text)
    expected = "".join(paragraphs(LONG_BODY))
    assert "甲单位阶段性总结" + expected in flat
    assert "草稿" not in flat
    assert flat.endswith("甲单位" + "2026年11月22日") or re.search(
        r"甲单位\d{4}年\d{1,2}月\d{1,2}日$", flat
    )


HALF = 8.0  # half an em at 16 pt: what a compressed mark at a line's end or start gives up


def ends_flush(chars: list[dict]) -> bool:
    """A line ends at the type area's right edge: its last glyph, or the ink half of a mark
    compressed at the line end (its PDF box keeps the full em and reaches past the edge)."""
    last = max(chars, key=lambda c: c["x1"])
    if last["text"] in "，。、；：？！”’）》」』】〕":
        return last["x0"] + HALF - 0.1 <= RIGHT <= last["x1"] + 0.1
    return abs(last["x1"] - RIGHT) < 0.1


def test_layout_follows_the_grid(org, client, login, approved):
    login(org["author_a"])
    pdf = client.get(f"/reports/{approved.id}/pdf").data
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        assert len(document.pages) >= 2
        flush = total = 0
        for number, page in enumerate(document.pages, start=1):
            lines = body_lines(page)
            for chars in lines.values():
                first = min(chars, key=lambda c: c["x0"])
                last = max(chars, key=lambda c: c["x1"])
                # Ink inside the type area (a compressed mark's box may reach half an em out).
                assert first["x1"] - HALF >= LEFT - 0.5 and first["x0"] >= LEFT - HALF - 0.5
                assert last["x0"] + HALF <= RIGHT + 0.5 and last["x1"] <= RIGHT + HALF + 0.5
                assert min(c["top"] for c in chars) >= TOP - 1
                assert max(c["bottom"] for c in chars) <= BOTTOM + 1
                total += 1
                flush += ends_flush(chars)
            if number < len(document.pages):
                # Pages end early only to keep widows, orphans and headings off the foot.
                assert 22 - 4 <= len(lines) <= 22 or number == 1
                baselines = sorted(lines)
                assert all(abs(b - a - 28.99) < 0.15 for a, b in itertools.pairwise(baselines))
            numbers = [c for c in page.chars if abs(c["size"] - 14) < 0.1]
            label = "".join(c["text"] for c in numbers)
            assert label.replace(" ", "") == f"—{number}—"
            if number % 2:
                assert abs(max(c["x1"] for c in numbers) - (RIGHT - 14)) < 1.5
            else:
                assert abs(min(c["x0"] for c in numbers) - (LEFT + 14)) < 1.5
        # Every paragraph's lines but its last end flush: 16 paragraphs, 4 of them one-liners.
        assert flush >= total - 16 - 2


def test_lines_with_characters_the_body_face_lacks_stay_on_the_grid(app):
    """𠀾 is drawn by the body's fallback face and ✔ by a font of the system, both with more
    ascent than the body's face: a line's own text would sit ~2 pt low, so such text is an
    element of its own (line-height 0), in a line with or without compressed marks, and in the
    signature's unit name."""
    from app.pdf.typesetting import LINE_PITCH

    body = "\n".join(
        [
            "一、推进“𠀾字号”工程，全面完成年度目标任务，取得显著成效并形成长效机制。",
            "各支部对照清单逐项整改，𠀾村等12个村完成阵地提升，群众满意度达到98.5%以上。",
            "开展“✔\ufe0f清单”式督办，对照问题清单逐项销号，推动整改落地见效，“回头看”覆盖全部支部。",
            "对照清单逐项整改✔\ufe0f推动整改落地见效，形成问题清单、任务清单和责任清单。",
        ]
    )
    source = PdfSource(
        "关于主题教育开展情况的阶段性总结", body, "𠀾县委员会", "", date(2026, 11, 20)
    )
    with pdfplumber.open(io.BytesIO(render_pdf(source, None))) as document:
        baselines = sorted(body_lines(document.pages[0]))
    assert len(baselines) >= 9
    for baseline in baselines:
        rows = (baseline - baselines[0]) / LINE_PITCH
        assert abs(rows - round(rows)) * LINE_PITCH < 0.15, (baseline, baselines)  # rounded to 0.1


def test_pdftotext_reads_each_line_whole(org, client, login, approved):
    """poppler's pdftotext (what most copy-and-paste goes through) gives every printed line as
    it is: no space where a heading glyph was widened, no line broken where compressed marks
    bring glyphs closer."""
    import shutil

    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils is not installed")
    login(org["author_a"])
    pdf = client.get(f"/reports/{approved.id}/pdf").data
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    printed = [row for row in out.stdout.decode().splitlines() if row.strip()]
    printed = [row for row in printed if not re.fullmatch(r"—\s*\d+\s*—", row)]
    # The signature box (its appearance, not the typeset page) comes last, as it is written.
    box = [re.sub(r"\s", "", line) for line in approval_issue(approved).stamp_text.splitlines()]
    assert [re.sub(r"\s", "", row) for row in printed[-len(box) :]] == box
    printed = printed[: -len(box)]
    expected = []
    for page in line_texts(pdf):
        expected += page
    assert all(" " not in row for row in printed)
    assert printed[-len(expected) :] == expected


def test_fonts_are_embedded_subsets_without_missing_glyphs(org, client, login, approved):
    login(org["author_a"])
    pdf = client.get(f"/reports/{approved.id}/pdf").data
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        fonts = {c["fontname"] for page in document.pages for c in page.chars}
        sizes = {round(c["size"]) for page in document.pages for c in page.chars}
    assert all("+" in name for name in fonts)  # subset prefix: fonts are embedded
    assert {16, 22, 14} <= sizes
    # Embedded fonts are named after the typeface and the role: FandolFang-Regular_body.
    roles = {
        role
        for name in fonts
        for role in ("title", "body", "heading1", "heading2", "page_number")
        if name.split("+", 1)[1].removesuffix("-Bold").endswith(f"_{role}")
    }
    # Every character is printed by one of our role fonts: nothing fell back to another face
    # (which is also how a missing glyph would show), and every role is used.
    assert len(roles) == len(fonts) == 5
    assert roles == {"title", "body", "heading1", "heading2", "page_number"}
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        assert all(
            c["text"] not in ("\x00", "\ufffd") for page in document.pages for c in page.chars
        )
    assert len(pdf) < 600_000


def test_pdf_is_refused_before_approval_and_hidden_from_others(org, client, login):
    draft = make_report(org, "a", ReportState.GROUP_REVIEW)
    login(org["author_a"])
    assert client.get(f"/reports/{draft.id}/pdf").status_code == 409
    login(org["author_c"])
    assert client.get(f"/reports/{draft.id}/pdf").status_code == 404
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(HistoryEntry)
            .where(HistoryEntry.event == "download_pdf")
        )
        == 0
    )


def test_previews_are_stamped_on_every_page_and_for_reviewers_only(org, client, login):
    report = make_report(org, "a", ReportState.GROUP_REVIEW, body=LONG_BODY)
    login(org["group1"])
    response = client.get(f"/reports/{report.id}/versions/1/pdf")
    assert response.status_code == 200
    # “PDF 预览” opens in the browser's own viewer, not as a download.
    name = quote(f"甲单位-{org.period.name}-{report.title}-第1版-草稿.pdf")
    assert response.headers["Content-Disposition"] == (
        f"inline; filename=\"report-{report.id}-v1-draft.pdf\"; filename*=UTF-8''{name}"
    )
    page = client.get(f"/reports/{report.id}").text
    assert re.search(r'<a class="pdf-preview" href="[^"]+/versions/1/pdf" target="_blank"', page)
    with pdfplumber.open(io.BytesIO(response.data)) as document:
        for page in document.pages:
            # The stamp is set diagonally: look for its characters, not a line of text.
            stamp = [c["text"] for c in page.chars if c["size"] > 30]
            assert "".join(stamp) == "草稿 · 未经审定"
    login(org["secretary"])
    assert client.get(f"/reports/{report.id}/versions/1/pdf").status_code == 403
    login(org["group2"])
    assert client.get(f"/reports/{report.id}/versions/1/pdf").status_code == 404
    login(org["author_a"])
    assert client.get(f"/reports/{report.id}/versions/9/pdf").status_code == 404


def test_rendering_is_deterministic(app):
    source = PdfSource("标题", LONG_BODY, "甲单位", "某期次", date(2026, 11, 22))
    assert render_pdf(source, None) == render_pdf(source, None)


def test_layout_in_the_helper_process_gives_the_same_bytes(app):
    source = PdfSource("标题", LONG_BODY, "甲单位", "某期次", date(2026, 11, 22))
    aside = render_pdf(source, None, aside=True)
    assert aside == render_pdf(source, None)
    (pid,) = workers.aside_process_ids()
    assert pid != os.getpid()


def test_a_dead_helper_process_falls_back_to_this_process(app, caplog):
    source = PdfSource("标题", "正文一段。", "甲单位", "某期次", date(2026, 11, 22))
    render_pdf(source, None, aside=True)
    for pid in workers.aside_process_ids():
        os.kill(pid, signal.SIGKILL)
    again = render_pdf(source, None, aside=True)
    assert again == render_pdf(source, None)
    assert "the PDF helper process died" in caplog.text
    # The next one starts a new helper.
    assert render_pdf(source, None, aside=True) == again
    assert workers.aside_process_ids()


def test_the_helper_process_ends_when_its_worker_is_killed(tmp_path):
    script = tmp_path / "owner.py"
    script.write_text(
        "import time\n"
        "from app.pdf import workers\n"
        "if __name__ == '__main__':\n"
        "    workers.write_aside('<p>甲</p>', {}, {})\n"
        "    print(workers.aside_process_ids()[0], flush=True)\n"
        "    time.sleep(60)\n",
        encoding="utf-8",
    )
    with subprocess.Popen(
        [sys.executable, str(script)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    ) as owner:
        try:
            helper = int(owner.stdout.readline())
            assert helper and helper != owner.pid
            owner.kill()  # like `kill -9` of a gunicorn worker: no shutdown of its pool
            owner.wait(timeout=10)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and alive(helper):
                time.sleep(0.2)
            assert not alive(helper)
        finally:
            owner.kill()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by init) counts as gone.
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


def test_cache_hit_returns_the_stored_bytes(tmp_path):
    source = PdfSource("标题", "正文一段。", "甲单位", "某期次", date(2026, 11, 22))
    first = render_pdf(source, None, tmp_path)
    (cached,) = tmp_path.glob("*.pdf")
    cached.write_bytes(b"%PDF-cached")
    assert render_pdf(source, None, tmp_path) == b"%PDF-cached"
    assert first.startswith(b"%PDF")


def test_the_same_pdf_wanted_at_once_is_made_once(app, tmp_path, monkeypatch):
    """Right after an approval the approver's worker and the report page in another worker
    want the same PDF: the second waits for the first instead of laying it out again."""
    source = PdfSource("标题", "正文一段。", "甲单位", "某期次", date(2026, 11, 22))
    made, results = [], []
    real_write = render.write_pdf

    def slow_write(*args, **kwargs):
        made.append(threading.get_ident())
        time.sleep(0.3)  # long enough for the others to arrive while it is being made
        return real_write(*args, **kwargs)

    monkeypatch.setattr(render, "write_pdf", slow_write)

    def want() -> None:
        with app.app_context():
            results.append(render_pdf(source, None, tmp_path))

    threads = [threading.Thread(target=want) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1
    assert len(results) == 3 and len(set(results)) == 1
    assert results[0].startswith(b"%PDF")


def test_a_maker_that_never_finishes_is_waited_for_only_so_long(tmp_path, monkeypatch):
    import fcntl

    source = PdfSource("标题", "正文一段。", "甲单位", "某期次", date(2026, 11, 22))
    path = tmp_path / f"{cache.cache_key(source, resolve_roles(None))}.pdf"
    (tmp_path / ".locks").mkdir()
    monkeypatch.setattr(cache, "MAKING_WAIT_SECONDS", 0.3)
    with open(cache.lock_file(path), "a+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as by a process that hangs while making it
        started = time.monotonic()
        pdf = render_pdf(source, None, tmp_path)
        waited = time.monotonic() - started
    assert pdf.startswith(b"%PDF") and path.read_bytes() == pdf
    assert waited >= 0.3


def test_a_pdf_in_the_making_does_not_hold_up_other_pdfs(tmp_path, monkeypatch):
    """A long PDF's maker holds its own lock only: another PDF, whatever its key, is made at
    once (a lock shared by keys made unrelated downloads wait for a long job)."""
    import fcntl

    monkeypatch.setattr(cache, "MAKING_WAIT_SECONDS", 5)
    roles = resolve_roles(None)

    def source(n: int) -> PdfSource:
        return PdfSource("标题", f"正文第{n}段。", "甲单位", "某期次", date(2026, 11, 22))

    first = cache.cache_key(source(0), roles)
    long_job = tmp_path / f"{first}.pdf"
    # a PDF whose key starts as the long one's does (the old lock was shared by those)
    other = next(
        source(n) for n in range(1, 100_000) if cache.cache_key(source(n), roles)[:2] == first[:2]
    )
    cache.lock_file(long_job).parent.mkdir(parents=True)
    with open(cache.lock_file(long_job), "a+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        started = time.monotonic()
        pdf = render_pdf(other, None, tmp_path)
        waited = time.monotonic() - started
    assert pdf.startswith(b"%PDF") and waited < 4
    assert not list((tmp_path / ".locks").glob(f"{cache.cache_key(other, roles)}*"))  # tidied


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1/x.css",
        "https://example.com/a.png",
        "data:text/css,a{}",
        "reportflow:../../etc/passwd",
        "reportflow:fonts/nope.otf",
    ],
)
def test_fetcher_refuses_everything_but_our_files(url):
    with pytest.raises(ValueError):
        RestrictedFetcher({}).fetch(url)


def test_hostile_text_prints_as_text(app):
    hostile = '<img src="file:///etc/passwd"><style>*{display:none}</style>@import url(http://x);'
    source = PdfSource(hostile, hostile, "甲单位", "期次", None)
    html = build_html(source, resolve_roles(None))
    assert "<img" not in html and "&lt;img" in html
    text = re.sub(r"\s+", "", pdf_text(render_pdf(source, None)))
    assert 'src="file:///etc/passwd"' in text and "display:none" in text


def test_render_pdf_command(runner, tmp_path):
    source = tmp_path / "汇报.txt"
    source.write_text("关于某项工作的情况汇报\n一、基本情况\n全区开展学习。", encoding="gb18030")
    output = tmp_path / "out.pdf"
    result = runner.invoke(
        args=[
            "render-pdf",
            str(source),
            "-o",
            str(output),
            "--unit",
            "甲单位",
            "--date",
            "2026-11-22",
        ]
    )
    assert result.exit_code == 0, result.output
    flat = re.sub(r"\s+", "", pdf_text(output.read_bytes()))
    assert flat.startswith("关于某项工作的情况汇报一、基本情况全区开展学习。甲单位2026年11月22日")


def test_render_pdf_command_says_which_stand_ins_print_and_warns_of_errors(runner, tmp_path):
    source = tmp_path / "汇报.txt"
    source.write_text(
        "关于某项工作的情况汇报\n一、基本情况\n（一）组织领导。王堃同志牵头，完成XX项任务。",
        encoding="utf-8",
    )
    output = tmp_path / "out.pdf"

    result = runner.invoke(args=["render-pdf", str(source), "-o", str(output)])

    assert result.exit_code == 0, result.output
    assert output.read_bytes().startswith(b"%PDF")
    lines = result.output.splitlines()
    # The test app's FONT_DIR is empty: every part prints in a free stand-in, said plainly.
    for part in ("标题应为小标宋", "正文应为仿宋", "一级标题应为黑体", "二级标题应为楷体"):
        assert any(line.startswith(f"提示：{part}") for line in lines), part
    assert "提示：“FandolFang”缺少1个字（堃），已由“Noto Serif CJK SC”补印。" in lines
    assert not any("页码" in line for line in lines)
    assert any(line.startswith("警告：正文有 1 处错误") for line in lines)
    assert any("第3段" in line and "XX" in line for line in lines)


def test_export_pdf_command(runner, org, approved, tmp_path):
    output = tmp_path / "out.pdf"
    result = runner.invoke(args=["export-pdf", str(approved.id), "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert output.read_bytes().startswith(b"%PDF")
    draft = make_report(org, "b")
    result = runner.invoke(args=["export-pdf", str(draft.id), "-o", str(output)])
    assert result.exit_code != 0 and "尚未审定" in result.output


def test_report_page_shows_the_sha256_of_the_approved_pdf(org, client, login, approved):
    login(org["author_a"])
    html = client.get(f"/reports/{approved.id}").text
    digest = re.search(r'data-sha256="([0-9a-f]{64})"', html).group(1)
    pdf = client.get(f"/reports/{approved.id}/pdf").data
    import hashlib

    assert hashlib.sha256(pdf).hexdigest() == digest


def test_characters_the_fonts_cannot_print_are_reported(org, client, login):
    report = make_report(org, "a", ReportState.APPROVED, body="表情😀不是公文用字。")
    login(org["author_a"])
    html = client.get(f"/reports/{report.id}").text
    assert "当前字体缺少以下字符" in html and "😀" in html


def test_admin_fonts_page(org, client, login):
    login(org["admin"])
    html = client.get("/admin/fonts").text
    for role in ("title", "body", "heading1", "heading2", "page_number"):
        assert f'data-role="{role}"' in html
    assert "仿宋_GB2312" in html
    # The test app's FONT_DIR is empty: the stand-ins of 小标宋, 仿宋, 黑体 and 楷体 are named
    # plainly at the top (the page number's 宋体 stand-in is only a note in its row).
    summary = re.search(r'data-stand-ins="(\d)">(.*?)</div>', html, re.S)
    assert summary.group(1) == "4"
    for part in ("标题应为小标宋", "正文应为仿宋", "一级标题应为黑体", "二级标题应为楷体"):
        assert part in summary.group(2)
    assert "页码" not in summary.group(2)
    assert "缺字时：Noto Serif CJK SC" in html
    login(org["secretary"])
    assert client.get("/admin/fonts").status_code == 403


def test_fonts_command(runner):
    result = runner.invoke(args=["fonts"])
    assert result.exit_code == 0
    assert "正文" in result.output and "替代字体" in result.output


RETURN_REASON = "第二部分的数据请与统计口径核对后再报。"
GROUP_ANSWER = "整改成效写得不够具体，请补充可量化的指标。"
APPROVAL_NOTE = "同意，按程序印发。"


def test_approval_record_page_prints_the_opinions_and_says_so_in_its_name(org, client, login):
    from app.reports import operations

    report = make_report(org, "a", ReportState.DRAFT, body=LONG_BODY, title="甲单位阶段性总结")
    steps = [
        ("author_a", "submit", ""),
        ("reviewer_a", "return_to_author", RETURN_REASON),
        ("author_a", "submit", ""),
        ("reviewer_a", "forward", ""),
        ("group1", "request_changes", GROUP_ANSWER),
        ("author_a", "submit", ""),
        ("reviewer_a", "forward", ""),
        ("group1", "approve", APPROVAL_NOTE),
    ]
    for who, event, comment in steps:
        operations.trigger_event(
            org[who], report, event, comment=comment, lock_version=report.lock_version
        )
    db.session.commit()
    login(org["author_a"])
    plain = client.get(f"/reports/{report.id}/pdf")
    with_record = client.get(f"/reports/{report.id}/pdf?record=1")
    assert "审批记录" not in pdf_text(plain.data)
    flat = re.sub(r"\s+", "", pdf_text(with_record.data))
    assert "审批记录" in flat
    for opinion in (RETURN_REASON, GROUP_ANSWER, APPROVAL_NOTE):
        assert f"意见：{opinion}" in flat  # the words themselves, not a count
    for step in ("提交单位审核", "单位退回修改", "指导组退回修改", "报送指导组", "审定通过"):
        assert step in flat
    base = f"甲单位-{org.period.name}-甲单位阶段性总结"
    for response, name, ascii_name in (
        (plain, f"{base}.pdf", f"report-{report.id}.pdf"),
        (with_record, f"{base}-含审批记录.pdf", f"report-{report.id}-with-record.pdf"),
    ):
        assert response.headers["Content-Disposition"] == (
            f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
        )


def line_texts(pdf: bytes) -> list[list[str]]:
    """Per page, the text of each 16-point line (title, body, signature)."""
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return [
            [
                "".join(c["text"] for c in sorted(chars, key=lambda c: c["x0"]))
                for _, chars in sorted(body_lines(page).items())
            ]
            for page in document.pages
        ]


def test_a_heading_on_the_last_grid_line_goes_to_the_next_page(app):
    filler = "全区各级党组织扎实开展学习教育，推动工作落实见效。"  # 25 characters: one line
    body = "\n".join([*[filler] * 19, "二、下一步工作打算", *[filler] * 5])
    pages = line_texts(render_pdf(PdfSource("标题", body, "甲单位", "期次", None), None))
    assert len(pages[0]) == 19  # title and blank line, 19 paragraphs: the heading went on
    assert pages[1][0] == "二、下一步工作打算"


def test_a_heading_with_two_lines_after_it_ends_a_full_page(app):
    # Heading fonts have taller line boxes than the grid: on the grid they still fit 22 rows.
    filler = "全区各级党组织扎实开展学习教育，推动工作落实见效。"
    body = "\n".join([*[filler] * 17, "二、下一步工作打算", *[filler] * 5])
    pages = line_texts(render_pdf(PdfSource("标题", body, "甲单位", "期次", None), None))
    assert len(pages[0]) == 20 and pages[0][17] == "二、下一步工作打算"


def test_the_signature_never_stands_alone_on_a_page(app):
    filler = "全区各级党组织扎实开展学习教育，推动工作落实见效。"
    body = "\n".join([filler] * 20)  # title + blank + 20 lines: the page is full
    pages = line_texts(
        render_pdf(PdfSource("标题", body, "甲单位", "期次", date(2026, 11, 22)), None)
    )
    assert len(pages) == 2
    assert pages[1][:2] == [filler, filler]  # the last two lines went along
    assert pages[1][-2:] == ["甲单位", "2026年11月22日"]


def test_a_given_title_wins_over_a_title_like_first_line(app):
    source = PdfSource(
        "关于某项工作的报告", "各乡镇、各部门\n全区开展学习。", "甲单位", "期次", None
    )
    flat = re.sub(r"\s+", "", pdf_text(render_pdf(source, None)))
    assert flat.startswith("关于某项工作的报告各乡镇、各部门全区开展学习。")


@pytest.mark.parametrize(
    "title",
    [
        "关于学习贯彻习近平新时代中国特色社会主义思想主题教育开展情况的汇报",
        "关于开展安全生产大检查和主体责任落实情况的汇报材料",
        "关于2026年前三季度经济运行情况的报告",
    ],
)
def test_titles_break_between_words_into_a_trapezoid(app, title):
    from app.pdf.fonts import advance_em
    from app.pdf.titles import title_lines
    from app.pdf.typesetting import TITLE_SIZE, TYPE_WIDTH

    advance = advance_em(resolve_roles(None)["title"])
    lines = title_lines(title, advance, TITLE_SIZE, TYPE_WIDTH)
    assert "".join(lines) == title
    assert all(len(line) >= 4 for line in lines)
    assert all(len(line) * TITLE_SIZE <= TYPE_WIDTH + 12 for line in lines)
    joined = "|".join(lines)
    for word in (
        "习近平",
        "中国特色社会主义",
        "主题教育",
        "安全生产" if "安全" in title else "运行",
    ):
        assert word not in title or word in joined
    if len(title) <= 20:
        assert lines == [title]


def test_approval_prepares_the_pdf_after_answering(org, client, login, web_app):
    from pathlib import Path

    report = make_report(org, "a", ReportState.GROUP_REVIEW, body=LONG_BODY)
    cache = Path(web_app.config["PDF_CACHE_DIR"])
    before = set(cache.glob("*.pdf"))
    login(org["group1"])
    response = client.post(
        f"/reports/{report.id}/transition",
        data={"event": "approve", "lock_version": report.lock_version},
    )
    assert response.status_code == 303
    response.close()  # what the server does once the answer is sent
    prepared = set(cache.glob("*.pdf")) - before
    assert len(prepared) == 1
    download = client.get(f"/reports/{report.id}/pdf").data
    assert prepared.pop().read_bytes() == download
