"""The comparison of two versions, made for Chinese prose (app/documents/diff.py)."""

import re
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.documents import diff as diffing
from app.documents.diff import (
    CHANGED,
    DELETE,
    DELETED,
    EQUAL,
    INSERT,
    INSERTED,
    MOVED_IN,
    MOVED_OUT,
    UNCHANGED,
    Diff,
    Run,
    char_runs,
    compare_texts,
    segments,
)
from app.documents.structure import paragraphs
from tests.samples import SAMPLES, needs_samples

REPORT = """乙单位关于第二批主题教育开展情况的报告
按照上级统一部署，乙单位党组聚焦主题主线，扎实推进各项工作，现将有关情况报告如下：
一、坚持高位推动，压实工作责任
（一）健全组织体系。成立主题教育领导小组，下设综合协调、宣传报道、督导检查3个工作组，抽调骨干力量26名集中办公。
（二）完善推进机制。建立周例会、旬调度、月总结工作制度，先后召开推进会议9次，研究解决具体问题17个。
二、突出学思践悟，深化理论武装
一是领导带头学。党组理论学习中心组开展集中学习8次，班子成员撰写心得体会14篇。
二是支部跟进学。各党支部利用“三会一课”开展学习研讨46场次，覆盖党员1,260人次。
三是创新方式学。组织参观红色教育基地4次，开设线上学习专栏，累计推送学习资料120余篇。
三、下一步工作打算
下一步，我们将持续巩固拓展主题教育成果，推动各项任务落地见效。"""


def old_and_new_sides(result: Diff) -> tuple[list[str], list[str]]:
    """The paragraphs each side of the rows spells out, checking the numbering on the way."""
    old_rows = [row for row in result.rows if row.old_number is not None]
    new_rows = [row for row in result.rows if row.new_number is not None]
    assert [row.old_number for row in old_rows] == list(range(1, len(old_rows) + 1))
    assert [row.new_number for row in new_rows] == list(range(1, len(new_rows) + 1))
    return [row.old_text for row in old_rows], [row.new_text for row in new_rows]


def assert_exact(result: Diff, old: str, new: str) -> None:
    assert old_and_new_sides(result) == (paragraphs(old), paragraphs(new))


def edits(runs) -> list[Run]:
    return [run for run in runs if run.kind != EQUAL]


def replace_paragraph(text: str, number: int, new_paragraph: str) -> str:
    lines = text.split("\n")
    lines[number - 1] = new_paragraph
    return "\n".join(lines)


def only_row(result: Diff, kind: str):
    rows = [row for row in result.rows if row.kind == kind]
    assert len(rows) == 1, rows
    return rows[0]


# --- characters ---------------------------------------------------------------------------


def test_one_substituted_character_marks_that_character_only():
    new = REPORT.replace("召开推进会议9次", "召开推进会议11次")
    result = compare_texts(REPORT, new)
    assert (result.changed, result.inserted, result.deleted, result.moved) == (1, 0, 0, 0)
    row = only_row(result, CHANGED)
    assert (row.old_number, row.new_number) == (5, 5)
    assert row.runs == (
        Run(EQUAL, "（二）完善推进机制。建立周例会、旬调度、月总结工作制度，先后召开推进会议"),
        Run(DELETE, "9"),
        Run(INSERT, "11"),
        Run(EQUAL, "次，研究解决具体问题17个。"),
    )
    assert_exact(result, REPORT, new)


def test_a_single_chinese_character_changed_in_a_sentence():
    runs = char_runs("班子成员撰写心得体会14篇。", "班子成员撰写学习体会14篇。")
    assert edits(runs) == [Run(DELETE, "心得"), Run(INSERT, "学习")]
    runs = char_runs("开设线上学习专栏。", "开设网上学习专栏。")
    assert runs == (
        Run(EQUAL, "开设"),
        Run(DELETE, "线"),
        Run(INSERT, "网"),
        Run(EQUAL, "上学习专栏。"),
    )


