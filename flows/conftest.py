"""Shared fixtures of the golden flows: target URL, Chromium, read-only guard, logins, steps.

`pytest flows/` drives the embedded demo target unless `--base-url` or GOLDWATCH_WEB_BASE_URL
names another one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, Response, expect

from runner.chromium import ChromiumNotFound, resolve_chromium
from runner.flowkit import Account, SignIn, Visit
from runner.readonly import ReadOnlyGuard
from runner.settings import ConfigError, Settings, load_settings
from runner.steps import STEPS_KEY, StepRecorder

# Chromium's background services would only knock on a closed network.
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-gpu",
    "--no-first-run",
]


LOGIN_URL = re.compile(r".*/login(\?.*)?$")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "flow(id, title): a golden flow's id (f1..f4) and title")


@pytest.fixture(scope="session")
def goldwatch_settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        raise pytest.UsageError(str(error)) from None


@pytest.fixture(scope="session")
def base_url(pytestconfig: pytest.Config, goldwatch_settings: Settings) -> Iterator[str]:
    configured = pytestconfig.getoption("--base-url") or goldwatch_settings.web_base_url
    if configured:
        yield str(configured).rstrip("/")
        return
    from demo.server import DemoServer

    with DemoServer() as server:
        yield server.url


@pytest.fixture(scope="session")
def connect_options(goldwatch_settings: Settings) -> dict[str, Any] | None:
    """A Playwright server to use instead of a local Chromium (GOLDWATCH_BROWSER_WS_ENDPOINT)."""
    endpoint = goldwatch_settings.browser_ws_endpoint
    if not endpoint:
        return None
    return {"endpoint": endpoint, "timeout": goldwatch_settings.flow_timeout_seconds * 1000}


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], goldwatch_settings: Settings
) -> dict[str, Any]:
    configured = goldwatch_settings.chromium_path
    if goldwatch_settings.browser_ws_endpoint:
        if not configured:
            return browser_type_launch_args  # the browser server picks its own Chromium
        # Sent to the server as JSON in its launch-options header, which reads camelCase;
        # the path is the server's binary, not one here.
        return {
            **browser_type_launch_args,
            "executablePath": configured,
            "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
        }
    try:
        chromium = str(resolve_chromium(configured or None))
    except ChromiumNotFound as error:
        raise pytest.UsageError(f"goldwatch: {error}") from None
    return {
        **browser_type_launch_args,
        "executable_path": chromium,
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
    }


@pytest.fixture(scope="session", autouse=True)
def _flow_timeouts(goldwatch_settings: Settings) -> None:
    expect.set_options(timeout=goldwatch_settings.flow_timeout_seconds * 1000)


@pytest.fixture
def read_only_guard(context: BrowserContext, goldwatch_settings: Settings) -> ReadOnlyGuard:
    guard = ReadOnlyGuard(allow=goldwatch_settings.flows_allow_mutations)
    guard.install(context)
    context.set_default_timeout(goldwatch_settings.flow_timeout_seconds * 1000)
    return guard


@pytest.fixture
def step(request: pytest.FixtureRequest, read_only_guard: ReadOnlyGuard) -> StepRecorder:
    """`with step("Open paywall"):` names a step; a failure inside it names the step."""
    recorder = StepRecorder(after_step=read_only_guard.check)
    request.node.stash[STEPS_KEY] = recorder
    return recorder


@pytest.fixture(autouse=True)
def _read_only_everywhere(request: pytest.FixtureRequest) -> Iterator[None]:
    # Every flow that opens a browser gets the guard, even one that never names a step.
    guard = request.getfixturevalue("read_only_guard") if "page" in request.fixturenames else None
    yield
    if guard is not None:
        guard.check()


@pytest.fixture(scope="session")
def onboarded_account(goldwatch_settings: Settings) -> Account:
    """Synthetic account that finished onboarding and has no plan."""
    return Account(
        goldwatch_settings.flow_onboarded_email, goldwatch_settings.flow_onboarded_password
    )


@pytest.fixture(scope="session")
def paid_account(goldwatch_settings: Settings) -> Account:
    """Synthetic account on a paid plan with go-live unlocked."""
    return Account(goldwatch_settings.flow_paid_email, goldwatch_settings.flow_paid_password)


def _require_ok(response: Response | None, what: str) -> None:
    if response is None:
        return  # same-document navigation: nothing new was loaded
    if not response.ok:
        raise AssertionError(f"{what} answered {response.status} {response.status_text}".strip())


@pytest.fixture
def visit(page: Page) -> Visit:
    """Open a path (relative to the base URL) or URL and require a 2xx answer."""

    def _visit(path: str) -> Response | None:
        response = page.goto(path)
        _require_ok(response, f"GET {path}")
        return response

    return _visit


@pytest.fixture
def sign_in(page: Page, step: StepRecorder, visit: Visit) -> SignIn:
    """Log a synthetic account in through the real login form (the guard allows it)."""

    def _sign_in(account: Account) -> None:
        with step("Log in"):
            visit("/login")
            page.get_by_label("Email").fill(account.email)
            page.get_by_label("Password").fill(account.password)
            with page.expect_navigation() as navigation:
                page.get_by_role("button", name="Log in").click()
            _require_ok(navigation.value, "Logging in")
            expect(page).not_to_have_url(LOGIN_URL)

    return _sign_in
