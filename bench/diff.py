"""How long comparing two versions takes, on realistic and on pathological texts.

Run: .venv/bin/python bench/diff.py  — prints figures (median of several runs, and the counts
found). The realistic report is built from ../shared/samples when present, otherwise from
generated paragraphs in the same style. Targets: a 20,000-character, 200-paragraph report
with a reviewer's edits well under 100 ms; no input above ~1 s.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

from samples import SAMPLES

from app.documents.diff import compare_texts

CN_NUMERALS = "一二三四五六七八九十"


def generated_paragraph(n: int) -> str:
    return (
        f"推进第{n}项重点工作。一是强化组织领导，成立工作专班{n % 7 + 2}个，明确责任分工；"
        f"二是深化学习教育，开展集中学习{n * 3}场次，参学率达{90 + n % 10}.5%；"
        f"三是抓好检视整改，梳理问题清单{n % 11 + 5}项，已整改到位{n % 9 + 3}项。"
    )


def source_paragraphs() -> tuple[list[str], str]:
    if SAMPLES.is_dir() and list(SAMPLES.glob("*.txt")):
        lines = []
        for path in sorted(SAMPLES.glob("*.txt")):
            lines += [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        return [line for line in lines if line], "../shared/samples"
    return [generated_paragraph(n) for n in range(1, 400)], "generated"


def long_report(paragraph_count: int = 200, characters: int = 21_400) -> tuple[str, str]:
    """``paragraph_count`` paragraphs, ``characters`` long, cut from the sources."""
    pool, source = source_paragraphs()
    text = "".join(pool)
    per = characters // paragraph_count
    while len(text) < characters:
        text += text
    paragraphs = []
    for n in range(paragraph_count):
        chunk = text[n * per : (n + 1) * per]
        if n % 12 == 0:
            chunk = f"{CN_NUMERALS[(n // 12) % 10]}、{chunk[:14]}"  # a heading now and then
        paragraphs.append(chunk)
    return "\n".join(paragraphs), source


def reviewer_edits(body: str, rng: random.Random) -> str:
    """What a round of review changes: a few characters in 20 paragraphs, a comma fixed in 10,
    5 paragraphs deleted, 5 inserted, a section of 3 paragraphs moved up, 2 swapped."""
    paragraphs = body.split("\n")
    for index in rng.sample(range(len(paragraphs)), 20):
        text = paragraphs[index]
        at = rng.randrange(len(text))
        paragraphs[index] = text[:at] + "改正" + text[at + 1 :]
    for index in rng.sample(range(len(paragraphs)), 10):
        paragraphs[index] = paragraphs[index].replace("，", ",", 1)
    for index in sorted(rng.sample(range(len(paragraphs)), 5), reverse=True):
        del paragraphs[index]
    for _ in range(5):
        paragraphs.insert(rng.randrange(len(paragraphs)), "新增段落：" + "补充说明有关情况。" * 8)
    section = paragraphs[120:123]
    del paragraphs[120:123]
    paragraphs[30:30] = section
    paragraphs[60], paragraphs[61] = paragraphs[61], paragraphs[60]
    return "\n".join(paragraphs)


def measure(func: Callable[[], object], repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds per run (CPU time is steadier on a busy machine)."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        func()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


def case(name: str, old: str, new: str, repeat: int = 5) -> None:
    diff = compare_texts(old, new)
    wall, cpu = measure(lambda: compare_texts(old, new), repeat)
    print(
        f"{name:<58} {len(old):>6}→{len(new):<6} chars  median {statistics.median(wall):6.1f} ms"
        f" (cpu {statistics.median(cpu):6.1f} ms)  max {max(wall):6.1f} ms"
        f"  改动{diff.changed} 新增{diff.inserted} 删除{diff.deleted} 移动{diff.moved}"
    )


def main() -> None:
    rng = random.Random(6)
    report, source = long_report()
    pool_text = "".join(source_paragraphs()[0])
    print(
        f"report: {len(report)} characters, {report.count(chr(10)) + 1} paragraphs, from {source}"
    )
    edited = reviewer_edits(report, rng)
    case("identical 20,000-character report", report, report, 20)
    case("reviewer's edits (20 small, 10 commas, ±5, moves)", report, edited, 20)
    half_width = "\n".join(p.replace("，", ",", 1) for p in report.split("\n"))
    case("every paragraph: its first comma made half-width", report, half_width, 10)
    case(
        "every paragraph: one character changed",
        report,
        "\n".join(p[:5] + "改" + p[6:] for p in report.split("\n")),
        10,
    )
    case("paragraph order reversed", report, "\n".join(reversed(report.split("\n"))), 5)
    other, _ = long_report()
    other = "\n".join(p[::-1] for p in other.split("\n"))
    case("completely different 20,000-character text", report, other, 5)

    paragraph = pool_text[:5000]
    shuffled = list(paragraph)
    rng.shuffle(shuffled)
    case("one 5,000-character paragraph, characters shuffled", paragraph, "".join(shuffled))
    case(
        "one 5,000-character paragraph, rewritten (other text)",
        paragraph,
        pool_text[5000:10000] or paragraph[::-1],
    )
    scattered = list(paragraph)
    for at in rng.sample(range(len(scattered)), 50):
        scattered[at] = "改"
    case("one 5,000-character paragraph, 50 scattered edits", paragraph, "".join(scattered))
    two_letters = "".join(rng.choice("学习") for _ in range(5000))
    case(
        "5,000 characters of 学/习 vs another such draw",
        two_letters,
        "".join(rng.choice("学习") for _ in range(5000)),
    )
    case(
        "5,000 characters, no punctuation, 2 letters, 1 edit",
        two_letters,
        two_letters[:2500] + "改" + two_letters[2501:],
    )

    one_char = "\n".join(rng.choice("一二三") for _ in range(2000))
    case(
        "2,000 one-character paragraphs (3 letters), two draws",
        one_char,
        "\n".join(rng.choice("一二三") for _ in range(2000)),
    )
    same = "\n".join("同" for _ in range(2000))
    case(
        "2,000 equal one-character paragraphs, one inserted",
        same,
        same[:2000] + "\n异\n" + same[2000:],
    )
    case(
        "2,000 distinct short paragraphs, all changed",
        "\n".join(f"第{n}段" for n in range(2000)),
        "\n".join(f"第{n}条" for n in range(2000)),
    )

    biggest, _ = long_report(2000, 214_000)  # the form allows 200,000 characters
    biggest_edited = reviewer_edits(biggest, rng)
    case("200,000 characters (2,000 paragraphs), reviewer's edits", biggest, biggest_edited, 3)
    rewritten = "\n".join(p[::-1] for p in biggest.split("\n"))
    case("200,000 characters, every paragraph rewritten", biggest, rewritten, 3)
    one_line, one_line_edited = biggest.replace("\n", ""), biggest_edited.replace("\n", "")
    case("one 200,000-character line, reviewer's edits", one_line, one_line_edited, 3)


if __name__ == "__main__":
    main()
