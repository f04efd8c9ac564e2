"""The running configuration as `GET /api/v2/status` shows it (`config.original`).

The file's own text, comments and all, with every secret value replaced by `<secret>` (as
Alertmanager prints secrets; webhook URLs keep their scheme and host, see `_url_mask`).
`${ENV}` references are kept: they name a secret, they are not one. amtool parses this text with Alertmanager's loader (`amtool config routes`), so it stays
valid YAML in Alertmanager's schema.
"""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import BaseModel

from bot.config import Config
from bot.config.receivers import WebhookConfig
from bot.config.types import Secret
from bot.notify.http import url_host

MASK = "<secret>"


def _field_for(model: BaseModel, key: str) -> str | None:
    fields = type(model).model_fields
    if key in fields:
        return key
    for name, info in fields.items():
        if info.alias == key:
            return name
    return None


Span = tuple[int, int, str]  # start, end, replacement


def _url_mask(secret: Secret) -> str:
    """A webhook URL stays a URL: Alertmanager 0.25 parses `webhook_configs.url` as a plain
    URL (not a secret), so amtool could not load `<secret>` there. Shown as url_origin shows it
    everywhere else (scheme, host and port kept; path, query and credentials masked), with the
    path always masked here, so that the page does not tell whether a URL has one."""
    if secret.env_name is None:
        where = url_host(secret.reveal())
        if where is not None and where.startswith(("http://", "https://")):
            return f"{where}/{MASK}"
    return f"http://masked.invalid/{MASK}"


def _secret_spans(node: yaml.Node, value: Any, out: list[Span], url: bool = False) -> None:
    if isinstance(value, Secret):
        if isinstance(node, yaml.ScalarNode) and (url or value.env_name is None):
            out.append((node.start_mark.index, node.end_mark.index, _url_mask(value) if url else MASK))
        return
    if isinstance(value, BaseModel) and isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            name = _field_for(value, key_node.value)
            if name is not None:
                is_url = isinstance(value, WebhookConfig) and name == "url"
                _secret_spans(value_node, getattr(value, name, None), out, is_url)
    elif isinstance(value, (list, tuple)) and isinstance(node, yaml.SequenceNode):
        for item_node, item in zip(node.value, value, strict=False):
            _secret_spans(item_node, item, out)
    elif isinstance(value, dict) and isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value in value:
                _secret_spans(value_node, value[key_node.value], out)


def redacted_text(config: Config) -> str:
    text = config.text
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return text  # it loaded once, so this does not happen; never fail a status request
    if root is None:
        return text
    spans: list[Span] = []
    _secret_spans(root, config.model, spans)
    for start, end, replacement in sorted(set(spans), reverse=True):
        original = text[start:end]
        tail = original[len(original.rstrip("\n")):]  # block scalars own their newlines
        text = text[:start] + replacement + tail + text[end:]
    return text
