"""Breaking a long title into lines (GB/T 9704-2012 7.3.1: 回行时要做到词意完整，排列对称，
长短适宜，间距恰当；标题排列应当使用梯形或菱形).

A title line may end only between two words. The words come from jieba's segmenter, on its
own dictionary cut down to the common words (frequency ≥ ``MIN_FREQUENCY``: ~67,000 instead
of ~350,000, which loads in a third of the time and memory) plus ``TITLE_TERMS``, fixed terms
of official writing that are never split, whatever the segmenter says
(习近平新时代中国特色社会主义思想 fits on a 20-character line and stays whole). jieba is loaded
on the first title that needs breaking (``app.warmup`` breaks one before a worker serves).
"""

from __future__ import annotations

import io
import logging
import threading
import warnings
from collections.abc import Callable, Iterable
from itertools import combinations, pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from app.pdf.linebreak import KEEP_TOGETHER, NO_END, NO_START

if TYPE_CHECKING:
    import jieba

log = logging.getLogger(__name__)

# Terms of official writing a title line never splits; the longest first, so that the
# segmenter prefers them.
TITLE_TERMS = tuple(
    sorted(
        {
            *KEEP_TOGETHER,
            "习近平新时代中国特色社会主义思想",
            "习近平总书记",
            "新时代中国特色社会主义",
            "中国特色社会主义",
            "党的二十大精神",
            "党的十九大精神",
            "二十大",
            "十九大",
            "新时代",
            "总书记",
            "党中央",
            "党组织",
            "党支部",
            "党委",
            "主题教育",
            "学习贯彻",
            "贯彻落实",
            "全面从严治党",
            "党风廉政建设",
            "纪检监察",
            "意识形态",
            "作风建设",
            "巡视巡察",
            "巡察",
            "乡村振兴",
            "营商环境",
            "高质量发展",
            "安全生产",
            "疫情防控",
            "常态化",
            "长效化",
            "标准化",
            "规范化",
            "阶段性",
            "工作总结",
            "工作要点",
            "工作方案",
            "实施方案",
            "实施意见",
            "情况汇报",
            "情况报告",
            "开展情况",
            "工作情况",
            "有关情况",
            "落实情况",
            "整改情况",
            "领导小组",
            "指导组",
            "督导组",
            "巡察组",
            "前三季度",
            "上半年",
            "下半年",
            "第一季度",
            "第二季度",
            "第三季度",
            "第四季度",
            "述职述廉",
            "述责述廉",
            "民主生活会",
            "组织生活会",
            "专题民主生活会",
            "问题清单",
            "责任清单",
            "两个确立",
            "两个维护",
            "四个意识",
            "四个自信",
        },
        key=lambda term: (-len(term), term),
    )
)
# jieba's dictionary cut down to words at least this frequent (its lowest is 3).
MIN_FREQUENCY = 30
TERM_FREQUENCY = 1_000_000  # beats any split of a fixed term
GOOD_BREAK_AFTER = "的和及与、，"
MIN_LINE = 4  # characters: no title line shorter than this


def title_lines(
    title: str, advance: Callable[[str], float], size: float, width: float
) -> list[str]:
    """A title that does not fit on one line, broken between words into a trapezoid (upper
    line no longer than the lower) or, on three lines, a diamond; longer ones fill lines.
    ``advance(char)`` is the title face's advance in em, ``size`` its size and ``width`` the
    line's (pt)."""
    widths = [advance(char) * size for char in title]
    n = len(title)
    if sum(widths) <= width or n < 2 * MIN_LINE:
        return [title]
    for breaks in (word_breaks(title), character_breaks(title)):
        lines = _best_shape(title, widths, width, breaks)
        if lines:
            return lines
    return _filled(title, widths, width, character_breaks(title) or set(range(1, n)))


def word_breaks(title: str) -> set[int]:
    """Positions a title line may end before: between two words, never inside a fixed term
    or a number with its unit, nor before a closing or after an opening mark."""
    position, ends = 0, set()
    for word in _tokenizer().cut(title, HMM=True):
        position += len(word)
        ends.add(position)
    return ends & character_breaks(title)


