"""Passwords people pick first, refused when a password is set (ASVS 2.1.7). The list in
common-passwords.txt includes the usual Chinese choices (pinyin, 520/1314, keyboard runs)."""

import itertools
from pathlib import Path

COMMON_PASSWORDS = frozenset(
    Path(__file__).with_name("common-passwords.txt").read_text(encoding="utf-8").split()
)


def is_common(password: str) -> bool:
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS:
        return True
    # One character repeated, or a run of consecutive digits/letters.
    if len(set(lowered)) <= 2:
        return True
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(lowered)}
    return steps <= {1} or steps <= {-1}
