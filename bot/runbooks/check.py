"""`alertbot runbooks check`: the catalog, its queries, and how it covers the alerting rules.

Errors (exit status 1): a runbook file that cannot be used or has a broken part, a promql
block that does not parse, an alert in the rules files without a runbook, a `runbook_url`
pointing at a catalog file that does not exist, two runbooks that match the same alert
equally (the file name would decide). Warnings: a runbook that matches no alert in the
rules files (it may serve alerts from elsewhere), an annotation and the matchers picking
different runbooks.

An alert from a rule is known by its name and the rule's static labels; labels that come
from the series (`instance`, `model`) are unknown, and a matcher on an unknown label is
taken to possibly match. Two runbooks with equality matchers on the same label but
different values never match the same alert, so they are not duplicates.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import yaml

from bot.routing.matchers import Matcher, MatchType
from bot.runbooks.catalog import Catalog, file_name_for
from bot.runbooks.model import Runbook
from bot.runbooks.promql import Checker, check_expressions
from bot.runbooks.render import promql_escape
from bot.templates import AlertSnapshot, TemplateError

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    level: Level
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.level}: {self.message}"


@dataclass(frozen=True)
class RuleAlert:
    name: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    path: str
    line: int

    @property
    def known_labels(self) -> dict[str, str]:
        return {**self.labels, "alertname": self.name}


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    runbooks: int = 0
    queries: int = 0
    alerts: int = 0
    rule_files: int = 0
    checker: str = ""

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "warning"]

    def add(self, level: Level, path: str | os.PathLike[str], line: int, message: str) -> None:
        self.findings.append(Finding(level, str(path), line, message))


def load_rule_alerts(paths: Sequence[str], report: Report) -> list[RuleAlert]:
    """The alerting rules of Prometheus rules files; unreadable files become errors."""
    alerts: list[RuleAlert] = []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            doc = yaml.safe_load(text)
        except (OSError, UnicodeDecodeError) as exc:
            report.add("error", path, 0, f"cannot read rules file: {getattr(exc, 'strerror', None) or exc}")
            continue
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            report.add("error", path, mark.line + 1 if mark else 0,
                       f"rules file is not valid YAML: {getattr(exc, 'problem', None) or exc}")
            continue
        report.rule_files += 1
        if not isinstance(doc, dict) or not isinstance(doc.get("groups"), list):
            report.add("error", path, 1, "not a Prometheus rules file (no 'groups' list)")
            continue
        group_nodes = _value_node(node, "groups")
        for g_index, group in enumerate(doc["groups"]):
            rules = group.get("rules") if isinstance(group, dict) else None
            if not isinstance(rules, list):
                continue
            rule_nodes = _value_node(_item_node(group_nodes, g_index), "rules")
            for r_index, rule in enumerate(rules):
                if not isinstance(rule, dict) or "alert" not in rule:
                    continue
                rule_node = _item_node(rule_nodes, r_index)
                line = rule_node.start_mark.line + 1 if rule_node is not None else 0
                alerts.append(RuleAlert(
                    name=str(rule["alert"]),
                    labels={str(k): str(v) for k, v in (rule.get("labels") or {}).items()},
                    annotations={str(k): str(v) for k, v in (rule.get("annotations") or {}).items()},
                    path=str(path),
                    line=line,
                ))
    return alerts


def check_rule_files(paths: Sequence[str], checker: Checker, report: Report) -> None:
    """`promtool check rules` on each rules file (when promtool is there): its errors are ours."""
    if checker.promtool is None:
        return
    for path in paths:
        if not Path(path).is_file():
            continue  # load_rule_alerts has said so
        try:
            out = subprocess.run([checker.promtool, "check", "rules", "--lint=none", str(path)],
                                 capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.SubprocessError) as exc:
            report.add("error", path, 0, f"promtool did not run: {exc}")
            continue
        if out.returncode == 0:
            continue
        lines = [ln.strip() for ln in (out.stderr + "\n" + out.stdout).splitlines()
                 if ln.strip() and not ln.startswith(("Checking ", "  FAILED:")) and ln.strip() != "FAILED:"]
        for line in lines or ["promtool check rules failed"]:
            m = re.match(r"^(.*?): (\d+):(\d+): (.*)$", line)
            if m and m.group(1) == str(path):
                report.add("error", path, int(m.group(2)), f"promtool: {m.group(4)}")
            else:
                report.add("error", path, 0, f"promtool: {line.removeprefix(str(path) + ': ')}")


def check(catalog: Catalog, rule_alerts: Sequence[RuleAlert], checker: Checker, report: Report) -> Report:
    report.runbooks = len(catalog)
    report.alerts = len(rule_alerts)
    report.checker = checker.description
    for p in catalog.problems:
        report.add("error", p.path, p.line, p.message + ("" if p.fatal else " (the rest of the runbook is loaded)"))
    _check_queries(catalog, rule_alerts, checker, report)
    _check_same_matchers(catalog, report)
    if rule_alerts:
        _check_coverage(catalog, rule_alerts, report)
    return report


# -- queries ------------------------------------------------------------------------------
def _check_queries(catalog: Catalog, rule_alerts: Sequence[RuleAlert], checker: Checker, report: Report) -> None:
    exprs: list[str] = []
    where: list[tuple[Runbook, int, str]] = []
    for rb in catalog:
        # render with the labels of an alert the runbook is for, so templates give real values
        sample = next((a.known_labels for a in rule_alerts if _may_match(rb.matchers, a.known_labels)), {})
        alert = AlertSnapshot(labels={k: promql_escape(v) for k, v in sample.items()}, fingerprint="").to_alert()
        for q in rb.queries:
            text = ("{{ $labels := .Labels }}" + q.expr) if "$labels" in q.expr else q.expr
            try:
                rendered = catalog.templates.render(text, alert)
            except TemplateError as exc:
                report.add("error", rb.path, q.line, f"promql block {q.name!r}: {exc}")
                continue
            exprs.append(rendered)
            where.append((rb, q.line, q.name))
    report.queries = len(exprs)
    for (rb, line, name), error in zip(where, check_expressions(exprs, checker)):
        if error is not None:
            report.add("error", rb.path, line, f"promql block {name!r}: {error}")


# -- duplicates and coverage --------------------------------------------------------------
def _check_same_matchers(catalog: Catalog, report: Report) -> None:
    seen: dict[frozenset[str], Runbook] = {}
    for rb in catalog:
        key = frozenset(str(m) for m in rb.matchers)
        if key in seen:
            report.add("error", rb.path, 0, f"has the same matchers as {seen[key].path}: the file name decides "
                                            f"which one alerts get; merge them or make one more specific")
        else:
            seen[key] = rb


def _check_coverage(catalog: Catalog, rule_alerts: Sequence[RuleAlert], report: Report) -> None:
    used: set[str] = set()
    for alert in rule_alerts:
        labels = alert.known_labels
        candidates = sorted((rb for rb in catalog if _may_match(rb.matchers, labels)),
                            key=lambda r: (-r.specificity, r.name))
        used.update(rb.name for rb in candidates)
        annotated = _annotation_target(catalog, alert, report)
        if annotated is not None:
            used.add(annotated.name)
            if candidates and candidates[0].name != annotated.name:
                report.add("warning", alert.path, alert.line,
                           f"alert {alert.name}: its runbook_url points at {annotated.path} but its labels "
                           f"match {candidates[0].path} first; the annotation wins")
        elif not candidates and not _has_external_link(alert):
            report.add("error", alert.path, alert.line,
                       f"alert {alert.name} has no runbook: add {catalog.directory or 'runbooks'}/"
                       f"{file_name_for(alert.name)}.md with matchers: [alertname=\"{alert.name}\"]")
        if candidates:
            top = [rb for rb in candidates if rb.specificity == candidates[0].specificity]
            clashing = [rb for rb in top[1:] if _can_overlap(top[0], rb)]
            if clashing:
                names = ", ".join(str(rb.path) for rb in [top[0], *clashing])
                report.add("error", alert.path, alert.line,
                           f"alert {alert.name} matches {names} equally ({top[0].specificity} matchers each): "
                           f"the file name decides; make one more specific")
    for rb in catalog:
        if rb.name not in used:
            report.add("warning", rb.path, 0, "matches no alert in the rules files")


def _annotation_target(catalog: Catalog, alert: RuleAlert, report: Report) -> Runbook | None:
    for key in ("runbook_url", "runbook"):
        value = alert.annotations.get(key, "").strip()
        if not value:
            continue
        runbook = catalog.by_reference(value)
        if runbook is not None:
            return runbook
        path = urlsplit(value).path if value.startswith(("http://", "https://")) else value
        if "{{" not in value and (path.endswith(".md") and "/runbooks/" in "/" + path):
            report.add("error", alert.path, alert.line,
                       f"alert {alert.name}: {key} points at {path.rsplit('/', 1)[-1]}, which is not in the catalog")
        return None
    return None


def _has_external_link(alert: RuleAlert) -> bool:
    return any(alert.annotations.get(k, "").startswith(("http://", "https://")) for k in ("runbook_url", "runbook"))


def _may_match(matchers: Sequence[Matcher], known: Mapping[str, str]) -> bool:
    return all(m.matches(known[m.name]) for m in matchers if m.name in known)


def _can_overlap(a: Runbook, b: Runbook) -> bool:
    """False when an equality matcher of one and a matcher of the other on the same label
    can never both hold (so no alert matches both)."""
    for ma in a.matchers:
        for mb in b.matchers:
            if ma.name != mb.name:
                continue
            for eq, other in ((ma, mb), (mb, ma)):
                if eq.type is MatchType.EQUAL and not other.matches(eq.value):
                    return False
    return True


def _value_node(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if getattr(k, "value", None) == key:
                return v
    return None


def _item_node(node: yaml.Node | None, index: int) -> yaml.Node | None:
    if isinstance(node, yaml.SequenceNode) and index < len(node.value):
        return node.value[index]
    return None
