"""Results the report page asks for on every view are remembered, and stay right."""

from datetime import date

from app.core.memo import Recent
from app.documents import checks
from app.pdf import render
from app.pdf.render import PdfSource


def test_recent_remembers_the_last_results_and_forgets_the_oldest():
    computed = []
    recent = Recent(2)

    def compute(key):
        def run():
            computed.append(key)
            return key * 2

        return run

    assert recent.get("a", compute("a")) == "aa"
    assert recent.get("a", compute("a")) == "aa"
    assert computed == ["a"]
    recent.get("b", compute("b"))
    recent.get("a", compute("a"))  # a is now the most recent
    recent.get("c", compute("c"))  # b goes
    recent.get("a", compute("a"))
    recent.get("b", compute("b"))
    assert computed == ["a", "b", "c", "b"]


def test_shown_checks_are_the_checks_of_the_text_shown(monkeypatch):
    body = "一、基本情况\n共召开会议*次，, 形成制度5项。\n二、下一步打算"
    assert checks.check_shown(body) == checks.check(body)
    calls = []
    real = checks.check
    monkeypatch.setattr(
        checks, "check", lambda text, book=None: calls.append(text) or real(text, book)
    )
    checks.check_shown(body)
    assert calls == []  # remembered
    edited = body.replace("*", "3")
    assert checks.check_shown(edited) == real(edited) != real(body)
    assert calls == [edited]


def test_uncovered_characters_follow_the_text():
    plain = PdfSource("标题", "正文一段。", "甲单位", "某期次", date(2026, 11, 22))
    odd = PdfSource("标题", "正文\U000f0000一段。", "甲单位", "某期次", date(2026, 11, 22))
    assert render.uncovered_characters(plain, None) == []
    assert render.uncovered_characters(odd, None) == ["\U000f0000"]
    assert render.uncovered_characters(plain, None) == []