def test_half_width_punctuation_fixed_shows_one_character_each():
    old = "党组理论学习中心组开展集中学习8次,班子成员撰写心得体会14篇;各支部跟进学习."
    new = "党组理论学习中心组开展集中学习8次，班子成员撰写心得体会14篇；各支部跟进学习。"
    assert edits(char_runs(old, new)) == [
        Run(DELETE, ","),
        Run(INSERT, "，"),
        Run(DELETE, ";"),
        Run(INSERT, "；"),
        Run(DELETE, "."),
        Run(INSERT, "。"),
    ]


def test_punctuation_fixes_one_character_apart_stay_separate():
    runs = char_runs("坚持党,政,军,民,学一起抓", "坚持党，政，军，民，学一起抓")
    assert [run.text for run in edits(runs)] == [",", "，"] * 4
    assert "".join(run.text for run in runs if run.kind == EQUAL) == "坚持党政军民学一起抓"


def test_a_paragraph_of_only_corrected_punctuation_is_still_one_changed_paragraph():
    result = compare_texts("党,政,军", "党，政，军")
    assert result.changed == 1 and not (result.inserted or result.deleted)


def test_a_kept_character_between_a_deletion_and_an_insertion_is_folded_into_one_edit():
    # 加强 → 强化: "delete 加, keep 强, insert 化" reads worse than one rewording.
    assert char_runs("一、加强组织领导", "一、强化组织领导") == (
        Run(EQUAL, "一、"),
        Run(DELETE, "加强"),
        Run(INSERT, "强化"),
        Run(EQUAL, "组织领导"),
    )


def test_a_short_equal_fragment_between_larger_edits_is_folded():
    runs = char_runs("全面开展专题调研活动", "深入推进专项整治活动")
    assert edits(runs) == [Run(DELETE, "全面开展专题调研"), Run(INSERT, "深入推进专项整治")]


def test_insertion_and_deletion_inside_a_paragraph():
    assert char_runs("开展学习研讨46场次", "开展集中学习研讨46场次") == (
        Run(EQUAL, "开展"),
        Run(INSERT, "集中"),
        Run(EQUAL, "学习研讨46场次"),
    )
    assert char_runs("累计推送学习资料120余篇", "推送学习资料120余篇") == (
        Run(DELETE, "累计"),
        Run(EQUAL, "推送学习资料120余篇"),
    )


def test_char_runs_of_equal_and_empty_texts():
    assert char_runs("", "") == ()
    assert char_runs("同", "同") == (Run(EQUAL, "同"),)
    assert char_runs("", "新增") == (Run(INSERT, "新增"),)
    assert char_runs("删去", "") == (Run(DELETE, "删去"),)


# --- paragraphs ---------------------------------------------------------------------------


def test_identical_texts():
    result = compare_texts(REPORT, REPORT + "\n\n")
    assert result.identical
    assert all(row.kind == UNCHANGED for row in result.rows)
    assert [(row.old_number, row.new_number) for row in result.rows] == [
        (n, n) for n in range(1, 12)
    ]
    assert_exact(result, REPORT, REPORT)


def test_empty_texts():
    assert compare_texts("", "").rows == ()
    assert compare_texts("", "").identical
    inserted = compare_texts("", REPORT)
    assert inserted.inserted == 11 and {row.kind for row in inserted.rows} == {INSERTED}
    deleted = compare_texts(REPORT, "\n  \n")
    assert deleted.deleted == 11 and {row.kind for row in deleted.rows} == {DELETED}
    assert deleted.rows[0].runs == (Run(DELETE, "乙单位关于第二批主题教育开展情况的报告"),)


