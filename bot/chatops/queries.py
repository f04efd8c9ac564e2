"""Prometheus from Slack: `query` (a table, or a graph for a range), `runbook`, and
`investigate` (the group's runbook queries, run over the alert's window)."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bot.chatops.access import Refused, User
from bot.chatops.errors import NotFound, QueryRefused, Unavailable
from bot.chatops.parse import InputError, QueryArgs
from bot.chatops.render import Reply, answer, code, date, esc, fmt_duration, fmt_value, labels_text, link, simple, table
from bot.engine.groups import AggrGroup
from bot.notify.slack.message import markdown_to_mrkdwn

MAX_TABLE_ROWS = 25
MAX_GRAPHS = 3


class QueryOps:
    def _client(self, name: str | None) -> Any:
        ds = self.c.datasources
        if ds is None:
            raise Unavailable("no Prometheus is configured: set PROMETHEUS_URL (or PROMETHEUS_DATASOURCES)")
        return ds.get(name)

    async def query(self, user: User, args: QueryArgs, *, channel_id: str = "") -> Reply:
        from bot.prometheus import Matrix, QueryError, render_graph

        await self.access.check(user, "query")
        group = None
        if args.into:
            groups, _ = self.find_groups(args.into)
            group = groups[0]
        at = _parse_time(args.at) if args.at else time.time()
        if args.range_s is not None and args.range_s > self.c.settings.chatops.query_range_max:
            raise Refused("query", f"the range is longer than the {fmt_duration(self.c.settings.chatops.query_range_max)}"
                                   " allowed (chatops.query_range_max)")
        try:
            client = self._client(args.datasource)
            if args.range_s is None:
                result = await client.query(args.expr, at=at)
            else:
                result = await client.query_range(args.expr, at - args.range_s, at, args.step_s)
        except QueryError as exc:
            raise QueryRefused(str(exc)) from None
        await self._transact(lambda txn: txn.audit(
            user.id, "query", group.id if group else "", expr=args.expr[:1000], datasource=client.name,
            range=fmt_duration(args.range_s) if args.range_s else None, series=len(result), name=user.name))
        if isinstance(result, Matrix):
            lines = matrix_summary(result)
            png = await asyncio.to_thread(render_graph, result, title=args.expr)
            title = f"📈 {code(args.expr, 300)} over {fmt_duration(result.end - result.start)} · datasource {esc(client.name)}"
            reply = answer(lines, title)
            reply.files.append(("query.png", png, args.expr[:200]))
        else:
            reply = answer(table_lines(result), f"🔎 {code(args.expr, 300)} at {date(int(result.time * 1e9))} · "
                                                f"datasource {esc(client.name)}")
        if group is not None:
            reply.group_id = group.id
        return reply

    # ------------------------------------------------------------------ runbooks and investigation
    def runbook_view(self, g: AggrGroup) -> Any:
        from bot.runbooks import resolve_group, view

        catalog = self.c.runtime.runbooks
        alerts = sorted(g.alerts.values(), key=lambda a: a.starts_at.ns)[:100]
        res = resolve_group(catalog, alerts).runbook
        labels = dict(alerts[0].labels) if alerts else dict(g.labels)
        for a in alerts[1:]:
            for k in list(labels):
                if a.labels.get(k) != labels[k]:
                    del labels[k]
        return view(catalog, res, labels, alerts[0].annotations if alerts else {})

    async def runbook(self, text: str) -> Reply:
        from bot.runbooks import Resolution, view

        ref = text.strip()
        if not ref:
            raise InputError("usage: `runbook <alertname|group>`, e.g. `runbook ApiHighErrorRate`")
        catalog = self.c.runtime.runbooks
        try:
            groups, _ = self.find_groups(ref)
            v = self.runbook_view(groups[0])
            subject = self.describe_group(groups[0])
        except (NotFound, InputError):
            rb = catalog.get(ref) or catalog.best({"alertname": ref})
            if rb is None:
                hint = catalog.hint({"alertname": ref})
                return simple(f"📖 No runbook for {code(ref, 100)} yet. {esc(hint)}")
            v = view(catalog, Resolution("catalog", rb, rb.url), {"alertname": ref})
            v = _with_raw_queries(v, rb)  # no alert to fill the templates in with
            subject = f"*{esc(ref)}*"
        if not v.found:
            return simple(f"📖 No runbook for {subject} yet. {esc(v.hint)}")
        head = f"📖 *{link(v.url, esc(v.title)) if v.url else esc(v.title)}* — for {subject}"
        lines = []
        if v.owner:
            lines.append(f"Owner: {code(v.owner, 80)}")
        if v.impact:
            lines.append(f"*Impact:* {markdown_to_mrkdwn(v.impact, 800)}")
        for i, step in enumerate(v.first_steps, 1):
            lines.append(f"{i}. {markdown_to_mrkdwn(step, 700)}")
        if v.more_steps:
            lines.append(f"_…and {v.more_steps} more step(s) in the runbook_")
        for q in v.queries:
            lines.append(f"🔎 {esc(q.name or f'query {q.index + 1}')}: {code(q.expr, 400)}")
        return answer(lines, head)

    async def investigate(self, user: User, g: AggrGroup, only: int | None = None, *,
                          channel_id: str = "") -> tuple[Reply, list[str]]:
        """Runs the group's runbook queries (or query `only`); returns the answer and whether
        it went to the thread (the reply then only says so)."""
        from bot.prometheus import QueryError, Table, alert_window, render_graph

        await self.access.check(user, "query")
        v = self.runbook_view(g)
        queries = [q for q in v.queries if only is None or q.index == only]
        if not v.found or not queries:
            why = "its runbook has no queries" if v.found else "it has no runbook"
            return simple(f"🔎 Nothing to investigate for {self.describe_group(g)}: {why}."), []
        now = self.now()
        firing = [a for a in g.alerts.values() if not a.resolved_at(now)] or list(g.alerts.values())
        start = min(a.starts_at.ns for a in firing) if firing else now.ns
        window = alert_window(start / 1e9, None, now=now.ns / 1e9)
        lines = [f"🔎 *Investigation* of {self.describe_group(g)} by <@{user.id}> — runbook *{esc(v.title)}*, "
                 f"instant queries at {date(int(window.at * 1e9))}"]
        graphs: list[tuple[str, bytes, str]] = []
        for q in queries:
            name = esc(q.name or f"query {q.index + 1}")
            if q.error:
                lines.append(f"*{name}*: ⚠️ the query does not render: {esc(q.error)}")
                continue
            try:
                client = self._client(q.datasource)
                table_ = await client.query(q.expr, at=window.at)
                lines.append(f"*{name}* {code(q.expr, 300)}")
                lines.extend(table_lines(table_))
                if isinstance(table_, Table) and not table_.rows and q.missing:
                    lines.append("_the alert has no " + ", ".join(f"`{esc(n)}`" for n in q.missing)
                                 + " label: the query selects series without it (runbook queries select by "
                                 "the alert's labels; docs/runbooks.md)_")
                if len(graphs) < MAX_GRAPHS:
                    matrix = await client.query_range(q.expr, window.start, window.end, window.step())
                    if matrix.series:
                        png = await asyncio.to_thread(render_graph, matrix, title=q.name or q.expr,
                                                      firing=window.firing)
                        graphs.append((f"{q.name or 'query'}.png", png, q.name or q.expr))
            except (QueryError, Unavailable) as exc:
                lines.append(f"*{name}* {code(q.expr, 300)}\n⚠️ {esc(str(exc))}")
        await self._transact(lambda txn: txn.audit(user.id, "query", g.id, runbook=v.name,
                                                   queries=[q.name for q in queries], name=user.name,
                                                   via="investigate"))
        reply = answer(lines)
        reply.files = graphs
        return reply, lines


def _varying(label_sets: Sequence[dict[str, str]]) -> tuple[list[str], dict[str, str]]:
    names = sorted({k for ls in label_sets for k in ls})
    common = {k: label_sets[0][k] for k in names
              if label_sets and all(k in ls and ls[k] == label_sets[0][k] for ls in label_sets)}
    varying = [k for k in names if k not in common]
    if "__name__" in varying:
        varying.remove("__name__")
        varying.insert(0, "__name__")
    return varying, common


def table_lines(t: Any) -> list[str]:
    """An instant query's Table as lines: the common labels, then a table."""
    from bot.prometheus import Matrix

    if isinstance(t, Matrix):
        return matrix_summary(t)
    if t.result_type == "string":
        return [f"string: {code(t.string_value or '', 500)}"]
    if not t.rows:
        return ["_no data_ (the query returned nothing at that time)"]
    sets = [dict(r.labels) for r in t.rows]
    varying, common = (_varying(sets) if len(sets) > 1 else ([], sets[0]))
    rows = [[r.labels.get(k, "") for k in varying] + [fmt_value(r.value)] for r in t.rows[:MAX_TABLE_ROWS]]
    out = []
    if common:
        out.append("common labels: " + labels_text(common, limit=10))
    out.append(table(varying + ["value"], rows))
    if len(t.rows) > MAX_TABLE_ROWS:
        out.append(f"… {len(t.rows) - MAX_TABLE_ROWS} more rows")
    if t.warnings:
        out.append("⚠️ " + esc("; ".join(t.warnings)[:500]))
    return out


