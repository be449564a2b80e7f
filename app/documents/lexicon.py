"""What the wording check knows about Chinese beyond its phrase book: how often a word is used
(jieba's dictionary, ~350,000 words with frequencies) and how a character is read (pypinyin's
table of readings).

Both are read from the data files the two packages ship, once per process and on first use,
without importing the packages themselves: importing jieba builds its prefix dictionary (seconds,
and a cache file), importing pypinyin loads its phrase table too. Nothing is downloaded. The words
are kept as one sorted string per word length (about 4 MB in all, instead of ~35 MB as a dict).
"""

from __future__ import annotations

import importlib.util
import json
import math
import threading
import unicodedata
from array import array
from bisect import bisect_left
from functools import lru_cache
from pathlib import Path

MAX_WORD_LENGTH = 4
RUN_BITS = 24  # more than the number of words of any length
RUN_MASK = (1 << RUN_BITS) - 1


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)  # finds the package without running its __init__
    if spec is None or spec.origin is None:
        raise RuntimeError(f"缺少 Python 包 {name}，用语检查无法运行：请重新安装依赖。")
    return Path(spec.origin).parent


class _FixedWidth:
    """The words of one length, concatenated in sorted order, as a sequence for bisect."""

    def __init__(self, text: str, width: int):
        self.text = text
        self.width = width

    def __len__(self) -> int:
        return len(self.text) // self.width

    def __getitem__(self, index: int) -> str:
        start = index * self.width
        return self.text[start : start + self.width]


class Lexicon:
    """Word frequencies from jieba's dictionary, for words of 1 to 4 characters."""

    def __init__(self, entries: dict[str, int]):
        # Per length: the sorted words, their counts, and where each first character's run of
        # words starts and ends, packed in one int (a look-up bisects only that run, ~6 steps).
        self._tables: dict[int, tuple[_FixedWidth, array, dict[str, int]]] = {}
        by_length: dict[int, list[tuple[str, int]]] = {}
        for word, count in entries.items():
            if 1 <= len(word) <= MAX_WORD_LENGTH:
                by_length.setdefault(len(word), []).append((word, count))
        for width, items in by_length.items():
            items.sort()
            words = _FixedWidth("".join(word for word, _ in items), width)
            runs: dict[str, int] = {}
            for position, (word, _) in enumerate(items):
                first = runs.get(word[0], position << RUN_BITS) >> RUN_BITS
                runs[word[0]] = first << RUN_BITS | (position + 1)
            self._tables[width] = (words, array("I", (count for _, count in items)), runs)
        self._log_total = math.log(max(1, sum(entries.values())))

        self.freq = lru_cache(maxsize=1 << 16)(self.freq_uncached)

    def freq_uncached(self, word: str) -> int:
        """How often jieba's corpus uses ``word`` (0 for what is not in its dictionary)."""
        table = self._tables.get(len(word))
        if table is None:
            return 0
        words, counts, runs = table
        run = runs.get(word[0])
        if run is None:
            return 0
        first, end = run >> RUN_BITS, run & RUN_MASK
        index = bisect_left(words, word, first, end)
        if index < end and words[index] == word:
            return counts[index]
        return 0

    def __contains__(self, word: str) -> bool:
        return self.freq(word) > 0

    def plausibility(self, text: str) -> float:
        """The log-probability of the likeliest segmentation of ``text`` into dictionary words
        (jieba's unigram model; an unknown character counts as seen once). Comparing a
        stretch of text with the same stretch corrected tells whether the correction reads
        better: 充分发辉党组织 is 充分|发|辉|党组织, 充分发挥党组织 is 充分|发挥|党组织."""
        best = [0.0] + [-math.inf] * len(text)
        for end in range(1, len(text) + 1):
            for length in range(1, min(MAX_WORD_LENGTH, end) + 1):
                count = self.freq(text[end - length : end])
                if count == 0 and length > 1:
                    continue
                score = best[end - length] + math.log(max(count, 1)) - self._log_total
                if score > best[end]:
                    best[end] = score
        return best[len(text)]