def test_inserted_and_deleted_paragraphs():
    lines = REPORT.split("\n")
    added = "四是结合实际学。围绕业务工作开展调查研究，形成调研报告6篇。"
    new_lines = [*lines[:9], added, *lines[9:]]
    del new_lines[4]  # （二）完善推进机制…
    new = "\n".join(new_lines)
    result = compare_texts(REPORT, new)
    assert (result.changed, result.inserted, result.deleted, result.moved) == (0, 1, 1, 0)
    deleted, inserted = only_row(result, DELETED), only_row(result, INSERTED)
    assert (deleted.old_number, deleted.new_number) == (5, None)
    assert deleted.old_text.startswith("（二）完善推进机制") and deleted.new_text == ""
    assert (inserted.old_number, inserted.new_number) == (None, 9)
    assert inserted.runs == (Run(INSERT, added),)
    assert_exact(result, REPORT, new)


def test_a_rewritten_paragraph_is_deleted_and_inserted_not_changed():
    unrelated = "同时，注重运用信息化手段，搭建线上督导平台，实时掌握进度。"
    new = replace_paragraph(REPORT, 11, unrelated)
    result = compare_texts(REPORT, new)
    assert (result.changed, result.inserted, result.deleted) == (0, 1, 1)
    assert only_row(result, DELETED).old_number == 11
    assert only_row(result, INSERTED).new_number == 11


def test_a_paragraph_edited_in_place_is_paired_with_its_old_text():
    new = replace_paragraph(
        REPORT, 8, "二是支部跟进学。各党支部利用“三会一课”开展专题研讨52场次，覆盖党员1,260人次。"
    )
    row = only_row(compare_texts(REPORT, new), CHANGED)
    assert (row.old_number, row.new_number) == (8, 8)
    assert edits(row.runs) == [
        Run(DELETE, "学习"),
        Run(INSERT, "专题"),
        Run(DELETE, "46"),
        Run(INSERT, "52"),
    ]


def test_swapped_paragraphs_are_one_move():
    lines = REPORT.split("\n")
    lines[6], lines[7] = lines[7], lines[6]  # 一是… and 二是… change places, unedited
    new = "\n".join(lines)
    result = compare_texts(REPORT, new)
    assert (result.changed, result.inserted, result.deleted, result.moved) == (0, 0, 0, 1)
    moved_in, moved_out = only_row(result, MOVED_IN), only_row(result, MOVED_OUT)
    assert moved_in.moved_from == moved_out.old_number
    assert moved_out.moved_to == moved_in.new_number
    assert {moved_in.new_number, moved_out.old_number} == {7, 8}
    assert not moved_in.edited
    assert_exact(result, REPORT, new)


def test_swapped_and_renumbered_paragraphs_mark_only_the_numerals():
    # 一是/二是 swapped, their numerals kept in order: each paragraph changes one character.
    first = "一是支部跟进学。各党支部利用“三会一课”开展学习研讨46场次，覆盖党员1,260人次。"
    second = "二是领导带头学。党组理论学习中心组开展集中学习8次，班子成员撰写心得体会14篇。"
    new = replace_paragraph(replace_paragraph(REPORT, 7, first), 8, second)
    result = compare_texts(REPORT, new)
    assert (result.inserted, result.deleted, result.moved) == (0, 0, 1)
    assert result.changed == 1
    for row in result.rows:
        if row.kind in (CHANGED, MOVED_IN):
            assert len(edits(row.runs)) == 2
            assert {run.text for run in edits(row.runs)} == {"一", "二"}
    assert_exact(result, REPORT, new)


def test_a_section_moved_up_is_recognised_paragraph_by_paragraph():
    lines = REPORT.split("\n")
    section = lines[5:9]  # 二、… with its three paragraphs goes before 一、
    new_lines = lines[:2] + section + lines[2:5] + lines[9:]
    new = "\n".join(new_lines)
    result = compare_texts(REPORT, new)
    assert (result.changed, result.inserted, result.deleted) == (0, 0, 0)
    assert 3 <= result.moved <= 4  # either the section or the three paragraphs it jumped
    assert_exact(result, REPORT, new)
    for row in result.rows:
        if row.kind == MOVED_IN:
            assert new_lines[row.new_number - 1] == lines[row.moved_from - 1]


