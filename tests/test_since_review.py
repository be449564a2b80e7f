"""“Changes since your last review” on the report page, one click from the diff."""

from __future__ import annotations

import html
import re

from app.core.extensions import db
from app.reports import operations
from app.reports.workflow import ReportState
from tests.conftest import SAMPLE_BODY, make_report

S = ReportState


def banner(page: str) -> str | None:
    match = re.search(r'data-since-review="(\d+-\d+)"', page)
    return match.group(1) if match else None


def test_a_returning_report_offers_its_reviewers_the_changes_since_they_looked(org, client, login):
    report = make_report(org, "a", S.GROUP_REVIEW)
    operations.trigger_event(
        org["group1"],
        report,
        "request_changes",
        comment="请补充数据",
        lock_version=report.lock_version,
    )
    new_body = SAMPLE_BODY.replace("举办读书班2期", "举办读书班3期")
    operations.save_draft(org["author_a"], report, report.title, new_body, report.lock_version)
    operations.trigger_event(org["author_a"], report, "submit", lock_version=report.lock_version)
    db.session.commit()

    login(org["reviewer_a"])
    page = client.get(f"/reports/{report.id}").text
    assert banner(page) == "1-2"
    link = html.unescape(re.search(r'href="([^"]*compare[^"]*)">查看修改之处', page).group(1))
    assert link == f"/reports/{report.id}/compare?from=1&to=2"
    diff = client.get(link)
    assert diff.status_code == 200
    assert re.search(r"<del[^>]*>2</del>", diff.text) and re.search(r"<ins[^>]*>3</ins>", diff.text)

    login(org["author_a"])
    assert banner(client.get(f"/reports/{report.id}").text) is None
    # The group has not got version 2 yet (it is with the unit); once forwarded it has.
    login(org["reviewer_a"])
    operations.trigger_event(org["reviewer_a"], report, "forward", lock_version=report.lock_version)
    db.session.commit()
    assert banner(client.get(f"/reports/{report.id}").text) is None  # reviewed v2 now
    login(org["group1"])
    assert banner(client.get(f"/reports/{report.id}").text) == "1-2"
    login(org["group2"])
    assert client.get(f"/reports/{report.id}").status_code == 404
