"""`alertbot routes show|test`: amtool's `config routes` with the same output."""

from __future__ import annotations

import argparse
import sys

from bot.cli.errors import UserError
from bot.cli.options import add_config, add_matchers_mode, get_config, get_matchers_mode
from bot.config import ConfigError, load_config
from bot.routing.matchers import MatcherError, MatchType, parse_matcher
from bot.routing.route import Route
from bot.routing.treeprint import TreeNode


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("routes", help="show the routing tree or test where labels route",
                       description="Show the routing tree, or test where an alert's labels route "
                                   "(like `amtool config routes`).")
    add_config(p)
    add_matchers_mode(p)
    p.set_defaults(func=run_show)
    rsub = p.add_subparsers(dest="routes_command", metavar="{show,test}")
    show = rsub.add_parser("show", help="print the routing tree")
    add_config(show)
    add_matchers_mode(show)
    show.set_defaults(func=run_show)
    test = rsub.add_parser("test", help="print the receivers a label set routes to",
                           description="Print the receivers an alert with these labels reaches, in tree order.")
    add_config(test)
    add_matchers_mode(test)
    test.add_argument("--tree", action="store_true", help="print the matching routes as a tree")
    test.add_argument("--verify.receivers", dest="verify_receivers", default="", metavar="A,B",
                      help="exit 1 unless the labels route to exactly these receivers")
    test.add_argument("labels", nargs="*", metavar="NAME=VALUE")
    test.set_defaults(func=run_test)


def _load(args: argparse.Namespace) -> Route:
    path = get_config(args)
    if not path:
        raise UserError("--config FILE is required (or set ALERTBOT_CONFIG)")
    try:
        return load_config(path, get_matchers_mode(args)).route
    except ConfigError as exc:
        raise UserError(str(exc)) from None


def run_show(args: argparse.Namespace) -> int:
    route = _load(args)
    tree = TreeNode(".")
    _add_route(route, tree)
    print("Routing tree:")
    print(tree.render())
    return 0


def _slug(route: Route, show_continue: bool, show_receiver: bool) -> str:
    slug = "default-route" if not route.matchers else str(route.matchers)
    if route.continue_ and show_continue:
        slug += "  continue: true"
    if show_receiver:
        slug += "  receiver: " + route.receiver
    return slug


def _add_route(route: Route, parent: TreeNode) -> None:
    branch = parent.add(_slug(route, True, True))
    for child in route.routes:
        _add_route(child, branch)


def _matching_tree(route: Route, parent: TreeNode, labels: dict[str, str]) -> None:
    final = True
    branch = parent.add(_slug(route, False, False))
    for child in route.routes:
        if child.matchers.matches(labels):
            _matching_tree(child, branch, labels)
            final = False
            if not child.continue_:
                break
    if final:
        branch.value = _slug(route, False, True)


def parse_label_args(items: list[str], mode: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    for item in items:
        try:
            m = parse_matcher(item, mode)  # type: ignore[arg-type]
        except MatcherError as exc:
            raise UserError(f"Failed to parse labels: {exc}") from None
        if m.type is not MatchType.EQUAL:
            raise UserError("Labels must be specified as key=value pairs")
        labels[m.name] = m.value
    return labels


def run_test(args: argparse.Namespace) -> int:
    route = _load(args)
    labels = parse_label_args(args.labels, get_matchers_mode(args))
    if args.tree:
        tree = TreeNode(".")
        _matching_tree(route, tree, labels)
        print("Matching routes:")
        print(tree.render())
        print()
    receivers = ",".join(r.receiver for r in route.match(labels))
    print(receivers)
    if args.verify_receivers and args.verify_receivers != receivers:
        print("WARNING: Expected receivers did not match resolved receivers.")
        sys.stdout.flush()
        return 1
    return 0
