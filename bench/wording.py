"""Recall and false findings of the wording rule on text it was not tuned on.

Run: .venv/bin/python bench/wording.py  — prints figures.

1. bench/data/wording_heldout.txt: report paragraphs written with typos planted as [wrong|right],
   written before the rule and never used to tune it. Each paragraph is checked as written
   (is each typo found? any finding elsewhere?) and corrected (any finding at all is false).
2. ../shared/samples/typos.json (when present): what a proofreader found in the samples, every
   confidence, and the corrected copies in ../shared/samples/fixed/.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from samples import SAMPLES

from app.documents.checks import check

HERE = Path(__file__).resolve().parent
HELDOUT = HERE / "data" / "wording_heldout.txt"
MARK = re.compile(r"\[([^|\]]*)\|([^\]]*)\]")


@dataclass
class Typo:
    line: int
    start: int  # in the line as written
    wrong: str
    right: str


def planted(path: Path) -> tuple[str, str, list[Typo]]:
    """The text as written, the text corrected, and where each typo is."""
    written, corrected, typos = [], [], []
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for number, line in enumerate((line for line in lines if not line.startswith("#")), 1):
        out, fixed, last = "", "", 0
        for match in MARK.finditer(line):
            out += line[last : match.start()]
            fixed += line[last : match.start()]
            typos.append(Typo(number, len(out), match.group(1), match.group(2)))
            out += match.group(1)
            fixed += match.group(2)
            last = match.end()
        written.append(out + line[last:])
        corrected.append(fixed + line[last:])
    return "\n".join(written), "\n".join(corrected), typos


def wording(text: str):
    return [f for f in check(text) if f.rule == "wording"]


def overlaps(finding, typo: Typo) -> bool:
    start = finding.column - 1
    return (
        finding.line == typo.line
        and start < typo.start + max(1, len(typo.wrong))
        and typo.start < start + finding.length
    )


def fixes(text: str, finding, typo: Typo) -> bool:
    """Does applying the suggestion write what the proofreader wrote?"""
    line = text.split("\n")[finding.line - 1]
    start = finding.column - 1
    after = line[:start] + finding.suggestion + line[start + finding.length :]
    before_typo = line[: typo.start]
    expected = before_typo + typo.right + line[typo.start + len(typo.wrong) :]
    return after == expected


def report(title: str, written: str, corrected: str, typos: list[Typo]) -> None:
    found = wording(written)
    hit = [t for t in typos if any(overlaps(f, t) for f in found)]
    exact = [t for t in hit if any(overlaps(f, t) and fixes(written, f, t) for f in found)]
    stray = [f for f in found if not any(overlaps(f, t) for t in typos)]
    false = wording(corrected)
    print(f"{title}")
    print(f"  planted typos: {len(typos)}; found {len(hit)} ({len(hit) / len(typos):.0%}),")
    print(f"  of which the suggestion writes the correction: {len(exact)}")
    print(f"  findings on the text as written away from any typo: {len(stray)}")
    print(f"  findings on the corrected text (false): {len(false)}")
    for t in typos:
        if t not in hit:
            print(f"    missed  line {t.line}: {t.wrong} → {t.right}")
    for f in stray + false:
        print(f"    false   line {f.line}: {f.message}")


def samples() -> None:
    typos_file = SAMPLES / "typos.json"
    if not typos_file.is_file():
        print("../shared/samples not present: skipped")
        return
    all_typos = json.loads(typos_file.read_text(encoding="utf-8"))
    for name, entries in sorted(all_typos.items()):
        written = (SAMPLES / name).read_text(encoding="utf-8")
        corrected = (SAMPLES / "fixed" / name).read_text(encoding="utf-8")
        lines = written.split("\n")
        typos = [
            Typo(e["line"], lines[e["line"] - 1].index(e["wrong"]), e["wrong"], e["right"])
            for e in entries
        ]
        report(f"sample {name[:3]} (typos.json, all confidences)", written, corrected, typos)


def main() -> None:
    start = time.perf_counter()
    written, corrected, typos = planted(HELDOUT)
    report(
        f"held-out paragraphs ({HELDOUT.name}, {len(written)} characters)",
        written,
        corrected,
        typos,
    )
    samples()
    print(f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
