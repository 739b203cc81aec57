"""Accounts, sites and plans of the demo target, in memory and seeded at start."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import dataclass

# The golden flows log in as these; their values are part of Goldwatch's settings defaults.
ONBOARDED_EMAIL = "monitor-onboarded@demo.test"
ONBOARDED_PASSWORD = "synthetic-onboarded"
PAID_EMAIL = "monitor-paid@demo.test"
PAID_PASSWORD = "synthetic-paid"

WIZARD_STEPS: tuple[str, ...] = ("Name your site", "Choose a template", "Add your content")

_PBKDF2_ITERATIONS = 50_000


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    price_usd: int

    @property
    def price_text(self) -> str:
        return f"${self.price_usd}/month"


PLANS: tuple[Plan, ...] = (
    Plan("starter", "Starter", 9),
    Plan("pro", "Pro", 29),
    Plan("business", "Business", 99),
)


def plan_by_id(plan_id: str | None) -> Plan | None:
    return next((plan for plan in PLANS if plan.id == plan_id), None)


@dataclass
class Site:
    name: str
    slug: str
    hero: str
    about: str
    published: bool = False


@dataclass
class Account:
    email: str
    password_salt: bytes
    password_hash: bytes
    site: Site
    onboarding_complete: bool = False
    plan_id: str | None = None

    @property
    def plan(self) -> Plan | None:
        return plan_by_id(self.plan_id)


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "site"


def _hash_password(password: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _PBKDF2_ITERATIONS)


class Store:
    """Thread-safe in-memory accounts keyed by lower-cased email, with their sites."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accounts: dict[str, Account] = {}

    def add_account(
        self,
        email: str,
        password: str,
        *,
        site_name: str,
        slug: str | None = None,
        hero: str = "",
        about: str = "",
        onboarding_complete: bool = True,
        plan_id: str | None = None,
        published: bool = False,
    ) -> Account:
        if plan_id is not None and plan_by_id(plan_id) is None:
            raise ValueError(f"unknown plan {plan_id!r}")
        salt = secrets.token_bytes(16)
        site = Site(
            name=site_name,
            slug=slug or slugify(site_name),
            hero=hero or f"Welcome to {site_name}",
            about=about or f"{site_name} is built with Pagecraft.",
            published=published,
        )
        account = Account(
            email=email,
            password_salt=salt,
            password_hash=_hash_password(password, salt),
            site=site,
            onboarding_complete=onboarding_complete,
            plan_id=plan_id,
        )
        with self._lock:
            key = email.lower()
            if key in self._accounts:
                raise ValueError(f"account {email!r} already exists")
            if any(other.site.slug == site.slug for other in self._accounts.values()):
                raise ValueError(f"site slug {site.slug!r} already taken")
            self._accounts[key] = account
        return account

    def get_account(self, email: str) -> Account | None:
        with self._lock:
            return self._accounts.get(email.lower())

    def authenticate(self, email: str, password: str) -> Account | None:
        account = self.get_account(email)
        if account is None:
            # Spend the same time as a real check so unknown emails are not cheaper.
            _hash_password(password, b"0" * 16)
            return None
        candidate = _hash_password(password, account.password_salt)
        return account if hmac.compare_digest(candidate, account.password_hash) else None

    def site_by_slug(self, slug: str) -> Site | None:
        with self._lock:
            return next(
                (a.site for a in self._accounts.values() if a.site.slug == slug),
                None,
            )

    def subscribe(self, email: str, plan_id: str) -> Account:
        """Put the account on a plan; paying also publishes its site."""
        if plan_by_id(plan_id) is None:
            raise ValueError(f"unknown plan {plan_id!r}")
        with self._lock:
            account = self._accounts[email.lower()]
            account.plan_id = plan_id
            account.site.published = True
            return account

    def publish(self, email: str) -> Account:
        with self._lock:
            account = self._accounts[email.lower()]
            account.site.published = True
            return account


def seeded_store() -> Store:
    """A store holding the synthetic monitoring accounts the golden flows use."""
    store = Store()
    store.add_account(
        ONBOARDED_EMAIL,
        ONBOARDED_PASSWORD,
        site_name="Acme Bakery",
        slug="acme-bakery",
        hero="Fresh bread every morning, baked around the corner.",
        about="Acme Bakery has kneaded, proofed and baked by hand since 1987. "
        "Sourdough, rye and the best cinnamon buns in town.",
        onboarding_complete=True,
    )
    store.add_account(
        PAID_EMAIL,
        PAID_PASSWORD,
        site_name="Nimbus Studio",
        slug="nimbus-studio",
        hero="Design that floats above the rest.",
        about="Nimbus Studio is a two-person design practice making brands, "
        "websites and print for small companies with big ideas.",
        onboarding_complete=True,
        plan_id="pro",
        published=True,
    )
    return store
