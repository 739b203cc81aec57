"""Request dependencies: the monitor context, a database session, the caller and their role."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from api.access import Viewer
from api.auth import SESSION_COOKIE, authenticate
from api.context import Monitor
from api.errors import FormRejected, LoginRequired, PageForbidden
from runner.models import utcnow

log = logging.getLogger("goldwatch.api")


def get_monitor(request: Request) -> Monitor:
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


def optional_viewer(request: Request, monitor: MonitorDep) -> Viewer | None:
    return authenticate(
        monitor.engine,
        request.cookies.get(SESSION_COOKIE),
        request.headers.get("authorization"),
        utcnow(),
    )


OptionalViewer = Annotated[Viewer | None, Depends(optional_viewer)]


def api_viewer(viewer: OptionalViewer) -> Viewer:
    """An owner or admin: 401 for anonymous callers, 403 for staff."""
    if viewer is None:
        raise HTTPException(401, "authentication required", headers={"WWW-Authenticate": "Bearer"})
    if not viewer.may_monitor:
        raise HTTPException(403, "this account's role may not see monitoring")
    return viewer


def _here(request: Request) -> str:
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path


def signed_in(request: Request, viewer: OptionalViewer) -> Viewer:
    """Any signed-in user; anonymous visitors are sent to /login."""
    if viewer is None:
        raise LoginRequired(_here(request))
    return viewer


def page_viewer(viewer: Annotated[Viewer, Depends(signed_in)]) -> Viewer:
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
