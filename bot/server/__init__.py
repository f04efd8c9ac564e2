"""The HTTP server: Alertmanager's API v2 and health endpoints, the webhook intake, /metrics.

Alertmanager compatibility is measured against the real Alertmanager 0.25 (tests/server):
status codes, Content-Type, Allow and bodies are equal byte for byte for every request those
tests send, except where the bot deliberately follows today's Alertmanager or does better:

- Several invalid alerts in one `POST /api/v2/alerts`: messages joined with a newline, as
  today's Alertmanager (`errors.Join`); 0.25 joins them with "; ".
- Label names: any UTF-8 name by default (`--matchers-mode fallback`, today's default); with
  `--matchers-mode classic` the 0.25 rules apply and the answers are 0.25's.
- `DELETE /api/v2/silence/{unknown id}`: 404 with an empty body, as today's Alertmanager; 0.25
  answers 500 `"silence not found"` (amtool 0.25 then reports an unexpected status 404).
- `/api/v1/*`: 410 Gone with today's JSON; 0.25 still serves the deprecated v1 API.
- A `null` alert in the array (or a `null` silence matcher): Alertmanager crashes on it and
  drops the connection without an answer; the bot answers 422 `0.labels in body is required`
  (`matchers.0 in body is required`).
- Duplicate keys in one JSON object: Go reports a type error in a value a later duplicate
  overwrites; the bot's JSON parser keeps only the last value.
- Bodies over `--max-body-size` (64 MiB by default): 413 before the body is read (Alertmanager
  reads any size).
- While the database is not open or the engine is overloaded: 503 with `Retry-After`
  (Alertmanager and Prometheus retry 5xx); `/-/ready` is 503 until the state is loaded
  (Alertmanager's is always 200).
- `versionInfo.version` is the Alertmanager version whose API this is (0.25.0, so amtool 0.25
  prints no version warning); alertbot's own version is in `branch`/`revision`;
  `config.original` is the running file itself with secrets masked (Alertmanager re-marshals
  its parsed config); webhook URLs there keep scheme and host, as 0.25 parses them as URLs.

Where Alertmanager itself is not deterministic (the order of `Allow` methods, which of several
inhibiting alerts `inhibitedBy` names, the order of silences with equal times, which of several
invalid label names is reported) the bot is deterministic and the tests compare what is fixed.
"""
