"""Fault injection against the real `alertbot serve` (the hardening issue's list).

Each scenario starts the bot as the README starts it (a front process and the engine's on two
or more cores; `--ingest-workers 0` where the scenario is about the engine's own event loop),
drives it with a load of alerts and an "unrelated" probe alert every second, injects a fault,
and asserts the four promises with `tests.faults.harness.check` (the exact rules are in
harness.py's docstring):

    test_template_bombs.py   30 alerts with nested-range runbook annotations on a Slack route
    test_readers.py          three clients polling GET /api/v2/alerts over 50,000 alerts
    test_postgresql.py       pg_ctl stop -m fast / -m immediate during ingest, start 4 s later
    test_sqlite.py           chattr +i on the database and WAL for 15 s; the disk full for 10 s

Each scenario (and each parameter) is its own xdist group, so they spread over the workers;
each takes 40-90 s. The SQLite ones need root (chattr, mount -t tmpfs), as scripts/test.sh runs.

    scripts/test.sh tests/faults
    scripts/test.sh tests/faults/test_postgresql.py -k immediate

A failure prints the problems and the figures (probe delays, lost alerts, unnotified groups,
repeats, readiness, retry lines); a passing run prints them with `-rA`.
"""
