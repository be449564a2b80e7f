"""How long importing a large .docx and a large GBK .txt takes.

Run: .venv/bin/python bench/importing.py — prints figures (target: a 200-page document well
under a second). The largest files are the largest the import accepts: 200,000 characters
(app/documents/limits.py); bench/import_adversarial.py times the files it refuses.
"""

from __future__ import annotations

import io
import statistics
import time

from docx import Document

from app.documents.importing import import_file
from app.documents.limits import BODY_MAX_LENGTH

PARAGRAPH = (
    "主题教育开展以来，我们坚持把理论学习、调查研究、推动发展、检视整改贯通起来，"
    "推动各项工作落地见效，累计开展集中学习126场次，征集意见建议46条。"
)


def big_docx(paragraphs: int, styled_headings: bool = False) -> bytes:
    """Typed “1.” headings every 50 paragraphs, or Word headings (标题 1 and 标题 2 by turns)
    without numbers, which the import labels (app/documents/word_headings.py)."""
    document = Document()
    for index in range(paragraphs):
        if index % 50 == 0 and styled_headings:
            document.add_paragraph("重点工作推进情况", style=f"Heading {index // 50 % 2 + 1}")
        elif index % 50 == 0:
            document.add_paragraph(f"{index // 50 + 1}.重点工作推进情况")
        paragraph = document.add_paragraph(PARAGRAPH[:30])
        paragraph.add_run(PARAGRAPH[30:])
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def timed(filename: str, data: bytes, repeat: int = 5) -> tuple[float, int]:
    timings, length = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = import_file(filename, data)
        timings.append(time.perf_counter() - start)
        length = len(result.text)
    return statistics.median(timings), length


def main() -> None:
    # 2,000 and 2,650 paragraphs: 148,000 and 197,000 characters.
    for count, styled in ((2_000, False), (2_650, False), (2_650, True)):
        data = big_docx(count, styled)
        seconds, length = timed("汇报.docx", data)
        kind = "Word headings without numbers" if styled else "typed headings"
        print(
            f"docx, {count} paragraphs, {kind} ({len(data) // 1024} KiB, {length} characters): "
            f"median {seconds * 1000:.0f} ms"
        )
    text = (PARAGRAPH + "\r\n") * (BODY_MAX_LENGTH // (len(PARAGRAPH) + 1))
    data = text.encode("gb18030")
    seconds, length = timed("汇报.txt", data)
    print(
        f"GB18030 txt, {len(data) // 1024} KiB ({length} characters): median {seconds * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
