"""Pre-submission checks: every rule finds its defect where it is and stays quiet on clean text."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.documents.checks import check
from app.documents.structure import normalise_newlines
from tests.samples import SAMPLES, SAMPLES_DIR, needs_samples

CLEAN_REPORT = """2023年主题教育开展情况汇报
主题教育开展以来，县委坚持高标准谋划、高质量推进，各项工作取得阶段性成效。现将有关情况汇报如下：
一、加强组织领导，压紧压实责任
（一）健全工作机制。成立领导小组，下设3个工作专班，建立周调度、月通报制度。
（二）强化督促指导。班子成员分片包干，深入基层开展指导12次，覆盖率达100%。
二、深化理论学习，筑牢思想根基
坚持读原著、学原文、悟原理。一是集中学。举办读书班2期，学习《习近平著作选读》第一卷、第二卷。二是专题学。依托“学习强国”APP开展“线上+线下”学习126场次，参学率98.6%。三是实践学。组织现场教学4场次。
1.开展专题研讨。围绕GDP、PPT课件制作等内容开展培训，共培训3×4批次。
2.推进调查研究。截至2023年10月31日，形成调研报告8篇（含典型案例2篇）。
三、下一步工作打算
我们将持续深化学习，推动A股上市企业党建、B超室建设等工作落实落细，会议定于9:30召开。
"""


def rules_at(body: str) -> list[tuple[str, int, int]]:
    return [(f.rule, f.line, f.column) for f in check(body)]


def test_clean_report_has_no_findings():
    assert check(CLEAN_REPORT) == []


def test_empty_and_blank_bodies_have_no_findings():
    assert check("") == [] and check("\n\n  \n") == []


class TestPlaceholder:
    @pytest.mark.parametrize(
        ("text", "column", "length"),
        [
            ("全区*个基层党组织开展学习。", 3, 1),
            ("**区严格按照部署推进。", 1, 2),
            ("共收集问题＊＊个。", 6, 2),
            ("共收集问题X个。", 6, 1),
            ("第X指导组深入一线。", 2, 1),
            ("XX区开展专题学习。", 1, 2),
            ("共排查隐患×处。", 6, 1),
            ("学习贯彻A新时代思想。", 5, 1),
            ("开展“a”主题活动。", 4, 1),
        ],
    )
    def test_found(self, text, column, length):
        findings = [f for f in check(text) if f.rule == "placeholder"]
        assert [(f.line, f.column, f.length, f.severity) for f in findings] == [
            (1, column, length, "error")
        ]
        assert "占位符" in findings[0].message

    @pytest.mark.parametrize(
        "text",
        [
            "依托学习强国APP开展学习。",
            "全县GDP增长6.5%。",
            "制作PPT课件12套。",
            "开展3×4小时集中学习。",
            "推进A股上市企业和B超室建设。",
            "拍摄X光片200人次。",
            "使用Excel和XML文件报送数据。",
            "达到国家4A级景区标准。",
        ],
    )
    def test_not_found(self, text):
        assert [f for f in check(text) if f.rule == "placeholder"] == []


class TestMarkup:
    @pytest.mark.parametrize(
        ("text", "column"),
        [
            ("##重要##全县开展学习。", 1),
            ("开展学习<br>推进整改。", 5),
            ('推进<span style="color:red">整改</span>工作。', 3),
            ("## 一、工作情况", 1),
            ("- 开展专题学习。", 1),
            ("开展**重点**学习。", 3),
            ("详见[通知](http://example.cn/a)。", 3),
            ("开展学习&nbsp;推进整改。", 5),
        ],
    )
    def test_found(self, text, column):
        findings = [f for f in check(text) if f.rule == "markup"]
        assert findings and findings[0].column == column and findings[0].severity == "error"

    def test_bold_stars_are_markup_not_placeholders(self):
        assert {f.rule for f in check("开展**重点**学习。")} == {"markup"}

    @pytest.mark.parametrize(
        "text", ["学习《条例》第3条。", "比例为3<5的情况。", "线上+线下学习。", "编号#12。"]
    )
    def test_not_found(self, text):
        assert [f for f in check(text) if f.rule == "markup"] == []


class TestRepeatedWord:
    def test_found_at_the_second_copy(self):
        findings = [f for f in check("全县开展开展专题学习。") if f.rule == "repeated-word"]
        assert [(f.column, f.length, f.severity) for f in findings] == [(5, 2, "warning")]
        assert "开展" in findings[0].message

    @pytest.mark.parametrize(
        "text",
        [
            "一个一个地解决问题。",
            "层层压实责任，人人参与。",
            "实实在在抓落实。",
            "学思想、强党性。",
        ],
    )
    def test_not_found(self, text):
        assert [f for f in check(text) if f.rule == "repeated-word"] == []


class TestDuplicateSentence:
    def test_second_copy_points_back_to_the_first(self):
        sentence = "各单位加强沟通协调，确保工作步调一致。"
        body = f"一段开头的话。{sentence}\n中间的内容。\n结尾又写了一遍。{sentence}"
        findings = [f for f in check(body) if f.rule == "duplicate-sentence"]
        assert [(f.line, f.column) for f in findings] == [(3, 9)]
        assert "第1段" in findings[0].message

    def test_short_sentences_may_repeat(self):
        assert [f for f in check("抓学习。\n抓学习。") if f.rule == "duplicate-sentence"] == []


class TestNumbering:
    def test_gap_in_level_one(self):
        body = "一、第一部分\n正文。\n三、第三部分\n正文。"
        findings = [f for f in check(body) if f.rule == "numbering"]
        assert [(f.line, f.column) for f in findings] == [(3, 1)]
        assert "缺少“二、”" in findings[0].message

    def test_repeat_and_wrong_order(self):
        body = "（一）甲。正文。\n（二）乙。正文。\n（二）丙。正文。\n（一）丁。正文。"
        messages = [f.message for f in check(body) if f.rule == "numbering"]
        assert len(messages) == 2
        assert "重复" in messages[0] and "顺序有误" in messages[1]

    def test_level_two_restarts_under_each_level_one(self):
        body = "一、甲\n（一）子。正文。\n（二）子。正文。\n二、乙\n（一）子。正文。"
        assert [f for f in check(body) if f.rule == "numbering"] == []

    def test_after_ninety_nine_comes_one_hundred_in_a_message(self):
        # “一、” after “九十九、”: the label expected next, 一百、, is worked out (and must not
        # fail) even though no heading is read past 99.
        findings = [f for f in check("九十九、甲。正文。\n一、乙。正文。") if f.rule == "numbering"]
        assert [f.line for f in findings] == [1, 2]
        assert "排在“九十九、”之后" in findings[1].message

    def test_a_list_after_a_lead_in_starts_again_from_one(self):
        body = (
            "（一）学习\n主要做法如下：\n1.集中学。\n2.专题学。\n"
            "取得的成效有：\n1.认识提高。\n2.作风转变。"
        )
        assert [f for f in check(body) if f.rule == "numbering"] == []

    def test_without_a_lead_in_a_restart_is_still_reported(self):
        body = "（一）学习\n1.集中学。\n2.专题学。\n学习很有成效。\n1.认识提高。"
        assert [f.line for f in check(body) if f.rule == "numbering"] == [5]

    def test_arabic_levels(self):
        body = "1.甲。正文。\n2.乙。正文。\n4.丙。正文。\n（1）子。正文。\n（3）子。正文。"
        findings = [f for f in check(body) if f.rule == "numbering"]
        assert [f.line for f in findings] == [3, 5]

    def test_enumeration_within_a_paragraph_and_across_paragraphs(self):
        body = "坚持学习。一是集中学。二是专题学。四是实践学。\n一是抓学习。\n二是抓整改。\n二是抓落实。"
        findings = [f for f in check(body) if f.rule == "numbering"]
        assert [(f.line, f.column) for f in findings] == [(1, 18), (4, 1)]

    def test_enumeration_needs_a_first_item(self):
        findings = [f for f in check("坚持学习。二是专题学。") if f.rule == "numbering"]
        assert len(findings) == 1 and "一是" in findings[0].message

    def test_yishi_inside_a_word_is_not_enumeration(self):
        assert [f for f in check("思想统一是前提。二是关键。") if f.rule == "numbering"] != []
        assert [f for f in check("统一是基础，坚持是关键。") if f.rule == "numbering"] == []


class TestPunctuation:
    def test_half_width_between_chinese(self):
        findings = [
            f for f in check("结合起来,紧盯目标;推进工作:抓落实?好!") if f.rule == "punctuation"
        ]
        assert [f.column for f in findings] == [5, 10, 15, 19]  # the last “!” ends the line
        assert "全角“，”" in findings[0].message

    def test_half_width_parentheses(self):
        findings = [f for f in check("召开会议(扩大)研究部署。") if f.rule == "punctuation"]
        assert [f.column for f in findings] == [5, 8]

    def test_half_width_parentheses_around_chinese_after_latin(self):
        findings = [f for f in check("使用APP(手机端)。") if f.rule == "punctuation"]
        assert [f.column for f in findings] == [6, 10]

    @pytest.mark.parametrize(
        "text", ["共1,000人参加。", "会议于9:30召开。", "Hello, world (again).", "版本v2(beta)。"]
    )
    def test_not_found(self, text):
        assert [f for f in check(text) if f.rule == "punctuation"] == []

    @pytest.mark.parametrize(
        ("text", "column"),
        [("他说“要抓落实。", 3), ("学习《条例。", 3), ("开展学习）。", 5), ("【重点任务。", 1)],
    )
    def test_unbalanced_pairs(self, text, column):
        findings = [f for f in check(text) if f.rule == "punctuation"]
        assert [f.column for f in findings] == [column]
        assert "成对" in findings[0].message

    def test_balanced_pairs_are_quiet(self):
        assert [
            f for f in check("学习《“两个确立”的决定性意义》（节选）。") if f.rule == "punctuation"
        ] == []


class TestParagraphEnd:
    def test_found_at_the_last_character(self):
        findings = [f for f in check("第一段。\n第二段没有句号") if f.rule == "paragraph-end"]
        assert [(f.line, f.column) for f in findings] == [(2, 7)]

    @pytest.mark.parametrize(
        "text",
        [
            "现将情况汇报如下：",
            "确保取得实效！",
            "做到“两个维护”。",
            "他强调：“要抓落实。”",
            "一、标题不要句号",
        ],
    )
    def test_not_found(self, text):
        assert [f for f in check(text) if f.rule == "paragraph-end"] == []

    def test_bracket_after_the_sentence_needs_its_own_full_stop(self):
        assert [f.rule for f in check("第一段。\n正文内容（附件）")] == ["paragraph-end"]


class TestEmptySection:
    def test_heading_followed_by_a_same_level_heading(self):
        body = "一、甲\n二、乙\n正文。"
        findings = [f for f in check(body) if f.rule == "empty-section"]
        assert [(f.line, f.column) for f in findings] == [(1, 1)]

    def test_heading_at_the_end(self):
        assert [f.line for f in check("一、甲\n正文。\n二、乙") if f.rule == "empty-section"] == [3]

    def test_text_in_subsections_counts(self):
        body = "一、甲\n（一）子标题。子正文。\n二、乙\n正文。"
        assert [f for f in check(body) if f.rule == "empty-section"] == []

    @pytest.mark.parametrize(
        "items",
        [
            "1.抓好春耕备耕，落实播种面积。\n2.推进农田建设。\n3.开展农技培训",
            "1.基础设施薄弱\n2.人员年龄偏大",
            "（1）局党组带头学\n（2）支部跟进学",
            "1.组织学习。",  # a list of one item that is a sentence
        ],
    )
    def test_the_items_of_a_list_are_its_content_the_last_one_included(self, items):
        body = f"一、主要工作\n{items}\n二、下一步打算\n继续抓好落实。"
        assert [f for f in check(body) if f.rule == "empty-section"] == []

    def test_a_bare_sub_heading_among_sub_headings_with_text_is_still_empty(self):
        body = "一、甲\n1.学习\n集中学习三次。\n2.调研\n二、乙\n正文。"
        assert [f.line for f in check(body) if f.rule == "empty-section"] == [4]


def test_positions_refer_to_the_input_lines_with_indentation_and_crlf():
    body = "第一段。\r\n\r\n  全区*个单位。"
    (finding,) = [f for f in check(body) if f.rule == "placeholder"]
    assert (finding.line, finding.column) == (3, 5)


def test_findings_are_sorted_and_carry_every_field():
    findings = check("全区*个单位,开展开展学习")
    assert findings == sorted(findings)
    for finding in findings:
        assert set(finding.to_dict()) >= {
            "rule",
            "severity",
            "line",
            "column",
            "excerpt",
            "message",
        }


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(
            list(
                "一二三四五六七八九十是、（）()“”‘’《》【】，。；：？！,;:?!*＊X×#<>/\n\r 学习开展APP0123456789"
            )
        ),
        max_size=400,
    )
)
def test_checks_never_crash_and_positions_point_into_the_text(body):
    lines = normalise_newlines(body).split("\n")
    for finding in check(body):
        assert 1 <= finding.line <= len(lines)
        line = lines[finding.line - 1]
        assert 1 <= finding.column <= len(line)
        assert finding.column - 1 + finding.length <= len(line)
        assert finding.severity in ("error", "warning") and finding.message


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_checks_never_crash_on_any_text(body):
    check(body)


# The real defects of the samples, by file: (rule, line, column).
SAMPLE_DEFECTS = {
    "000_21f5e1b268e4dc66.txt": {
        ("placeholder", 1, 10),
        ("placeholder", 5, 547),
        ("placeholder", 5, 571),
        ("punctuation", 15, 56),
        ("punctuation", 15, 75),
        ("punctuation", 15, 129),
        ("punctuation", 15, 150),
        ("wording", 15, 108),  # 引导督查 → 引导督促 (typos.json)
    },
    "001_50575b0fd58a1697.txt": {
        ("punctuation", 5, 325),
        ("punctuation", 5, 333),
        ("duplicate-sentence", 6, 414),
        ("wording", 5, 344),  # 学以致用上 → 在学以致用上 (typos.json)
        ("wording", 9, 328),  # 抓的比较紧 → 抓得比较紧 (typos.json)
    },
}


@needs_samples
@pytest.mark.parametrize("name", [*sorted(SAMPLE_DEFECTS), "002_a6da9b21b22794dd.txt"])
def test_samples_defects_are_found_where_they_are(name):
    text = (SAMPLES_DIR / name).read_text(encoding="utf-8")
    found = {(f.rule, f.line, f.column) for f in check(text)}
    if name in SAMPLE_DEFECTS:
        assert found == SAMPLE_DEFECTS[name]
    else:
        # 002 leaves 46 numbers as “*”; every one is an error at its own line and column.
        # (Its wording doubts are the proofreader's typos: see test_wording.py.)
        found = {finding for finding in found if finding[0] != "wording"}
        assert {rule for rule, _, _ in found} == {"placeholder"}
        assert len(found) == text.count("*") == 46
        lines = text.split("\n")
        for _, line, column in found:
            assert lines[line - 1][column - 1] == "*"


@needs_samples
@pytest.mark.parametrize("path", SAMPLES)
def test_corrected_samples_have_no_errors(path):
    text = path.read_text(encoding="utf-8")
    corrected = text.replace("**", "某某").replace("*", "5").replace(",", "，")
    assert [f for f in check(corrected) if f.is_error] == []


def test_a_text_full_of_one_defect_reports_a_bounded_number_of_findings():
    from app.documents.checks import MAX_FINDINGS_PER_RULE

    findings = [f for f in check("&amp;" * 40000) if f.rule == "markup"]
    assert len(findings) == MAX_FINDINGS_PER_RULE
    assert findings[0].column == 1
