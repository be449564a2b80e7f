"""Comparing two versions of a report, made for Chinese prose.

A report is plain text, one paragraph per line (:func:`app.documents.structure.paragraphs`).
The comparison works in three steps:

1. **Align paragraphs.** Equal paragraphs are matched first (``difflib.SequenceMatcher`` over
   the two paragraph lists, ``autojunk=False``). Inside each stretch between equal paragraphs,
   an old and a new paragraph whose similarity is at least :data:`PAIR_SIMILARITY` are paired
   as *changed*, keeping the order of both versions. Similarity is the Dice coefficient of the
   two paragraphs' sets of character bigrams (Chinese has no spaces, and two characters are
   the smallest unit that still carries a word), or for a paragraph that grew or shrank, how
   much of the shorter one is found in the longer (:func:`similarity`).
2. **Recognise moves.** An old paragraph whose exact text is inserted elsewhere, or one left
   unpaired that is at least :data:`MOVE_SIMILARITY` similar to an unpaired new paragraph, is
   one *moved* paragraph, shown at both places. What is left is *deleted* or *inserted*.
3. **Compare characters.** Changed and moved paragraphs are compared character by character
   into runs (equal / delete / insert), so that a one-character edit marks one character. A
   short equal fragment squeezed between two larger edits is folded into them (改了/删了 reads
   better than confetti), but never between two one-character edits such as ``,`` → ``，``.

Every step has a bound on its work (:class:`_Work`), so that unusual input (a 5,000-character
paragraph rewritten, 2,000 one-character paragraphs) degrades to coarser but still exact
results instead of taking seconds: a pair too costly for a character comparison is compared
clause by clause, then as a whole; paragraph lists too repetitive for ``SequenceMatcher`` are
anchored on paragraphs that occur once in each version (patience diff). Whatever the path,
the runs of a row always spell out the old and the new paragraph exactly.

The result is plain data (:class:`Diff`, :class:`Row`, :class:`Run`); templates render it.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import NamedTuple

from app.documents.structure import heading_level, paragraphs

EQUAL, DELETE, INSERT = "equal", "delete", "insert"

# Row kinds, in the words of the page: 未改动 / 改动 / 新增 / 删除 / 移出 / 移入.
UNCHANGED, CHANGED, INSERTED, DELETED = "equal", "changed", "inserted", "deleted"
MOVED_OUT, MOVED_IN = "moved_out", "moved_in"

# An old and a new paragraph in the same place are one edited paragraph from this bigram Dice
# similarity on: about half of the wording survives (a heading 加强组织领导 → 强化组织领导 is
# 0.57, a rewritten sentence in a 100-character paragraph ~0.8, an unrelated paragraph < 0.2).
PAIR_SIMILARITY = 0.5
# Far apart, a paragraph must be nearly the same to count as moved rather than deleted and
# inserted: a paragraph moved with one of five sentences rewritten still scores ~0.8.
MOVE_SIMILARITY = 0.7
# A paragraph that grew (请补充数据 → two sentences added) keeps a low Dice score; containment
# scores it instead: CONTAINED_WEIGHT × the share of the shorter text's bigrams found in the
# longer, for texts of at least CONTAINED_MIN bigrams (short lines are contained everywhere).
CONTAINED_WEIGHT = 0.8
CONTAINED_MIN = 4
# In stretches of more than SHORTCUT_PAIRING old × new pairs, a paragraph this similar to the
# one at its expected place is paired with it without looking at the others.
OBVIOUS_PAIR = 0.8
SHORTCUT_PAIRING = 100

# Work bounds. Costs are in units of SequenceMatcher's inner loop (~1 µs each in CPython):
# the sum over shared elements of (occurrences in old × occurrences in new).
COST_LIMIT = 60_000  # one SequenceMatcher call (~50 ms at worst)
COST_BUDGET = 400_000  # all calls of one comparison together
SIMILARITY_BUDGET = 2_000_000  # bigrams intersected while pairing and finding moves
FULL_PAIRING = 2_500  # a stretch with up to this many old × new pairs tries them all
PAIRING_BAND = 8  # otherwise each old paragraph tries this many neighbours either side…
PAIRING_BAND_MAX = 50  # …widened by the length difference of the stretch, up to this
MOVE_CANDIDATES = 20_000  # unpaired old × new pairs tried for similar (not equal) moves
SHORT_EQUALITY = 2  # equal fragments up to this long may be folded into the edits around them

# Similarity looks through half-width punctuation, so that a paragraph whose commas were
# corrected (, → ，) is still the same paragraph however short it is.
_FULL_WIDTH = str.maketrans(",;:!?()", "，；：！？（）")
_CLAUSE = re.compile(r"[^。！？；：，、…!?;:,]+[。！？；：，、…!?;:,]*|[。！？；：，、…!?;:,]+")


@dataclass(frozen=True)
class Run:
    """A piece of a paragraph: ``equal`` in both versions, ``delete``\\ d or ``insert``\\ ed."""

    kind: str
    text: str


@dataclass(frozen=True)
class Row:
    """One line of the comparison, at the place of the paragraph in both versions.

    ``old_number``/``new_number`` are the paragraph's numbers (1-based, as comments anchor)
    on the sides where this row shows it. A moved paragraph is two rows: ``moved_out`` at its
    old place (``moved_to`` says where it went) and ``moved_in`` at its new place
    (``moved_from`` says where it came from); both carry the same runs.
    """

    kind: str
    old_number: int | None = None
    new_number: int | None = None
    runs: tuple[Run, ...] = ()
    moved_from: int | None = None
    moved_to: int | None = None

    @property
    def old_runs(self) -> tuple[Run, ...]:
        return tuple(run for run in self.runs if run.kind != INSERT)

    @property
    def new_runs(self) -> tuple[Run, ...]:
        return tuple(run for run in self.runs if run.kind != DELETE)

    @property
    def old_text(self) -> str:
        return "".join(run.text for run in self.old_runs)

    @property
    def new_text(self) -> str:
        return "".join(run.text for run in self.new_runs)

    @property
    def edited(self) -> bool:
        """Whether the text itself differs (a moved paragraph may be unedited)."""
        return any(run.kind != EQUAL for run in self.runs)

    @property
    def level(self) -> int:
        """Heading level of a heading line (0 for body text and run-in headings)."""
        text = self.new_text or self.old_text
        end = text.find("。")
        return heading_level(text) if end in (-1, len(text) - 1) else 0


@dataclass(frozen=True)
class Diff:
    """The rows of a comparison in reading order, with the number of paragraphs per kind."""

    rows: tuple[Row, ...]
    changed: int
    inserted: int
    deleted: int
    moved: int

    @property
    def identical(self) -> bool:
        return not (self.changed or self.inserted or self.deleted or self.moved)


@dataclass(frozen=True)
class Segment:
    """Consecutive rows; ``hidden`` segments are long unchanged stretches to collapse."""

    hidden: bool
    rows: tuple[Row, ...]


def compare_texts(old: str, new: str) -> Diff:
    """Compare two report bodies paragraph by paragraph, then character by character."""
    return compare_paragraphs(paragraphs(old), paragraphs(new))


def compare_paragraphs(old: Sequence[str], new: Sequence[str]) -> Diff:
    """Compare two lists of paragraphs (see the module docstring for the steps)."""
    return _Alignment(list(old), list(new), _Work()).diff()


def char_runs(old: str, new: str) -> tuple[Run, ...]:
    """Character runs turning ``old`` into ``new`` (bounded work, cleaned up for reading)."""
    return _char_runs(old, new, _Work())


def similarity(old: str, new: str) -> float:
    """How alike two paragraphs are, 0 to 1: the Dice coefficient of their character-bigram
    sets, or 0.8 × the share of the shorter one's bigrams found in the longer one when that is
    higher (a paragraph expanded or cut down is still the same paragraph)."""
    return _Work().similarity(old, new)


def segments(rows: Sequence[Row], context: int = 2, min_hidden: int = 3) -> list[Segment]:
    """Split ``rows`` so that unchanged stretches of more than ``min_hidden`` rows beyond
    ``context`` rows around each change are hidden (none at the start and end of the text)."""
    result: list[Segment] = []
    shown: list[Row] = []
    index = 0
    while index < len(rows):
        if rows[index].kind != UNCHANGED:
            shown.append(rows[index])
            index += 1
            continue
        end = index
        while end < len(rows) and rows[end].kind == UNCHANGED:
            end += 1
        lead = context if index > 0 else 0
        trail = context if end < len(rows) else 0
        if end - index - lead - trail >= min_hidden:
            shown.extend(rows[index : index + lead])
            if shown:
                result.append(Segment(False, tuple(shown)))
            result.append(Segment(True, tuple(rows[index + lead : end - trail])))
            shown = list(rows[end - trail : end])
        else:
            shown.extend(rows[index:end])
        index = end
    if shown:
        result.append(Segment(False, tuple(shown)))
    return result


# --- bounded work ---------------------------------------------------------------------------


class _Work:
    """The budget of one comparison, and the bigram sets it has computed."""

    def __init__(self) -> None:
        self.cost_budget = COST_BUDGET
        self.similarity_budget = SIMILARITY_BUDGET
        self._bigrams: dict[str, frozenset[str]] = {}

    def afford(self, old: Sequence[Hashable], new: Sequence[Hashable]) -> bool:
        """Spend the cost of running SequenceMatcher on these two sequences, if affordable."""
        new_counts = Counter(new)
        cost = len(old) + len(new)
        for element, count in Counter(old).items():
            cost += count * new_counts.get(element, 0)
        if cost > COST_LIMIT or cost > self.cost_budget:
            return False
        self.cost_budget -= cost
        return True

    def bigrams(self, text: str) -> frozenset[str]:
        found = self._bigrams.get(text)
        if found is None:
            plain = text.translate(_FULL_WIDTH)
            found = frozenset(map(str.__add__, plain, plain[1:])) or frozenset([plain])
            self._bigrams[text] = found
        return found

    def similarity(self, old: str, new: str, at_least: float = 0.0) -> float:
        """See :func:`similarity`; 0 when it cannot reach ``at_least`` or the budget is spent."""
        return 1.0 if old == new else self.score(self.bigrams(old), self.bigrams(new), at_least)

    def score(self, a: frozenset[str], b: frozenset[str], at_least: float) -> float:
        size = len(a) + len(b)
        smaller = min(len(a), len(b))
        contained = smaller >= CONTAINED_MIN
        best_possible = max(2 * smaller / size, CONTAINED_WEIGHT if contained else 0.0)
        if best_possible < at_least or smaller > self.similarity_budget:
            return 0.0
        self.similarity_budget -= smaller
        shared = len(a & b)
        dice = 2 * shared / size
        return max(dice, CONTAINED_WEIGHT * shared / smaller) if contained else dice


# --- sequences: SequenceMatcher within the budget, patience anchors beyond it ---------------

_Opcode = tuple[str, int, int, int, int]


def _opcodes(old: Sequence[Hashable], new: Sequence[Hashable], work: _Work) -> list[_Opcode]:
    """difflib-style opcodes; common ends first, then the middle within the work bounds."""
    start, end = _common_ends(old, new)
    ops: list[_Opcode] = []
    if start:
        ops.append(("equal", 0, start, 0, start))
    middle = _middle(old, new, start, len(old) - end, start, len(new) - end, work)
    ops.extend(middle)
    if end:
        ops.append(("equal", len(old) - end, len(old), len(new) - end, len(new)))
    return _merge_equal(ops)


def _common_ends(old: Sequence[Hashable], new: Sequence[Hashable]) -> tuple[int, int]:
    """Lengths of the common start and of the common end after it (slices compare in C)."""
    limit = min(len(old), len(new))
    start = _longest(lambda n: old[:n] == new[:n], limit)
    end = _longest(lambda n: old[len(old) - n :] == new[len(new) - n :], limit - start)
    return start, end


def _longest(holds: Callable[[int], bool], limit: int) -> int:
    """The largest n ≤ limit for which ``holds(n)``, a predicate true up to some n."""
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if holds(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _middle(
    old: Sequence[Hashable],
    new: Sequence[Hashable],
    i1: int,
    i2: int,
    j1: int,
    j2: int,
    work: _Work,
    *,
    anchor: bool = True,
) -> list[_Opcode]:
    if i1 == i2 and j1 == j2:
        return []
    if i1 == i2 or j1 == j2:
        return [("insert" if i1 == i2 else "delete", i1, i2, j1, j2)]
    a, b = old[i1:i2], new[j1:j2]
    if work.afford(a, b):
        matcher = SequenceMatcher(None, a, b, autojunk=False)
        return [
            (tag, i1 + a1, i1 + a2, j1 + b1, j1 + b2)
            for tag, a1, a2, b1, b2 in matcher.get_opcodes()
        ]
    anchors = _patience_anchors(a, b) if anchor else []
    if not anchors:
        return [("replace", i1, i2, j1, j2)]
    ops: list[_Opcode] = []
    previous_i, previous_j = i1, j1
    for ai, aj in anchors:
        ops.extend(_gap(old, new, previous_i, i1 + ai, previous_j, j1 + aj, work))
        ops.append(("equal", i1 + ai, i1 + ai + 1, j1 + aj, j1 + aj + 1))
        previous_i, previous_j = i1 + ai + 1, j1 + aj + 1
    ops.extend(_gap(old, new, previous_i, i2, previous_j, j2, work))
    return ops


def _gap(old, new, i1: int, i2: int, j1: int, j2: int, work: _Work) -> list[_Opcode]:
    """A stretch between two anchors: its common ends, then SequenceMatcher or a replace."""
    start, end = _common_ends(old[i1:i2], new[j1:j2])
    ops: list[_Opcode] = []
    if start:
        ops.append(("equal", i1, i1 + start, j1, j1 + start))
    ops.extend(_middle(old, new, i1 + start, i2 - end, j1 + start, j2 - end, work, anchor=False))
    if end:
        ops.append(("equal", i2 - end, i2, j2 - end, j2))
    return ops


def _patience_anchors(old: Sequence[Hashable], new: Sequence[Hashable]) -> list[tuple[int, int]]:
    """Elements occurring exactly once on each side, longest run kept in order on both."""
    old_counts, new_counts = Counter(old), Counter(new)
    new_position = {e: j for j, e in enumerate(new) if new_counts[e] == 1}
    pairs = [
        (i, new_position[e]) for i, e in enumerate(old) if old_counts[e] == 1 and e in new_position
    ]
    return _longest_increasing(pairs)


def _longest_increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of ``pairs`` (sorted by first) whose seconds increase."""
    tails: list[int] = []  # smallest second ending an increasing run of each length
    tail_index: list[int] = []
    previous: list[int] = []
    for index, (_, j) in enumerate(pairs):
        length = bisect_left(tails, j)
        if length == len(tails):
            tails.append(j)
            tail_index.append(index)
        else:
            tails[length] = j
            tail_index[length] = index
        previous.append(tail_index[length - 1] if length else -1)
    result: list[tuple[int, int]] = []
    index = tail_index[-1] if tail_index else -1
    while index != -1:
        result.append(pairs[index])
        index = previous[index]
    return result[::-1]


