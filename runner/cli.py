"""The `goldwatch` command."""

from __future__ import annotations

import logging
import sys
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


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
