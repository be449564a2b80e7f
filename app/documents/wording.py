"""The wording check: wrong characters, transposed words, misquoted fixed expressions.

:func:`find_wording` returns what a proofreader (校对) would mark in a report text, each
with the text to put in its place. It looks for

* a fixed expression (规范表述) quoted with a character too many, too few, wrong or swapped, or
  its parts in the wrong order;
* a set four-character phrase with one character written by sound or by shape (再接再励), or two
  neighbours swapped;
* a common word written with a homophone or look-alike that is not a word (发辉), or with its two
  characters swapped (研调);
* the known confusions of the phrase book, in their contexts (聚集整治, 制度推进措施);
* 的 before a complement (抓的比较紧), 的 before a verb after an adverbial (认真的开展了),
  即…又…, and an item of a parallel list that lost the 在 or 上 of its siblings' 在……上.

Precision comes first: a candidate is dropped when the text as written is itself a word of
jieba's dictionary or another entry of the book, when a set phrase's wrong character neither
sounds nor looks like the right one, when a corrected common word does not make the text around
it read much better, or when it lies inside a correctly written fixed expression. Scanning is
linear in the text; what costs more per candidate is bounded by a budget per check.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress, islice
from typing import TYPE_CHECKING

from app.documents.lexicon import homophones, lexicon, sound_alike

if TYPE_CHECKING:
    from app.documents.phrasebook import Entry, PhraseBook

HAN_CLASS = "\u3400-\u4dbf\u4e00-\u9fff"
HAN_CHAR = re.compile(f"[{HAN_CLASS}]")
# The marks that separate the parts of a formulation count as one: 、，, ；; are all “、”.
SEPARATORS = ("，", ",", "；", ";")
SENTENCE_BREAK = set("。！？!?\n")
# A window that jieba's corpus uses this often is a word in its own right, not a typo.
WORD_FREQ = 20
# A common word misspelt is reported when the corrected stretch of text reads this much better
# (log-probability of its likeliest segmentation): typos gain 10–15, chance look-alikes at the
# edges of two words (把会开好 → 把开会好) 3–5 or nothing.
WORD_GAIN = 8.0
WORD_CONTEXT = 3
# The costlier look at a candidate (an approximate comparison, a segmentation) is taken at most
# this many times per check, and a check stops collecting doubts at MAX_HITS: a hostile text
# (the same near-miss 10,000 times) costs no more than a long clean one.
CLOSE_LOOKS_PER_CHECK = 600
MAX_HITS = 500


class Budget:
    """What is left of the close looks one check may take."""

    def __init__(self, close_looks: int = CLOSE_LOOKS_PER_CHECK):
        self.close_looks = close_looks

    def take(self) -> bool:
        self.close_looks -= 1
        return self.close_looks >= 0


# What a hit replaces, in order of trust when two overlap.
PRIORITY = {"confusion": 0, "fixed": 1, "order": 2, "idiom": 3, "grammar": 4, "frame": 5, "word": 6}


@dataclass(frozen=True, order=True)
class Hit:
    """A doubt: ``text[start:end]`` should probably read ``replacement``."""

    start: int
    end: int
    replacement: str
    message: str
    source: str = field(default="word", compare=False)


# --- the index ------------------------------------------------------------------------------


@dataclass
class Index:
    probes: dict[str, list[tuple]]
    known: set[str]  # texts of fixed expressions and idioms (normalised): correct by definition
    confusion_wrongs: set[str]
    lists: dict[frozenset[str], tuple[str, tuple[str, ...]]]
    list_pattern: re.Pattern | None
    look_alike: dict[str, set[str]]
    grammar: Grammar


def _normalise(text: str) -> str:
    for mark in SEPARATORS:  # str.replace is many times faster than translate on Chinese text
        text = text.replace(mark, "、")
    return text


def _pieces(phrase: str) -> list[tuple[int, str]]:
    """Two halves (up to 8 characters) or three parts: one edit leaves one of them intact."""
    n = len(phrase)
    count = 2 if n <= 8 else 3
    bounds = [round(k * n / count) for k in range(count + 1)]
    return [(bounds[k], phrase[bounds[k] : bounds[k + 1]]) for k in range(count)]


def _swaps(phrase: str) -> Iterator[str]:
    for k in range(len(phrase) - 1):
        if phrase[k] != phrase[k + 1]:
            yield phrase[:k] + phrase[k + 1] + phrase[k] + phrase[k + 2 :]


def build_index(book: PhraseBook) -> Index:
    """Every probe of the book by the two characters it starts with, for the one scan."""
    words = lexicon()
    probes: dict[str, list[tuple]] = {}

    def add(key: str, probe: tuple) -> None:
        probes.setdefault(key[:2], []).append(probe)

    look_alike = _look_alike_groups(book)
    known = {_normalise(e.text) for e in book.entries if e.kind in ("fixed", "idiom")}
    confusion_wrongs = {e.text for e in book.entries if e.kind == "confusion"}
    book_words = {entry.text for entry in book.entries if entry.kind == "word"}
    unwanted = known | confusion_wrongs | book_words
    lists: dict[frozenset[str], tuple[str, tuple[str, ...]]] = {}
    for entry in book.entries:  # confusions first: they are probed first
        if entry.kind == "confusion":
            add(_normalise(entry.text), ("confusion", entry))
    for entry in book.entries:
        phrase = _normalise(entry.text)
        if entry.kind in ("fixed", "idiom") and len(phrase) <= 4:
            _add_set_phrase(add, entry, phrase, known, words)
        elif entry.kind == "fixed":
            _add_formulation(add, entry, phrase, lists)
        elif entry.kind == "word":
            for variant, how in _word_variants(phrase, look_alike):
                if variant not in unwanted and words.freq(variant) < WORD_FREQ:
                    add(variant, ("word", entry, variant, how))
    return Index(
        probes,
        known,
        confusion_wrongs,
        lists,
        _list_pattern(lists),
        look_alike,
        Grammar(book.lists),
    )


def _look_alike_groups(book: PhraseBook) -> dict[str, set[str]]:
    look_alike: dict[str, set[str]] = {}
    for group in book.shapes:
        for char in group:
            look_alike.setdefault(char, set()).update(c for c in group if c != char)
    return look_alike


def _add_set_phrase(add, entry: Entry, phrase: str, known: set[str], words) -> None:
    """A set phrase of up to four characters: found by either half, or with two neighbours
    swapped (unless the swap is itself a phrase or a common word)."""
    add(phrase[:2], ("short", entry, phrase, 0))
    add(phrase[2:], ("short", entry, phrase, 2))
    for variant in _swaps(phrase):
        if variant not in known and words.freq(variant) < WORD_FREQ:
            add(variant, ("swapped", entry, variant))


def _add_formulation(add, entry: Entry, phrase: str, lists: dict) -> None:
    """A longer formulation: found by any of its pieces (one edit leaves one intact); a
    、-list of three or more items is also known by its items, to catch them reordered."""
    for offset, piece in _pieces(phrase):
        add(piece, ("piece", entry, phrase, offset, piece))
    items = tuple(phrase.split("、"))
    if len(items) >= 3 and len(set(items)) == len(items) and all(items):
        lists[frozenset(items)] = (entry.text, items)


def _list_pattern(lists: dict) -> re.Pattern[str] | None:
    list_items = sorted({item for items in lists for item in items}, key=len, reverse=True)
    if not list_items:
        return None
    item = "|".join(map(re.escape, list_items))
    return re.compile(f"(?:{item})(?:、(?:{item}))+")


def _word_variants(word: str, look_alike: dict[str, set[str]]) -> Iterator[tuple[str, str]]:
    if word[0] != word[1]:
        yield word[1] + word[0], "swapped"
    for position in (0, 1):
        char = word[position]
        others = dict.fromkeys(homophones(char), "sound")
        others.update(dict.fromkeys(look_alike.get(char, ()), "shape"))
        for other, how in others.items():
            yield word[:position] + other + word[position + 1 :], how


# --- approximate comparison ------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance of ``a`` and ``b``, or ``limit + 1`` when larger.
    Only the cells within ``limit`` of the diagonal are computed."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    far = limit + 1
    previous2: list[int] = []
    previous = [j if j <= limit else far for j in range(len(b) + 1)]
    for i in range(1, len(a) + 1):
        current = [i if i <= limit else far] + [far] * len(b)
        for j in range(max(1, i - limit), min(len(b), i + limit) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            current[j] = min(value, far)
        if min(current) >= far:
            return far
        previous2, previous = previous, current
    return previous[len(b)]


def _alike(index: Index, wrong: str, right: str) -> bool:
    return wrong in index.look_alike.get(right, ()) or sound_alike(wrong, right)


def _substitutions_alike(index: Index, window: str, phrase: str) -> bool:
    """Same length and differing only in characters that sound or look alike (or a swap)."""
    if len(window) != len(phrase):
        return True  # a character too many or too few: no likeness to ask for
    differ = [k for k in range(len(phrase)) if window[k] != phrase[k]]
    if len(differ) == 2 and differ[1] == differ[0] + 1:
        k = differ[0]
        if window[k] == phrase[k + 1] and window[k + 1] == phrase[k]:
            return True
    return all(_alike(index, window[k], phrase[k]) for k in differ)


class _Scan:
    """The state of scanning one text (all its lines at once: no per-line overhead)."""

    def __init__(self, index: Index, text: str, budget: Budget):
        self.index = index
        self.text = text
        self.norm = _normalise(text)
        self.hits: list[Hit] = []
        self.exact: list[tuple[int, int]] = []
        self.compared: set[tuple[str, int]] = set()
        self.budget = budget

    # Probes ---------------------------------------------------------------------------------

    def run_probes(self) -> None:
        probes = self.index.probes
        norm = self.norm
        # Every two characters of the text, looked up in C (map/compress), not in a Python loop.
        bigrams = list(map(operator.add, norm, norm[1:]))
        for i in compress(range(len(bigrams)), map(probes.__contains__, bigrams)):
            for probe in probes[bigrams[i]]:
                # Cheap tests first: most probes of a common pair of characters fail here.
                kind = probe[0]
                if kind == "piece":
                    if norm.startswith(probe[4], i):
                        self._piece(i, *probe[1:])
                elif kind == "short":
                    phrase, offset = probe[2], probe[3]
                    other = norm[i + 2 : i + 4] if offset == 0 else norm[max(0, i - 2) : i]
                    rest = phrase[2:] if offset == 0 else phrase[:2]
                    if len(other) == 2 and (other[0] == rest[0] or other[1] == rest[1]):
                        self._short(i, *probe[1:])
                elif kind == "swapped":
                    if norm.startswith(probe[2], i):
                        self._phrase_hit(i, i + len(probe[2]), probe[1], "idiom")
                elif kind == "confusion":
                    self._confusion(i, probe[1])
                else:
                    self._word(i, *probe[1:])
            if len(self.hits) >= MAX_HITS:
                break

    def _confusion(self, i: int, entry: Entry) -> None:
        if self.text.startswith(entry.text, i) and entry.applies(self.text, i):
            self.hits.append(
                Hit(
                    i,
                    i + len(entry.text),
                    entry.right,
                    f"“{entry.text}”疑为“{entry.right}”。",
                    "confusion",
                )
            )

    def _short(self, i: int, entry: Entry, phrase: str, offset: int) -> None:
        start = i - offset
        window = self.norm[start : start + 4] if start >= 0 else ""
        if len(window) != len(phrase):
            return
        if window == phrase:
            self.exact.append((start, start + len(phrase)))
            return
        differ = [k for k in range(4) if window[k] != phrase[k]]
        if len(differ) != 1:
            return
        k = differ[0]
        if not HAN_CHAR.match(window[k]) or not _alike(self.index, window[k], phrase[k]):
            return
        self._phrase_hit(start, start + len(phrase), entry, "idiom")

    def _phrase_hit(self, start: int, end: int, entry: Entry, source: str) -> None:
        window = self.norm[start:end]
        if window in self.index.known or lexicon().freq(window) >= WORD_FREQ:
            return
        wrong = self.text[start:end]
        label = "规范表述" if entry.kind == "fixed" else "固定说法"
        self.hits.append(
            Hit(start, end, entry.text, f"“{wrong}”疑为“{entry.text}”（{label}）。", source)
        )

    def _piece(self, i: int, entry: Entry, phrase: str, offset: int, piece: str) -> None:
        """A piece of a formulation at ``i``: the formulation is quoted exactly, or a window
        around the piece is it with a character too many, too few, wrong or swapped."""
        anchor = i - offset
        if self.norm.startswith(phrase, anchor):
            self.exact.append((anchor, anchor + len(phrase)))
            return
        if (phrase, anchor) in self.compared or not self.budget.take():
            return
        self.compared.add((phrase, anchor))
        window = self._closest_window(phrase, anchor, i, i + len(piece))
        if window is not None and self._is_misquotation(self.norm[slice(*window)], phrase):
            self._phrase_hit(*window, entry, "fixed")

    def _closest_window(
        self, phrase: str, anchor: int, piece_start: int, piece_end: int
    ) -> tuple[int, int] | None:
        """Where the text quotes ``phrase`` (expected at ``anchor``) with the fewest edits,
        within a sentence: it starts and ends where the text has the phrase's first and last
        character, or one that sounds or looks like it (筑牢中华民族共同体意识)."""
        norm, n = self.norm, len(phrase)
        limit = 1 if n <= 8 else 2
        starts = [
            s
            for s in range(max(0, anchor - limit), anchor + limit + 1)
            if s <= piece_start and s < len(norm) and self._same_or_alike(norm[s], phrase[0])
        ]
        ends = [
            e
            for e in range(anchor + n - limit, min(len(norm), anchor + n + limit) + 1)
            if e >= piece_end and e > 0 and self._same_or_alike(norm[e - 1], phrase[-1])
        ]
        best: tuple[int, int, int, int] | None = None
        for s in starts:
            for e in ends:
                window = norm[s:e]
                if any(c in SENTENCE_BREAK for c in window):
                    continue
                d = _distance(phrase, window, limit)
                if 0 < d <= limit and (best is None or (d, abs(e - s - n)) < best[:2]):
                    best = (d, abs(e - s - n), s, e)
        return None if best is None else (best[2], best[3])

    def _is_misquotation(self, window: str, phrase: str) -> bool:
        if window.replace("的", "") == phrase.replace("的", ""):
            return False  # 中华民族的伟大复兴: a 的 more or less is not a misquotation
        if window in self.index.known:
            return False
        return len(phrase) > 8 or _substitutions_alike(self.index, window, phrase)

    def _same_or_alike(self, char: str, wanted: str) -> bool:
        return char == wanted or (
            HAN_CHAR.match(char) is not None and _alike(self.index, char, wanted)
        )

    def _word(self, i: int, entry: Entry, variant: str, how: str) -> None:
        if not HAN_CHAR.match(self.norm[i]) or not self.budget.take():
            return
        if not _reads_better(self.norm, i, entry.text):
            return
        wrong = self.text[i : i + 2]
        why = "两字颠倒" if how == "swapped" else ("字形相近" if how == "shape" else "读音相同")
        self.hits.append(
            Hit(i, i + 2, entry.text, f"“{wrong}”疑为“{entry.text}”（{why}）。", "word")
        )

    # Ordered lists --------------------------------------------------------------------------

    def ordered_lists(self) -> None:
        pattern = self.index.list_pattern
        if pattern is None:
            return
        for match in pattern.finditer(self.norm):
            found = tuple(match.group().split("、"))
            canonical = self.index.lists.get(frozenset(found))
            if canonical is None or len(found) != len(canonical[1]) or found == canonical[1]:
                continue
            text = canonical[0]
            wrong = self.text[match.start() : match.end()]
            self.hits.append(
                Hit(
                    match.start(),
                    match.end(),
                    text,
                    f"“{wrong}”的次序疑有误，规范表述为“{text}”。",
                    "order",
                )
            )

    # Result ---------------------------------------------------------------------------------

    def result(self) -> list[Hit]:
        # Masks over the text keep this linear however many hits and exact phrases there are.
        exact = bytearray(len(self.text))
        for start, end in self.exact:
            exact[start:end] = b"\x01" * (end - start)
        taken = bytearray(len(self.text))
        kept: list[Hit] = []
        for hit in sorted(self.hits, key=lambda h: (PRIORITY[h.source], h.start)):
            if hit.source != "order" and exact.find(0, hit.start, hit.end) == -1:
                continue  # inside a correctly written fixed expression or set phrase
            if taken.find(1, hit.start, hit.end) != -1:
                continue
            taken[hit.start : hit.end] = b"\x01" * (hit.end - hit.start)
            kept.append(hit)
        return sorted(kept)


def _reads_better(text: str, i: int, word: str) -> bool:
    """Does the text around ``text[i:i+2]`` read much better with ``word`` there? Not when the
    two characters belong to two neighbouring words (科研|调查 is not a swapped 调研)."""
    start = max(0, i - WORD_CONTEXT)
    end = min(len(text), i + 2 + WORD_CONTEXT)
    corrected = text[start:i] + word + text[i + 2 : end]
    return _plausibility(corrected) - _plausibility(text[start:end]) >= WORD_GAIN


@lru_cache(maxsize=4096)
def _plausibility(text: str) -> float:
    return lexicon().plausibility(text)


# --- grammar rules --------------------------------------------------------------------------


def _alternation(items: tuple[str, ...]) -> str:
    return "|".join(map(re.escape, sorted(set(items), key=len, reverse=True))) or "(?!)"


PAUSE = "[，。；、！？：,.;!?）”\n]|$"
# Words that start like a preposition but are nouns: 科学的把握, 有效的对策.
NOUNS_AFTER_PREPOSITION = "握|关|脉|手|来|领|往|导|业|会|策|象|比|话"
# Characters before 的 that make it a possessive or a word of its own (目的, 有的, 似的…).
NOT_VERB_BEFORE_DE = set("们我你他她它这那样种些个有是目似别真么啥谁此该其之性化式型")


class Grammar:
    """Regular-expression rules built from the book's word lists; each is linear."""

    def __init__(self, lists):
        degree = _alternation(lists.degree)
        short = _alternation(lists.complement_1)
        long_ = _alternation(lists.complement_2)
        alone = _alternation(lists.complement_alone)
        # Starts with a literal, so that the regular expression engine skips to each 的.
        self.complement = re.compile(
            f"的((?:{degree})(?:{long_}|{short})|(?:{alone}))了?(?={PAUSE})"
        )
        adverbial = _alternation(lists.adverbial)
        preposition = _alternation(lists.preposition)
        self.adverbial = re.compile(
            f"({adverbial})的(?:(?:{preposition})(?!{NOUNS_AFTER_PREPOSITION})|[{HAN_CLASS}]{{2}}了)"
        )
        self.adverb_only = re.compile(f"({_alternation(lists.adverb_only)})的(?=[{HAN_CLASS}])")
        self.steady = re.compile(f"(不断)的(?=(?:{_alternation(lists.steady_verbs)})[{HAN_CLASS}])")
        self.either = re.compile(
            r"(?<![立随当旋])即(要|是|有|能|讲|抓|重|靠)(?!求)(?=[^。；！？\n]{1,40}?(?:又|也|更)\1)"
        )
        self.frame_open = lists.frame_open
        self.frame_close = lists.frame_close