def _merge_equal(ops: list[_Opcode]) -> list[_Opcode]:
    merged: list[_Opcode] = []
    for op in ops:
        if merged and op[0] == "equal" and merged[-1][0] == "equal" and merged[-1][2] == op[1]:
            tag, i1, _, j1, _ = merged[-1]
            merged[-1] = (tag, i1, op[2], j1, op[4])
        else:
            merged.append(op)
    return merged


# --- characters -----------------------------------------------------------------------------


class _Piece(NamedTuple):
    equal: bool
    old: str
    new: str


def _char_runs(old: str, new: str, work: _Work) -> tuple[Run, ...]:
    if old == new:
        return (Run(EQUAL, old),) if old else ()
    pieces = _char_pieces(old, new, work)
    runs: list[Run] = []
    for piece in _fold_short_equalities(pieces):
        if piece.equal:
            runs.append(Run(EQUAL, piece.old))
            continue
        if piece.old:
            runs.append(Run(DELETE, piece.old))
        if piece.new:
            runs.append(Run(INSERT, piece.new))
    return tuple(runs)


def _char_pieces(old: str, new: str, work: _Work) -> list[_Piece]:
    """Character comparison; a pair too costly for that is compared clause by clause."""
    start, end = _common_ends(old, new)
    middle_old, middle_new = old[start : len(old) - end], new[start : len(new) - end]
    pieces = [_Piece(True, old[:start], old[:start])] if start else []
    if not middle_old or not middle_new or work.afford(middle_old, middle_new):
        pieces.extend(_matcher_pieces(middle_old, middle_new))
    else:
        pieces.extend(_clause_pieces(middle_old, middle_new, work))
    if end:
        pieces.append(_Piece(True, old[len(old) - end :], old[len(old) - end :]))
    return _join_pieces(pieces)


