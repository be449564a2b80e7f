"""How long the pre-submission checks take on a 20,000-character report.

Run: .venv/bin/python bench/checks.py  — prints figures; the target is 50 ms for the whole
check(), wording included, and hostile texts that take time linear in their length.
The text is built from ../shared/samples when present (with their real defects), otherwise
from generated paragraphs in the same style.
"""

from __future__ import annotations

import statistics
import time

from samples import SAMPLES

from app.documents.checks import RULES, _Line, check
from app.documents.phrasebook import default_book
from app.documents.structure import normalise_newlines, parse
from app.documents.wording import find_wording

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


def measure(func, text: str, repeat: int, clock=time.perf_counter) -> list[float]:
    timings = []
    for _ in range(repeat):
        start = clock()
        func(text)
        timings.append((clock() - start) * 1000)
    return timings


def wording_only(text: str) -> None:
    find_wording(normalise_newlines(text), default_book())


def without_wording(text: str) -> None:
    """The eight rules check() ran before the wording rule came (to compare under equal load)."""
    lines = [_Line(n, raw) for n, raw in enumerate(normalise_newlines(text).split("\n"), 1)]
    blocks = parse(text)
    for rule in RULES:
        list(rule(lines, blocks))


def interleaved(text: str, repeat: int) -> dict[str, list[float]]:
    """Each function timed in turn, round after round: the machine's load falls on all alike."""
    funcs = {"check()": check, "eight rules": without_wording, "wording": wording_only}
    timings: dict[str, list[float]] = {name: [] for name in funcs}
    for _ in range(repeat):
        for name, func in funcs.items():
            timings[name] += measure(func, text, 1)
    return timings


# Texts made to be slow for the wording rule: the same near-miss thousands of times, a
# parallel list of thousands of items, and so on. Each is timed at 20,000 and 200,000
# characters: linear means the second takes about ten times the first.
HOSTILE = {
    "一个错字的成语，一行": ("再接再励", ""),
    "一个错字的成语，每个一行": ("再接再励，", "\n"),
    "差一处的长提法，每个一行": ("习近平新时代中国特色社会主义事业", "\n"),
    "差两处的长提法，一行": ("学思想强党性重实践见新工，", ""),
    "颠倒的词": ("研调", ""),
    "同音错字，每个一行": ("发辉作用", "\n"),
    "的/得": ("抓的很好，", ""),
    "地": ("认真的开展了", ""),
    "有上下文的混用": ("截止目前，", ""),
    "次序颠倒的提法": ("道路自信、制度自信、理论自信、文化自信、", ""),
    "并列分项": ("一是在学习上做表率。二是工作上做表率。", ""),
    "即……又": ("即要抓好当前工作，", ""),
}


def hostile_text(unit: str, separator: str, size: int) -> str:
    piece = unit + separator
    return (piece * (size // len(piece) + 1))[:size]


def random_han(size: int) -> str:
    import random

    rng = random.Random(7)
    return "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(size))


def time_once(text: str) -> float:
    start = time.perf_counter()
    check(text)
    return (time.perf_counter() - start) * 1000


def best_of(text: str, runs: int) -> float:
    return min(time_once(text) for _ in range(runs))


def hostile() -> None:
    print("hostile texts (best of 3 and of 2 runs; ms at 20,000 → 200,000 characters):")
    cases = {name: (unit, sep) for name, (unit, sep) in HOSTILE.items()}
    for name, (unit, separator) in cases.items():
        small = best_of(hostile_text(unit, separator, TARGET_CHARACTERS), 3)
        large = best_of(hostile_text(unit, separator, 10 * TARGET_CHARACTERS), 2)
        print(f"  {name:<16} {small:7.1f} → {large:8.1f} ms  (×{large / small:.1f})")
    small = best_of(random_han(TARGET_CHARACTERS), 3)
    large = best_of(random_han(10 * TARGET_CHARACTERS), 2)
    print(f"  {'随机汉字':<16} {small:7.1f} → {large:8.1f} ms  (×{large / small:.1f})")


def main() -> None:
    text, source = build_text()
    cold = time_once("我们将再接再厉，推动工作再上新台阶。")
    check(text)  # warm up: compile regular expressions, read the dictionaries
    timings = measure(check, text, 50)
    parse_timings = measure(parse, text, 50)
    findings = check(text)
    print(f"text: {len(text)} characters, {text.count(chr(10)) + 1} lines, from {source}")
    print(f"findings: {len(findings)} ({sum(f.is_error for f in findings)} errors)")
    print(
        f"check():  median {statistics.median(timings):.1f} ms, p95 {sorted(timings)[int(len(timings) * 0.95) - 1]:.1f} ms, max {max(timings):.1f} ms over {len(timings)} runs"
    )
    print(f"parse():  median {statistics.median(parse_timings):.2f} ms")
    cpu = measure(check, text, 50, time.process_time)
    print(f"check() CPU time: median {statistics.median(cpu):.1f} ms")
    shares = interleaved(text, 30)
    print(
        "interleaved medians: "
        + ", ".join(f"{name} {statistics.median(t):.1f} ms" for name, t in shares.items())
    )
    print(f"first check() of the process: {cold:.0f} ms (reads jieba's and pypinyin's data)")
    hostile()


if __name__ == "__main__":
    main()
