"""The `goldwatch` command."""

from __future__ import annotations

import logging
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from runner.settings import ConfigError, Settings, load_settings

app = typer.Typer(
    help="Goldwatch: synthetic monitoring of a SaaS product's golden flows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")
user_app = typer.Typer(help="Dashboard and API accounts.", no_args_is_help=True)
app.add_typer(user_app, name="user")
token_app = typer.Typer(help="API bearer tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def setup_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S%z",
    )
    for noisy in ("httpx", "httpcore", "alembic", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def fail_usage(message: str) -> NoReturn:
    typer.echo(f"goldwatch: {message}", err=True)
    raise typer.Exit(EXIT_USAGE)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        fail_usage(str(error))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the newest schema."""
    from runner.db import upgrade

    settings = settings_or_exit()
    upgrade(settings.database_url)
    typer.echo(f"database is up to date: {settings.database_url}")


@app.command()
def run(
    check: Annotated[
        str,
        typer.Argument(help="api_health, web_health, golden_flows, all, or an extra check's name"),
    ],
) -> None:
    """Run checks once now, recorded like scheduled runs. Exit 0: all passed, 1: one failed."""
    from runner.runtime import Runtime

    setup_logging(logging.WARNING)
    settings = settings_or_exit()
    try:
        runtime = Runtime.start(settings)
        checks = runtime.select(check)
    except ConfigError as error:
        fail_usage(str(error))
    # Alerts go out once every check has been recorded, so an API-down alert can list the web
    # and flow incidents it explains.
    runtime.pipeline.notify = None
    failed = False
    for item in checks:
        if item.name == "golden_flows":
            typer.echo("running golden flows (headless Chromium)...", err=True)
        outcome = runtime.pipeline.run(item, trigger="manual")
        if outcome is None:
            raise typer.Exit(EXIT_FAILED)
        failed |= outcome.run.status != "success"
        typer.echo(runtime.describe(outcome))
    runtime.flush_alerts()
    raise typer.Exit(EXIT_FAILED if failed else EXIT_OK)


@app.command()
def scheduler() -> None:
    """Run the scheduler alone (standby while another scheduler holds the lease)."""
    from runner.runtime import Runtime
    from runner.scheduler import run_forever

    setup_logging()
    settings = settings_or_exit()
    try:
        runtime = Runtime.start(settings)
    except ConfigError as error:
        fail_usage(str(error))
    run_forever(runtime)


@app.command("demo-target")
def demo_target(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1")] = 8100,
) -> None:
    """Serve the demo target SaaS (Pagecraft) with its fault switches at /__demo."""
    from demo.server import serve

    setup_logging()
    serve(port)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    no_scheduler: Annotated[
        bool, typer.Option("--no-scheduler", help="API and dashboard only (extra replicas)")
    ] = False,
) -> None:
    """API + dashboard + scheduler in one process (the scheduler waits as standby while
    another process holds the lease)."""
    from api.server import serve as serve_app

    setup_logging()
    settings = settings_or_exit()
    try:
        serve_app(
            settings,
            host,
            port,
            scheduler=not no_scheduler,
            announce=lambda url: typer.echo(f"goldwatch: dashboard at {url}/dashboard/monitoring"),
        )
    except ConfigError as error:
        fail_usage(str(error))


class Role(StrEnum):
    owner = "owner"
    admin = "admin"
    staff = "staff"


def read_password() -> str:
    """From a prompt (typed twice, hidden) on a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


@user_app.command("add")
def user_add(
    email: Annotated[str, typer.Argument(help="The account's email (its login)")],
    role: Annotated[Role, typer.Option(help="owner and admin see monitoring; staff do not")],
    tenant: Annotated[
        str | None, typer.Option(help="Tenant id; without it the account is platform-wide")
    ] = None,
) -> None:
    """Add a dashboard account; the password comes from a prompt, or stdin when piped."""
    from api.users import UserError, add_user
    from runner.db import get_engine, upgrade

    settings = settings_or_exit()
    upgrade(settings.database_url)
    try:
        user = add_user(
            get_engine(settings.database_url), email, read_password(), role.value, tenant
        )
    except UserError as error:
        fail_usage(str(error))
    where = f"tenant {user.tenant_id}" if user.tenant_id else "platform"
    typer.echo(f"added {user.email} ({user.role}, {where})")


@token_app.command("create")
def token_create(
    email: Annotated[str, typer.Argument(help="The account the token acts as")],
) -> None:
    """Create a bearer token and print it once (only its hash is stored)."""
    from api.users import UserError, create_token
    from runner.db import get_engine, upgrade

    settings = settings_or_exit()
    upgrade(settings.database_url)
    try:
        token = create_token(get_engine(settings.database_url), email)
    except UserError as error:
        fail_usage(str(error))
    typer.echo(token)
    typer.echo("Shown once; send it as `Authorization: Bearer <token>`.", err=True)


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port of the dashboard on 127.0.0.1")] = 8000,
    target_port: Annotated[int, typer.Option(help="Port of the demo target (0: a free one)")] = 0,
    data_dir: Annotated[
        Path, typer.Option(help="Folder of the demo database, screenshots and checks file")
    ] = Path("goldwatch-demo"),
    fresh: Annotated[bool, typer.Option("--fresh", help="Start from an empty database")] = False,
) -> None:
    """The whole product on loopback: demo target, scheduler, API and dashboard, seeded users."""
    from api.demo import run_demo

    setup_logging()
    try:
        run_demo(port, target_port, data_dir, fresh, say=typer.echo)
    except ConfigError as error:
        fail_usage(str(error))


@app.command()
def prove(
    fast: Annotated[
        bool, typer.Option("--fast", help="Skip ./verify.sh and ./smoke.sh (the story only)")
    ] = False,
    full: Annotated[
        bool, typer.Option("--full", help="Run the whole ./verify.sh (with the test suite)")
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option(help="Folder that receives proof-<timestamp>/ (default: reports/)"),
    ] = None,
) -> None:
    """Run the acceptance story against the demo target and write the proof report.

    Demo target, SMTP sink, `goldwatch serve` with short intervals, a fault switched on and off,
    Playwright screenshots; exit 1 naming the first step that did not happen."""
    from api.prove import ProveOptions
    from api.prove import prove as run_proof
    from runner.settings import PROJECT_ROOT

    if fast and full:
        fail_usage("--fast and --full exclude each other")
    setup_logging(logging.WARNING)
    logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd's per-connection lines
    flags = [flag for flag, on in (("--fast", fast), ("--full", full)) if on]
    command = " ".join(["goldwatch prove", *flags, *(["--output", str(output)] if output else [])])
    options = ProveOptions(
        output=output or PROJECT_ROOT / "reports", command=command, fast=fast, full=full
    )
    raise typer.Exit(run_proof(options))


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
