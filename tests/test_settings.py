"""A bad setting or configuration file stops start-up with one line naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.checks import extra
from runner.settings import ConfigError, load_settings
from tests.conftest import run_goldwatch


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("GOLDWATCH_HEALTH_INTERVAL_SECONDS", "soon", "GOLDWATCH_HEALTH_INTERVAL_SECONDS"),
        ("GOLDWATCH_SMTP_TLS", "maybe", "GOLDWATCH_SMTP_TLS"),
        ("GOLDWATCH_SMTP_PORT", "70000", "GOLDWATCH_SMTP_PORT"),
        ("GOLDWATCH_SEVERITY_OVERRIDES", "api_down=urgent", "GOLDWATCH_SEVERITY_OVERRIDES"),
        ("GOLDWATCH_CONFIG", "/nonexistent/checks.toml", "no such file"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    message = str(error.value)
    assert variable in message and expected in message
    assert "\n" not in message


def test_cli_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_goldwatch(
        "run",
        "api_health",
        env={
            "GOLDWATCH_FLOWS_INTERVAL_SECONDS": "-5",
            "GOLDWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        },
    )
    assert result.code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "GOLDWATCH_FLOWS_INTERVAL_SECONDS" in result.stderr


def test_run_without_a_target_says_which_setting(tmp_path: Path) -> None:
    result = run_goldwatch(
        "run", "golden_flows", env={"GOLDWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    )
    assert (result.code, result.stderr.strip()) == (
        2,
        "goldwatch: golden_flows needs GOLDWATCH_WEB_BASE_URL to be set",
    )


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[[check]]\nname = 'shop'\n", "check.0.url: Field required"),
        ("[[check]]\nname = 'shop'\nurl = 'ftp://x'\n", "check.0.url"),
        ("[[check]]\nname = 'api_health'\nurl = 'http://127.0.0.1/'\n", "built-in check"),
        ("[[check]\n", "invalid TOML"),
        (
            "[[check]]\nname='a'\nurl='http://127.0.0.1/'\n[[check]]\nname='a'\n"
            "url='http://127.0.0.1/'\n",
            "duplicate check name 'a'",
        ),
    ],
)
def test_bad_extra_checks_file_is_named(tmp_path: Path, toml: str, expected: str) -> None:
    path = tmp_path / "checks.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as error:
        extra.load(path)
    assert str(error.value).startswith(f"GOLDWATCH_CONFIG={path}: ")
    assert expected in str(error.value)
