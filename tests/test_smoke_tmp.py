from tests.conftest import make_report, lock_version_in
from app.reports.workflow import ReportState


def test_flow(client, org, login):
    r = login(org["author_a"])
    assert r.status_code == 303
    report = make_report(org)
    page = client.get(f"/reports/{report.id}")
    assert page.status_code == 200, page.text
    lv = lock_version_in(page.text)
    r = client.post(f"/reports/{report.id}/transition", data={"event": "submit", "lock_version": lv})
    assert r.status_code == 303, r.text
    page = client.get(f"/reports/{report.id}")
    assert 'data-state="unit_review"' in page.text