def test_a_moved_and_edited_paragraph_shows_its_character_changes():
    lines = REPORT.split("\n")
    edited = lines[3].replace("26名", "30名")
    new_lines = lines[:3] + lines[4:10] + [edited] + lines[10:]
    new = "\n".join(new_lines)
    result = compare_texts(REPORT, new)
    assert (result.changed, result.inserted, result.deleted, result.moved) == (0, 0, 0, 1)
    moved_in, moved_out = only_row(result, MOVED_IN), only_row(result, MOVED_OUT)
    assert (moved_out.old_number, moved_out.moved_to) == (4, 10)
    assert (moved_in.new_number, moved_in.moved_from) == (10, 4)
    assert moved_in.edited and moved_in.runs == moved_out.runs
    assert edits(moved_in.runs) == [Run(DELETE, "26"), Run(INSERT, "30")]
    assert_exact(result, REPORT, new)


def test_run_in_headings_are_not_typeset_as_headings():
    result = compare_texts(REPORT, REPORT)
    levels = {row.new_number: row.level for row in result.rows}
    assert levels[3] == 1  # 一、坚持高位推动，压实工作责任
    assert levels[4] == 0  # （一）健全组织体系。成立…
    assert levels[1] == 0


# --- collapsing ---------------------------------------------------------------------------


def test_long_unchanged_stretches_are_collapsed_with_context():
    body = "\n".join(f"第{n}段内容，保持不变。" for n in range(1, 31))
    new = body.replace("第15段内容", "第15段内容已修改")
    pieces = segments(compare_texts(body, new).rows, context=2)
    assert [(piece.hidden, len(piece.rows)) for piece in pieces] == [
        (True, 12),  # 1–12; nothing to keep before the first change at the start
        (False, 5),  # 13, 14, the change, 16, 17
        (True, 13),  # 18–30
    ]
    assert pieces[1].rows[2].kind == CHANGED


def test_short_unchanged_stretches_stay_visible():
    body = "\n".join(f"第{n}段。" for n in range(1, 8))
    new = body.replace("第1段", "第一段").replace("第7段", "第七段")
    pieces = segments(compare_texts(body, new).rows, context=2)
    assert [piece.hidden for piece in pieces] == [False]


def test_identical_texts_collapse_into_one_hidden_segment():
    pieces = segments(compare_texts(REPORT, REPORT).rows)
    assert [(piece.hidden, len(piece.rows)) for piece in pieces] == [(True, 11)]


# --- bounded work -------------------------------------------------------------------------


def test_a_long_paragraph_with_one_edit_marks_one_character():
    paragraph = "".join(f"第{n}项工作已完成，" for n in range(400)) + "。"
    new = paragraph[:2500] + "★" + paragraph[2501:]
    runs = char_runs(paragraph, new)
    assert edits(runs) == [Run(DELETE, paragraph[2500]), Run(INSERT, "★")]


def test_a_long_paragraph_too_costly_for_characters_is_compared_by_clause(monkeypatch):
    # Force the clause path on a small paragraph: scattered edits stay small marks.
    monkeypatch.setattr(diffing, "COST_LIMIT", 200)
    old = "".join(f"开展第{n}轮调研，" for n in range(1, 30))
    new = old.replace("第3轮", "第三轮").replace("第17轮", "第十七轮")
    runs = char_runs(old, new)
    assert "".join(run.text for run in runs if run.kind != INSERT) == old
    assert "".join(run.text for run in runs if run.kind != DELETE) == new
    assert all(len(run.text) <= 4 for run in edits(runs))


