"""/login and /logout. The login form carries a token signed for a pre-session cookie; the
logout form carries the session's CSRF token."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import SESSION_COOKIE, end_session
from api.context import Monitor
from api.deps import MonitorDep, OptionalViewer, SessionForm
from api.errors import FormRejected
from api.login import attempt_login
from api.secret import sign
from api.timefmt import describe_seconds
from api.tokens import digest, new_secret
from runner.models import utcnow
from web.templating import render

router = APIRouter(include_in_schema=False)
LOGIN_COOKIE = "goldwatch_login"
HOME = "/dashboard/monitoring"


def local_path(candidate: str) -> str:
    """`candidate` when it is a path on this site, else the dashboard (no open redirects)."""
    if not candidate.startswith("/") or candidate.startswith("//") or "\\" in candidate:
        return HOME
    if any(ord(char) < 32 for char in candidate):
        return HOME
    parts = urlsplit(candidate)
    return candidate if not parts.scheme and not parts.netloc else HOME


def _login_page(
    request: Request,
    monitor: Monitor,
    *,
    next_path: str,
    email: str = "",
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    nonce = request.cookies.get(LOGIN_COOKIE) or new_secret()
    context = {
        "form_token": sign(monitor.secret(), "login", nonce),
        "next_path": next_path,
        "email": email,
        "error": error,
        "notice": notice,
    }
    response = render(request, "login.html", context, None, status_code)
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=3600,
        path="/login",
        secure=monitor.secure_cookies,
        httponly=True,
        samesite="lax",
    )
    return response


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse(HOME, 303)


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request,
    monitor: MonitorDep,
    viewer: OptionalViewer,
    next: str = HOME,
    signed_out: str = "",
) -> Response:
    next_path = local_path(next)
    if viewer is not None and viewer.session_id is not None:
        return RedirectResponse(next_path, 303)
    notice = "You are signed out." if signed_out else None
    return _login_page(request, monitor, next_path=next_path, notice=notice)


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    monitor: MonitorDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = HOME,
) -> Response:
    nonce = request.cookies.get(LOGIN_COOKIE)
    expected = sign(monitor.secret(), "login", nonce) if nonce else ""
    if not (nonce and secrets.compare_digest(csrf_token, expected)):
        raise FormRejected()
    next_path = local_path(next)
    address = request.client.host if request.client else "unknown"
    result = attempt_login(monitor, email, password, address, utcnow())
    if result.retry_after is not None:
        wait = describe_seconds(max(60, result.retry_after))
        response = _login_page(
            request,
            monitor,
            next_path=next_path,
            email=email,
            error=f"Too many failed sign-ins. Try again in {wait}.",
            status_code=429,
        )
        response.headers["Retry-After"] = str(result.retry_after)
        return response
    if result.cookie is None:
        return _login_page(
            request,
            monitor,
            next_path=next_path,
            email=email,
            error="Wrong email or password.",
            status_code=401,
        )
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:  # a new session id at every sign-in (no session fixation)
        end_session(monitor.engine, digest(previous))
    signed_in = RedirectResponse(next_path, 303)
    signed_in.set_cookie(
        SESSION_COOKIE,
        result.cookie,
        max_age=monitor.settings.session_lifetime_hours * 3600,
        path="/",
        secure=monitor.secure_cookies,
        httponly=True,
        samesite="lax",
    )
    signed_in.delete_cookie(LOGIN_COOKIE, path="/login")
    return signed_in


@router.get("/logout", response_class=HTMLResponse)
def logout_page(request: Request, viewer: OptionalViewer) -> Response:
    if viewer is None or viewer.session_id is None:
        return RedirectResponse("/login", 303)
    return render(request, "logout.html", {}, viewer)


@router.post("/logout")
def logout(viewer: SessionForm, monitor: MonitorDep) -> RedirectResponse:
    if viewer.session_id is not None:
        end_session(monitor.engine, viewer.session_id)
    response = RedirectResponse("/login?signed_out=1", 303)
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=monitor.secure_cookies, httponly=True, samesite="lax"
    )
    return response
