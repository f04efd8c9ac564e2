"""Writing runbook files for tests."""

from __future__ import annotations

from pathlib import Path

BODY = """\
# {title}

## Impact

Something users notice.

## Investigation steps

1. **Look at the errors.** Which endpoints fail?

   ```promql
   # errors by endpoint
   sum by (endpoint) (rate(http_requests_total{{service="{{{{ .Labels.service }}}}", code=~"5.."}}[5m]))
   ```

2. **Check recent changes.**
   - deploys
   - config pushes

   ```promql
   changes(process_start_time_seconds{{service="{{{{ .Labels.service }}}}"}}[1h]) > 0
   ```

3. Read the logs.
4. Ask the owners.

## Mitigation

Roll back.

## Resolution

Write it down.
"""


def write_runbook(directory: Path, name: str, matchers: list[str] | str, *, title: str | None = None,
                  extra: str = "", body: str | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    title = title or name
    if isinstance(matchers, str):
        matcher_yaml = f"matchers: {matchers}\n"
    else:
        matcher_yaml = "matchers:\n" + "".join(f"  - '{m}'\n" for m in matchers)
    text = f"---\ntitle: {title}\n{matcher_yaml}{extra}---\n" + (body if body is not None else BODY.format(title=title))
    path = directory / f"{name}.md"
    path.write_text(text)
    return path
