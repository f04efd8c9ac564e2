"""Fault injection against the real `alertbot serve` (the hardening issue's list).

Each scenario starts the bot as the README starts it (a front process and the engine's on two
or more cores; `--ingest-workers 0` where the scenario is about the engine's own event loop),
drives it with a load of alerts and an "unrelated" probe alert every second, injects a fault,
and asserts the four promises with `tests.faults.harness.check` (rules in harness.py's docstring).
"""
