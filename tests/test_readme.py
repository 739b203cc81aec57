"""The README's promises that the code must keep."""

from __future__ import annotations

import re

from runner.settings import PROJECT_ROOT, settings_table

README = (PROJECT_ROOT / "README.md").read_text()


def test_settings_table_matches_the_settings_class() -> None:
    match = re.search(r"<!-- settings:start -->\n(.*?)\n<!-- settings:end -->", README, re.S)
    assert match, "README lost its settings table markers"
    assert match.group(1) == settings_table(), (
        "regenerate it: python -m runner.settings --write-readme"
    )


def test_quick_start_is_the_two_commands_ci_and_make_use() -> None:
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(make \w+)", quick_start, re.M)
    assert commands == ["make demo", "make test"]
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    assert [line for line in ci.splitlines() if line.startswith("make ")] == ["make test"]
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)


def test_every_file_the_readme_links_is_in_the_repository() -> None:
    # The benchmark summary links its report; a report renamed or pruned must not dangle.
    links = re.findall(r"\]\(([^)#:]+)\)", README)
    assert any(link.startswith("reports/bench-") for link in links)
    missing = [link for link in links if not (PROJECT_ROOT / link).exists()]
    assert missing == []