def _grammar_hits(text: str, grammar: Grammar) -> Iterator[Hit]:
    words = lexicon()
    for match in grammar.complement.finditer(text):
        de = match.start()
        before = text[de - 1] if de else ""
        if not HAN_CHAR.match(before) or before in NOT_VERB_BEFORE_DE:
            continue
        if words.freq(text[de - 1 : de + 1]) >= WORD_FREQ:
            continue  # 目的, 真的, 似的: a word of its own
        # Show the verb: 落实的不够到位 rather than 实的不够到位.
        start = de - 2 if de >= 2 and words.freq(text[de - 2 : de]) >= WORD_FREQ else de - 1
        end = match.end()
        wrong = text[start:end]
        right = text[start:de] + "得" + text[de + 1 : end]
        yield Hit(start, end, right, f"“{wrong}”疑为“{right}”（补语前用“得”）。", "grammar")
    for pattern in (grammar.adverbial, grammar.adverb_only, grammar.steady):
        for match in pattern.finditer(text):
            de = match.end(1)
            start = match.start(1)
            end = de + 1
            right = match.group(1) + "地"
            shown = max(match.end(), end + 2)
            yield Hit(
                start,
                end,
                right,
                f"“{text[start:shown]}”疑为“{right}{text[end:shown]}”（修饰动词用“地”）。",
                "grammar",
            )
    for match in grammar.either.finditer(text):
        yield Hit(
            match.start(),
            match.start() + 1,
            "既",
            f"“即{match.group(1)}……又{match.group(1)}”疑为“既{match.group(1)}……"
            f"又{match.group(1)}”。",
            "grammar",
        )


