# The runner's report plugin; it does nothing unless a run passes --goldwatch-report.
pytest_plugins = ["runner.pytest_plugin"]
