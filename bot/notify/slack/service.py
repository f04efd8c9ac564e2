"""The Slack service: one per bot. It owns the Web API clients (slack-sdk `AsyncWebClient` on
the bot's long-lived aiohttp session), the per-channel pacer, the message extension and its
sender, the runbook catalog, Slack's metrics and the Slack part of the bot's status.

`service_for(http)` gives the bot's one service (one per HttpClient, i.e. per running
server); `build_integrations` asks it for the `slack_configs` integrations, and each
integration brings the message extension, which the engine adopts. The server only passes
its metrics registry, once, so that Slack's metrics are on /metrics:

    service_for(http, registry=metrics.registry)

`integration(receiver, index, cfg)` picks, per slack_configs entry: the Web API with the bot
token (config `app_token` > global `slack_app_token` > SLACK_BOT_TOKEN); else the entry's
incoming webhook (`api_url`/`api_url_file`, or the global ones), with a warning that it
cannot edit messages; else a dry run that logs where the message would have gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from bot.config import Config
from bot.config.receivers import SlackConfig
from bot.engine.alert import Alert
from bot.notify.base import Integration
from bot.notify.dryrun import DryRunIntegration
from bot.notify.http import HttpClient, read_secret_file
from bot.notify.slack.api import AUTH_ERRORS, CallResult, SlackApi, proxy_for
from bot.notify.slack.extension import SlackNotifier
from bot.notify.slack.integration import IncomingWebhookIntegration, SlackIntegration
from bot.notify.slack.pacing import Pacer
from bot.notify.slack.sender import Sender
from bot.notify.slack.settings import DEFAULT_API_URL, SlackSettings
from bot.notify.slack.state import CHANNEL
from bot.notify.slack.view import RUNBOOK_SAMPLE, QueryRef, RunbookInfo, common_labels
from bot.templates import Templates

log = logging.getLogger("alertbot.slack")

HINTS = {
    "not_in_channel": "invite the bot to the channel (/invite @<bot name>)",
    "channel_not_found": "check the channel name; private channels need the bot invited first",
    "is_archived": "the channel is archived: unarchive it or route to another",
    "invalid_auth": "the bot token is wrong: check SLACK_BOT_TOKEN",
    "not_authed": "no bot token reached Slack: check SLACK_BOT_TOKEN",
    "token_revoked": "the bot token was revoked: reinstall the app and update SLACK_BOT_TOKEN",
    "account_inactive": "the app's workspace or user is deactivated",
    "missing_scope": "add the chat:write scope (and chat:write.customize for username/icon) and reinstall",
}


class SlackMetrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        r = registry or CollectorRegistry()
        self.calls = Counter("alertbot_slack_api_calls", "Slack Web API calls, by method and result (ok, or "
                             "Slack's error code).", ["method", "result"], registry=r)
        self.rate_limited = Counter("alertbot_slack_rate_limited", "Slack answers HTTP 429, by method.", ["method"],
                                    registry=r)
        self.pace_wait = Histogram("alertbot_slack_pace_wait_seconds", "Time a Slack call waited for its channel's "
                                   "pace or a Retry-After.", buckets=(0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),
                                   registry=r)
        self.call_seconds = Histogram("alertbot_slack_api_call_seconds", "Duration of one Slack Web API call.",
                                      ["method"], registry=r)
        self.webhook_seconds = Histogram("alertbot_slack_webhook_seconds", "Duration of one incoming-webhook post.",
                                         registry=r)
        self.permanent = Counter("alertbot_slack_permanent_errors", "Slack calls refused for good, by error: "
                                 "the message or reply is not delivered.", ["error"], registry=r)
        self.channel_ok = Gauge("alertbot_slack_channel_ok", "0 while the last call into a channel failed for good "
                                "(see the bot's log for why), 1 once one succeeds.", ["channel"], registry=r)
        self.auth_ok = Gauge("alertbot_slack_auth_ok", "1 when auth.test accepted the bot token at start, 0 when "
                             "it refused it.", registry=r)


class SlackService:
    def __init__(self, settings: SlackSettings, http: HttpClient | None = None, *,
                 registry: CollectorRegistry | None = None, runbooks_dir: str | None = None) -> None:
        self.settings = settings
        self.http = http
        self.metrics = SlackMetrics(registry)
        self.pacer = Pacer(settings.channel_rate, settings.channel_burst, canonical=self._canonical)
        self.notifier = SlackNotifier(self)
        self.sender = Sender(self)
        self._apis: dict[tuple[str, str], SlackApi] = {}
        self._config: Config | None = None
        self._templates: Templates | None = None
        self._catalog: Any = None
        self._runbooks_dir = runbooks_dir
        self._problems: dict[str, dict[str, Any]] = {}
        self._names: dict[str, str] | None = None  # channel id -> the name posts use (pacing key)
        self._said: set[str] = set()
        self.auth: dict[str, Any] = {}
        self._auth_task: asyncio.Task | None = None
        for problem in settings.problems:
            log.error("Slack setting refused: %s", problem)

    @classmethod
    def from_env(cls, http: HttpClient | None, *, settings: Any = None,
                 registry: CollectorRegistry | None = None) -> SlackService:
        """Settings from the environment (a bad one is logged, and its default used)."""
        return cls(SlackSettings.from_env(settings=settings), http, registry=registry)

    # ------------------------------------------------------------------ wiring
    def attach(self, engine: Any) -> None:
        """For an engine built without the Slack integrations (tests, tools): adopt by hand."""
        if self.notifier not in engine.extensions:
            engine.extensions = [e for e in engine.extensions if e.name != self.notifier.name] + [self.notifier]
        self.notifier.attach(engine)

    def attached(self, engine: Any) -> None:
        """The engine adopted the message extension: check the token, in the background."""
        if self.settings.token and self._auth_task is None:
            with contextlib.suppress(RuntimeError):
                self._auth_task = asyncio.get_running_loop().create_task(self.check_auth(), name="slack-auth-test")

    def prepare(self, config: Config) -> None:
        """Called by build_integrations with the configuration it builds from (also on reload)."""
        self._config = config
        self._templates = config.templates
        self._catalog = None  # loaded again, with this configuration's templates, on first use

    def templates(self) -> Templates:
        if self.notifier.engine is not None:
            return self.notifier.engine.config.templates
        return self._templates or Templates.default()

    def integration(self, receiver: str, index: int, cfg: SlackConfig) -> Integration:
        g = self._config.model.global_ if self._config is not None else None
        token, token_from = self._token_for(cfg, g)
        if token:
            api = self._api(token, self._base_url(cfg, g))
            integ = SlackIntegration(self, receiver, index, cfg, api)
            self._say_once(logging.INFO, "receiver %s: slack[%d] -> %s, bot token from %s", receiver, index,
                           integ.target, token_from)
            return integ
        url, url_file = self._webhook_for(cfg, g)
        if url or url_file:
            if url_file and not _readable(url_file):
                return DryRunIntegration("slack", receiver, index, cfg.send_resolved,
                                         f"Slack channel {cfg.channel or '(the webhook default)'}",
                                         f"SLACK_BOT_TOKEN is not set and the webhook URL file {url_file} "
                                         "cannot be read")
            self._say_once(logging.WARNING, "receiver %s: slack[%d] posts through an incoming webhook because no "
                           "bot token is set (SLACK_BOT_TOKEN): each notification is a new message — no in-place "
                           "updates, no thread, no buttons", receiver, index)
            return IncomingWebhookIntegration(self, receiver, index, cfg, url, url_file, self.http, self.pacer)
        return DryRunIntegration("slack", receiver, index, cfg.send_resolved,
                                 f"Slack channel {cfg.channel or self.settings.default_channel}",
                                 "SLACK_BOT_TOKEN is not set")

    def _say_once(self, level: int, message: str, *args: Any) -> None:
        """Start-up lines (integrations are built more than once: to describe them, then to run)."""
        key = message % args
        if key not in self._said:
            self._said.add(key)
            log.log(level, message, *args)

    def _token_for(self, cfg: SlackConfig, g: Any) -> tuple[str | None, str]:
        if cfg.app_token and cfg.app_token.reveal():
            return cfg.app_token.reveal(), "the config's app_token"
        if cfg.app_token_file:
            return _read(cfg.app_token_file), f"app_token_file {cfg.app_token_file}"
        if g is not None and g.slack_app_token and g.slack_app_token.reveal():
            return g.slack_app_token.reveal(), "global slack_app_token"
        if g is not None and g.slack_app_token_file:
            return _read(g.slack_app_token_file), f"global slack_app_token_file {g.slack_app_token_file}"
        return self.settings.token, self.settings.token_source

    def _base_url(self, cfg: SlackConfig, g: Any) -> str:
        if self.settings.api_url != DEFAULT_API_URL:
            return self.settings.api_url
        app_url = cfg.app_url or (g.slack_app_url if g is not None else "")
        if app_url:
            # Alertmanager's app_url is chat.postMessage's own URL; the Web API lives beside it.
            return app_url.rsplit("/", 1)[0] + "/" if app_url.rstrip("/").endswith("chat.postMessage") else app_url
        return self.settings.api_url

    def _webhook_for(self, cfg: SlackConfig, g: Any) -> tuple[str | None, str | None]:
        if cfg.api_url and cfg.api_url.reveal():
            return cfg.api_url.reveal(), None
        if cfg.api_url_file:
            return None, cfg.api_url_file
        if g is not None and g.slack_api_url and g.slack_api_url.reveal():
            return g.slack_api_url.reveal(), None
        if g is not None and g.slack_api_url_file:
            return None, g.slack_api_url_file
        return None, None

    def _api(self, token: str, base_url: str) -> SlackApi:
        key = (token, base_url)
        api = self._apis.get(key)
        if api is None:
            session = self.http.session if self.http is not None else None
            api = self._apis[key] = SlackApi(token, base_url, session, self.pacer, timeout=self.settings.timeout_s,
                                             proxy=proxy_for(base_url, self.settings.proxy), observer=self._timed)
        return api

    def _canonical(self, channel: str) -> str:
        """A channel's pacing key, the same whether a call names it (posts) or gives its id
        (edits, replies): the name it was first posted to by, once the id is known."""
        if self._names is None:
            engine = self.notifier.engine
            if engine is None or not engine.ready:  # its state (and the ids it learnt) not loaded yet
                return channel
            self._names = {}
            for (ns, name), value in list(self.notifier.engine.kv.items()):
                if ns == CHANNEL and isinstance(value, dict) and value.get("id"):
                    self._names.setdefault(value["id"], name)
        return self._names.get(channel, channel)

    def learn_channel(self, name: str, channel_id: str) -> None:
        """A post to `name` went to `channel_id` (the extension records it in the store too)."""
        if self._names is None:
            self._canonical(channel_id)
        if self._names is not None and name != channel_id:
            self._names.setdefault(channel_id, name)

    # ------------------------------------------------------------------ runbooks
    def runbook_info(self, alerts: Sequence[Alert]) -> RunbookInfo | None:
        try:
            catalog = self._load_catalog()
            if catalog is None or not alerts:
                return None
            from bot.runbooks import resolve_group, view

            sample = list(alerts[:RUNBOOK_SAMPLE])
            chosen = resolve_group(catalog, sample).runbook
            labels = common_labels(sample)
            annotations = _common_annotations(sample)
            v = view(catalog, chosen, labels, annotations)
            return RunbookInfo(found=v.found, title=v.title, url=v.url, name=v.name, owner=v.owner,
                               steps=list(v.first_steps), more_steps=v.more_steps,
                               queries=[QueryRef(q.index, q.name) for q in v.queries], hint=v.hint)
        except Exception:  # a runbook problem never holds a notification back
            log.exception("choosing the runbook failed; the message goes without one")
            return None

    def _load_catalog(self) -> Any:
        if self._catalog is None:
            from bot.runbooks import Catalog

            catalog = Catalog.load(self._runbooks_dir, templates=self.templates(), quiet=True)
            self._catalog = catalog if catalog.directory is not None and catalog.directory.is_dir() else False
        return self._catalog or None

    # ------------------------------------------------------------------ status and metrics
    def _timed(self, r: CallResult, seconds: float) -> None:
        m = self.metrics
        m.calls.labels(r.method, "ok" if r.ok else (r.error or f"http_{r.status}")).inc()
        m.call_seconds.labels(r.method).observe(seconds)
        m.pace_wait.observe(r.waited)
        if r.status == 429:
            m.rate_limited.labels(r.method).inc()

    def observe(self, r: CallResult, channel: str) -> None:
        """The outcome of a call into `channel`: clears or records the channel's problem."""
        if r.ok:
            if channel in self._problems:
                log.info("Slack channel %s works again", channel)
                del self._problems[channel]
            if channel:
                self.metrics.channel_ok.labels(channel).set(1)
            return
        if r.kind == "permanent":
            self.report_failure(channel, r.error, r.method)

    def report_failure(self, channel: str, error: str, method: str = "") -> None:
        self.metrics.permanent.labels(error).inc()
        if channel:
            self.metrics.channel_ok.labels(channel).set(0)
        known = self._problems.get(channel)
        self._problems[channel] = {"error": error, "method": method, "since": (known or {}).get("since", time.time()),
                                   "hint": HINTS.get(error, "")}
        if known is None or known["error"] != error:
            log.error("Slack refused %s in %s: %s%s", method or "a message", channel or "(no channel)", error,
                      f" — {HINTS[error]}" if error in HINTS else "")
        if error in AUTH_ERRORS:
            self.metrics.auth_ok.set(0)
            self.auth = {**self.auth, "ok": False, "error": error}

    def status(self) -> dict[str, Any]:
        """The Slack part of the bot's status: token check, and every channel that refuses messages."""
        return {
            "token": "set" if self.settings.token else "not set",
            "token_source": self.settings.token_source,
            "api_url": self.settings.api_url,
            "auth": dict(self.auth),
            "channels_failing": {c: dict(p) for c, p in sorted(self._problems.items())},
        }

    async def check_auth(self) -> dict[str, Any]:
        """auth.test with the bot token: logs which workspace and bot user the token is."""
        if not self.settings.token:
            return {}
        api = self._api(self.settings.token, self.settings.api_url)
        r = await api.call("auth.test", paced=False)
        if r.ok:
            self.auth = {"ok": True, "team": r.data.get("team"), "team_id": r.data.get("team_id"),
                         "user": r.data.get("user"), "user_id": r.data.get("user_id"), "bot_id": r.data.get("bot_id")}
            self.metrics.auth_ok.set(1)
            log.info("Slack token accepted: workspace %s, bot user %s", r.data.get("team"), r.data.get("user"))
        else:
            self.auth = {"ok": False, "error": r.error}
            if r.kind == "permanent":
                self.metrics.auth_ok.set(0)
                log.error("Slack refused the bot token (auth.test: %s)%s", r.error,
                          f" — {HINTS[r.error]}" if r.error in HINTS else "")
            else:
                log.warning("could not check the Slack token at start (%s); messages will be retried",
                            r.describe())
        return self.auth


def _common_annotations(alerts: Sequence[Alert]) -> dict[str, str]:
    if not alerts:
        return {}
    out = dict(alerts[0].annotations)
    for a in alerts[1:]:
        for k in list(out):
            if a.annotations.get(k) != out[k]:
                del out[k]
    return out


def _read(path: str) -> str | None:
    try:
        return read_secret_file(path) or None
    except OSError as exc:
        log.error("cannot read the Slack token file %s: %s", path, exc.strerror or exc)
        return None


def _readable(path: str) -> bool:
    try:
        with open(path, encoding="utf-8"):
            return True
    except OSError:
        return False


_SERVICES: weakref.WeakKeyDictionary[Any, SlackService] = weakref.WeakKeyDictionary()


def service_for(http: HttpClient | None, *, registry: CollectorRegistry | None = None) -> SlackService:
    """The bot's Slack service for this HTTP client (created on first use, from the environment)."""
    key = http if http is not None else _NO_HTTP
    service = _SERVICES.get(key)
    if service is None:
        service = _SERVICES[key] = SlackService.from_env(http, registry=registry)
    return service


class _NoHttp:
    pass


_NO_HTTP = _NoHttp()
