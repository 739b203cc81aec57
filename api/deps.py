"""Request dependencies: the monitor context, a database session, the caller and their role."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.access import Viewer
from api.auth import SESSION_COOKIE, bearer_token, viewer_by_cookie, viewer_by_token
from api.context import Monitor
from api.errors import FormRejected, LoginRequired, PageForbidden
from api.tokens import digest
from runner.models import utcnow

log = logging.getLogger("goldwatch.api")


async def get_monitor(request: Request) -> Monitor:
    monitor: Monitor = request.app.state.monitor
    return monitor


MonitorDep = Annotated[Monitor, Depends(get_monitor)]


def db_session(monitor: MonitorDep) -> Iterator[Session]:
    session = Session(monitor.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        # Closing rolls back on the connection; when the database just went away that fails
        # too, and must not replace the request's own answer (a 503) with a dropped connection.
        try:
            session.close()
        except DBAPIError as error:
            log.warning("closing a database session failed: %s", error.orig or error)


DbSession = Annotated[Session, Depends(db_session)]


async def optional_viewer(request: Request, monitor: MonitorDep) -> Viewer | None:
    """The caller, or None. A request that sends an Authorization header is judged by it alone
    (a bad token is not rescued by a cookie). A token's viewer is reused for
    GOLDWATCH_API_CACHE_SECONDS."""
    engine = monitor.engine
    authorization = request.headers.get("authorization")
    if authorization is not None:
        token = bearer_token(authorization)
        if token is None:
            return None
        return await monitor.token_viewers.get(
            digest(token), lambda: viewer_by_token(engine, token, utcnow())
        )
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    return await run_in_threadpool(viewer_by_cookie, engine, cookie, utcnow())


OptionalViewer = Annotated[Viewer | None, Depends(optional_viewer)]


async def api_viewer(viewer: OptionalViewer) -> Viewer:
    """An owner or admin: 401 for anonymous callers, 403 for staff."""
    if viewer is None:
        raise HTTPException(401, "authentication required", headers={"WWW-Authenticate": "Bearer"})
    if not viewer.may_monitor:
        raise HTTPException(403, "this account's role may not see monitoring")
    return viewer


def _here(request: Request) -> str:
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path


async def signed_in(request: Request, viewer: OptionalViewer) -> Viewer:
    """Any signed-in user; anonymous visitors are sent to /login."""
    if viewer is None:
        raise LoginRequired(_here(request))
    return viewer


async def page_viewer(viewer: Annotated[Viewer, Depends(signed_in)]) -> Viewer:
    """An owner or admin; staff get the readable 403 page."""
    if not viewer.may_monitor:
        raise PageForbidden(viewer)
    return viewer


ApiViewer = Annotated[Viewer, Depends(api_viewer)]
SignedIn = Annotated[Viewer, Depends(signed_in)]
PageViewer = Annotated[Viewer, Depends(page_viewer)]


async def session_form(request: Request, viewer: SignedIn) -> Viewer:
    """A form POST from a signed-in session: its `csrf_token` must be this session's."""
    form = await request.form()
    token = form.get("csrf_token")
    expected = viewer.csrf_token
    if not (isinstance(token, str) and expected and secrets.compare_digest(token, expected)):
        raise FormRejected()
    return viewer


SessionForm = Annotated[Viewer, Depends(session_form)]