def _matcher_pieces(old: str, new: str) -> list[_Piece]:
    """SequenceMatcher over characters, already paid for."""
    if not old or not new:
        return [_Piece(False, old, new)] if old or new else []
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    return [
        _Piece(tag == "equal", old[i1:i2], new[j1:j2])
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
    ]


def _clause_pieces(old: str, new: str, work: _Work) -> list[_Piece]:
    """Align clauses (split after punctuation), then compare changed clauses by character."""
    old_clauses, new_clauses = _CLAUSE.findall(old), _CLAUSE.findall(new)
    if len(old_clauses) < 2 and len(new_clauses) < 2:
        return [_Piece(False, old, new)]
    pieces: list[_Piece] = []
    for tag, i1, i2, j1, j2 in _opcodes(old_clauses, new_clauses, work):
        old_part, new_part = "".join(old_clauses[i1:i2]), "".join(new_clauses[j1:j2])
        if tag == "equal":
            pieces.append(_Piece(True, old_part, new_part))
            continue
        start, end = _common_ends(old_part, new_part)
        if start:
            pieces.append(_Piece(True, old_part[:start], old_part[:start]))
        middle_old = old_part[start : len(old_part) - end]
        middle_new = new_part[start : len(new_part) - end]
        if not middle_old or not middle_new or work.afford(middle_old, middle_new):
            pieces.extend(_matcher_pieces(middle_old, middle_new))
        else:
            pieces.append(_Piece(False, middle_old, middle_new))
        if end:
            pieces.append(
                _Piece(True, old_part[len(old_part) - end :], old_part[len(old_part) - end :])
            )
    return pieces


