"""Jinja2 with autoescape on (incident messages come from monitored pages), and the filters the
pages use to show times and durations."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from api.access import Viewer
from api.timefmt import describe_age, describe_ms, describe_seconds
from runner.models import utcnow

PACKAGE_DIR = Path(__file__).resolve().parent


def when(value: datetime | None) -> str:
    return "–" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


def short(value: datetime | None) -> str:
    return "–" if value is None else value.strftime("%Y-%m-%d %H:%M")


def ago(value: datetime | None) -> str:
    return "never" if value is None else describe_age(value, utcnow())


def iso(value: datetime | None) -> str:
    return "" if value is None else value.isoformat()


def build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(PACKAGE_DIR / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=when, short=short, ago=ago, iso=iso, ms=describe_ms, seconds=describe_seconds
    )
    return env


templates = Jinja2Templates(env=build_environment())


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    viewer: Viewer | None,
    status_code: int = 200,
) -> HTMLResponse:
    full: dict[str, Any] = {"viewer": viewer, "active": "", **context}
    return templates.TemplateResponse(request, name, full, status_code=status_code)


def error_page(
    request: Request, status_code: int, title: str, message: str, viewer: Viewer | None
) -> HTMLResponse:
    context = {"title": title, "message": message, "status_code": status_code}
    return render(request, "error.html", context, viewer, status_code)
