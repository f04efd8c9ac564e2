"""Alertmanager's semantic checks, each reported at its place in the document.

The messages are Alertmanager's own (config/config.go, config/notifiers.go); where today's
Alertmanager reworded one (the `other other labels` typo of 0.25), today's wording is used.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.config.errors import ConfigIssue
from bot.config.receivers import PagerdutyConfig, SlackConfig, WebhookConfig
from bot.config.root import AlertmanagerConfig
from bot.config.route import InhibitRuleModel, RouteModel
from bot.config.yamldoc import Path, YamlDocument
from bot.routing import goregex
from bot.routing.labels import is_classic_label_name, is_utf8_label_name
from bot.routing.matchers import MatchersMode

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


class Checker:
    def __init__(self, cfg: AlertmanagerConfig, doc: YamlDocument, mode: MatchersMode) -> None:
        self.cfg = cfg
        self.doc = doc
        self.mode = mode
        self.errors: list[ConfigIssue] = []
        self.warnings: list[ConfigIssue] = []

    def error(self, path: Path, message: str) -> None:
        self.errors.append(self.doc.issue(path, message))

    def warn(self, path: Path, message: str) -> None:
        self.warnings.append(self.doc.issue(path, message))

    def valid_label_name(self, name: str) -> bool:
        return is_classic_label_name(name) if self.mode == "classic" else is_utf8_label_name(name)

    # ------------------------------------------------------------------
    def run(self) -> None:
        cfg = self.cfg
        if cfg.route is not None:
            self.check_route_fields(cfg.route, ("route",))
        for i, rule in enumerate(cfg.inhibit_rules):
            self.check_inhibit_rule(rule, ("inhibit_rules", i))
        self.check_global()
        self.check_receivers()
        self.check_root()
        self.check_time_intervals()
        self.check_warnings()

    # per-route checks that Alertmanager runs while decoding (Route.UnmarshalYAML)
    def check_route_fields(self, route: RouteModel, path: Path) -> None:
        for i, child in enumerate(route.routes):
            self.check_route_fields(child, path + ("routes", i))
        for key in route.match or {}:
            if not is_classic_label_name(key):
                self.error(path + ("match", key), f'invalid label name "{key}"')
        for key, value in (route.match_re or {}).items():
            self.check_match_re(path + ("match_re", key), key, value)
        group_by = route.group_by_str
        if group_by is not None:
            names = [g for g in group_by if g != "..."]
            for i, g in enumerate(group_by):
                if g != "..." and not self.valid_label_name(g):
                    self.error(path + ("group_by", i), f'invalid label name "{g}" in group_by list')
            if names and "..." in group_by:
                self.error(path + ("group_by",), "cannot have wildcard group_by (`...`) and other labels at the same time")
            seen: set[str] = set()
            for i, g in enumerate(group_by):
                if g == "...":
                    continue
                if g in seen:
                    self.error(path + ("group_by", i), f'duplicated label "{g}" in group_by')
                seen.add(g)
        if route.group_interval is not None and route.group_interval == 0:
            self.error(path + ("group_interval",), "group_interval cannot be zero")
        if route.repeat_interval is not None and route.repeat_interval == 0:
            self.error(path + ("repeat_interval",), "repeat_interval cannot be zero")

    def check_match_re(self, path: Path, key: str, value: str | None) -> None:
        if not is_classic_label_name(key):
            self.error(path, f'invalid label name "{key}"')
            return
        if value is None:
            self.error(path, f'invalid regexp value for "{key}"')
            return
        try:
            goregex.compile("^(?:" + value + ")$")
        except goregex.GoRegexError as exc:
            self.error(path, str(exc))

    def check_inhibit_rule(self, rule: InhibitRuleModel, path: Path) -> None:
        for side in ("source_match", "target_match"):
            for key in getattr(rule, side) or {}:
                if not is_classic_label_name(key):
                    self.error(path + (side, key), f'invalid label name "{key}"')
        for side in ("source_match_re", "target_match_re"):
            for key, value in (getattr(rule, side) or {}).items():
                self.check_match_re(path + (side, key), key, value)
        for i, name in enumerate(rule.equal):
            if not self.valid_label_name(name):
                self.error(path + ("equal", i), f'"{name}" is not a valid label name')

    def check_global(self) -> None:
        g = self.cfg.global_
        if g is None:
            return
        if g.slack_api_url and g.slack_api_url.env_name is None:
            self.check_url(("global", "slack_api_url"), g.slack_api_url.reveal())
        self.check_url(("global", "pagerduty_url"), g.pagerduty_url)
        for a, b in (("slack_api_url", "slack_api_url_file"), ("opsgenie_api_key", "opsgenie_api_key_file"),
                     ("victorops_api_key", "victorops_api_key_file"), ("smtp_auth_password", "smtp_auth_password_file")):
            if getattr(g, a) and getattr(g, b):
                self.error(("global",), f"at most one of {a} & {b} must be configured")

    def check_receivers(self) -> None:
        names: set[str] = set()
        for i, rcv in enumerate(self.cfg.receivers):
            path: Path = ("receivers", i)
            if not rcv.name:
                self.error(path, "missing name in receiver")
            elif rcv.name in names:
                self.error(path + ("name",), f'notification config name "{rcv.name}" is not unique')
            names.add(rcv.name)
            for j, wh in enumerate(rcv.webhook_configs):
                self.check_webhook(wh, path + ("webhook_configs", j))
            for j, sc in enumerate(rcv.slack_configs):
                self.check_slack(sc, path + ("slack_configs", j))
            for j, pd in enumerate(rcv.pagerduty_configs):
                self.check_pagerduty(pd, path + ("pagerduty_configs", j))
            for key, count in rcv.unsupported():
                self.warn(path + (key,), f"{key} is not supported by alertbot: {count} integration(s) of receiver "
                                         f'"{rcv.name}" will not be notified')

    def check_url(self, path: Path, value: str | None) -> None:
        """Alertmanager's URL fields accept only http and https (`config.parseURL`)."""
        if not value or value.startswith("${"):
            return
        m = _SCHEME.match(value)
        scheme = m.group(1) if m else ""
        if scheme not in ("http", "https"):
            self.error(path, f'unsupported scheme "{scheme}" for URL')

    def check_webhook(self, wh: WebhookConfig, path: Path) -> None:
        if wh.url and wh.url_file:
            self.error(path, "at most one of url & url_file must be configured")
        elif not wh.url and not wh.url_file:
            self.error(path, "missing URL in webhook config")
        elif wh.url:
            self.check_url(path + ("url",), wh.url.reveal() if wh.url.env_name is None else None)

    def check_slack(self, sc: SlackConfig, path: Path) -> None:
        if sc.api_url and sc.api_url.env_name is None:
            self.check_url(path + ("api_url",), sc.api_url.reveal())
        if sc.api_url and sc.api_url_file:
            self.error(path, "at most one of api_url & api_url_file must be configured")
        if sc.app_token and sc.app_token_file:
            self.error(path, "at most one of app_token & app_token_file must be configured")

    def check_pagerduty(self, pd: PagerdutyConfig, path: Path) -> None:
        self.check_url(path + ("url",), pd.url)
        if not (pd.routing_key or pd.service_key or pd.routing_key_file or pd.service_key_file):
            self.error(path, "missing service or routing key in PagerDuty config")
        if pd.routing_key and pd.routing_key_file:
            self.error(path, "at most one of routing_key & routing_key_file must be configured")
        if pd.service_key and pd.service_key_file:
            self.error(path, "at most one of service_key & service_key_file must be configured")
        if (pd.service_key or pd.service_key_file) and not (pd.routing_key or pd.routing_key_file):
            self.warn(path, "service_key is PagerDuty's Events API v1, which alertbot does not support: "
                            "use routing_key (an Events API v2 integration key); this integration will not be notified")

    def check_root(self) -> None:
        root = self.cfg.route
        if root is None:
            self.errors.append(ConfigIssue(self.doc.file, self.doc.line(("route",)) or 1, "", "no routes provided"))
            return
        if not root.receiver:
            self.error(("route",), "root route must specify a default receiver")
        if root.has_matchers():
            self.error(("route",), "root route must not have any matchers")
        if root.mute_time_intervals:
            self.error(("route", "mute_time_intervals"), "root route must not have any mute time intervals")
        if root.active_time_intervals:
            self.error(("route", "active_time_intervals"), "root route must not have any active time intervals")
        if root.continue_:
            self.error(("route", "continue"), "cannot have continue in root route")
        names = {r.name for r in self.cfg.receivers}
        for route, path in _walk_children_first(root, ("route",)):
            if route.receiver and route.receiver not in names:
                self.error(path + ("receiver",), f'undefined receiver "{route.receiver}" used in route')
            esc = route.escalation
            if esc is not None:
                target = self.cfg.receiver(esc.receiver)
                if target is None:
                    self.error(path + ("escalation", "receiver"),
                               f'undefined receiver "{esc.receiver}" used in route escalation')
                elif not target.pagerduty_configs:
                    self.error(path + ("escalation", "receiver"),
                               f'escalation receiver "{esc.receiver}" has no pagerduty_configs: it cannot page')

    def check_time_intervals(self) -> None:
        names: set[str] = set()
        for key, label in (("mute_time_intervals", "mute time interval"), ("time_intervals", "time interval")):
            for i, ti in enumerate(getattr(self.cfg, key)):
                if not ti.name:
                    self.error((key, i), f"missing name in {label}")
                elif ti.name in names:
                    self.error((key, i, "name"), f'{label} "{ti.name}" is not unique')
                names.add(ti.name)
        if self.cfg.route is None:
            return
        for route, path in _walk_children_first(self.cfg.route, ("route",)):
            for field in ("active_time_intervals", "mute_time_intervals"):
                for i, name in enumerate(getattr(route, field)):
                    if name not in names:
                        self.error(path + (field, i), f'undefined time interval "{name}" used in route')

    def check_warnings(self) -> None:
        if self.cfg.route is None:
            return
        # Today's Alertmanager logs this at load; the repeat then waits for the next group_interval tick.
        for route, path, group_interval, repeat_interval in _effective_timers(self.cfg.route, ("route",)):
            if repeat_interval < group_interval:
                self.warn(path, "repeat_interval is less than group_interval. "
                                "Notifications will not repeat until the next group_interval.")


def _walk_children_first(route: RouteModel, path: Path) -> Iterator[tuple[RouteModel, Path]]:
    for i, child in enumerate(route.routes):
        yield from _walk_children_first(child, path + ("routes", i))
    yield route, path


def _effective_timers(route: RouteModel, path: Path, gi: float = 300.0, ri: float = 4 * 3600.0
                      ) -> Iterator[tuple[RouteModel, Path, float, float]]:
    gi = route.group_interval if route.group_interval is not None else gi
    ri = route.repeat_interval if route.repeat_interval is not None else ri
    if route.group_interval is not None or route.repeat_interval is not None:
        yield route, path, gi, ri
    for i, child in enumerate(route.routes):
        yield from _effective_timers(child, path + ("routes", i), gi, ri)
