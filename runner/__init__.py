"""Goldwatch runner: executes checks, records runs and decides what failures mean."""
