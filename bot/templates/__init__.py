"""Alertmanager notification templates: Go's text/template, Alertmanager's data, functions and defaults.

Public API (everything else in this package is internal):

    TemplateError(Exception)
        Any template failure. `str(e)` is Go's own message; `e.name`, `e.line`,
        `e.column` (1-based, within the template's own text), `e.message` (without
        the location prefix) and `e.phase` ("parse" | "check" | "exec") locate it.

    Templates
        A template set: Alertmanager's default templates plus `templates:` files.
        Templates.default() / Templates.from_globs(patterns, base_dir)
        .check(text)                      raise TemplateError if `text` cannot parse or is
                                          statically wrong (call at config load)
        .check_set()                      the same for the `templates:` files' own definitions
        .render(text, data) -> str        render; bounded in output size, time and depth
        .render_safe(text, data, fallback=..., field=...) -> str
                                          never raises: on failure logs why and renders
                                          `fallback` (the field's default) instead
        .render_channel(text, data, default_channel=...) -> str
                                          a Slack channel; empty/invalid → default + warning

    TemplateData
        The `*template.Data` templates run on, as Alertmanager builds it:
        TemplateData.build(receiver=, alerts=[AlertSnapshot...], group_labels=,
                           external_url=, status=None)
        TemplateData.from_webhook(payload)   from a recorded webhook payload (version 4)

    AlertSnapshot(labels, annotations, starts_at, ends_at, generator_url, fingerprint, status)
        One alert as the notifier hands it to templates.

    is_valid_slack_channel(name) -> bool

Semantics follow Alertmanager 0.25 (Go 1.19 text/template, `missingkey=zero`): see
docs/templates.md for the conformance suite and every deliberate difference.
"""

from bot.templates.data import AlertSnapshot, TemplateData
from bot.templates.engine import Templates, is_valid_slack_channel
from bot.templates.errors import TemplateError

__all__ = ["AlertSnapshot", "TemplateData", "TemplateError", "Templates", "is_valid_slack_channel"]
