"""How long the pre-submission checks take on a 20,000-character report.

Run: .venv/bin/python bench/checks.py  — prints figures; the target is well under 50 ms.
The text is built from ../shared/samples when present (with their real defects), otherwise
from generated paragraphs in the same style.
"""

from __future__ import annotations

import statistics
import time

from samples import SAMPLES

from app.documents.checks import check
from app.documents.structure import parse

TARGET_CHARACTERS = 20_000


def generated_paragraph(n: int) -> str:
    return (
        f"（{'一二三四五六七八九'[n % 9]}）推进第{n}项重点工作。一是强化组织领导，成立工作专班{n % 7 + 2}个，"
        f"明确责任分工；二是深化学习教育，开展集中学习{n * 3}场次，参学率达{90 + n % 10}.5%；"
        f"三是抓好检视整改，梳理问题清单{n % 11 + 5}项，已整改到位{n % 9 + 3}项，全区*个单位完成自查。"
    )


def build_text() -> tuple[str, str]:
    if SAMPLES.is_dir() and list(SAMPLES.glob("*.txt")):
        pieces = [p.read_text(encoding="utf-8") for p in sorted(SAMPLES.glob("*.txt"))]
        source = "../shared/samples"
    else:
        pieces = [generated_paragraph(n) for n in range(1, 200)]
        source = "generated"
    text, index = "", 0
    while len(text) < TARGET_CHARACTERS:
        text += pieces[index % len(pieces)].rstrip("\n") + "\n"
        index += 1
    return text[:TARGET_CHARACTERS], source


def measure(func, text: str, repeat: int) -> list[float]:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        func(text)
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def main() -> None:
    text, source = build_text()
    check(text)  # warm up: compile regular expressions
    timings = measure(check, text, 50)
    parse_timings = measure(parse, text, 50)
    findings = check(text)
    print(f"text: {len(text)} characters, {text.count(chr(10)) + 1} lines, from {source}")
    print(f"findings: {len(findings)} ({sum(f.is_error for f in findings)} errors)")
    print(
        f"check():  median {statistics.median(timings):.1f} ms, p95 {sorted(timings)[int(len(timings) * 0.95) - 1]:.1f} ms, max {max(timings):.1f} ms over {len(timings)} runs"
    )
    print(f"parse():  median {statistics.median(parse_timings):.2f} ms")


if __name__ == "__main__":
    main()
