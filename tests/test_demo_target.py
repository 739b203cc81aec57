"""The Pagecraft demo target over real HTTP: pages, logins, faults, test hooks, mutation log."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

import httpx
import pytest

from demo.server import DemoServer
from demo.store import Store

ONBOARDED = ("monitor-onboarded@demo.test", "synthetic-onboarded")
PAID = ("monitor-paid@demo.test", "synthetic-paid")
KNOWN_FAULTS = "known: api_down, web_down, f1, f2, f3, f4, slow, flaky"
APP_PAGES = (
    "/app",
    "/app/onboarding",
    "/app/preview",
    "/app/publish",
    "/app/billing",
    "/app/checkout?plan=pro",
    "/app/go-live",
)

# --- a small reading of HTML: what a user (or Playwright) would find on the page ------------


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join("".join(self.parts).split())


class _Reader(HTMLParser):
    CAPTURED = frozenset({"a", "button", "h1", "h2", "h3", "label", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[Element] = []
        self.done: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag in self.CAPTURED or "data-testid" in values:
            self.open.append(Element(tag, values))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index].tag == tag:
                self.done.append(self.open.pop(index))
                return

    def handle_data(self, data: str) -> None:
        for element in self.open:
            element.parts.append(data)


@dataclass
class Page:
    status: int
    html: str
    elements: list[Element]

    def texts(self, tag: str) -> list[str]:
        return [element.text for element in self.elements if element.tag == tag]

    @property
    def h1(self) -> str:
        headings = self.texts("h1")
        assert len(headings) == 1, f"expected one <h1>, found {headings}"
        return headings[0]

    def links(self, name: str) -> list[str]:
        """hrefs of the links whose accessible name is exactly `name`."""
        return [
            element.attrs.get("href", "")
            for element in self.elements
            if element.tag == "a" and element.text == name
        ]

    def link(self, name: str) -> str:
        hrefs = self.links(name)
        assert len(hrefs) == 1, f"expected one link {name!r}, found {hrefs}"
        return hrefs[0]

    def testid(self, testid: str) -> list[Element]:
        return [e for e in self.elements if e.attrs.get("data-testid") == testid]

    def labels(self) -> list[str]:
        return self.texts("label")


def read(response: httpx.Response) -> Page:
    reader = _Reader()
    reader.feed(response.text)
    reader.close()
    return Page(response.status_code, response.text, reader.done)


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    demo = DemoServer()
    demo.start()
    try:
        yield demo
    finally:
        demo.stop()


@pytest.fixture(scope="module")
def _http(server: DemoServer) -> Iterator[httpx.Client]:
    # One connection pool for the module (a new client costs ~30 ms of TLS setup).
    with httpx.Client(base_url=server.url, timeout=10) as http:
        yield http


@pytest.fixture
def client(_http: httpx.Client) -> httpx.Client:
    """A browser-like client with no session: cookies are cleared before each test."""
    _http.cookies.clear()
    return _http


@pytest.fixture(autouse=True)
def _clean_state(_http: httpx.Client) -> Iterator[None]:
    _http.delete("/__demo/faults").raise_for_status()
    _http.delete("/__demo/mutations").raise_for_status()
    yield
    _http.delete("/__demo/faults").raise_for_status()


@pytest.fixture
def store(server: DemoServer) -> Store:
    demo_store: Store = server.app.state.store
    return demo_store


def log_in(client: httpx.Client, account: tuple[str, str], next_path: str = "") -> None:
    email, password = account
    response = client.post("/login", data={"email": email, "password": password, "next": next_path})
    assert response.status_code == 303, response.text
    client.get("/app").raise_for_status()


def fault_on(client: httpx.Client, name: str, query: str = "") -> None:
    client.put(f"/__demo/faults/{name}{query}").raise_for_status()


# --- pages -----------------------------------------------------------------------------------


def test_health_says_ok(client: httpx.Client) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "pagecraft"}


def test_landing_has_call_to_action_and_login(client: httpx.Client) -> None:
    page = read(client.get("/"))
    assert page.status == 200
    assert page.h1 == "Build your site in minutes"
    assert page.link("Get started") == "/onboarding"
    assert page.link("Log in") == "/login"
    assert client.get("/static/site.css").headers["content-type"].startswith("text/css")


def test_onboarding_wizard_walks_three_steps(client: httpx.Client) -> None:
    step1 = read(client.get("/onboarding"))
    assert step1.status == 200
    assert step1.h1 == "Step 1 of 3: Name your site"
    assert "Site name" in step1.labels()
    assert "Continue" in step1.texts("button")

    response = client.post("/onboarding", data={"step": "1", "site_name": "Corner Café"})
    assert response.status_code == 303
    assert response.headers["location"] == "/onboarding?step=2"
    step2 = read(client.get("/onboarding?step=2"))
    assert step2.h1 == "Step 2 of 3: Choose a template"
    assert "Corner Café" in step2.html
    assert read(client.get("/onboarding?step=3")).h1 == "Step 3 of 3: Add your content"

    empty = read(client.post("/onboarding", data={"step": "1", "site_name": "  "}))
    assert empty.status == 400
    assert "Enter a name for your site." in empty.html


def test_login_page_has_labelled_form(client: httpx.Client) -> None:
    page = read(client.get("/login"))
    assert page.status == 200
    assert {"Email", "Password"} <= set(page.labels())
    assert "Log in" in page.texts("button")


def test_bad_credentials_get_401(client: httpx.Client) -> None:
    for email, password in [(ONBOARDED[0], "wrong"), ("nobody@demo.test", "x"), ("", "")]:
        response = client.post("/login", data={"email": email, "password": password})
        assert response.status_code == 401
        assert "Invalid email or password" in response.text
    assert client.get("/app").status_code == 303


@pytest.mark.parametrize(
    ("next_path", "expected"),
    [
        ("", "/app"),
        ("/app/billing", "/app/billing"),
        ("/app/checkout?plan=pro", "/app/checkout?plan=pro"),
        ("//evil.example/steal", "/app"),
        ("https://evil.example/", "/app"),
        ("/\\evil.example", "/app"),
    ],
)
def test_login_redirects_only_to_local_paths(
    client: httpx.Client, next_path: str, expected: str
) -> None:
    email, password = PAID
    response = client.post("/login", data={"email": email, "password": password, "next": next_path})
    assert response.status_code == 303
    assert response.headers["location"] == expected


@pytest.mark.parametrize("path", APP_PAGES)
def test_anonymous_app_pages_redirect_to_login(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/login?next=")
    assert httpx.URL(location).params["next"] == path


def test_login_then_logout(client: httpx.Client) -> None:
    log_in(client, PAID)
    home = read(client.get("/app"))
    assert home.status == 200
    for name, href in [
        ("Onboarding", "/app/onboarding"),
        ("Preview", "/app/preview"),
        ("Billing", "/app/billing"),
        ("Go live", "/app/go-live"),
    ]:
        assert home.link(name) == href
    response = client.post("/logout")
    assert (response.status_code, response.headers["location"]) == (303, "/")
    assert client.get("/app").status_code == 303


def test_onboarded_account_walks_to_checkout(client: httpx.Client) -> None:
    log_in(client, ONBOARDED)

    onboarding = read(client.get("/app/onboarding"))
    assert onboarding.h1 == "Onboarding"
    assert [e.text for e in onboarding.testid("onboarding-status")] == ["Onboarding complete"]
    assert onboarding.html.count('class="done"') == 3
    assert onboarding.link("Preview your site") == "/app/preview"

    preview = read(client.get("/app/preview"))
    assert preview.h1 == "Preview"
    (section,) = preview.testid("site-preview")
    assert section.tag == "section"
    assert "Acme Bakery" in preview.texts("h2")
    assert preview.link("Publish") == "/app/publish"

    publish = client.get("/app/publish")
    assert (publish.status_code, publish.headers["location"]) == (
        303,
        "/app/billing?reason=publish",
    )

    billing = read(client.get("/app/billing?reason=publish"))
    assert billing.h1 == "Billing"
    assert "Choose a plan to publish" in billing.texts("h2")
    plans = billing.testid("plan")
    assert [p.tag for p in plans] == ["article"] * 3
    assert [p.text for p in plans] == [
        "Starter $9/month Choose Starter",
        "Pro $29/month Choose Pro",
        "Business $99/month Choose Business",
    ]
    assert billing.link("Choose Pro") == "/app/checkout?plan=pro"
    assert not billing.testid("active-plan")

    checkout = read(client.get(billing.link("Choose Pro")))
    assert checkout.h1 == "Checkout"
    assert [e.text for e in checkout.testid("test-mode")] == ["Test mode"]
    assert [e.text for e in checkout.testid("checkout-summary")] == ["Pro — $29/month"]
    assert "Pay $29" in checkout.texts("button")

    golive = read(client.get("/app/go-live"))
    assert golive.h1 == "Go live"
    assert [e.text for e in golive.testid("golive-status")] == ["Go-live locked: choose a plan"]
    assert not [
        href for href in (e.attrs.get("href", "") for e in golive.elements) if "/sites/" in href
    ]


def test_paid_account_has_go_live_unlocked(client: httpx.Client, server: DemoServer) -> None:
    log_in(client, PAID)
    billing = read(client.get("/app/billing"))
    assert [e.text for e in billing.testid("active-plan")] == ["Active plan: Pro"]
    assert not billing.testid("plan")
    assert "Choose a plan to publish" not in billing.html

    publish = client.get("/app/publish")
    assert (publish.status_code, publish.headers["location"]) == (303, "/app/go-live")

    golive = read(client.get("/app/go-live"))
    assert [e.text for e in golive.testid("golive-status")] == ["Go-live unlocked"]
    address = f"{server.url}/sites/nimbus-studio"
    assert golive.link(address) == address
    site = read(httpx.get(address))
    assert (site.status, site.h1) == (200, "Nimbus Studio")


def test_unknown_checkout_plan_is_404(client: httpx.Client) -> None:
    log_in(client, ONBOARDED)
    for query in ("?plan=platinum", ""):
        response = client.get(f"/app/checkout{query}")
        assert response.status_code == 404
        assert "There is no page at this address." in response.text


def test_public_sites(client: httpx.Client) -> None:
    assert read(client.get("/sites/nimbus-studio")).h1 == "Nimbus Studio"
    assert client.get("/sites/acme-bakery").status_code == 404  # exists, not published
    assert client.get("/sites/no-such-site").status_code == 404


def test_site_name_html_is_escaped(client: httpx.Client, store: Store) -> None:
    name = '<script>alert("x")</script> & Co'
    store.add_account(
        "escape@demo.test", "pw-escape", site_name=name, slug="escape-co", published=True
    )
    site = read(client.get("/sites/escape-co"))
    assert site.status == 200
    assert site.h1 == name
    assert "<script>alert" not in site.html
    assert "&lt;script&gt;" in site.html

    log_in(client, ("escape@demo.test", "pw-escape"))
    preview = read(client.get("/app/preview"))
    assert name in preview.texts("h2")
    assert "<script>alert" not in preview.html


def test_paying_subscribes_publishes_and_is_a_mutation(client: httpx.Client, store: Store) -> None:
    store.add_account("buyer@demo.test", "pw-buyer", site_name="Buyer Books")
    log_in(client, ("buyer@demo.test", "pw-buyer"))
    assert client.get("/sites/buyer-books").status_code == 404

    response = client.post(
        "/app/checkout", data={"plan": "starter", "card_number": "4242 4242 4242 4242"}
    )
    assert (response.status_code, response.headers["location"]) == (303, "/app/go-live")
    billing = read(client.get("/app/billing"))
    assert [e.text for e in billing.testid("active-plan")] == ["Active plan: Starter"]
    assert client.get("/sites/buyer-books").status_code == 200
    paths = [(m["method"], m["path"]) for m in client.get("/__demo/mutations").json()["mutations"]]
    assert paths == [("POST", "/app/checkout")]


# --- faults ----------------------------------------------------------------------------------


def test_fault_state_starts_off_and_switches(client: httpx.Client) -> None:
    off = {
        "api_down": False,
        "web_down": False,
        "f1": False,
        "f2": False,
        "f3": False,
        "f4": False,
        "slow": 0,
        "flaky": 0.0,
    }
    assert client.get("/__demo/faults").json() == off
    assert client.put("/__demo/faults/f2").json() == {**off, "f2": True}
    assert client.put("/__demo/faults/slow").json() == {**off, "f2": True, "slow": 1000}
    assert client.put("/__demo/faults/flaky?rate=0").json()["flaky"] == 0.0
    assert client.put("/__demo/faults/flaky").json()["flaky"] == 0.5
    assert client.delete("/__demo/faults/f2").json() == {**off, "slow": 1000, "flaky": 0.5}
    assert client.delete("/__demo/faults").json() == off


def test_unknown_fault_is_404_with_the_known_list(client: httpx.Client) -> None:
    for method in ("PUT", "DELETE"):
        response = client.request(method, "/__demo/faults/x")
        assert response.status_code == 404
        assert response.json() == {"detail": f"unknown fault 'x'; {KNOWN_FAULTS}"}


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("slow?ms=abc", "ms"),
        ("slow?ms=-1", "ms"),
        ("slow?ms=1.5", "ms"),
        ("slow?ms=999999999", "ms"),
        ("flaky?rate=abc", "rate"),
        ("flaky?rate=1.5", "rate"),
        ("flaky?rate=-0.1", "rate"),
        ("flaky?rate=nan", "rate"),
    ],
)
def test_bad_fault_parameter_is_422(client: httpx.Client, query: str, parameter: str) -> None:
    response = client.put(f"/__demo/faults/{query}")
    assert response.status_code == 422
    assert response.json()["detail"].startswith(f"{parameter} must be")
    assert client.get("/__demo/faults").json()["slow"] == 0


def test_f1_removes_get_started(client: httpx.Client) -> None:
    fault_on(client, "f1")
    page = read(client.get("/"))
    assert page.status == 200
    assert page.h1 == "Build your site in minutes"
    assert page.links("Get started") == []


def test_f2_breaks_the_preview(client: httpx.Client) -> None:
    log_in(client, ONBOARDED)
    fault_on(client, "f2")
    page = read(client.get("/app/preview"))
    assert page.status == 200
    assert not page.testid("site-preview")
    assert "Preview failed to render" in page.html


def test_f3_empties_the_paywall(client: httpx.Client) -> None:
    log_in(client, ONBOARDED)
    fault_on(client, "f3")
    page = read(client.get("/app/billing"))
    assert page.status == 200
    assert "Choose a plan to publish" in page.texts("h2")
    assert not page.testid("plan")
    assert "No plans available" in page.html


def test_f4_locks_go_live_for_the_paid_account(client: httpx.Client) -> None:
    log_in(client, PAID)
    fault_on(client, "f4")
    page = read(client.get("/app/go-live"))
    assert page.status == 200
    assert [e.text for e in page.testid("golive-status")] == ["Go-live locked: choose a plan"]


def test_api_down_breaks_api_and_app_pages_only(client: httpx.Client) -> None:
    log_in(client, PAID)
    fault_on(client, "api_down")
    health = client.get("/api/health")
    assert (health.status_code, health.json()) == (503, {"status": "down"})
    for path in ("/app", "/app/billing", "/app/go-live"):
        page = client.get(path)
        assert page.status_code == 503
        assert "Service unavailable: the API is not responding" in page.text
    for path in ("/", "/onboarding", "/login", "/sites/nimbus-studio", "/static/site.css"):
        assert client.get(path).status_code == 200, path


def test_web_down_breaks_pages_but_not_the_api(client: httpx.Client) -> None:
    fault_on(client, "web_down")
    for path in ("/", "/login", "/onboarding", "/sites/nimbus-studio", "/app"):
        page = client.get(path)
        assert page.status_code == 503, path
        assert "Service unavailable" in page.text
    assert client.get("/api/health").status_code == 200
    assert client.get("/__demo").status_code == 200
    assert client.get("/static/site.css").status_code == 200


def test_slow_delays_every_response(client: httpx.Client) -> None:
    fault_on(client, "slow", "?ms=300")
    for path in ("/", "/api/health"):
        started = time.monotonic()
        assert client.get(path).status_code == 200
        assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    client.get("/__demo/faults")
    assert time.monotonic() - started < 0.3


def test_flaky_rate_one_fails_everything_and_zero_nothing(client: httpx.Client) -> None:
    fault_on(client, "flaky", "?rate=1")
    for path in ("/", "/login", "/onboarding", "/sites/nimbus-studio", "/api/health"):
        response = client.get(path)
        assert response.status_code == 500, path
        assert "Internal error (flaky)" in response.text
    fault_on(client, "flaky", "?rate=0")
    assert all(client.get("/").status_code == 200 for _ in range(20))


# --- mutation log ----------------------------------------------------------------------------


def test_mutations_record_data_changes_only(client: httpx.Client) -> None:
    client.get("/")
    client.post("/onboarding", data={"step": "1", "site_name": "Logged"})
    log_in(client, ONBOARDED)
    client.get("/app/checkout?plan=pro")
    fault_on(client, "api_down")
    failed = client.post("/app/checkout", data={"plan": "pro", "card_number": "4242424242424242"})
    assert failed.status_code == 503  # refused, but still received and recorded
    client.post("/logout")

    mutations = client.get("/__demo/mutations").json()["mutations"]
    assert [(m["method"], m["path"]) for m in mutations] == [
        ("POST", "/onboarding"),
        ("POST", "/app/checkout"),
    ]
    assert all(m["at"].endswith("+00:00") and "T" in m["at"] for m in mutations)
    assert client.delete("/__demo/mutations").json() == {"mutations": []}
    assert client.get("/__demo/mutations").json() == {"mutations": []}


def test_demo_panel_lists_faults_and_mutations(client: httpx.Client) -> None:
    fault_on(client, "f3")
    client.post("/onboarding", data={"step": "1", "site_name": "Panel"})
    page = read(client.get("/__demo"))
    assert page.status == 200
    for name in ("api_down", "web_down", "f1", "f2", "f3", "f4", "slow", "flaky"):
        assert f"<code>{name}</code>" in page.html
    assert "Switch off" in page.texts("button")
    assert "/onboarding" in page.html
    assert client.get("/static/demo.js").status_code == 200


# --- the server itself -----------------------------------------------------------------------


def test_demo_server_starts_and_stops() -> None:
    demo = DemoServer()
    with pytest.raises(RuntimeError):
        _ = demo.url
    with demo:
        url = demo.url
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/api/health").status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/api/health", timeout=2)
    demo.stop()  # idempotent