# --- parallel items: 一是在……上 ------------------------------------------------------------

ITEM = re.compile(
    r"(?:^|(?<=[。；！？：]))[ \t\u3000]*(?:[一二三四五六七八九十]|[1-9])[是要](?=[^是要])",
    re.MULTILINE,
)
HEAD_END = re.compile(r"[，。；：！？、（\n]")


def _paragraph_items(text: str) -> Iterator[list[int]]:
    """Where the items (一是…二是…) of each paragraph start, for paragraphs with three or more."""
    group: list[int] = []
    paragraph_end = -1
    for match in ITEM.finditer(text):
        if match.start() > paragraph_end:
            if len(group) >= 3:
                yield group
            group = []
            newline = text.find("\n", match.end())
            paragraph_end = len(text) if newline == -1 else newline
        group.append(match.end())
    if len(group) >= 3:
        yield group


def _frame_hits(text: str, grammar: Grammar) -> Iterator[Hit]:
    opens = _alternation(grammar.frame_open)
    closes = _alternation(grammar.frame_close)
    framed = re.compile(f"({opens})([{HAN_CLASS}]{{2,12}}?)({closes})(.*)")
    for starts in _paragraph_items(text):
        heads: list[tuple[int, str]] = []
        for k, start in enumerate(starts):
            stop = starts[k + 1] if k + 1 < len(starts) else len(text)
            cut = HEAD_END.search(text, start, stop)
            heads.append((start, text[start : cut.start() if cut else stop]))
        yield from _frame_group(text, heads, framed, closes)


