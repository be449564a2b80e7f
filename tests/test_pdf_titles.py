"""Title lines of the official PDF (app/pdf/titles.py): GB/T 9704 7.3.1 wants long titles
broken with the words whole, into a trapezoid or a diamond."""

import subprocess
import sys

import pytest

from app.pdf.fonts import advance_em, resolve_roles
from app.pdf.titles import TITLE_TERMS, character_breaks, title_lines, word_breaks
from app.pdf.typesetting import TITLE_SIZE, TYPE_WIDTH

THOUGHT = "习近平新时代中国特色社会主义思想"  # 16 characters; 20 fit on a title line


@pytest.fixture(scope="module")
def advance():
    return advance_em(resolve_roles(None)["title"])


def lines_of(title, advance):
    lines = title_lines(title, advance, TITLE_SIZE, TYPE_WIDTH)
    assert "".join(lines) == title
    assert all(sum(map(advance, line)) * TITLE_SIZE <= TYPE_WIDTH + 0.01 for line in lines)
    return lines


@pytest.mark.parametrize(
    "before",
    ["", "关于", "关于学习贯彻", "某某县委关于深入学习贯彻", "市委办公室关于认真学习宣传贯彻"],
)
@pytest.mark.parametrize("after", ["主题教育开展情况的汇报", "的实施意见", "主题教育工作总结"])
def test_the_thought_is_never_split_across_title_lines(advance, before, after):
    title = before + THOUGHT + after
    lines = lines_of(title, advance)
    assert any(THOUGHT in line for line in lines), lines
    if len(title) > 20:
        assert len(lines) >= 2


@pytest.mark.parametrize(
    "title",
    [
        "关于学习贯彻习近平新时代中国特色社会主义思想主题教育开展情况的汇报",
        "关于开展安全生产大检查和主体责任落实情况的汇报材料",
        "市委第三巡察组关于对某某镇党委开展常规巡察情况的反馈意见",
        "某某县人民政府关于进一步加强基层党组织标准化规范化建设的实施意见",
        "关于2026年前三季度全县经济运行和重点项目推进情况的报告",
    ],
)
def test_title_lines_end_between_words(advance, title):
    lines = lines_of(title, advance)
    cuts = [sum(map(len, lines[:i])) for i in range(1, len(lines))]
    assert set(cuts) <= word_breaks(title), (lines, sorted(word_breaks(title)))
    for term in TITLE_TERMS:
        assert term not in title or any(term in line for line in lines), (term, lines)
    assert 2 <= len(lines) <= 3
    if len(lines) == 2:  # a trapezoid: the upper line not longer than the lower, or nearly
        upper, lower = (sum(map(advance, line)) for line in lines)
        assert upper <= lower + 3


def test_a_number_stays_with_its_unit_and_marks_with_their_words():
    title = "关于2026年“三个一”活动《实施方案》落实情况"
    breaks = character_breaks(title)
    for pair in ("2026年", "“三", "一”", "《实", "案》"):
        start = title.index(pair)
        assert not set(range(start + 1, start + len(pair))) & breaks, pair


def test_a_title_that_fits_is_one_line_and_loads_no_segmenter():
    code = (
        "from app.pdf import titles\n"
        "lines = titles.title_lines('关于某某单位工作情况的汇报', lambda c: 1.0, 22, 442)\n"
        "assert lines == ['关于某某单位工作情况的汇报'] and not titles._TOKENIZER\n"
        "import sys; assert 'jieba' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_very_long_title_fills_lines_between_words(advance):
    title = "关于" + "进一步加强和改进新时代基层党组织建设工作" * 4 + "的实施意见"
    lines = lines_of(title, advance)
    assert len(lines) >= 4
    cuts = [sum(map(len, lines[:i])) for i in range(1, len(lines))]
    assert set(cuts) <= character_breaks(title)
