"""Receivers and their integrations, in Alertmanager's schema.

The bot delivers to `webhook_configs`, `slack_configs` and `pagerduty_configs`. Every other
Alertmanager integration is accepted (so an existing config loads) and reported as
unsupported by `check-config` and at start-up; nothing is silently dropped.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from bot.config.types import Bool, SecretField, Strict, Text


class BasicAuth(Strict):
    username: Text = ""
    username_file: Text = ""
    password: SecretField = None
    password_file: Text = ""


class Authorization(Strict):
    type: Text = "Bearer"
    credentials: SecretField = None
    credentials_file: Text = ""


class TLSConfig(Strict):
    ca: Text = ""
    cert: Text = ""
    key: SecretField = None
    ca_file: Text = ""
    cert_file: Text = ""
    key_file: Text = ""
    server_name: Text = ""
    insecure_skip_verify: Bool = False
    min_version: Text = ""
    max_version: Text = ""


class HTTPClientConfig(Strict):
    """Prometheus's common HTTP client config, as every Alertmanager integration takes it."""

    basic_auth: BasicAuth | None = None
    authorization: Authorization | None = None
    oauth2: dict[str, Any] | None = None
    bearer_token: SecretField = None
    bearer_token_file: Text = ""
    tls_config: TLSConfig | None = None
    proxy_url: Text = ""
    no_proxy: Text = ""
    proxy_from_environment: Bool = False
    proxy_connect_header: dict[str, Any] | None = None
    follow_redirects: Bool = True
    enable_http2: Bool = True


class WebhookConfig(Strict):
    send_resolved: Bool = True
    http_config: HTTPClientConfig | None = None
    url: SecretField = None
    url_file: Text = ""
    max_alerts: int = Field(0, ge=0)
    timeout: Text = ""


class SlackField(Strict):
    title: Text = ""
    value: Text = ""
    short: Bool | None = None


class SlackConfirmation(Strict):
    text: Text = ""
    title: Text = ""
    ok_text: Text = ""
    dismiss_text: Text = ""


class SlackAction(Strict):
    type: Text = ""
    text: Text = ""
    url: Text = ""
    style: Text = ""
    name: Text = ""
    value: Text = ""
    confirm: SlackConfirmation | None = None


class SlackConfig(Strict):
    send_resolved: Bool = False
    http_config: HTTPClientConfig | None = None
    api_url: SecretField = None
    api_url_file: Text = ""
    app_token: SecretField = None
    app_token_file: Text = ""
    app_url: Text = ""
    update_message: Bool = False
    timeout: Text = ""
    channel: Text = ""
    username: Text = '{{ template "slack.default.username" . }}'
    color: Text = '{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}'
    title: Text = '{{ template "slack.default.title" . }}'
    title_link: Text = '{{ template "slack.default.titlelink" . }}'
    pretext: Text = '{{ template "slack.default.pretext" . }}'
    text: Text = '{{ template "slack.default.text" . }}'
    message_text: Text = ""
    fields: list[SlackField] = []
    short_fields: Bool = False
    footer: Text = '{{ template "slack.default.footer" . }}'
    fallback: Text = '{{ template "slack.default.fallback" . }}'
    callback_id: Text = '{{ template "slack.default.callbackid" . }}'
    icon_emoji: Text = '{{ template "slack.default.iconemoji" . }}'
    icon_url: Text = '{{ template "slack.default.iconurl" . }}'
    image_url: Text = ""
    thumb_url: Text = ""
    link_names: Bool = False
    mrkdwn_in: list[Text] = ["fallback", "pretext", "text"]
    actions: list[SlackAction] = []


class PagerdutyImage(Strict):
    src: Text = ""
    alt: Text = ""
    href: Text = ""


class PagerdutyLink(Strict):
    href: Text = ""
    text: Text = ""


class PagerdutyConfig(Strict):
    send_resolved: Bool = True
    http_config: HTTPClientConfig | None = None
    service_key: SecretField = None
    service_key_file: Text = ""
    routing_key: SecretField = None
    routing_key_file: Text = ""
    url: Text = ""
    client: Text = '{{ template "pagerduty.default.client" . }}'
    client_url: Text = '{{ template "pagerduty.default.clientURL" . }}'
    description: Text = '{{ template "pagerduty.default.description" .}}'
    details: dict[str, Text] = {}
    images: list[PagerdutyImage] = []
    links: list[PagerdutyLink] = []
    source: Text = ""
    severity: Text = ""
    class_: Text = Field("", alias="class")
    component: Text = ""
    group: Text = ""
    timeout: Text = ""


SUPPORTED_INTEGRATIONS = ("webhook_configs", "slack_configs", "pagerduty_configs")
UNSUPPORTED_INTEGRATIONS = (
    "discord_configs", "email_configs", "msteams_configs", "msteamsv2_configs", "opsgenie_configs",
    "pushover_configs", "sns_configs", "telegram_configs", "victorops_configs", "webex_configs",
    "wechat_configs", "jira_configs", "rocketchat_configs", "incidentio_configs", "mattermost_configs",
)


class Receiver(Strict):
    name: Text = ""
    webhook_configs: list[WebhookConfig] = []
    slack_configs: list[SlackConfig] = []
    pagerduty_configs: list[PagerdutyConfig] = []
    # Accepted so that an Alertmanager config loads; reported as unsupported.
    discord_configs: list[dict[str, Any]] = []
    email_configs: list[dict[str, Any]] = []
    msteams_configs: list[dict[str, Any]] = []
    msteamsv2_configs: list[dict[str, Any]] = []
    opsgenie_configs: list[dict[str, Any]] = []
    pushover_configs: list[dict[str, Any]] = []
    sns_configs: list[dict[str, Any]] = []
    telegram_configs: list[dict[str, Any]] = []
    victorops_configs: list[dict[str, Any]] = []
    webex_configs: list[dict[str, Any]] = []
    wechat_configs: list[dict[str, Any]] = []
    jira_configs: list[dict[str, Any]] = []
    rocketchat_configs: list[dict[str, Any]] = []
    incidentio_configs: list[dict[str, Any]] = []
    mattermost_configs: list[dict[str, Any]] = []

    def unsupported(self) -> list[tuple[str, int]]:
        """(integration key, count) for each unsupported integration this receiver has."""
        return [(k, len(getattr(self, k))) for k in UNSUPPORTED_INTEGRATIONS if getattr(self, k)]
