"""Errors as the caller expects them: JSON under /api and /healthz, readable pages elsewhere.

Anonymous callers get 401 (API) or a redirect to /login (pages); staff get 403; a database
that cannot be reached gives 503, never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.access import Viewer

log = logging.getLogger("goldwatch.api")

# (request, status code, title, message, viewer or None) -> an HTML page
PageRenderer = Callable[[Request, int, str, str, Viewer | None], Response]
DATABASE_DOWN = "the monitor's database cannot be reached; try again shortly"


class LoginRequired(Exception):
    """A page needs a signed-in user."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PageForbidden(Exception):
    """A signed-in user whose role may not see monitoring (staff)."""

    def __init__(self, viewer: Viewer) -> None:
        super().__init__(viewer.email)
        self.viewer = viewer


class FormRejected(Exception):
    """A form POST without the right CSRF token."""


def wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path == "/api" or path == "/healthz"


def describe_validation(errors: Sequence[Any]) -> str:
    """`invalid query parameter 'limit': Input should be less than or equal to 500`."""
    if not errors:
        return "invalid request"
    first = errors[0]
    loc = [str(part) for part in first.get("loc", ())]
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    kinds = {"query": "query parameter", "path": "path parameter", "body": "form field"}
    if len(loc) >= 2:
        return f"invalid {kinds.get(loc[0], loc[0])} {loc[-1]!r}: {message}"
    where = f"{kinds[loc[0]]}s" if loc and loc[0] in kinds else "request"
    return f"invalid {where}: {message}"


def install_error_handlers(app: FastAPI, render_page: PageRenderer) -> None:
    def login_required(request: Request, error: Exception) -> Response:
        assert isinstance(error, LoginRequired)
        return RedirectResponse("/login?" + urlencode({"next": error.next_path}), 303)

    def forbidden(request: Request, error: Exception) -> Response:
        assert isinstance(error, PageForbidden)
        message = (
            f"{error.viewer.email} is a {error.viewer.role} account, and monitoring is open to "
            "owners and admins only. Ask an owner for access."
        )
        return render_page(request, 403, "No access to monitoring", message, error.viewer)

    def form_rejected(request: Request, error: Exception) -> Response:
        message = (
            "This form was not accepted: it has expired or it did not come from this site "
            "(missing or wrong CSRF token). Reload the page and try again."
        )
        return render_page(request, 403, "Form refused", message, None)

    def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        if wants_json(request):
            return JSONResponse({"detail": error.detail}, error.status_code, headers=error.headers)
        title = {404: "Not found", 405: "Method not allowed"}.get(error.status_code, "Error")
        return render_page(request, error.status_code, title, str(error.detail), None)

    def invalid(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        message = describe_validation(error.errors())
        if wants_json(request):
            body = {"detail": jsonable_encoder(error.errors()), "message": message}
            return JSONResponse(body, 422)
        return render_page(request, 422, "Invalid request", message, None)

    def database_down(request: Request, error: Exception) -> Response:
        log.error("database error on %s: %s", request.url.path, error)
        if wants_json(request):
            return JSONResponse({"detail": DATABASE_DOWN}, 503, headers={"Retry-After": "10"})
        return render_page(request, 503, "Monitor unavailable", DATABASE_DOWN, None)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(PageForbidden, forbidden)
    app.add_exception_handler(FormRejected, form_rejected)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(DBAPIError, database_down)
    app.add_exception_handler(PoolTimeout, database_down)