def matrix_summary(m: Any) -> list[str]:
    if not m.series:
        return ["_no data_ over this range"]
    sets = [dict(s.labels) for s in m.series]
    varying, common = (_varying(sets) if len(sets) > 1 else ([], sets[0]))
    rows = []
    for s in m.series[:MAX_TABLE_ROWS]:
        vals = [v for v in s.values if not math.isnan(v)]
        rows.append([s.labels.get(k, "") for k in varying]
                    + [fmt_value(min(vals)) if vals else "-", fmt_value(max(vals)) if vals else "-",
                       fmt_value(s.values[-1]) if s.values else "-"])
    out = [f"{len(m.series)} series, step {fmt_duration(m.step) if m.step else '-'}"]
    if common:
        out.append("common labels: " + labels_text(common, limit=10))
    out.append(table(varying + ["min", "max", "last"], rows))
    if len(m.series) > MAX_TABLE_ROWS:
        out.append(f"… {len(m.series) - MAX_TABLE_ROWS} more series")
    return out


def _with_raw_queries(v: Any, rb: Any) -> Any:
    import dataclasses

    queries = tuple(dataclasses.replace(q, expr=rb.queries[q.index].expr) for q in v.queries
                    if q.index < len(rb.queries))
    return dataclasses.replace(v, queries=queries)


def _parse_time(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{code('at=' + text, 80)}: expected Unix seconds or an RFC 3339 time such as "
                         "2026-01-01T20:45:00Z") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.timestamp()
