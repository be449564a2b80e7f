"""Where a warm render of the official-format PDF spends its CPU: our work against WeasyPrint's.

Run: .venv/bin/python bench/pdf_cpu.py — prints, for each sample (or generated text when
../shared/samples is absent; REPORTFLOW_SAMPLES=DIR points elsewhere) and for a 10× long
report: cold and warm render time, cache-hit time, pages, size and peak memory (RSS) of this
process; and a bare WeasyPrint render of the same text (the paragraphs as <p>, the same fonts,
no line breaking of ours, no grid) with the ratio warm / bare (issue 13: at most 1.2).
"""

from __future__ import annotations

import io
import statistics
import tempfile
import time
from datetime import date
from functools import partial
from html import escape
from pathlib import Path

from pdf import peak_mb, texts, volume  # the same measurements as bench/pdf.py
from pypdf import PdfReader

from app import create_app
from app.core.config import TestConfig
from app.documents.structure import paragraphs
from app.pdf.fonts import resolve_roles
from app.pdf.html import build_html, characters_by_role, prepare_fonts, write_prepared
from app.pdf.render import PdfSource, render_pdf
from app.pdf.typesetting import typeset

GENERATED = "\n".join(
    f"（{'一二三四五六七八九'[n % 9]}）推进第{n}项重点工作。一是强化组织领导，成立工作专班{n % 7 + 2}个，"
    f"明确责任分工；二是深化学习教育，开展集中学习{n * 3}场次，参学率达{90 + n % 10}.5%。"
    for n in range(1, 60)
)


def bare_html(source: PdfSource) -> str:
    """The same text as plain paragraphs: what WeasyPrint costs without our typesetting."""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs(source.body))
    return (
        '<!doctype html><html lang="zh-CN"><head><style>'
        "@page { size: A4; margin: 37mm 26mm 35mm 28mm; }"
        'html { font-family: "rf-body"; font-size: 16pt; } body { margin: 0; }'
        'h1 { font: 22pt "rf-title"; text-align: center; margin: 0 0 29pt; }'
        "p { margin: 0; text-indent: 2em; text-align: justify; line-height: 28.99pt; }"
        f"</style></head><body><h1>{escape(source.title)}</h1>{body}"
        f"<p>{escape(source.unit)}</p></body></html>"
    )


def cpu_least(*runs, times: int = 7) -> list[float]:
    """Least CPU seconds of this process for each of ``runs``, run in turn ``times`` times:
    the machine is shared, the wall clock there measures the neighbours as much as the work,
    and even CPU time grows when they crowd the caches; the least is the work's own."""
    spent = [[] for _ in runs]
    for _ in range(times):
        for run, record in zip(runs, spent, strict=True):
            start = time.process_time()
            run()
            record.append(time.process_time() - start)
    return [min(record) for record in spent]


TITLE = "关于学习贯彻习近平新时代中国特色社会主义思想主题教育开展情况的汇报"  # breaks: jieba


def main() -> None:
    app = create_app(TestConfig)
    with app.app_context(), tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        render_pdf(PdfSource(TITLE, "正文。", "单位", "期次", date(2026, 11, 22)), None)
        print(
            "first render in this process (imports, fonts, extraction, jieba): "
            f"{time.perf_counter() - start:.2f} s"
        )
        print(
            "CPU ms, least of 7 taken in turn — ours: typesetting, HTML, fonts cut down; alone: "
            "WeasyPrint on that HTML and those fonts; <p>: WeasyPrint on the text as plain "
            "paragraphs; ratio: (ours + alone) / alone"
        )
        print(
            f"{'text':<10} {'cold s':>7} {'warm s':>7} {'hit ms':>7} {'pages':>5} {'KB':>6}"
            f" {'peak MB':>8} {'ours':>6} {'alone':>6} {'<p>':>6} {'ratio':>6}"
        )
        roles = resolve_roles(None)
        for name, body in texts():
            source = PdfSource(TITLE, body, "某某单位", "期次", date(2026, 11, 22))
            start = time.perf_counter()
            pdf = render_pdf(source, None)
            cold = time.perf_counter() - start
            warm = []
            for _ in range(5):
                start = time.perf_counter()
                render_pdf(source, None)
                warm.append(time.perf_counter() - start)
            render_pdf(source, None, Path(cache))
            hits = []
            for _ in range(20):
                start = time.perf_counter()
                render_pdf(source, None, Path(cache))
                hits.append((time.perf_counter() - start) * 1000)
            pages = len(PdfReader(io.BytesIO(pdf)).pages)
            ours, alone, paragraphs_only = cpu_shares(source, roles, 3 if "long" in name else 7)
            print(
                f"{name:<10} {cold:7.2f} {statistics.median(warm):7.2f} "
                f"{statistics.median(hits):7.1f} {pages:5d} {len(pdf) / 1024:6.0f} {peak_mb():8.0f}"
                f" {ours * 1000:6.0f} {alone * 1000:6.0f} {paragraphs_only * 1000:6.0f}"
                f" {(ours + alone) / alone:6.2f}"
            )


def cpu_shares(source: PdfSource, roles, times: int) -> tuple[float, float, float]:
    """CPU seconds of our own work for a warm render (typesetting, HTML, fonts), of WeasyPrint
    on the result, and of WeasyPrint on the text as plain paragraphs."""
    doc = typeset(source, roles)
    chars = characters_by_role([doc])
    files, css_text = prepare_fonts(roles, chars)
    html = build_html(source, roles, doc)
    steps = cpu_least(
        partial(typeset, source, roles),
        partial(build_html, source, roles, doc),
        partial(characters_by_role, [doc]),
        partial(prepare_fonts, roles, chars),
        partial(write_prepared, html, files, css_text),
        partial(write_prepared, bare_html(source), files, css_text),
        times=times,
    )
    return sum(steps[:4]), steps[4], steps[5]


if __name__ == "__main__":
    import sys

    volume() if "--volume" in sys.argv else main()
