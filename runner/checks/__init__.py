"""Checks: each executes against the target and returns a CheckResult; none touches the DB."""
