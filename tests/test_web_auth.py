"""Signing in and out: Argon2-checked passwords, server-side sessions in HttpOnly SameSite
cookies (Secure behind https), CSRF tokens on every form POST, login throttling counted in the
database, no open redirects."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi.routing import iter_route_contexts
from sqlmodel import col, func, select

from api.app import create_app
from api.tokens import digest
from runner.db import read_session
from runner.models import LoginAttempt, UserSession
from runner.serving import ServerThread
from tests.monitor_support import ACCOUNTS, PASSWORD, Site, hidden_field, sign_in

pytest_plugins = ("tests.monitor_support",)
ADMIN = ACCOUNTS["admin"][0]
DASHBOARD = "/dashboard/monitoring"


@contextmanager
def variant(site: Site, **changes: Any) -> Iterator[httpx.Client]:
    """The same database served with other settings."""
    settings = site.settings.model_copy(update=changes)
    with ServerThread(create_app(settings)) as server, httpx.Client(base_url=server.url) as c:
        yield c


def cookie_header(response: httpx.Response, name: str) -> str:
    found = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert found, f"no {name} cookie set"
    return found[0]


def test_signing_in_opens_a_server_side_session(site: Site) -> None:
    with site.client() as browser:
        response = sign_in(browser, ADMIN)
        assert response.status_code == 303
        assert response.headers["location"] == DASHBOARD
        header = cookie_header(response, "goldwatch_session")
        assert "HttpOnly" in header and "SameSite=lax" in header and "Path=/" in header
        assert "Secure" not in header
        cookie = browser.cookies["goldwatch_session"]
        with read_session(site.engine) as session:
            stored = session.exec(select(UserSession)).all()
        assert [s.id for s in stored] == [digest(cookie)]  # only the hash is kept
        assert browser.get(DASHBOARD).status_code == 200


def test_cookies_are_secure_when_the_public_url_is_https(site: Site) -> None:
    with variant(site, public_url="https://monitor.example") as browser:
        page = browser.get("/login")
        login_cookie = cookie_header(page, "goldwatch_login")
        assert "Secure" in login_cookie
        # A client keeps Secure cookies for https; send it back as the TLS proxy would.
        nonce = login_cookie.split(";")[0].split("=", 1)[1]
        response = browser.post(
            "/login",
            data={
                "email": ADMIN,
                "password": PASSWORD,
                "csrf_token": hidden_field(page.text, "csrf_token"),
            },
            headers={"Cookie": f"goldwatch_login={nonce}"},
        )
        assert response.status_code == 303
        assert "Secure" in cookie_header(response, "goldwatch_session")


def test_a_wrong_password_or_unknown_email_is_refused_alike(site: Site) -> None:
    with site.client() as browser:
        for email, password in ((ADMIN, "not-the-password"), ("nobody@x.test", PASSWORD)):
            response = sign_in(browser, email, password)
            assert response.status_code == 401
            assert "Wrong email or password." in response.text
            assert "goldwatch_session" not in browser.cookies
        assert browser.get(DASHBOARD).status_code == 303


def test_signing_out_ends_the_session(site: Site) -> None:
    with site.browser_client("admin") as browser:
        cookie = browser.cookies["goldwatch_session"]
        page = browser.get(DASHBOARD)
        response = browser.post(
            "/logout", data={"csrf_token": hidden_field(page.text, "csrf_token")}
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/login?signed_out=1"
        assert "You are signed out." in browser.get("/login?signed_out=1").text
    with read_session(site.engine) as session:
        assert session.get(UserSession, digest(cookie)) is None
    replayed = httpx.get(site.url + DASHBOARD, cookies={"goldwatch_session": cookie})
    assert replayed.status_code == 303 and replayed.headers["location"].startswith("/login")


def test_a_form_post_without_or_with_another_sessions_token_is_refused(site: Site) -> None:
    with site.browser_client("admin") as mine, site.browser_client("owner") as theirs:
        their_token = hidden_field(theirs.get(DASHBOARD).text, "csrf_token")
        for data in ({}, {"csrf_token": ""}, {"csrf_token": their_token}):
            response = mine.post("/logout", data=data)
            assert response.status_code == 403, data
            assert "Form refused" in response.text
        assert mine.get(DASHBOARD).status_code == 200  # still signed in


def test_the_login_form_needs_its_own_pre_session_token(site: Site) -> None:
    with site.client() as attacker, site.client() as victim:
        attacker_token = hidden_field(attacker.get("/login").text, "csrf_token")
        victim.get("/login")  # has a pre-session cookie of its own
        for token in ("", attacker_token):
            response = victim.post(
                "/login", data={"email": ADMIN, "password": PASSWORD, "csrf_token": token}
            )
            assert response.status_code == 403
            assert "goldwatch_session" not in victim.cookies


def test_every_form_post_route_checks_the_csrf_token(site: Site) -> None:
    posts = [
        route.path
        for route in iter_route_contexts(create_app(site.settings).routes)
        if route.path and "POST" in (route.methods or set())
    ]
    assert posts == ["/login", "/logout"]
    with site.browser_client("admin") as browser:
        for path in posts:
            response = browser.post(path, data={"email": ADMIN, "password": PASSWORD})
            assert response.status_code == 403, path


def test_failed_logins_are_throttled_per_account_and_per_address(site: Site) -> None:
    limits = {"login_max_failures_per_account": 3, "login_max_failures_per_address": 5}
    owner = ACCOUNTS["owner"][0]
    with variant(site, **limits) as browser:
        for _ in range(3):
            assert sign_in(browser, ADMIN, "wrong-password").status_code == 401
        throttled = sign_in(browser, ADMIN)  # the right password, too late
        assert throttled.status_code == 429
        assert "Too many failed sign-ins" in throttled.text
        assert 800 < int(throttled.headers["retry-after"]) <= 900
        # Another account from the same address may still sign in ...
        assert sign_in(browser, owner).status_code == 303
        browser.cookies.clear()
        for _ in range(2):
            assert sign_in(browser, "someone@else.test", "guess").status_code == 401
        # ... until the address has failed too often.
        assert sign_in(browser, owner).status_code == 429
    with variant(site, **limits) as another_worker:  # counted in the database
        assert sign_in(another_worker, ADMIN).status_code == 429
    with read_session(site.engine) as session:
        failures = session.exec(
            select(func.count())
            .select_from(LoginAttempt)
            .where(col(LoginAttempt.succeeded).is_(False))
        ).one()
    assert failures == 5


def test_after_sign_in_the_user_lands_where_they_were_going_but_never_off_site(
    site: Site,
) -> None:
    wanted = f"{DASHBOARD}/incidents?status=open"
    with site.client() as browser:
        redirect = browser.get(wanted)
        assert redirect.status_code == 303
        login_url = redirect.headers["location"]
        assert login_url == "/login?next=%2Fdashboard%2Fmonitoring%2Fincidents%3Fstatus%3Dopen"
        page = browser.get(login_url)
        assert hidden_field(page.text, "next") == wanted
        assert sign_in(browser, ADMIN, next_path=wanted).headers["location"] == wanted
    for evil in ("//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:x"):
        with site.client() as browser:
            response = sign_in(browser, ADMIN, next_path=evil)
            assert response.headers["location"] == DASHBOARD, evil


def test_pages_carry_security_headers(site: Site) -> None:
    with site.browser_client("admin") as browser:
        response = browser.get(DASHBOARD)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert not re.search(r"<script", response.text)