def character_breaks(title: str) -> set[int]:
    """Positions a line may end before by the punctuation rules, fixed terms and numbers."""
    inside = set()
    for term in TITLE_TERMS:
        start = title.find(term)
        while start != -1:
            inside.update(range(start + 1, start + len(term)))
            start = title.find(term, start + 1)
    return {
        i
        for i in range(1, len(title))
        if i not in inside
        and title[i] not in NO_START
        and title[i - 1] not in NO_END
        and not title[i - 1].isdigit()  # 2026年, 3个: a number goes with what follows it
        and not (title[i - 1].isascii() and title[i - 1].isalpha() and title[i].isascii())
    }


def _best_shape(
    title: str, widths: list[float], width: float, breaks: set[int]
) -> list[str] | None:
    n = len(title)
    usable = sorted(i for i in breaks if MIN_LINE <= i <= n - MIN_LINE)
    for count in (1, 2):  # two lines, else three
        best: tuple[float, tuple[int, ...]] | None = None
        for cuts in combinations(usable, count):
            if any(b - a < MIN_LINE for a, b in pairwise(cuts)):
                continue
            parts = _part_widths(widths, cuts)
            if max(parts) > width:
                continue
            score = _shape_score(parts) - 30.0 * sum(title[c - 1] in GOOD_BREAK_AFTER for c in cuts)
            if best is None or score < best[0]:
                best = (score, cuts)
        if best is not None:
            return _cut(title, best[1])
    return None


def _part_widths(widths: list[float], cuts: Iterable[int]) -> list[float]:
    bounds = [0, *cuts, len(widths)]
    return [sum(widths[a:b]) for a, b in pairwise(bounds)]


def _shape_score(parts: list[float]) -> float:
    """Lower is better. Two lines: a trapezoid either way up is standard, a shorter upper line
    preferred; three: a diamond, the middle line the longest and the outer ones alike."""
    if len(parts) == 2:
        upper, lower = parts
        return abs(lower - upper) + (0.5 * (upper - lower) if upper > lower else 0.0)
    first, middle, last = parts
    return abs(first - last) + 2 * max(0.0, max(first, last) - middle)


def _filled(title: str, widths: list[float], width: float, breaks: set[int]) -> list[str]:
    """More than three lines: each as full as the breaks allow."""
    cuts, start, used = [], 0, 0.0
    for i, w in enumerate(widths):
        if i > start and used + w > width:
            cut = max((b for b in breaks if start < b <= i), default=i)
            cuts.append(cut)
            used, start = sum(widths[cut:i]), cut
        used += w
    return _cut(title, cuts)


def _cut(title: str, cuts: Iterable[int]) -> list[str]:
    bounds = [0, *cuts, len(title)]
    return [title[a:b] for a, b in pairwise(bounds)]


_LOADING = threading.Lock()
_TOKENIZER: list[jieba.Tokenizer] = []


def _tokenizer() -> jieba.Tokenizer:
    """jieba on its dictionary's common words and our terms, built on first use."""
    with _LOADING:
        if not _TOKENIZER:
            _TOKENIZER.append(_load())
    return _TOKENIZER[0]


def _load() -> jieba.Tokenizer:
    with warnings.catch_warnings():
        # jieba 0.42 imports pkg_resources (deprecated) and has regexes with invalid escapes.
        warnings.simplefilter("ignore")
        import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    with open(Path(jieba.__file__).with_name("dict.txt"), "rb") as dictionary:
        common = b"".join(
            line for line in dictionary if int(line.split(b" ", 2)[1]) >= MIN_FREQUENCY
        )
    tokenizer.FREQ, tokenizer.total = tokenizer.gen_pfdict(io.BytesIO(common))
    tokenizer.initialized = True  # built here: no dictionary file, no cache in /tmp
    for term in TITLE_TERMS:
        tokenizer.add_word(term, TERM_FREQUENCY)
    return tokenizer
