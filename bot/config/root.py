"""The top of the document: `global`, `route`, `receivers`, `inhibit_rules`, time intervals."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from bot.config.receivers import HTTPClientConfig, Receiver
from bot.config.route import InhibitRuleModel, RouteModel
from bot.config.timeintervals import NamedTimeInterval
from bot.config.types import Bool, Duration, SecretField, Strict, Text

DEFAULT_RESOLVE_TIMEOUT = 300.0
DEFAULT_PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"


class GlobalConfig(Strict):
    resolve_timeout: Duration = DEFAULT_RESOLVE_TIMEOUT
    http_config: HTTPClientConfig | None = None
    slack_api_url: SecretField = None
    slack_api_url_file: Text = ""
    slack_app_token: SecretField = None
    slack_app_token_file: Text = ""
    slack_app_url: Text = ""
    pagerduty_url: Text = DEFAULT_PAGERDUTY_URL
    # Accepted for compatibility; the integrations they serve are not supported by the bot.
    smtp_from: Text = ""
    smtp_hello: Text = "localhost"
    smtp_smarthost: Text = ""
    smtp_auth_username: Text = ""
    smtp_auth_password: SecretField = None
    smtp_auth_password_file: Text = ""
    smtp_auth_secret: SecretField = None
    smtp_auth_identity: Text = ""
    smtp_require_tls: Bool = True
    opsgenie_api_url: Text = ""
    opsgenie_api_key: SecretField = None
    opsgenie_api_key_file: Text = ""
    wechat_api_url: Text = ""
    wechat_api_secret: SecretField = None
    wechat_api_corp_id: Text = ""
    victorops_api_url: Text = ""
    victorops_api_key: SecretField = None
    victorops_api_key_file: Text = ""
    telegram_api_url: Text = ""
    webex_api_url: Text = ""
    jira_api_url: Text = ""
    rocketchat_api_url: Text = ""
    rocketchat_token: SecretField = None
    rocketchat_token_file: Text = ""
    rocketchat_token_id: SecretField = None
    rocketchat_token_id_file: Text = ""


class AlertmanagerConfig(Strict):
    global_: GlobalConfig | None = Field(None, alias="global")
    route: RouteModel | None = None
    inhibit_rules: list[InhibitRuleModel] = []
    receivers: list[Receiver] = []
    templates: list[Text] = []
    mute_time_intervals: list[NamedTimeInterval] = []
    time_intervals: list[NamedTimeInterval] = []
    tracing: dict[str, Any] | None = None

    @field_validator("inhibit_rules", "receivers", "templates", "mute_time_intervals", "time_intervals", mode="before")
    @classmethod
    def _null_is_empty(cls, v: object) -> object:
        return [] if v is None else v

    @property
    def global_config(self) -> GlobalConfig:
        return self.global_ if self.global_ is not None else _DEFAULT_GLOBAL

    def receiver(self, name: str) -> Receiver | None:
        return next((r for r in self.receivers if r.name == name), None)


_DEFAULT_GLOBAL = GlobalConfig()
