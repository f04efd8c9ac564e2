"""`alertbot runbooks check|show`: validate the runbook catalog, or print the runbook an alert gets."""

from __future__ import annotations

import argparse
import sys

from bot.cli.errors import UserError
from bot.cli.options import add_matchers_mode, get_matchers_mode
from bot.runbooks import Catalog, Checker, find_checker, resolve, view
from bot.runbooks.check import Report, check, check_rule_files, load_rule_alerts


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("runbooks", help="check the runbook catalog, or show the runbook an alert gets",
                       description="Check the runbook catalog (runbooks/*.md) or show the runbook an alert gets.")
    rsub = p.add_subparsers(dest="runbooks_command", metavar="{check,show}")
    rsub.required = True

    c = rsub.add_parser(
        "check", help="parse every runbook and its queries; compare with alerting rules",
        description="Parse every runbook (front matter, matchers, promql blocks: by promtool when installed, "
                    "else for balance). With --rules, also report alerts without a runbook, runbooks that "
                    "match no alert and alerts that match two runbooks equally. Exit status 1 on errors.")
    _add_dir(c)
    add_matchers_mode(c)
    c.add_argument("--rules", nargs="+", default=[], metavar="FILE", help="Prometheus rules files to compare with")
    c.add_argument("--promtool", metavar="PATH", default=None,
                   help="promtool to parse queries with (default: $PROMTOOL, then PATH)")
    c.add_argument("--no-promtool", action="store_true",
                   help="do not use promtool: only check that queries are non-empty and balanced")
    c.set_defaults(func=run_check)

    s = rsub.add_parser(
        "show", help="print the runbook an alert with these labels gets",
        description="Print the runbook alertbot attaches to an alert with these labels (and annotations).")
    _add_dir(s)
    add_matchers_mode(s)
    s.add_argument("alertname")
    s.add_argument("labels", nargs="*", metavar="NAME=VALUE")
    s.add_argument("--annotation", action="append", default=[], metavar="NAME=VALUE",
                   help="an annotation of the alert, e.g. runbook_url=https://... (repeatable)")
    s.add_argument("--full", action="store_true", help="print the whole runbook, not only its first steps")
    s.set_defaults(func=run_show)


def _add_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dir", metavar="DIR", default=None,
                   help="the runbook directory (default: $ALERTBOT_RUNBOOKS, then ./runbooks)")


def _load(args: argparse.Namespace) -> Catalog:
    catalog = Catalog.load(args.dir, matchers_mode=get_matchers_mode(args), quiet=True)
    if catalog.directory is not None and not catalog.directory.is_dir():
        raise UserError(f"runbook directory {str(catalog.directory)!r} does not exist (use --dir)")
    return catalog


def run_check(args: argparse.Namespace) -> int:
    catalog = _load(args)
    report = Report()
    alerts = load_rule_alerts(args.rules, report)
    if args.no_promtool:
        checker = Checker(None, why_not="--no-promtool")
    else:
        checker = find_checker(args.promtool)
        if args.promtool and checker.promtool is None:
            raise UserError(f"--promtool {args.promtool!r} is not an executable promtool")
    check_rule_files(args.rules, checker, report)
    check(catalog, alerts, checker, report)
    for finding in sorted(report.findings, key=lambda f: (f.level != "error", f.path, f.line)):
        print(finding)
    against = (f" against {report.alerts} alert(s) in {report.rule_files} rules file(s)" if args.rules else "")
    print(f"checked {report.runbooks} runbook(s) with {report.queries} promql block(s), "
          f"{report.checker}{against}: {len(report.errors)} error(s), {len(report.warnings)} warning(s)")
    return 1 if report.errors else 0


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UserError(f"{what} {item!r} is not NAME=VALUE")
        out[name] = value.strip('"')
    return out


def run_show(args: argparse.Namespace) -> int:
    catalog = _load(args)
    labels = {"alertname": args.alertname, **_pairs(args.labels, "label")}
    annotations = _pairs(args.annotation, "annotation")
    resolution = resolve(catalog, labels, annotations)
    v = view(catalog, resolution, labels, annotations, steps=1000 if args.full else 3)
    out = sys.stdout
    for problem in v.problems:
        print(f"warning: {problem}", file=sys.stderr)
    for p in catalog.problems:
        print(f"warning: {p}", file=sys.stderr)
    if not v.found:
        print(v.hint)
        return 1
    rb = resolution.runbook
    out.write(f"{v.title}\n")
    if rb is not None:
        how = ("its annotation" if v.source == "annotation"
               else "matchers " + ", ".join(rb.matcher_texts))
        out.write(f"  file:     {rb.path} (chosen by {how})\n")
        others = [r for r in catalog.matching(labels) if r.name != rb.name]
        if others:
            out.write(f"  also matches: {', '.join(str(r.path) for r in others)}\n")
    if v.url:
        out.write(f"  link:     {v.url}\n")
    meta = ", ".join(f"{k}: {val}" for k, val in (("owner", v.owner), ("severity", v.severity)) if val)
    if meta:
        out.write(f"  {meta}\n")
    if rb is None:
        out.write("  (an external runbook: alertbot shows the link only)\n")
        return 0
    if args.full:
        out.write("\n" + rb.body + "\n")
        return 0
    if v.impact:
        out.write(f"\nImpact: {v.impact}\n")
    if v.first_steps:
        out.write("\nFirst steps:\n")
        for i, step in enumerate(v.first_steps, 1):
            out.write(f"  {i}. {step}\n")
        if v.more_steps:
            out.write(f"  ... {v.more_steps} more (--full)\n")
    if v.queries:
        out.write("\nQueries:\n")
        for q in v.queries:
            out.write(f"  # {q.name}" + (f"  (datasource {q.datasource})" if q.datasource else "") + "\n")
            for line in q.expr.splitlines():
                out.write(f"    {line}\n")
            if q.error:
                out.write(f"    ! {q.error}\n")
    return 0
