"""The Pagecraft web app: pages, the health API, fault middleware and test hooks.

`create_app()` builds a fresh app with its own seeded store, fault state and mutation log, so
every test server starts from the same known state.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from http import HTTPStatus
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.middleware.sessions import SessionMiddleware

from demo.faults import (
    FaultSnapshot,
    FaultState,
    FaultValueError,
    UnknownFault,
    parse_flaky_rate,
    parse_slow_ms,
)
from demo.mutations import MutationLog, is_mutation
from demo.store import PLANS, WIZARD_STEPS, Account, Store, plan_by_id, seeded_store

PACKAGE_DIR = Path(__file__).resolve().parent
SESSION_COOKIE = "pagecraft_session"
SITE_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("classic", "Classic"),
    ("bold", "Bold"),
    ("minimal", "Minimal"),
)

templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(PACKAGE_DIR / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)


# --- app state -----------------------------------------------------------------------------


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_faults(request: Request) -> FaultState:
    faults: FaultState = request.app.state.faults
    return faults


def get_mutations(request: Request) -> MutationLog:
    mutations: MutationLog = request.app.state.mutations
    return mutations


# --- rendering -----------------------------------------------------------------------------


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render a page; `user` is the logged-in email (None outside the session middleware)."""
    session = request.scope.get("session") or {}
    email = session.get("email")
    full: dict[str, Any] = {"user": email if isinstance(email, str) else None}
    full.update(context or {})
    return templates.TemplateResponse(request, name, full, status_code=status_code)


def error_page(request: Request, status_code: int, message: str) -> HTMLResponse:
    title = HTTPStatus(status_code).phrase
    return render(request, "error.html", {"title": title, "message": message}, status_code)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def _is_app(path: str) -> bool:
    return path == "/app" or path.startswith("/app/")


# --- login ---------------------------------------------------------------------------------


class LoginRequired(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def current_account(request: Request) -> Account:
    email = request.session.get("email")
    account = get_store(request).get_account(email) if isinstance(email, str) else None
    if account is None:
        path = request.url.path
        if request.url.query:
            path += "?" + request.url.query
        raise LoginRequired(path)
    return account


CurrentAccount = Annotated[Account, Depends(current_account)]


def local_path(candidate: str) -> str | None:
    """`candidate` if it is a path on this site (never another host), else None."""
    if not candidate.startswith("/") or candidate.startswith("//") or "\\" in candidate:
        return None
    if any(ord(char) < 32 for char in candidate):
        return None
    parts = urlsplit(candidate)
    return candidate if not parts.scheme and not parts.netloc else None


# --- middleware and error handlers ---------------------------------------------------------


async def faults_and_mutations(request: Request, call_next: RequestResponseEndpoint) -> Response:
    path = request.url.path
    # Record first: a data-changing request counts even if a fault then fails it.
    if is_mutation(request.method, path):
        get_mutations(request).record(request.method, path)
    if path.startswith("/__demo") or path.startswith("/static/"):
        return await call_next(request)

    faults = get_faults(request)
    delay_ms = faults.slow_ms
    if delay_ms > 0:
        await asyncio.sleep(delay_ms / 1000)
    if faults.is_on("web_down") and not _is_api(path):
        return error_page(request, 503, "Service unavailable")
    if faults.is_on("api_down"):
        if _is_api(path):
            return JSONResponse({"status": "down"}, status_code=503)
        if _is_app(path):
            return error_page(request, 503, "Service unavailable: the API is not responding")
    rate = faults.flaky_rate
    if rate > 0 and random.random() < rate:
        if _is_api(path):
            return JSONResponse({"status": "error", "detail": "Internal error (flaky)"}, 500)
        return error_page(request, 500, "Internal error (flaky)")
    return await call_next(request)


async def login_required_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return redirect("/login?next=" + quote(exc.next_path, safe="/"))


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    path = request.url.path
    if _is_api(path) or path.startswith("/__demo"):
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
    message = {
        404: "There is no page at this address.",
        405: "This page does not accept that kind of request.",
    }.get(exc.status_code, str(exc.detail))
    response = error_page(request, exc.status_code, message)
    for key, value in (exc.headers or {}).items():
        response.headers[key] = value
    return response


# --- public pages --------------------------------------------------------------------------

public = APIRouter()


@public.get("/", response_class=HTMLResponse)
async def landing(request: Request) -> HTMLResponse:
    show_get_started = not get_faults(request).is_on("f1")
    return render(request, "landing.html", {"show_get_started": show_get_started})


def _wizard(request: Request, step: int, error: str = "", status_code: int = 200) -> HTMLResponse:
    return render(
        request,
        "onboarding_wizard.html",
        {
            "step": step,
            "step_count": len(WIZARD_STEPS),
            "step_title": WIZARD_STEPS[step - 1],
            "site_name": request.session.get("draft_site_name", ""),
            "site_templates": SITE_TEMPLATES,
            "error": error,
        },
        status_code,
    )


@public.get("/onboarding", response_class=HTMLResponse)
async def onboarding_wizard(request: Request, step: str = "1") -> HTMLResponse:
    return _wizard(request, 2 if step == "2" else 3 if step == "3" else 1)


@public.post("/onboarding", response_model=None)
async def onboarding_submit(
    request: Request,
    step: Annotated[str, Form()] = "1",
    site_name: Annotated[str, Form()] = "",
    template: Annotated[str, Form()] = "",
    content: Annotated[str, Form()] = "",
) -> Response:
    if step == "2":
        known = {key for key, _ in SITE_TEMPLATES}
        request.session["draft_template"] = template if template in known else "classic"
        return redirect("/onboarding?step=3")
    if step == "3":
        request.session["draft_content"] = content.strip()[:2000]
        return redirect("/login?next=/app/onboarding")
    name = site_name.strip()
    if not name:
        return _wizard(request, 1, "Enter a name for your site.", 400)
    request.session["draft_site_name"] = name[:80]
    return redirect("/onboarding?step=2")


@public.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "") -> HTMLResponse:
    return render(request, "login.html", {"next": local_path(next) or "", "email": "", "error": ""})