def _frame_group(
    text: str, heads: list[tuple[int, str]], framed: re.Pattern, closes: str
) -> Iterator[Hit]:
    shapes = [framed.fullmatch(head) for _, head in heads]
    siblings = [m for m in shapes if m]
    if len(siblings) < 2 or len(siblings) < len(heads) - 1:
        return
    tail = _common_prefix([m.group(4) for m in siblings])
    if not tail:
        return
    opener = siblings[0].group(1)
    closers = [m.group(3) for m in siblings]
    closer = max(set(closers), key=closers.count)
    for (start, head), shape in zip(heads, shapes, strict=True):
        if shape:
            continue
        if head.startswith(opener):
            position = head.find(tail, len(opener) + 2)
            inner = head[len(opener) : position]
            if position < 0 or len(inner) > 12 or any(c in inner for c in "上中面"):
                continue
            end = start + position + 1
            wrong = text[start:end]
            right = text[start : start + position] + closer + tail[:1]
        else:
            missing = re.match(f"([{HAN_CLASS}]{{2,12}}?)({closes}){re.escape(tail)}", head)
            if not missing:
                continue
            end = start + missing.end(2)
            wrong = text[start:end]
            right = opener + wrong
        yield Hit(
            start,
            end,
            right,
            f"“{wrong}”疑为“{right}”（与并列的“{opener}……{closer}”一致）。",
            "frame",
        )


def _common_prefix(texts: list[str]) -> str:
    first = min(texts, key=len)
    for k, char in enumerate(first):
        if any(text[k] != char for text in texts):
            return first[:k]
    return first


# --- entry point ----------------------------------------------------------------------------


def find_wording(text: str, book: PhraseBook) -> list[Hit]:
    """The wording doubts in ``text`` (lines joined by ``\\n``), by position, none overlapping
    another and none across a line break; at most :data:`MAX_HITS`."""
    if not HAN_CHAR.search(text):
        return []
    index = book.index
    scan = _Scan(index, text, Budget())
    scan.run_probes()
    scan.ordered_lists()
    scan.hits.extend(islice(_grammar_hits(text, index.grammar), MAX_HITS))
    scan.hits.extend(islice(_frame_hits(text, index.grammar), MAX_HITS))
    return scan.result()[:MAX_HITS]