def _join_pieces(pieces: list[_Piece]) -> list[_Piece]:
    """Adjacent pieces of the same sort become one; empty pieces go."""
    joined: list[_Piece] = []
    for piece in pieces:
        if not piece.old and not piece.new:
            continue
        if joined and joined[-1].equal == piece.equal:
            last = joined[-1]
            joined[-1] = _Piece(piece.equal, last.old + piece.old, last.new + piece.new)
        else:
            joined.append(piece)
    return joined


def _fold_short_equalities(pieces: list[_Piece]) -> list[_Piece]:
    """Fold a short equal fragment between two edits into them when that reads better."""
    result: list[_Piece] = []
    for piece in pieces:
        if (
            not piece.equal
            and len(result) >= 2
            and result[-1].equal
            and _worth_folding(result[-2], result[-1].old, piece)
        ):
            equality = result.pop().old
            before = result.pop()
            piece = _Piece(
                False, before.old + equality + piece.old, before.new + equality + piece.new
            )
        result.append(piece)
    return result


def _worth_folding(before: _Piece, equality: str, after: _Piece) -> bool:
    if len(equality) > SHORT_EQUALITY:
        return False
    # Words added (or cut) on both sides of a kept word: 工作 → 重点工作任务 keeps 工作.
    if (not before.old and not after.old) or (not before.new and not after.new):
        return False
    # Shorter than the edits on both sides: 深入开展调研 → 全面推进调研 stays one edit.
    if len(equality) < max(len(before.old), len(before.new)) and len(equality) < max(
        len(after.old), len(after.new)
    ):
        return True
    # A deletion, one kept character, an insertion: 加强 → 强化 reads as one rewording.
    # Two one-character substitutions (a,b → a，b，) stay two single-character marks.
    shifted = (not before.new and not after.old) or (not before.old and not after.new)
    return len(equality) == 1 and shifted