def test_pathological_inputs_finish_exactly():
    body = "学习" * 2500
    rewritten = "".join(reversed(body[:2500])) + "研究" * 1250
    assert_exact(compare_texts(body, rewritten), body, rewritten)
    one_character = "\n".join("一二三"[n % 3] for n in range(2000))
    other = "\n".join("一二三"[n * n % 3] for n in range(2000))
    assert_exact(compare_texts(one_character, other), one_character, other)
    same = "\n".join("同" for _ in range(2000))
    result = compare_texts(same, same + "\n异")
    assert (result.inserted, result.deleted, result.moved) == (1, 0, 0)


# --- properties ---------------------------------------------------------------------------

CJK_TEXT = st.text(
    alphabet=st.sampled_from(list("一二三是、，。；：,.;（）()学习开展工作12 \n\r\t*<>&")),
    max_size=300,
)


@settings(max_examples=300, deadline=None)
@given(CJK_TEXT, CJK_TEXT)
def test_rows_spell_out_both_versions_exactly(old, new):
    result = compare_texts(old, new)
    assert_exact(result, old, new)
    moved_out = {row.old_number: row for row in result.rows if row.kind == MOVED_OUT}
    for row in result.rows:
        assert all(run.text for run in row.runs)
        if row.kind == MOVED_IN:
            assert moved_out[row.moved_from].moved_to == row.new_number
            assert moved_out[row.moved_from].runs == row.runs
        if row.kind == UNCHANGED:
            assert row.old_text == row.new_text
    assert result.moved == len(moved_out)
    assert result.identical == (paragraphs(old) == paragraphs(new))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.text(max_size=200))
def test_any_text_is_compared_without_error(old, new):
    result = compare_texts(old, new)
    assert_exact(result, old, new)
    for piece in segments(result.rows):
        assert piece.rows


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120), st.text(max_size=120))
def test_char_runs_spell_out_both_texts(old, new):
    runs = char_runs(old, new)
    assert "".join(run.text for run in runs if run.kind != INSERT) == old
    assert "".join(run.text for run in runs if run.kind != DELETE) == new
    kinds = [run.kind for run in runs]
    assert all(a != b for a, b in pairwise(kinds))  # runs are maximal


# --- the real samples ---------------------------------------------------------------------


@needs_samples
@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_a_realistic_revision_of_a_sample_is_found_exactly(path):
    """A placeholder filled in (or a figure corrected) and two body paragraphs swapped:
    the comparison finds exactly those two changes."""
    old = "\n".join(paragraphs(path.read_text(encoding="utf-8")))
    lines = old.split("\n")
    assert len(set(lines)) == len(lines)
    fixed = next((n for n, line in enumerate(lines) if "*" in line), None)
    if fixed is not None:  # fill in the first placeholder
        star = lines[fixed].index("*")
        wrong = "**" if lines[fixed][star : star + 2] == "**" else "*"
        right = "某某" if wrong == "**" else "5"
    else:  # no placeholder in this sample: correct its first figure instead
        fixed = next(n for n, line in enumerate(lines) if re.search("[0-9]", line))
        wrong = re.search("[0-9]", lines[fixed]).group()
        right = "7" if wrong != "7" else "8"
    lines[fixed] = lines[fixed].replace(wrong, right, 1)
    body_lines = [n for n in range(2, len(lines) - 1) if n not in (fixed - 1, fixed)]
    first = body_lines[len(body_lines) // 2]
    lines[first], lines[first + 1] = lines[first + 1], lines[first]
    new = "\n".join(lines)

    result = compare_texts(old, new)
    assert (result.changed, result.inserted, result.deleted, result.moved) == (1, 0, 0, 1)
    changed = only_row(result, CHANGED)
    assert changed.old_number == changed.new_number == fixed + 1
    assert edits(changed.runs) == [Run(DELETE, wrong), Run(INSERT, right)]
    moved_in = only_row(result, MOVED_IN)
    assert {moved_in.moved_from, moved_in.new_number} == {first + 1, first + 2}
    assert not moved_in.edited
    assert_exact(result, old, new)
