"""`alertbot template render`: try a notification template against a recorded webhook payload.

Like `amtool template render`: the text is rendered with Alertmanager's default
templates plus the config's `templates:` files, on the data of a webhook payload
Alertmanager sent (version 4), and printed exactly as rendered.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from bot.cli.errors import UserError
from bot.cli.options import add_config, get_config


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("template", help="render notification templates",
                       description="Work with Alertmanager notification templates.")
    tsub = p.add_subparsers(dest="template_command", metavar="{render}")
    tsub.required = True
    render = tsub.add_parser(
        "render",
        help="render a template against a recorded webhook payload",
        description="Render TEMPLATE (Go text/template, as in a receiver's title/text fields) with the "
                    "default templates and the config's `templates:` files, on the data of a webhook "
                    "payload Alertmanager sent. The result is printed exactly, without a newline added.",
    )
    add_config(render)
    render.add_argument("--template", "--template.text", dest="template", required=True, metavar="TEXT",
                        help="the template text, e.g. '{{ template \"slack.default.title\" . }}'")
    render.add_argument("--data", "--template.data", dest="data", metavar="FILE",
                        help="a webhook payload (JSON) as Alertmanager sends it; - reads standard input; "
                             "without it, amtool's example data (two alerts)")
    render.add_argument("--no-check", dest="check", action="store_false",
                        help="skip the static checks and only report what fails while rendering")
    render.set_defaults(func=run_render)


def run_render(args: argparse.Namespace) -> int:
    from bot.templates import TemplateError

    templates = _load_templates(get_config(args))
    data = _read_payload(args.data) if args.data else _example_data()
    try:
        if args.check:
            templates.check(args.template)
        output = templates.render(args.template, data)
    except TemplateError as exc:
        raise UserError(str(exc)) from None
    sys.stdout.write(output)
    sys.stdout.flush()
    return 0


def _load_templates(config_path: str | None):
    from bot.templates import TemplateError, Templates

    if not config_path:
        return Templates.default()
    from bot.config import ConfigError, load_config

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        raise UserError(str(exc)) from None
    base_dir = os.path.dirname(os.path.abspath(config_path))
    try:
        return Templates.from_globs(config.model.templates, base_dir=base_dir)
    except TemplateError as exc:
        raise UserError(f"{config_path}: templates: {exc}") from None
    except OSError as exc:
        raise UserError(f"{config_path}: templates: {exc.filename}: {exc.strerror}") from None


def _example_data() -> Any:
    """amtool's data when no --template.data is given (`cli/template_render.go`, defaultData):
    two alerts, started 5 and 10 minutes ago, ending now."""
    from bot.engine.timestamp import Timestamp
    from bot.templates import TemplateData

    now = Timestamp.now()
    common_labels = {"commonlabelkey1": "commonlabelvalue1", "commonlabelkey2": "commonlabelvalue2"}
    common_notes = {"commonannotationkey1": "commonannotationvalue1", "commonannotationkey2": "commonannotationvalue2"}

    def alert(labels: dict, notes: dict, minutes: int, fp: str) -> dict:
        return {"status": "alertstatus", "labels": {**labels, **common_labels}, "annotations": {**notes, **common_notes},
                "startsAt": now.add(-60 * minutes).rfc3339nano(), "endsAt": now.rfc3339nano(),
                "generatorURL": "https://generatorurl.com", "fingerprint": fp}

    return TemplateData.from_webhook({
        "receiver": "receiver", "status": "alertstatus",
        "alerts": [alert({"label1": "value1", "label2": "value2", "instance": "foo.bar:1234"},
                         {"annotation1": "value1", "annotation2": "value2"}, 5, "fingerprint1"),
                   alert({"foo": "bar", "baz": "qux"}, {"aaa": "bbb", "ccc": "ddd"}, 10, "fingerprint2")],
        "groupLabels": {"grouplabelkey1": "grouplabelvalue1", "grouplabelkey2": "grouplabelvalue2"},
        "commonLabels": common_labels, "commonAnnotations": common_notes, "externalURL": "https://example.com",
    })


def _read_payload(path: str) -> Any:
    """The TemplateData of a webhook payload file."""
    from bot.templates import TemplateData

    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, not a JSON file") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise UserError(f"{path}: {exc.strerror or exc}") from None
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    try:
        return TemplateData.from_webhook(payload)
    except ValueError as exc:
        raise UserError(f"{path}: not an Alertmanager webhook payload: {exc}") from None