# --- paragraphs -----------------------------------------------------------------------------


# (−similarity, distance from where the old paragraph was expected, old index, new index)
_Candidate = tuple[float, float, int, int]


def _non_crossing(candidates: list[_Candidate]) -> list[tuple[int, int]]:
    """Take the candidates best first, skipping any that would cross a pair already taken."""
    chosen_old: list[int] = []
    chosen_new: list[int] = []
    for _, _, i, j in sorted(candidates):
        k = bisect_left(chosen_old, i)
        if k < len(chosen_old) and chosen_old[k] == i:
            continue
        if (k and chosen_new[k - 1] >= j) or (k < len(chosen_new) and chosen_new[k] <= j):
            continue
        chosen_old.insert(k, i)
        chosen_new.insert(k, j)
    return list(zip(chosen_old, chosen_new, strict=True))


class _Alignment:
    """Aligns two paragraph lists into rows; see the module docstring for the steps."""

    def __init__(self, old: list[str], new: list[str], work: _Work) -> None:
        self.old, self.new, self.work = old, new, work
        self.moves: dict[int, int] = {}  # old index → new index
        self.pairs: dict[int, int] = {}  # changed in place: old index → new index
        self.runs_cache: dict[tuple[int, int], tuple[Run, ...]] = {}

    def diff(self) -> Diff:
        ops = _opcodes(self.old, self.new, self.work)
        stretches = [op for op in ops if op[0] != "equal"]
        self._exact_moves(stretches)
        moved_in = set(self.moves.values())
        for _, i1, i2, j1, j2 in stretches:
            self._pair_in_place(i1, i2, j1, j2, moved_in)
        self._similar_moves(stretches)
        moved_from = {j: i for i, j in self.moves.items()}
        pairs = sorted(self.pairs.items())
        rows: list[Row] = []
        for tag, i1, i2, j1, j2 in ops:
            if tag == "equal":
                rows.extend(
                    Row(UNCHANGED, i + 1, j + 1, _equal_runs(self.old[i]))
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                )
            else:
                rows.extend(self._stretch_rows(i1, i2, j1, j2, pairs, moved_from))
        counts = Counter(row.kind for row in rows)
        return Diff(
            tuple(rows), counts[CHANGED], counts[INSERTED], counts[DELETED], counts[MOVED_IN]
        )

    def _exact_moves(self, stretches: list[_Opcode]) -> None:
        waiting: dict[str, deque[int]] = defaultdict(deque)
        for _, _, _, j1, j2 in stretches:
            for j in range(j1, j2):
                waiting[self.new[j]].append(j)
        for _, i1, i2, _, _ in stretches:
            for i in range(i1, i2):
                if waiting.get(self.old[i]):
                    self.moves[i] = waiting[self.old[i]].popleft()

    def _pair_in_place(self, i1: int, i2: int, j1: int, j2: int, moved_in: set[int]) -> None:
        """Pair the stretch's old and new paragraphs that are similar enough, best first,
        without crossing (an edited paragraph stays in its place)."""
        olds = [i for i in range(i1, i2) if i not in self.moves]
        news = [j for j in range(j1, j2) if j not in moved_in]
        if olds and news:
            self.pairs.update(_non_crossing(self._pair_candidates(olds, news)))

    def _pair_candidates(self, olds: list[int], news: list[int]) -> list[_Candidate]:
        """(−similarity, distance from the diagonal, old, new) for every pair worth making.

        Small stretches compare every old with every new paragraph; larger ones only those
        within a band around where an old paragraph is expected in the new text.
        """
        everything = len(olds) * len(news) <= FULL_PAIRING
        shortcut = len(olds) * len(news) > SHORTCUT_PAIRING
        band = min(PAIRING_BAND_MAX, PAIRING_BAND + abs(len(olds) - len(news)))
        scale = len(news) / len(olds)
        bigrams, score = self.work.bigrams, self.work.score
        new_bigrams = [bigrams(self.new[j]) for j in news]
        candidates: list[_Candidate] = []
        for p, i in enumerate(olds):
            expected = (p + 0.5) * scale - 0.5
            old_bigrams = bigrams(self.old[i])
            diagonal = min(len(news) - 1, max(0, round(expected)))
            if shortcut:
                # In a long stretch of edited paragraphs (a correction made throughout), the
                # paragraph at the expected place is usually the one: skip the others then.
                found = score(old_bigrams, new_bigrams[diagonal], OBVIOUS_PAIR)
                if found >= OBVIOUS_PAIR:
                    candidates.append((-found, abs(diagonal - expected), i, news[diagonal]))
                    continue
            low, high = (0, len(news)) if everything else (diagonal - band, diagonal + band + 1)
            for q in range(max(0, low), min(high, len(news))):
                found = score(old_bigrams, new_bigrams[q], PAIR_SIMILARITY)
                if found >= PAIR_SIMILARITY:
                    candidates.append((-found, abs(q - expected), i, news[q]))
        return candidates

    def _similar_moves(self, stretches: list[_Opcode]) -> None:
        taken = set(self.moves.values()) | set(self.pairs.values())
        olds = [
            i
            for _, i1, i2, _, _ in stretches
            for i in range(i1, i2)
            if i not in self.moves and i not in self.pairs
        ]
        news = [j for _, _, _, j1, j2 in stretches for j in range(j1, j2) if j not in taken]
        if not olds or not news or len(olds) * len(news) > MOVE_CANDIDATES:
            return
        bigrams, score = self.work.bigrams, self.work.score
        new_bigrams = [(j, bigrams(self.new[j])) for j in news]
        candidates = []
        for i in olds:
            old_bigrams = bigrams(self.old[i])
            for j, those in new_bigrams:
                found = score(old_bigrams, those, MOVE_SIMILARITY)
                if found >= MOVE_SIMILARITY:
                    candidates.append((-found, i, j))
        candidates.sort()
        used: set[int] = set()
        for _, i, j in candidates:
            if i not in self.moves and j not in used:
                self.moves[i] = j
                used.add(j)

    def _runs(self, i: int, j: int) -> tuple[Run, ...]:
        if (i, j) not in self.runs_cache:
            self.runs_cache[i, j] = _char_runs(self.old[i], self.new[j], self.work)
        return self.runs_cache[i, j]

    def _stretch_rows(
        self,
        i1: int,
        i2: int,
        j1: int,
        j2: int,
        pairs: list[tuple[int, int]],
        moved_from: dict[int, int],
    ) -> list[Row]:
        """Old-only rows before new-only rows, up to each changed pair, in order."""
        inside = pairs[bisect_left(pairs, (i1, -1)) : bisect_left(pairs, (i2, -1))]
        rows: list[Row] = []
        next_old, next_new = i1, j1
        for i, j in [*inside, (i2, j2)]:
            rows.extend(self._old_only(k) for k in range(next_old, i))
            rows.extend(self._new_only(k, moved_from) for k in range(next_new, j))
            if i < i2:
                rows.append(Row(CHANGED, i + 1, j + 1, self._runs(i, j)))
            next_old, next_new = i + 1, j + 1
        return rows

    def _old_only(self, i: int) -> Row:
        if i in self.moves:
            j = self.moves[i]
            return Row(MOVED_OUT, old_number=i + 1, runs=self._runs(i, j), moved_to=j + 1)
        return Row(DELETED, old_number=i + 1, runs=_one_run(DELETE, self.old[i]))

    def _new_only(self, j: int, moved_from: dict[int, int]) -> Row:
        if j in moved_from:
            i = moved_from[j]
            return Row(MOVED_IN, new_number=j + 1, runs=self._runs(i, j), moved_from=i + 1)
        return Row(INSERTED, new_number=j + 1, runs=_one_run(INSERT, self.new[j]))


def _equal_runs(text: str) -> tuple[Run, ...]:
    return _one_run(EQUAL, text)


def _one_run(kind: str, text: str) -> tuple[Run, ...]:
    return (Run(kind, text),) if text else ()
