"""Cost and size of the OFD export (app/pdf/ofd.py).

Run: REPORTFLOW_SAMPLES=/path/to/samples .venv/bin/python bench/ofd.py — prints, for each
sample (or generated text when the samples are absent): pages, the PDF's render CPU time
(cold), the conversion's CPU time (best of 3; of which reading the PDF back and converting the fonts), the
time of a cache hit, and the sizes of the PDF, the OFD and the OFD's font files.
"""

from __future__ import annotations

import io
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path

from pdf import texts
from pypdf import PdfReader

from app import create_app
from app.core.config import TestConfig
from app.documents.structure import parse
from app.pdf import ofd
from app.pdf.render import PdfSource, render_pdf


def best(call, times: int = 3) -> tuple[float, object]:
    """The least CPU time of ``times`` calls (CPU, not wall time: the machine is shared)."""
    runs = []
    for _ in range(times):
        start = time.process_time()
        result = call()
        runs.append(time.process_time() - start)
    return min(runs), result


def main() -> None:
    app = create_app(TestConfig)
    info = ofd.OfdInfo(title="标题", author="单位", subject="期次", created=date(2026, 11, 20))
    print(
        f"{'sample':10} {'pages':>5} {'PDF s':>6} {'OFD s':>6} {'read s':>6} {'fonts s':>7}"
        f" {'hit ms':>6} {'PDF KB':>7} {'OFD KB':>7} {'fonts KB':>8}"
    )
    for name, text in texts():
        blocks = parse(text)
        title = next((b.text for b in blocks if b.text), "汇报")[:40]
        source = PdfSource(title, text, "某单位", "2026年第四季度", date(2026, 11, 20))
        with app.app_context():
            start = time.process_time()
            pdf = render_pdf(source, None)
            pdf_seconds = time.process_time() - start
        seconds, package = best(lambda pdf=pdf: ofd.pdf_to_ofd(pdf, info))
        read_seconds, pages = best(lambda pdf=pdf: ofd.read_pages(pdf))
        fonts_seconds = seconds - read_seconds  # fonts and XML; the fonts dominate
        with tempfile.TemporaryDirectory() as cache:
            ofd.ofd_of(pdf, info, Path(cache))
            hit, _ = best(lambda pdf=pdf, cache=cache: ofd.ofd_of(pdf, info, Path(cache)))
        with zipfile.ZipFile(io.BytesIO(package)) as archive:
            font_bytes = sum(
                i.compress_size for i in archive.infolist() if i.filename.endswith(".ttf")
            )
        print(
            f"{name:10} {len(PdfReader(io.BytesIO(pdf)).pages):5} {pdf_seconds:6.2f}"
            f" {seconds:6.2f} {read_seconds:6.2f} {fonts_seconds:7.2f} {hit * 1000:6.1f}"
            f" {len(pdf) / 1024:7.0f} {len(package) / 1024:7.0f} {font_bytes / 1024:8.0f}"
        )
        assert len(pages) == len(PdfReader(io.BytesIO(pdf)).pages)


if __name__ == "__main__":
    main()
