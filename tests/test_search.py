"""Search: who finds what (exactly the text each user sees on the report page), hostile
queries, snippets, the page; and the index kept in step with every write."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.periods.models import Period
from app.reports import operations, permissions
from app.reports.models import Report
from app.reports.workflow import ReportState
from app.search import backend
from app.search.backend import (
    MAX_QUERY_LENGTH,
    PAGE_SIZE,
    fts5_phrase,
    like_pattern,
    parse_terms,
    search_reports,
)
from app.search.schema import SQLITE_FTS_TABLES, SQLITE_TRIGGER_SUFFIXES, include_name
from app.search.snippets import CONTEXT, ELLIPSIS, Segment, finder, highlight, snippet
from tests.conftest import make_report
from tests.samples import SAMPLES, needs_samples

S = ReportState
USERS = [
    "author_a",
    "author_a2",
    "reviewer_a",
    "author_b",
    "reviewer_b",
    "author_c",
    "reviewer_c",
    "group1",
    "group2",
    "secretary",
    "admin",
]
UNIT_NAMES = {"a": "甲", "b": "乙", "c": "丙"}


def body_with(*extra: str) -> str:
    """A report body in the style of a 阶段性总结, with ``extra`` sentences in its second part."""
    return "\n".join(
        [
            "今年以来，本单位党委坚持把主题教育作为首要政治任务，统筹推进学习、调研、整改各项工作。",
            "一、突出学习教育，夯实思想基础",
            "（一）抓好集中学习。举办专题读书班3期，开展交流研讨9次，覆盖党员干部216人次。",
            "（二）抓好基层宣讲。组建宣讲小分队6支，深入社区、企业宣讲41场。",
            "二、突出问题导向，推动整改落实",
            "一是建立问题清单，梳理问题27个；二是明确整改时限，已完成整改19个。" + "".join(extra),
            "三、下一步打算",
            "持续巩固学习成果，推动主题教育走深走实。",
        ]
    )


def periods(count: int) -> list[Period]:
    made = [
        Period(name=f"第{i + 1}期阶段性总结", due_date=date(2026, 1, 5) + timedelta(weeks=i))
        for i in range(count)
    ]
    db.session.add_all(made)
    db.session.commit()
    return made


def found_ids(user, query: str) -> set[int]:
    page = search_reports(user, query, limit=1000)
    assert page.total == len(page.hits)
    return {hit.report.id for hit in page.hits}


def fresh(report: Report) -> Report:
    db.session.expire_all()
    return db.session.get(Report, report.id)


def return_to_draft(org, report: Report) -> None:
    """request_changes by the supervision group (the report must be in group review)."""
    group = org["group2" if report.unit_id == org.unit_c.id else "group1"]
    operations.trigger_event(
        group, report, "request_changes", comment="请补充数据。", lock_version=report.lock_version
    )
    db.session.commit()


# --- who finds what -------------------------------------------------------------------


@pytest.fixture(params=["trigrams", "reading"])
def short_terms(request, monkeypatch):
    """On SQLite, one- and two-character terms are looked up among the indexed trigrams that
    begin with them, or (for very common ones) looked for by reading the texts: both ways."""
    if request.param == "reading":
        monkeypatch.setattr(backend.SqliteFts5Backend, "MAX_TRIGRAMS", 0)
    return request.param


@pytest.fixture
def spread(org):
    """Reports of units a, b and c in every situation, all containing 乡村振兴战略."""
    p = periods(5)
    situations = [S.DRAFT, S.UNIT_REVIEW, S.GROUP_REVIEW, S.APPROVED]
    reports = []
    for unit in "abc":
        for period, state in zip(p, situations, strict=False):
            text = body_with(f"助力乡村振兴战略，{UNIT_NAMES[unit]}单位{state.label}。")
            reports.append(make_report(org, unit, state, body=text, period=period))
        returned = make_report(
            org, unit, S.GROUP_REVIEW, body=body_with("乡村振兴战略。"), period=p[4]
        )
        return_to_draft(org, returned)
        reports.append(returned)
    return reports


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("query", ["乡村振兴战略", "振兴", "村", "乡村 战略"])
def test_everybody_finds_exactly_the_reports_they_may_see(user, query, org, spread, short_terms):
    expected = {r.id for r in spread if permissions.can_view(org[user], r)}
    assert expected, "every user sees some report"
    assert found_ids(org[user], query) == expected


def test_the_supervision_group_never_finds_a_report_that_was_not_forwarded(org):
    p = periods(2)
    in_review = make_report(
        org, "a", S.UNIT_REVIEW, body=body_with("开展数字乡村试点。"), period=p[0]
    )
    forwarded = make_report(
        org, "b", S.GROUP_REVIEW, body=body_with("开展数字乡村试点。"), period=p[1]
    )
    assert found_ids(org["group1"], "数字乡村") == {forwarded.id}
    assert found_ids(org["group2"], "数字乡村") == set()
    assert found_ids(org["reviewer_a"], "数字乡村") == {in_review.id}
    assert found_ids(org["secretary"], "数字乡村") == {in_review.id, forwarded.id}


def test_words_only_in_a_returned_draft_are_found_by_the_unit_alone(org, short_terms):
    report = make_report(org, "a", S.GROUP_REVIEW, body=body_with("建成智慧党建平台。"))
    return_to_draft(org, report)
    report = fresh(report)
    operations.save_draft(
        org["author_a"],
        report,
        "甲单位阶段性总结（修改稿）",
        body_with("新建红色教育基地一处。"),
        report.lock_version,
    )
    db.session.commit()

    for insider in ("author_a", "author_a2", "reviewer_a"):
        assert found_ids(org[insider], "红色教育基地") == {report.id}
        assert found_ids(org[insider], "修改稿") == {report.id}
        # The unit searches its working draft, from which the old sentence is gone.
        assert found_ids(org[insider], "智慧党建平台") == set()
    for outsider in ("group1", "secretary", "admin"):
        assert found_ids(org[outsider], "红色教育基地") == set(), outsider
        assert found_ids(org[outsider], "修改稿") == set(), outsider
        assert found_ids(org[outsider], "红色") == set(), outsider  # the short-term path too
        assert found_ids(org[outsider], "智慧党建平台") == {report.id}, outsider
    [hit] = search_reports(org["group1"], "整改").hits
    assert hit.version_number == 1
    shown = "".join(s.text for s in hit.title) + "".join(s.text for s in hit.snippet)
    assert "修改稿" not in shown and "红色教育基地" not in shown
    assert "修改稿" not in search_reports(org["group1"], "主题教育").hits[0].title[0].text

    # Submitted again: the new text is what everybody sees and finds.
    operations.trigger_event(org["author_a"], report, "submit", lock_version=report.lock_version)
    db.session.commit()
    assert found_ids(org["secretary"], "红色教育基地") == {report.id}
    assert found_ids(org["secretary"], "智慧党建平台") == set()


def test_a_never_submitted_draft_is_searched_by_the_unit_and_the_secretariat(org):
    report = make_report(org, "c", S.DRAFT, body=body_with("推进“一网通办”改革。"))
    for user in USERS:
        expected = {report.id} if permissions.can_view(org[user], report) else set()
        assert found_ids(org[user], "一网通办") == expected, user


def test_the_sql_twin_of_can_edit_agrees_with_can_edit(org, spread):
    for user in USERS:
        rows = set(
            db.session.scalars(
                sa.select(Report.id).where(permissions.working_draft_filter(org[user]))
            )
        )
        assert rows == {r.id for r in spread if permissions.can_edit(org[user], r)}, user


# --- queries ----------------------------------------------------------------------------


HOSTILE_QUERIES = [
    '"',
    '""',
    '"乡村',
    "*",
    "乡村*",
    "^乡村",
    "NEAR(乡村 振兴)",
    "NEAR",
    "AND",
    "OR NOT",
    "乡村 AND",
    "-乡村",
    "(",
    ")",
    "(乡村))",
    "title:乡村",
    "{title body}:乡村",
    "body : 振兴",
    "+",
    ":",
    "%",
    "_",
    "\\",
    "%%%",
    "_\\%",
    "' OR 1=1 --",
    "'; DROP TABLE reports; --",
    "乡村'振兴",
    "<script>",
    "\u3000",
    "a" * MAX_QUERY_LENGTH,
]


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_hostile_queries_are_searched_as_plain_text(query, org):
    report = make_report(org, "a", S.APPROVED, body=body_with("助力乡村振兴。"))
    found = found_ids(org["secretary"], query)
    terms = query.split()
    # A hit must really contain every term (compared without case).
    if found:
        text = (report.title + report.body).lower()
        assert all(term.lower() in text for term in terms)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 1


def test_like_wildcards_and_quotes_match_only_themselves(org, short_terms):
    p = periods(3)
    percent = make_report(
        org, "a", S.APPROVED, body=body_with("完成率100%，A_B类问题清零。"), period=p[0]
    )
    quoted = make_report(
        org, "b", S.APPROVED, body=body_with('开展"三会一课"和\\n检查。'), period=p[1]
    )
    plain = make_report(
        org, "c", S.APPROVED, body=body_with("完成率1000，AxB类问题。"), period=p[2]
    )
    secretary = org["secretary"]
    assert found_ids(secretary, "100%") == {percent.id}
    assert found_ids(secretary, "0%") == {percent.id}
    assert found_ids(secretary, "%") == {percent.id}
    assert found_ids(secretary, "A_B") == {percent.id}
    assert found_ids(secretary, "_") == {percent.id}
    assert found_ids(secretary, '"三会') == {quoted.id}
    assert found_ids(secretary, '"') == {quoted.id}
    assert found_ids(secretary, "\\n") == {quoted.id}
    assert found_ids(secretary, "\\") == {quoted.id}
    assert found_ids(secretary, "完成率1000") == {plain.id}


def test_letters_match_without_case_and_short_terms_are_found(org, short_terms):
    p = periods(2)
    ai = make_report(org, "a", S.APPROVED, body=body_with("试点AI辅助办公和5G网络。"), period=p[0])
    other = make_report(org, "b", S.APPROVED, body=body_with("推广ai助手。"), period=p[1])
    secretary = org["secretary"]
    assert found_ids(secretary, "ai") == {ai.id, other.id}
    assert found_ids(secretary, "Ai辅助") == {ai.id}
    assert found_ids(secretary, "5g") == {ai.id}
    assert found_ids(secretary, "网") == {ai.id}
    assert found_ids(secretary, "助") == {ai.id, other.id}
    assert found_ids(secretary, "网络 AI") == {ai.id}  # every term must occur
    assert found_ids(secretary, "网络 助手") == set()


def test_terms_at_the_very_end_of_a_title_or_body_are_found(org, short_terms):
    p = periods(2)
    ends = make_report(
        org, "a", S.DRAFT, title="关于抓落实", body="全年工作扎实推进，抓落实", period=p[0]
    )
    empty = make_report(org, "b", S.DRAFT, title="乙单位总结", body="", period=p[1])
    secretary = org["secretary"]
    for term in ("实", "落实", "抓落实"):
        assert found_ids(secretary, term) == {ends.id}, term
    assert found_ids(secretary, "结") == {empty.id}
    assert found_ids(secretary, "总结") == {empty.id}


def test_full_width_letters_match_without_case(org):
    report = make_report(org, "a", S.APPROVED, body=body_with("推进ＡＩ辅助审核。"))
    for term in ("ａｉ", "Ａｉ", "ａｉ辅助"):
        assert found_ids(org["secretary"], term) == {report.id}, term
    [hit] = search_reports(org["secretary"], "ａｉ").hits
    assert marks_of(hit.snippet) == ["ＡＩ"]


def test_a_term_may_be_in_the_title_and_another_in_the_body(org):
    report = make_report(
        org, "a", S.APPROVED, title="甲单位十月总结", body=body_with("开展夜校培训。")
    )
    assert found_ids(org["secretary"], "十月总结 夜校培训") == {report.id}
    [hit] = search_reports(org["secretary"], "十月总结").hits
    assert hit.in_title and not hit.in_body
    [hit] = search_reports(org["secretary"], "夜校").hits
    assert hit.in_body and not hit.in_title


def test_parse_terms_refuses_what_cannot_be_searched():
    assert parse_terms("  乡村  振兴 乡村\u3000战略 ") == ("乡村", "振兴", "战略")
    assert parse_terms("   ") == ()
    assert parse_terms("a" * MAX_QUERY_LENGTH)
    for refused, message in [
        ("a" * (MAX_QUERY_LENGTH + 1), "不能超过100个字"),
        ("一 二 三 四 五 六", "最多同时搜索5个词"),
        ("乡村\x00", "控制字符"),
        ("乡村\x1b", "控制字符"),
    ]:
        with pytest.raises(backend.RuleViolation, match=message):
            parse_terms(refused)


def test_escaping_helpers():
    assert like_pattern("5%_\\") == "%5\\%\\_\\\\%"
    assert fts5_phrase('a"b') == '"a""b"'


# --- snippets ---------------------------------------------------------------------------


def text_of(segments: list[Segment]) -> str:
    return "".join(s.text for s in segments)


def marks_of(segments: list[Segment]) -> list[str]:
    return [s.text for s in segments if s.marked]


def test_snippet_shows_context_around_the_first_match_and_marks_every_occurrence():
    body = "甲" * 100 + "整改落实" + "乙" * 10 + "整改" + "丙" * 100
    segments = snippet(body, finder(("整改",)))
    assert marks_of(segments) == ["整改", "整改"]
    text = text_of(segments)
    assert text.startswith(ELLIPSIS + "甲" * CONTEXT + "整改")
    assert text.endswith("丙" * (CONTEXT - 14) + ELLIPSIS)


def test_snippet_marks_letters_without_case_and_overlapping_terms():
    segments = snippet("推动Ai赋能，建设工作", finder(("ai", "建设", "设工")))
    assert marks_of(segments) == ["Ai", "建设工"]
    assert text_of(segments) == "推动Ai赋能，建设工作"


def test_snippet_takes_up_to_two_places_and_the_start_when_only_the_title_matched():
    body = "第一段提到整改。" + "甲" * 300 + "第二段又提到整改。" + "乙" * 300 + "整改" + "丙" * 10
    segments = snippet(body, finder(("整改",)))
    assert marks_of(segments) == ["整改", "整改"]
    assert text_of(segments).count(ELLIPSIS) == 2
    start = snippet("正文\n第二行" + "丁" * 200, finder(("标题词",)))
    assert marks_of(start) == []
    assert text_of(start) == ("正文 第二行" + "丁" * 200)[: 2 * CONTEXT] + ELLIPSIS


def test_highlight_keeps_the_whole_text():
    assert highlight("乡村振兴乡村", finder(("乡村",))) == [
        Segment("乡村", True),
        Segment("振兴", False),
        Segment("乡村", True),
    ]


# --- the page ---------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_the_login_page(client):
    response = client.get("/search?q=乡村")
    assert response.status_code == 302
    assert "/login" in response.location


def test_the_page_shows_hits_with_unit_period_state_and_marked_snippet(org, client, login):
    report = make_report(org, "a", S.APPROVED, body=body_with("助力乡村振兴。"))
    login(org["group1"])
    page = client.get("/search", query_string={"q": "乡村振兴"})
    assert page.status_code == 200
    html = page.text
    assert "找到1份汇报" in html
    assert f'href="/reports/{report.id}"' in html
    assert "甲单位" in html and org.period.name in html
    assert 'data-state="approved"' in html and "已审定" in html
    assert "<mark>乡村振兴</mark>" in html
    assert 'value="乡村振兴"' in html  # the query stays in the box


def test_empty_and_fruitless_searches_say_so(org, client, login):
    make_report(org, "a", S.APPROVED)
    login(org["secretary"])
    empty = client.get("/search")
    assert empty.status_code == 200 and "请输入要查找的字词" in empty.text
    assert "请输入要查找的字词" in client.get("/search?q=%20%20").text
    none = client.get("/search", query_string={"q": "不存在的词语"})
    assert none.status_code == 200
    assert "没有找到包含“不存在的词语”的汇报" in none.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("乡" * (MAX_QUERY_LENGTH + 1), "搜索内容不能超过100个字"),
        ("乡村\x07振兴", "搜索内容含有不可见的控制字符"),
        ("一 二 三 四 五 六", "最多同时搜索5个词"),
    ],
)
def test_unsearchable_queries_get_a_chinese_message_and_400(query, message, org, client, login):
    login(org["author_a"])
    response = client.get("/search", query_string={"q": query})
    assert response.status_code == 400
    assert message in response.text
    assert "\x07" not in response.text


def test_results_come_twenty_to_a_page(org, client, login):
    p = periods(25)
    made = [
        make_report(org, "b", S.APPROVED, body=body_with("建设美丽乡村。"), period=x) for x in p
    ]
    login(org["secretary"])
    first = client.get("/search", query_string={"q": "美丽乡村"}).text
    assert "找到25份汇报，第1/2页" in first
    assert first.count('class="search-hit"') == PAGE_SIZE
    assert "下一页" in first and "上一页" not in first
    second = client.get("/search", query_string={"q": "美丽乡村", "page": 2}).text
    assert second.count('class="search-hit"') == 5
    assert "上一页" in second
    # Newest period first, across the pages, each report once.
    ids = [int(i) for i in re.findall(r'data-report-id="(\d+)"', first + second)]
    assert ids == [r.id for r in reversed(made)]
    beyond = client.get("/search", query_string={"q": "美丽乡村", "page": 99})
    assert beyond.status_code == 200 and "找到25份汇报" in beyond.text
    for junk in ("0", "-3", "abc", "9" * 40):
        response = client.get("/search", query_string={"q": "美丽乡村", "page": junk})
        assert response.status_code == 200


def test_markup_in_reports_and_queries_is_shown_as_text(org, client, login):
    script = "<script>alert(1)</script>"
    report = make_report(org, "a", S.DRAFT, title=f"总结{script}", body=body_with(f"附注{script}"))
    login(org["author_a"])
    html = client.get("/search", query_string={"q": "script"}).text
    assert "<script>alert" not in html
    assert "&lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt;" in html
    assert f'href="/reports/{report.id}"' in html
    echoed = client.get("/search", query_string={"q": '"><script>x</script>'}).text
    assert "<script>x" not in echoed
    assert 'value="&#34;&gt;&lt;script&gt;x&lt;/script&gt;"' in echoed


# --- the index ----------------------------------------------------------------------------


def is_sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


def test_the_index_follows_every_write(org):
    """Creates, saves, submits, restores and deletes keep the index whole; a later migration
    that rebuilt a table without its triggers would fail here."""
    report = make_report(org, "a", S.DRAFT, body=body_with("第一稿词语。"))
    operations.save_draft(
        org["author_a"], report, report.title, body_with("第二稿词语。"), report.lock_version
    )
    db.session.commit()
    assert found_ids(org["author_a"], "第二稿") == {report.id}
    assert found_ids(org["author_a"], "第一稿") == set()
    revision = report_revision(report)
    operations.restore_draft(org["author_a"], report, revision, report.lock_version)
    operations.trigger_event(org["author_a"], report, "submit", lock_version=report.lock_version)
    db.session.commit()
    assert found_ids(org["secretary"], "第一稿") == {report.id}
    assert found_ids(org["secretary"], "第二稿") == set()
    if is_sqlite():
        for table, fts in SQLITE_FTS_TABLES.items():
            for suffix in SQLITE_TRIGGER_SUFFIXES:
                name = f"{fts}_{suffix}"
                assert (
                    db.session.scalar(
                        sa.text(
                            "SELECT tbl_name FROM sqlite_master WHERE type='trigger' AND name=:n"
                        ),
                        {"n": name},
                    )
                    == table
                ), name
            db.session.execute(sa.text(f"INSERT INTO {fts}({fts}) VALUES ('integrity-check')"))
    else:
        stale = db.session.scalar(
            sa.text(
                "SELECT count(*) FROM reports WHERE search_grams IS DISTINCT FROM "
                "search_grams(title || E'\\n' || body)"
            )
        )
        assert stale == 0


def report_revision(report: Report):
    from app.reports.models import DraftRevision

    return db.session.scalars(
        sa.select(DraftRevision).where(DraftRevision.report_id == report.id)
    ).one()


def test_the_search_index_is_left_out_of_the_model_comparison():
    assert not include_name("search_reports_fts", "table", {})
    assert not include_name("search_reports_fts_data", "table", {})
    assert not include_name("search_reports_body_trgm", "index", {})
    assert include_name("reports", "table", {})
    assert not include_name("search_grams", "column", {})
    assert include_name("body", "column", {})


def test_postgresql_answers_short_terms_from_the_index_alone(org):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    make_report(org, "a", S.APPROVED, body=body_with("助力乡村振兴。"))
    grams = backend.PostgresGramsBackend()
    statement = sa.select(Report.id).where(grams.narrow_reports(("乡村", "AI")))
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(db.session.scalars(sa.text(f"EXPLAIN {compiled}")))
    assert "search_reports_grams" in plan, plan
    assert grams.confirm(("乡村", "AI"), Report.title, Report.body) is None
    assert grams.confirm(("乡村", "振兴战略"), Report.title, Report.body) is not None
    # JIT compilation would cost more than these queries take (app/__init__.py).
    assert db.session.scalar(sa.text("SHOW jit")) == "off"


def test_pairs_that_are_not_side_by_side_make_no_match(org, short_terms):
    """Every pair of 乡村振兴 is in the report, the phrase is not; nor is a pair made of the
    title's last character and the body's first."""
    report = make_report(
        org, "a", S.DRAFT, title="乡村工作总结", body=body_with("全村振作精神，振兴产业。")
    )
    assert found_ids(org["author_a"], "村振") == {report.id}
    assert found_ids(org["author_a"], "乡村振兴") == set()
    assert found_ids(org["author_a"], "结今") == set()
    assert found_ids(org["author_a"], "总结 今年") == {report.id}


def test_the_count_of_a_phrase_in_many_reports_stops_at_a_cap(org, client, login, monkeypatch):
    """PostgreSQL confirms a longer term by reading each text: past the cap it says “more
    than”, and the pages still come in order. SQLite's index is exact and counts them all."""
    monkeypatch.setattr(backend, "MAX_COUNTED", 3)
    made = [
        make_report(org, "b", S.APPROVED, body=body_with("建设美丽乡村。"), period=x)
        for x in periods(7)
    ]
    newest_first = [r.id for r in reversed(made)]
    first = search_reports(org["secretary"], "美丽乡村", limit=2)
    assert [hit.report.id for hit in first.hits] == newest_first[:2]
    assert first.has_next
    last = search_reports(org["secretary"], "美丽乡村", limit=2, offset=6)
    assert [hit.report.id for hit in last.hits] == newest_first[6:]
    assert (last.total, last.more_than_total, last.has_next) == (7, False, False)
    monkeypatch.setattr("app.search.views.PAGE_SIZE", 2)
    login(org["secretary"])
    html = client.get("/search", query_string={"q": "美丽乡村"}).text
    if is_sqlite():
        assert (first.total, first.more_than_total) == (7, False)
        assert "找到7份汇报，第1/4页" in html
    else:
        assert (first.total, first.more_than_total) == (3, True)
        assert "找到超过3份汇报" in html and "下一页" in html
    monkeypatch.setattr(backend, "MAX_COUNTED", 10)
    counted = search_reports(org["secretary"], "美丽乡村", limit=2)
    assert (counted.total, counted.more_than_total, counted.pages) == (7, False, 4)
    # Short terms are exact on both: counted in full.
    assert search_reports(org["secretary"], "乡村", limit=2).total == 7


@needs_samples
def test_a_real_sample_is_found_by_a_phrase_of_its_own(org):
    sample = SAMPLES[0].read_text(encoding="utf-8")
    report = make_report(org, "a", S.DRAFT, body=sample)
    line = next(line for line in sample.splitlines() if len(line) > 30)
    phrase = line[10:18]
    assert found_ids(org["author_a"], phrase) == {report.id}
    [hit] = search_reports(org["author_a"], phrase).hits
    assert phrase in marks_of(hit.snippet)