def _read_jieba_dictionary() -> dict[str, int]:
    entries: dict[str, int] = {}
    with open(_package_dir("jieba") / "dict.txt", encoding="utf-8") as lines:
        for line in lines:
            word, _, rest = line.partition(" ")
            if len(word) <= MAX_WORD_LENGTH:
                count = rest.split(" ", 1)[0]
                if count.isdigit():
                    entries[word] = int(count)
    return entries


_lock = threading.Lock()


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """jieba's dictionary, read once per process (~0.5 s)."""
    with _lock:
        return Lexicon(_read_jieba_dictionary())


def _toneless(syllable: str) -> str:
    decomposed = unicodedata.normalize("NFD", syllable)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.replace("ü", "v")


@lru_cache(maxsize=1)
def _readings_table() -> dict[int, str]:
    """Code point → its readings as pypinyin writes them (“xíng,háng,hàng,héng”)."""
    with open(_package_dir("pypinyin") / "pinyin_dict.json", encoding="utf-8") as source:
        return {int(code): value for code, value in json.load(source).items()}


@lru_cache(maxsize=8192)
def readings(char: str) -> tuple[str, ...]:
    """The readings of a character without tones, usual one first: 行 → ('xing', 'hang', 'heng')."""
    if len(char) != 1:
        return ()
    value = _readings_table().get(ord(char), "")
    return tuple(dict.fromkeys(_toneless(s) for s in value.split(",") if s))


# Sounds a writer typing pinyin, or speaking a southern Mandarin, easily confuses.
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("l", "n"))
_FUZZY_FINALS = (("iang", "ian"), ("uang", "uan"), ("ang", "an"), ("eng", "en"), ("ing", "in"))


def _fuzzy(syllable: str) -> str:
    for long, short in _FUZZY_INITIALS:
        if syllable.startswith(long):
            syllable = short + syllable[len(long) :]
            break
    for long, short in _FUZZY_FINALS:
        if syllable.endswith(long):
            return syllable[: -len(long)] + short
    return syllable


# The right character may be read its first or second way (行 xing/hang, 重 zhong/chong, 长
# zhang/chang); further readings are rare (不 fu, 还 fu) and would make 赋能 a typo for 不能.
RIGHT_READINGS = 2


@lru_cache(maxsize=65536)
def sound_alike(wrong: str, right: str) -> bool:
    """Is ``wrong`` read (its usual reading) like ``right`` (its first two readings), allowing the
    usual fuzzy pairs (zh/z, in/ing…)? Rare readings of ``wrong`` do not count (立 is also read
    wei, but no one types 立 for 机)."""
    if wrong == right:
        return True
    usual = readings(wrong)[:1]
    return any(_fuzzy(u) == _fuzzy(r) for u in usual for r in readings(right)[:RIGHT_READINGS])


@lru_cache(maxsize=1)
def _homophone_table() -> dict[str, tuple[str, ...]]:
    """Toneless syllable → the characters usually read so, most used first (common ones only)."""
    words = lexicon()
    by_syllable: dict[str, list[tuple[int, str]]] = {}
    for code, value in _readings_table().items():
        char = chr(code)
        count = words.freq_uncached(char)
        if count < COMMON_CHARACTER_FREQ:
            continue
        usual = _toneless(value.split(",", 1)[0])
        by_syllable.setdefault(usual, []).append((count, char))
    return {
        syllable: tuple(char for _, char in sorted(chars, reverse=True))
        for syllable, chars in by_syllable.items()
    }


# A character jieba's corpus uses at least this often on its own is a common one (about 5,000).
COMMON_CHARACTER_FREQ = 200


def homophones(char: str) -> tuple[str, ...]:
    """Common characters whose usual reading is one of the first two readings of ``char`` (tones
    aside), not ``char`` itself: what a writer typing the pinyin of ``char`` may pick by mistake."""
    table = _homophone_table()
    found: dict[str, None] = {}
    for syllable in readings(char)[:RIGHT_READINGS]:
        for other in table.get(syllable, ()):
            if other != char:
                found[other] = None
    return tuple(found)
