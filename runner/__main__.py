"""`python -m runner` is the `goldwatch` command."""

from runner.cli import main

main()
