"""The 汇编 page tells the secretary which units a volume of the period would still lack."""

from __future__ import annotations

from lxml import html as lxml_html

from app.reports.workflow import ReportState
from tests.conftest import make_report


def missing_units(page: str) -> list[str]:
    tree = lxml_html.fromstring(page)
    return [
        " ".join(li.text_content().split()) for li in tree.xpath("//ul[@class='missing-list']/li")
    ]


def test_the_units_still_missing_are_listed_with_their_state(org, client, login):
    make_report(org, "a", ReportState.APPROVED)
    make_report(org, "b", ReportState.GROUP_REVIEW)
    login(org["secretary"])
    page = client.get(f"/compile?period_id={org.period.id}").text
    assert "尚未审定的单位（2个）" in page
    assert missing_units(page) == ["乙单位（指导组审核中）", "丙单位（未开始）"]


def test_a_period_with_every_unit_approved_says_so(org, client, login):
    for unit in ("a", "b", "c"):
        make_report(org, unit, ReportState.APPROVED)
    login(org["secretary"])
    page = client.get(f"/compile?period_id={org.period.id}").text
    assert missing_units(page) == [] and "所有单位的汇报均已审定" in page