@public.post("/login", response_model=None)
async def login_submit(
    request: Request,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    account = get_store(request).authenticate(email.strip(), password)
    if account is None:
        error = "Invalid email or password"
        context = {"next": local_path(next) or "", "email": email, "error": error}
        return render(request, "login.html", context, 401)
    request.session.clear()
    request.session["email"] = account.email
    return redirect(local_path(next) or "/app")


@public.post("/logout")
async def logout(request: Request) -> RedirectResponse:
    request.session.clear()
    return redirect("/")


@public.get("/sites/{slug}", response_class=HTMLResponse, name="public_site")
async def public_site(request: Request, slug: str) -> HTMLResponse:
    site = get_store(request).site_by_slug(slug)
    if site is None or not site.published:
        raise StarletteHTTPException(404)
    return render(request, "site.html", {"site": site})


@public.get("/api/health")
async def health() -> dict[str, str]:
    return {"status": "ok", "service": "pagecraft"}


# --- account pages (login required) --------------------------------------------------------

account_pages = APIRouter(prefix="/app")


@account_pages.get("", response_class=HTMLResponse)
async def app_home(request: Request, account: CurrentAccount) -> HTMLResponse:
    return render(request, "app_home.html", {"account": account})


@account_pages.get("/onboarding", response_class=HTMLResponse)
async def app_onboarding(request: Request, account: CurrentAccount) -> HTMLResponse:
    context = {"account": account, "steps": WIZARD_STEPS}
    return render(request, "app_onboarding.html", context)


@account_pages.get("/preview", response_class=HTMLResponse)
async def app_preview(request: Request, account: CurrentAccount) -> HTMLResponse:
    context = {"account": account, "broken": get_faults(request).is_on("f2")}
    return render(request, "preview.html", context)


@account_pages.get("/publish")
async def app_publish(account: CurrentAccount) -> RedirectResponse:
    if account.plan is None:
        return redirect("/app/billing?reason=publish")
    return redirect("/app/go-live")


@account_pages.get("/billing", response_class=HTMLResponse)
async def app_billing(request: Request, account: CurrentAccount, reason: str = "") -> HTMLResponse:
    plans = () if get_faults(request).is_on("f3") else PLANS
    context = {"account": account, "plans": plans, "from_publish": reason == "publish"}
    return render(request, "billing.html", context)


def _checkout(
    request: Request, plan_id: str, error: str = "", status_code: int = 200
) -> HTMLResponse:
    plan = plan_by_id(plan_id)
    if plan is None:
        raise StarletteHTTPException(404)
    return render(request, "checkout.html", {"plan": plan, "error": error}, status_code)


@account_pages.get("/checkout", response_class=HTMLResponse)
async def app_checkout(request: Request, account: CurrentAccount, plan: str = "") -> HTMLResponse:
    return _checkout(request, plan)


@account_pages.post("/checkout", response_model=None)
async def app_checkout_pay(
    request: Request,
    account: CurrentAccount,
    plan: Annotated[str, Form()] = "",
    card_number: Annotated[str, Form()] = "",
) -> Response:
    if plan_by_id(plan) is None:
        raise StarletteHTTPException(404)
    digits = "".join(card_number.split())
    if not (digits.isdigit() and 12 <= len(digits) <= 19):
        return _checkout(request, plan, "Enter a card number, e.g. 4242 4242 4242 4242.", 400)
    get_store(request).subscribe(account.email, plan)
    return redirect("/app/go-live")


@account_pages.get("/go-live", response_class=HTMLResponse)
async def app_go_live(request: Request, account: CurrentAccount) -> HTMLResponse:
    unlocked = account.plan is not None and not get_faults(request).is_on("f4")
    address = str(request.url_for("public_site", slug=account.site.slug))
    context = {"account": account, "unlocked": unlocked, "address": address}
    return render(request, "golive.html", context)


@account_pages.post("/go-live", response_model=None)
async def app_go_live_publish(request: Request, account: CurrentAccount) -> Response:
    if account.plan is None:
        return redirect("/app/billing?reason=publish")
    get_store(request).publish(account.email)
    return redirect("/app/go-live")


# --- test hooks ----------------------------------------------------------------------------

hooks = APIRouter(prefix="/__demo")


@hooks.get("", response_class=HTMLResponse)
async def demo_panel(request: Request) -> HTMLResponse:
    context = {
        "faults": get_faults(request).snapshot(),
        "mutations": get_mutations(request).entries(),
    }
    return render(request, "demo.html", context)


@hooks.get("/faults")
async def faults_state(request: Request) -> FaultSnapshot:
    return get_faults(request).snapshot()


@hooks.delete("/faults")
async def faults_clear(request: Request) -> FaultSnapshot:
    faults = get_faults(request)
    faults.clear()
    return faults.snapshot()


@hooks.put("/faults/{name}", response_model=None)
async def fault_on(
    request: Request, name: str, ms: str | None = None, rate: str | None = None
) -> FaultSnapshot | JSONResponse:
    faults = get_faults(request)
    try:
        faults.check_name(name)
        if name == "slow":
            faults.switch_on(name, ms=parse_slow_ms(ms))
        elif name == "flaky":
            faults.switch_on(name, rate=parse_flaky_rate(rate))
        else:
            faults.switch_on(name)
    except UnknownFault as error:
        return JSONResponse({"detail": str(error)}, status_code=404)
    except FaultValueError as error:
        return JSONResponse({"detail": str(error), "parameter": error.parameter}, 422)
    return faults.snapshot()


@hooks.delete("/faults/{name}", response_model=None)
async def fault_off(request: Request, name: str) -> FaultSnapshot | JSONResponse:
    faults = get_faults(request)
    try:
        faults.switch_off(name)
    except UnknownFault as error:
        return JSONResponse({"detail": str(error)}, status_code=404)
    return faults.snapshot()


@hooks.get("/mutations")
async def mutations_list(request: Request) -> dict[str, list[dict[str, str]]]:
    return {"mutations": [entry.as_json() for entry in get_mutations(request).entries()]}


@hooks.delete("/mutations")
async def mutations_clear(request: Request) -> dict[str, list[dict[str, str]]]:
    get_mutations(request).clear()
    return {"mutations": []}


# --- the app -------------------------------------------------------------------------------


def create_app() -> FastAPI:
    """A fresh Pagecraft app: seeded store, no faults, empty mutation log, new session secret."""
    app = FastAPI(title="Pagecraft", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = seeded_store()
    app.state.faults = FaultState()
    app.state.mutations = MutationLog()
    # Added last = outermost: the fault/mutation middleware sees every request first.
    app.add_middleware(
        SessionMiddleware,
        secret_key=secrets.token_urlsafe(32),
        session_cookie=SESSION_COOKIE,
        same_site="lax",
    )
    app.add_middleware(BaseHTTPMiddleware, dispatch=faults_and_mutations)
    app.add_exception_handler(LoginRequired, login_required_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.mount("/static", StaticFiles(directory=PACKAGE_DIR / "static"), name="static")
    app.include_router(public)
    app.include_router(account_pages)
    app.include_router(hooks)
    return app
