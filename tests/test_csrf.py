"""CSRF: with protection on (as in production), every POST route refuses a request without
a token (400) and writes nothing, even for a user the route would otherwise serve; with the
token scraped from a page, the normal path works."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.reports.models import HistoryEntry, Report
from app.reports.workflow import ReportState
from tests.conftest import PASSWORD, lock_version_in
from tests.test_route_matrix import (
    EVERYONE,
    NO_REPORT_SITUATION,
    SITUATIONS,
    TABLE,
    Case,
    Clients,
    make_world,
    routes,
    variants,
)

ALLOWED = (200, 303)


@contextmanager
def csrf_enabled(web_app):
    web_app.config["WTF_CSRF_ENABLED"] = True
    try:
        yield
    finally:
        web_app.config["WTF_CSRF_ENABLED"] = False


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table."""
    db.session.expire_all()
    return {
        table.name: [
            tuple(row) for row in db.session.execute(sa.select(table).order_by(*table.primary_key))
        ]
        for table in db.metadata.sorted_tables
    }


def token_in(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def allowed_pick(case: Case) -> tuple[str, str] | None:
    """The first situation and user for whom ``case`` would succeed."""
    situations = SITUATIONS if case.report else [NO_REPORT_SITUATION]
    return next(
        (
            (situation, user)
            for situation in situations
            for user in EVERYONE
            if case.expect(user, situation) in ALLOWED
        ),
        None,
    )


def post_cases(web_app) -> list[tuple[str, str, Case, str, str]]:
    """(endpoint, rule, case, situation, user) for each POST route: a situation and a user
    for whom the route's table entry says the request would succeed."""
    chosen = []
    for endpoint, (rule, methods, _) in routes(web_app).items():
        if "POST" not in methods:
            continue
        # test_route_matrix fails when the table misses a route
        for case in variants(TABLE[endpoint]["POST"]):
            pick = allowed_pick(case)
            assert pick, f"no user may POST to {endpoint} ({case.label}) in any situation"
            chosen.append((endpoint, rule, case, *pick))
    return chosen


def test_every_post_route_is_covered(web_app):
    posts = {r for r, (_, methods, _) in routes(web_app).items() if "POST" in methods}
    assert {endpoint for endpoint, *_ in post_cases(web_app)} == posts
    assert len(posts) >= 20


# The situations in which some POST route is tried (computed from the table).
POST_SITUATIONS = sorted(
    {
        pick[0]
        for methods in TABLE.values()
        for case in variants(methods.get("POST", []))
        if (pick := allowed_pick(case))
    }
)


@pytest.mark.parametrize("situation", POST_SITUATIONS)
def test_post_without_token_is_refused_and_writes_nothing(web_app, org, tmp_path, situation):
    cases = [c for c in post_cases(web_app) if c[3] == situation]
    assert cases
    world = make_world(org, tmp_path, situation)
    clients = Clients(web_app, org)
    for *_, user in cases:
        clients[user]  # log in while CSRF is still off
    before = snapshot()
    failures = []
    with csrf_enabled(web_app):
        for endpoint, _, case, _, user in cases:
            world.ids.lock_version = db.session.get(Report, world.ids.report).lock_version
            url = web_app.url_map.bind("localhost").build(
                endpoint, world.ids.url_values(routes(web_app)[endpoint][2])
            )
            client = clients[user]
            if case.json is not None:
                response = client.post(url, json=case.json(world.ids))
            else:
                response = client.post(url, data=case.data(world.ids) if case.data else None)
            if response.status_code != 400:
                failures.append(f"{user} POST {url} {case.label}: {response.status_code}")
    assert not failures, "\n".join(failures)
    assert snapshot() == before


def test_anonymous_post_without_token_is_refused(web_app, org, client):
    with csrf_enabled(web_app):
        response = client.post("/login", data={"username": "author_a", "password": PASSWORD})
        assert response.status_code == 400
        assert client.get("/reports/").status_code == 302  # not logged in


def test_a_wrong_token_is_refused(web_app, org, client):
    with csrf_enabled(web_app):
        client.get("/login")
        response = client.post(
            "/login",
            data={"username": "author_a", "password": PASSWORD, "csrf_token": "forged"},
        )
        assert response.status_code == 400


def test_with_the_token_login_and_a_transition_work(web_app, org, client, tmp_path):
    world = make_world(org, tmp_path, "draft")
    with csrf_enabled(web_app):
        token = token_in(client.get("/login").text)
        response = client.post(
            "/login", data={"username": "author_a", "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 303
        page = client.get(f"/reports/{world.ids.report}").text
        response = client.post(
            f"/reports/{world.ids.report}/transition",
            data={
                "event": "submit",
                "lock_version": lock_version_in(page),
                "csrf_token": token_in(page),
            },
        )
        assert response.status_code == 303
    db.session.expire_all()
    report = db.session.get(Report, world.ids.report)
    assert report.state is ReportState.UNIT_REVIEW
    last = db.session.scalars(
        sa.select(HistoryEntry)
        .where(HistoryEntry.report_id == report.id)
        .order_by(HistoryEntry.id.desc())
    ).first()
    assert (last.event, last.actor_id) == ("submit", org["author_a"].id)


def test_the_json_check_needs_the_token_in_a_header(web_app, org, client):
    client.post("/login", data={"username": "author_a", "password": PASSWORD})
    with csrf_enabled(web_app):
        page = client.get("/reports/new").text
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
        refused = client.post("/reports/check", json={"body": "正文。"})
        assert refused.status_code == 400
        wrong = client.post("/reports/check", json={"body": "正文。"}, headers={"X-CSRFToken": "x"})
        assert wrong.status_code == 400
        accepted = client.post(
            "/reports/check", json={"body": "正文。"}, headers={"X-CSRFToken": token}
        )
        assert accepted.status_code == 200
        assert accepted.json["errors"] == 0
