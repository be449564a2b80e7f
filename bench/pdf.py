"""Rendering speed, size and memory of the official-format PDF.

Run: .venv/bin/python bench/pdf.py — prints, for each sample (or generated text when
../shared/samples is absent) and for a 10× long report: cold and warm render time, the warm
time of a bare WeasyPrint render of the same text in the same typefaces (the whole font files
by @font-face, paragraphs as <p>, no grid, no cutting down of our own) and our time as a
multiple of it, cache-hit time, pages, size, embedded fonts' size and peak memory (RSS).
"""

from __future__ import annotations

import io
import resource
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import date
from html import escape
from pathlib import Path

from pypdf import PdfReader
from samples import SAMPLES
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from app import create_app
from app.core.config import TestConfig
from app.documents.structure import parse
from app.pdf.fonts import font_face_css, resolve_roles
from app.pdf.render import PdfSource, render_pdf

GENERATED = "\n".join(
    f"（{'一二三四五六七八九'[n % 9]}）推进第{n}项重点工作。一是强化组织领导，成立工作专班{n % 7 + 2}个，"
    f"明确责任分工；二是深化学习教育，开展集中学习{n * 3}场次，参学率达{90 + n % 10}.5%。"
    for n in range(1, 60)
)


def texts() -> list[tuple[str, str]]:
    if SAMPLES.is_dir() and list(SAMPLES.glob("*.txt")):
        found = [(p.name[:3], p.read_text(encoding="utf-8")) for p in sorted(SAMPLES.glob("*.txt"))]
    else:
        found = [("generated", GENERATED)]
    return [*found, ("10× long", "\n".join(text for _, text in found) * (10 // len(found) + 1))]


SYSTEM_FAMILIES = {
    "title": '"Noto Serif CJK SC"; font-weight: bold',
    "body": '"Noto Serif CJK SC"',
    "heading1": '"Noto Sans CJK SC"',
    "heading2": '"LXGW WenKai"',
    "page_number": '"Noto Serif CJK SC"',
}


def bare_render(source: PdfSource, *, installed: bool = False) -> bytes:
    """The same text through WeasyPrint the plain way, <h1> and <p>, no grid, nothing cut down
    by us: each role's typeface whole from its file by @font-face (no fallback faces:
    fontconfig's own fallback serves what they lack), or with ``installed`` the installed
    fonts by name (Noto CJK, LXGW WenKai: what a plain WeasyPrint install would use)."""
    if installed:
        css = "".join(
            f".{role} {{ font-family: {family}; }}\n" for role, family in SYSTEM_FAMILIES.items()
        )
    else:
        roles = resolve_roles(None)
        own = {role: replace(font, fallbacks=()) for role, font in roles.items()}
        css = font_face_css(own, Path.as_uri) + "".join(
            f".{role} {{ font-family: var(--rf-{role}); }}\n" for role in own
        )
    css += (
        "@page { size: A4; margin: 37mm 26mm 35mm 28mm;"
        " @bottom-right { content: counter(page); font-size: 14pt; } }\n"
        "html { font-size: 16pt; line-height: 28.99pt; }\n"
        "p { margin: 0; text-indent: 2em; } h1 { font-size: 22pt; text-align: center; }\n"
    )
    paragraphs = "".join(
        f'<p class="heading{block.level}">{escape(block.text)}</p>'
        if block.kind == "heading" and block.level in (1, 2)
        else f'<p class="body">{escape(block.text)}</p>'
        for block in parse(source.body)
    )
    html = (
        f'<html lang="zh-CN"><body class="body"><h1 class="title">{escape(source.title)}</h1>'
        f"{paragraphs}</body></html>"
    )
    fonts = FontConfiguration()
    return HTML(string=html).write_pdf(
        stylesheets=[CSS(string=css, font_config=fonts)], font_config=fonts
    )


def font_kb(pdf: bytes) -> float:
    """Compressed size of the embedded font programs."""
    reader = PdfReader(io.BytesIO(pdf))
    seen, total = set(), 0
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            descriptor = font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            descriptor = descriptor.get_object()
            program = descriptor.get("/FontFile3") or descriptor.get("/FontFile2")
            if program.idnum not in seen:
                seen.add(program.idnum)
                total += len(program.get_object()._data)
    return total / 1024


def median_time(function, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    app = create_app(TestConfig)
    with app.app_context(), tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        render_pdf(PdfSource("预热", "正文。", "单位", "期次", date(2026, 11, 22)), None)
        print(
            f"first render in this process (imports, fonts, extraction): {time.perf_counter() - start:.2f} s"
        )
        print(
            f"{'text':<10} {'cold s':>7} {'warm s':>7} {'bare s':>7} {'ratio':>6}"
            f" {'bare/installed s':>16} {'ratio':>6} {'hit ms':>7}"
            f" {'pages':>5} {'KB':>6} {'fonts KB':>8} {'peak MB':>8}"
        )
        for name, body in texts():
            source = PdfSource(
                "关于主题教育开展情况的汇报", body, "某某单位", "期次", date(2026, 11, 22)
            )
            start = time.perf_counter()
            pdf = render_pdf(source, None)
            cold = time.perf_counter() - start
            bare_render(source)  # the whole font files read once, as ours were
            bare_render(source, installed=True)
            warm = median_time(lambda source=source: render_pdf(source, None))
            bare = median_time(lambda source=source: bare_render(source))
            installed = median_time(lambda source=source: bare_render(source, installed=True))
            render_pdf(source, None, Path(cache))
            hits = []
            for _ in range(20):
                start = time.perf_counter()
                render_pdf(source, None, Path(cache))
                hits.append((time.perf_counter() - start) * 1000)
            pages = len(PdfReader(io.BytesIO(pdf)).pages)
            print(
                f"{name:<10} {cold:7.2f} {warm:7.2f} {bare:7.2f} {warm / bare:5.2f}× "
                f"{installed:16.2f} {warm / installed:5.2f}× "
                f"{statistics.median(hits):7.1f} {pages:5d} {len(pdf) / 1024:6.0f} "
                f"{font_kb(pdf):8.0f} {peak_mb():8.0f}"
            )


def volume(count: int = 50) -> None:
    """A 50-report compilation, in its own process so that peak memory is its own."""
    from app.pdf.volume import render_volume

    app = create_app(TestConfig)
    bodies = [text for name, text in texts() if name != "10× long"]
    sources = [
        PdfSource(
            f"第{n}单位主题教育阶段性总结",
            bodies[n % len(bodies)],
            f"第{n}单位",
            "期次",
            date(2026, 11, 20),
        )
        for n in range(1, count + 1)
    ]
    with app.app_context():
        render_pdf(PdfSource("预热", "正文。", "单位", "期次", date(2026, 11, 22)), None)
        before = peak_mb()
        start = time.perf_counter()
        pdf = render_volume(
            sources, period="期次", compiled_on=date(2026, 11, 22), compiler="秘书", font_dir=None
        )
        seconds = time.perf_counter() - start
        start = time.perf_counter()
        render_volume(
            sources, period="期次", compiled_on=date(2026, 11, 22), compiler="秘书", font_dir=None
        )
        again = time.perf_counter() - start
        parts_peak = peak_mb()
        start = time.perf_counter()
        single = render_volume(
            sources,
            period="期次",
            compiled_on=date(2026, 11, 22),
            compiler="秘书",
            font_dir=None,
            workers=1,
        )
        one_process = time.perf_counter() - start
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"compilation of {count} reports in parts on worker processes: {seconds:.1f} s "
        f"(again with the pool running: {again:.1f} s), {pages} pages, {len(pdf) / 1024 / 1024:.1f} MB; "
        f"peak RSS {parts_peak:.0f} MB in this process (before: {before:.0f} MB), {children:.0f} MB per worker"
    )
    print(
        f"the same as one document in one process: {one_process:.1f} s, {len(single) / 1024 / 1024:.1f} MB, "
        f"peak RSS {peak_mb():.0f} MB"
    )


if __name__ == "__main__":
    import sys

    volume() if "--volume" in sys.argv else main()
