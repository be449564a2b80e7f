"""Finding a paragraph again in a later text: where a comment's quoted paragraph went.

Authors answer comments by editing the paragraph, inserting and deleting others and moving
sections, so the paragraph number a comment was written on means little in the next version.
The quote is what stays: we look for the paragraph that best resembles it, preferring the
old position when two are equally good, and give up below a similarity threshold.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher

# Below this similarity the paragraph is considered gone (the comment becomes “outdated”).
# A paragraph that kept most of its wording after an edit scores ~0.7–0.95; an unrelated
# paragraph of the same report ~0.1–0.35 (shared stock phrases), so 0.5 separates them.
MATCH_THRESHOLD = 0.5
# Longer texts are compared on their bigram profile only: SequenceMatcher is quadratic.
EXACT_COMPARE_LIMIT = 3000
CANDIDATES = 3


@dataclass(frozen=True)
class Match:
    number: int  # 1-based paragraph number in the new text
    score: float  # 0..1


def _bigrams(text: str) -> Counter[str]:
    text = "".join(text.split())
    if len(text) < 2:
        return Counter([text]) if text else Counter()
    return Counter(text[i : i + 2] for i in range(len(text) - 1))


def _dice(a: Counter[str], b: Counter[str]) -> float:
    total = sum(a.values()) + sum(b.values())
    if not total:
        return 0.0
    return 2 * sum((a & b).values()) / total


def similarity(old: str, new: str) -> float:
    """How much of ``old`` survives in ``new`` (0..1), ignoring white space."""
    old, new = "".join(old.split()), "".join(new.split())
    if old == new:
        return 1.0
    if not old or not new:
        return 0.0
    if len(old) + len(new) > EXACT_COMPARE_LIMIT:
        return _dice(_bigrams(old), _bigrams(new))
    return SequenceMatcher(None, old, new, autojunk=False).ratio()


def find_paragraph(
    quote: str, paragraphs: list[str], old_number: int | None = None
) -> Match | None:
    """The paragraph of ``paragraphs`` that best matches ``quote``, or None when none does.

    Candidates are picked by a cheap bigram measure and scored exactly; among near-equal
    scores the one closest to ``old_number`` wins (a repeated stock paragraph stays put).
    """
    if not quote.strip() or not paragraphs:
        return None
    target = "".join(quote.split())
    for number, text in enumerate(paragraphs, start=1):
        if "".join(text.split()) == target and (old_number is None or number == old_number):
            return Match(number, 1.0)
    profile = _bigrams(quote)
    rough = sorted(
        ((_dice(profile, _bigrams(text)), number) for number, text in enumerate(paragraphs, 1)),
        reverse=True,
    )
    best: Match | None = None
    best_key: tuple[float, int] | None = None
    for _, number in rough[: CANDIDATES + 2]:
        score = similarity(quote, paragraphs[number - 1])
        distance = abs(number - old_number) if old_number is not None else 0
        key = (round(score, 2), -distance)
        if best_key is None or key > best_key:
            best, best_key = Match(number, score), key
    if best is None or best.score < MATCH_THRESHOLD:
        return None
    return best
