"""Goldwatch's benchmark harness: `make bench` or `python -m bench [names]`."""
