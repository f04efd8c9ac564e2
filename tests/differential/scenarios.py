"""The timed scenarios, each small and independent (Alertmanager's acceptance tests are the
model: group_wait/group_interval of 1-3 s, every interesting moment at least 0.4 s away from
any timer it could be confused with, so that a tolerance of 0.3 s separates "on time" from
"one tick off").

Times are seconds after the scenario start. `alert("alertname=A,inst=a", starts=-3600,
ends=2.5, summary="…")` writes startsAt/endsAt relative to the start; a resolve is a re-post
with `ends=<now>`. "{hook}" in a configuration is the recorder's base URL; each webhook URL
ends in "<receiver>/<index>" so that the comparison knows which integration got what.

Moments where Alertmanager 0.25 and today's Alertmanager differ are avoided (README):
no group is re-filled within 30 s of being emptied, an alert older than group_wait only ever
creates its group, repeat intervals are never a multiple of group_interval, group_by never
holds two names where one is a prefix of the other followed by a character below '='.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.differential.harness import ExpireSilence, Scenario, UpdateSilence, alert, post, silence


def hooks(*receivers: str | tuple[str, list[str]]) -> str:
    """The receivers section: a name gets one webhook; (name, [options…]) one per option string."""
    out = ["receivers:"]
    for r in receivers:
        name, options = (r, [""]) if isinstance(r, str) else r
        out.append(f"- name: '{name}'")
        out.append("  webhook_configs:")
        for i, opt in enumerate(options):
            out.append(f"  - url: '{{hook}}/{name}/{i}'")
            for line in filter(None, opt.split(";")):
                out.append(f"    {line.strip()}")
    return "\n".join(out) + "\n"


ROOT_1_2 = """\
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
"""

SCENARIOS: list[Scenario] = []


def scenario(s: Scenario) -> Scenario:
    SCENARIOS.append(s)
    return s


scenario(Scenario(
    "grouping",
    "Alerts grouped by alertname; one resolves between ticks; label values that need quoting in the group key.",
    ROOT_1_2 + hooks("hook"),
    [(0.0, post(alert("alertname=A,inst=a", summary="first <b>&</b>"), alert("alertname=A,inst=b"),
                alert({"alertname": "B", "inst": 'q"uo\\te é'}, starts=-5, generator_url="http://prom/graph?g0.expr=up"),
                alert("alertname=C,inst=z", starts=-0.5, tz_hours=2))),
     (1.5, post(alert("alertname=A,inst=a", ends=1.5, summary="first <b>&</b>")))],
    duration=4.5,
))

scenario(Scenario(
    "late_joiners",
    "Alerts joining before the first flush wait for it; later ones are sent at the next group_interval tick.",
    """\
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 2s
  group_interval: 2s
  repeat_interval: 1h
""" + hooks("hook"),
    [(0.0, post(alert("alertname=L,inst=a"))),
     (1.0, post(alert("alertname=L,inst=b"))),
     (2.6, post(alert("alertname=L,inst=c"))),
     (3.3, post(alert("alertname=L,inst=d"), alert("alertname=M,inst=a")))],
    duration=6.6,
))

scenario(Scenario(
    "continue",
    "`continue: true` sends one alert to several receivers (one with two webhooks); receiver names with regexp metacharacters.",
    """\
route:
  receiver: default
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
  routes:
  - matchers: [team="db"]
    receiver: db
    continue: true
  - matchers: [severity="critical"]
    receiver: pager
    group_by: [alertname, team]
    continue: true
  - matchers: [team="db"]
    receiver: db.archive
""" + hooks("default", ("db", ["", ""]), "pager", "db.archive"),
    [(0.0, post(alert("alertname=X,team=db,severity=critical"), alert("alertname=Y,team=web,severity=critical"),
                alert("alertname=Z,team=web,severity=warning"), alert("alertname=X,team=db,severity=warning"))),
     (1.5, post(alert("alertname=X,team=db,severity=critical", ends=1.5)))],
    duration=4.5,
))

scenario(Scenario(
    "group_by_all",
    "`group_by: ['...']`: one group per label set, inherited by a child; a child overriding it with [alertname].",
    """\
route:
  receiver: all
  group_by: ['...']
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
  routes:
  - matchers: [alertname="Grouped"]
    receiver: by-name
    group_by: [alertname]
  - matchers: [team="x"]
    receiver: team-x
""" + hooks("all", "by-name", "team-x"),
    [(0.0, post(alert("alertname=A,inst=a"), alert("alertname=A,inst=b"), alert("alertname=A,inst=b,extra=1"),
                alert("alertname=Grouped,inst=x"), alert("alertname=Grouped,inst=y"),
                alert("alertname=T,team=x,inst=1"), alert("alertname=T,team=x,inst=2"))),
     (1.5, post(alert("alertname=A,inst=a", ends=1.5))),
     (2.2, post(alert("alertname=A,inst=c"), alert("alertname=Grouped,inst=z")))],
    duration=4.6,
))

scenario(Scenario(
    "send_resolved_false",
    "Two webhooks of one receiver, send_resolved true and false: resolved alerts only go to the first; "
    "the second gets nothing when everything resolved.",
    ROOT_1_2 + hooks(("hook", ["send_resolved: true", "send_resolved: false"])),
    [(0.0, post(alert("alertname=R,inst=a"), alert("alertname=R,inst=b"))),
     (1.5, post(alert("alertname=R,inst=a", ends=1.5))),
     (3.5, post(alert("alertname=R,inst=b", ends=3.5)))],
    duration=6.5,
))

scenario(Scenario(
    "old_alert",
    "An alert that started more than group_wait ago creates its group and is flushed at once; one that "
    "started less than group_wait ago waits group_wait from its arrival; a fresh joiner waits for the tick.",
    """\
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 3s
  group_interval: 3s
  repeat_interval: 1h
""" + hooks("hook"),
    [(0.0, post(alert("alertname=Old,inst=a", starts=-3600), alert("alertname=Recent,inst=a", starts=-2),
                alert("alertname=Fresh,inst=a"))),
     (1.0, post(alert("alertname=Old,inst=b")))],
    duration=4.5,
))

scenario(Scenario(
    "inhibition",
    "critical inhibits warning with equal cluster (a label both lack counts as equal); the target "
    "reappears when the source resolves; alerts matching both sides of a rule never inhibit each other.",
    ROOT_1_2 + """\
inhibit_rules:
- source_matchers: [severity="critical"]
  target_matchers: [severity="warning"]
  equal: [cluster]
- source_matchers: [kind="both"]
  target_matchers: [kind="both"]
""" + hooks("hook"),
    [(0.0, post(alert("alertname=Warn,severity=warning,cluster=c1"), alert("alertname=Warn,severity=warning,cluster=c2"),
                alert("alertname=Warn,severity=warning"), alert("alertname=Crit,severity=critical,cluster=c1"),
                alert("alertname=Both,kind=both,inst=x"), alert("alertname=Both,kind=both,inst=y"),
                alert("alertname=Warn2,severity=warning,inst=n"), alert("alertname=Crit2,severity=critical,inst=n"))),
     (2.0, post(alert("alertname=Crit,severity=critical,cluster=c1", ends=2.0)))],
    duration=4.5,
))

scenario(Scenario(
    "expiry_ends_at",
    "Alerts resolve on their own: an explicit future endsAt, and resolve_timeout for an alert sent without endsAt.",
    "global:\n  resolve_timeout: 4s\n" + ROOT_1_2 + hooks("hook"),
    [(0.0, post(alert("alertname=E,inst=a", ends=2.4), alert("alertname=E,inst=b"),
                alert("alertname=E,inst=c", ends=30)))],
    duration=7.5,
))

scenario(Scenario(
    "nested_group_by_timers",
    "Nested routes with their own group_by, group_wait and group_interval, inherited and overridden; "
    "late joiners at each level arrive at that level's ticks.",
    """\
route:
  receiver: default
  group_by: [alertname]
  group_wait: 1s
  group_interval: 3s
  repeat_interval: 1h
  routes:
  - matchers: [team="db"]
    receiver: db
    group_by: [alertname, instance]
    group_wait: 2s
    group_interval: 2s
    routes:
    - matchers: [severity="page"]
      receiver: db-page
      group_wait: 500ms
    - matchers: [severity="info"]
  - matchers: [team="web"]
    receiver: web
    group_interval: 1s
""" + hooks("default", "db", "db-page", "web"),
    [(0.0, post(alert("alertname=Q,team=db,instance=i1"), alert("alertname=Q,team=db,instance=i2"),
                alert("alertname=Q,team=db,instance=i1,severity=page"), alert("alertname=Q,team=db,instance=i1,severity=info"),
                alert("alertname=W,team=web,instance=x"), alert("alertname=R,team=ops"))),
     (2.4, post(alert("alertname=Q,team=db,instance=i1,extra=2"), alert("alertname=W,team=web,instance=y"),
                alert("alertname=R,team=ops2"), alert("alertname=Q,team=db,instance=i1,severity=page,extra=3")))],
    duration=5.6,
))

scenario(Scenario(
    "max_alerts",
    "`max_alerts` cuts the sorted list (job, then instance, then labels) and counts the rest in truncatedAlerts; "
    "status and common labels come from what is left (max 1: a resolved first alert makes a 'resolved' "
    "notification of a firing group); with send_resolved false the cut applies after the filter.",
    ROOT_1_2 + hooks(("hook", ["max_alerts: 2", "max_alerts: 0", "max_alerts: 3; send_resolved: false",
                               "max_alerts: 1"])),
    [(0.0, post(alert("alertname=M,job=j2,instance=i1"), alert("alertname=M,job=j0,instance=i9"), alert("alertname=M,instance=i0"),
                alert("alertname=M,job=j1"), alert("alertname=M,other=x"), alert("alertname=M,job=j0,instance=i10"))),
     (1.5, post(alert("alertname=M,job=j0,instance=i10", ends=1.5), alert("alertname=M,job=j1", ends=1.5)))],
    duration=4.0,
))


def _storm() -> Scenario:
    names, clusters, instances = ["S0", "S1", "S2", "S3"], ["c0", "c1", "c2"], ["i0", "i1", "i2", "i3"]

    def batch(ns: list[str], insts: list[str], ends: float | None = None):
        return post(*[alert({"alertname": n, "cluster": c, "instance": i, "severity": "warning"}, ends=ends)
                      for n in ns for c in clusters for i in insts])

    return Scenario(
        "storm",
        "A storm: 48 alerts over 12 groups in two waves, then 12 resolves and 6 new alerts in one request.",
        """\
route:
  receiver: hook
  group_by: [alertname, cluster]
  group_wait: 1500ms
  group_interval: 2s
  repeat_interval: 1h
""" + hooks("hook"),
        [(0.0, batch(names[:2], instances)),
         (0.5, batch(names[2:], instances)),
         (2.7, post(*batch(names, ["i0"], ends=2.7).alerts,
                    *[alert({"alertname": n, "cluster": c, "instance": "i4", "severity": "warning"})
                      for n in ("S0", "S2") for c in clusters]))],
        duration=5.0,
    )


scenario(_storm())

scenario(Scenario(
    "repeats",
    "repeat_interval elapsed: 2.5 s with 1 s ticks (every 3rd tick), 1.5 s (every 2nd), 0.5 s (every tick).",
    """\
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 2500ms
  routes:
  - matchers: [alertname="R2"]
    repeat_interval: 1500ms
  - matchers: [alertname="R3"]
    repeat_interval: 500ms
""" + hooks("hook"),
    [(0.0, post(alert("alertname=R1"), alert("alertname=R2"), alert("alertname=R3")))],
    duration=7.5,
))

scenario(Scenario(
    "silences",
    "Silences created through the API: one expiring on its own, one expired by DELETE, one pending "
    "that starts later; silenced alerts leave and rejoin notifications at flush time.",
    ROOT_1_2 + hooks("hook"),
    [(0.0, post(alert("alertname=S,inst=a"), alert("alertname=S,inst=b"), alert("alertname=T,inst=a"))),
     (0.3, silence("s-a", 0.0, 3.5, alertname="S", inst="a")),
     (0.3, silence("t", 0.3, 60, alertname="T")),
     (0.4, silence("later-b", 4.4, 60, alertname="S", inst="b")),
     (2.2, ExpireSilence("t"))],
    duration=5.8,
))


def _time_interval_config(now: datetime) -> str:
    days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    today, tomorrow = days[now.weekday()], days[(now.weekday() + 1) % 7]
    berlin = now.astimezone(ZoneInfo("Europe/Berlin"))
    month = berlin.strftime("%B").lower()
    later = (now + timedelta(hours=2)).hour  # a one-hour window that does not hold now
    return ROOT_1_2 + f"""\
  routes:
  - matchers: [alertname="MutedNow"]
    receiver: muted-now
    mute_time_intervals: [today]
  - matchers: [alertname="MutedTomorrow"]
    receiver: muted-tomorrow
    mute_time_intervals: [tomorrow]
  - matchers: [alertname="ActiveNow"]
    receiver: active-now
    active_time_intervals: [this-month-berlin]
  - matchers: [alertname="ActiveLater"]
    receiver: active-later
    active_time_intervals: [later-hour]
  - matchers: [alertname="ActiveNotMuted"]
    receiver: active-not-muted
    active_time_intervals: [today]
    mute_time_intervals: [later-hour]
time_intervals:
- name: today
  time_intervals:
  - weekdays: ['{today}']
- name: tomorrow
  time_intervals:
  - weekdays: ['{tomorrow}']
- name: this-month-berlin
  time_intervals:
  - months: ['{month}']
    location: Europe/Berlin
- name: later-hour
  time_intervals:
  - times: [{{start_time: '{later:02d}:00', end_time: '{later + 1:02d}:00'}}]
""" + hooks("hook", "muted-now", "muted-tomorrow", "active-now", "active-later", "active-not-muted")


scenario(Scenario(
    "time_intervals",
    "mute_time_intervals / active_time_intervals that hold now (today's weekday, this month in Berlin) "
    "and that do not (tomorrow, an hour two hours from now).",
    _time_interval_config,
    [(0.0, post(*[alert(f"alertname={n},inst=a") for n in
                  ("MutedNow", "MutedTomorrow", "ActiveNow", "ActiveLater", "ActiveNotMuted")])),
     (1.5, post(alert("alertname=MutedTomorrow,inst=a", ends=1.5), alert("alertname=MutedNow,inst=a", ends=1.5)))],
    duration=3.6,
))

scenario(Scenario(
    "resends_merge",
    "Prometheus-style re-sends (endsAt = now + 2.5 s every second) keep an alert firing without new "
    "notifications, annotations follow the latest post, and the alert resolves when the re-sends stop; "
    "of two resolves the later endsAt wins.",
    ROOT_1_2 + hooks("hook"),
    [(0.0, post(alert("alertname=P,inst=a", starts=0, ends=2.5, summary="v1"), alert("alertname=P,inst=b", starts=0))),
     (0.9, post(alert("alertname=P,inst=a", starts=0, ends=3.4, summary="v1"))),
     (1.9, post(alert("alertname=P,inst=a", starts=0, ends=4.4, summary="v1"))),
     (2.2, post(alert("alertname=P,inst=b", starts=0, ends=2.2))),
     (2.6, post(alert("alertname=P,inst=b", starts=0, ends=2.0))),
     (2.9, post(alert("alertname=P,inst=a", starts=0, ends=5.4, summary="v2"))),
     (3.9, post(alert("alertname=P,inst=a", starts=0, ends=6.4, summary="v2")))],
    duration=7.6,
))

scenario(Scenario(
    "flapping",
    "An alert resolves, is notified and dropped from its group, then fires again (a new alert with a new "
    "startsAt) while the group still holds another firing alert.",
    ROOT_1_2 + hooks("hook"),
    [(0.0, post(alert("alertname=F,inst=a"), alert("alertname=F,inst=b"))),
     (1.5, post(alert("alertname=F,inst=a", ends=1.5))),
     (3.5, post(alert("alertname=F,inst=a")))],
    duration=6.5,
))

scenario(Scenario(
    "receiver_4xx",
    "A webhook answering 400 is not retried; nothing is logged, so the next tick sends the same "
    "notification again. The receiver's other webhook is unaffected.",
    ROOT_1_2 + hooks(("hook", ["", ""])),
    [(0.0, post(alert("alertname=K,inst=a"))),
     (1.5, post(alert("alertname=K,inst=b")))],
    duration=5.5,
    respond=lambda slot, t, n: 400 if slot == "hook/0" and t < 3.6 else 200,
))

scenario(Scenario(
    "silence_matchers",
    "Silences with regex and negative matchers, one shortened in place through the API; a silenced "
    "source alert still inhibits; a silenced alert that resolves gets no resolved notification.",
    ROOT_1_2 + """\
inhibit_rules:
- source_matchers: [severity="critical"]
  target_matchers: [severity="warning"]
  equal: [cluster]
""" + hooks("hook"),
    [(0.0, post(alert("alertname=V,inst=a"), alert("alertname=V,inst=b"), alert("alertname=V,inst=c"),
                alert("alertname=V,inst=d,env=prod"), alert("alertname=Crit,cluster=x,severity=critical"),
                alert("alertname=Warn,cluster=x,severity=warning"), alert("alertname=Q,inst=q"))),
     (0.2, silence("v", 0.2, 60, "inst=~a|d", "env!=prod", alertname="V")),
     (0.2, silence("crit", 0.2, 60, "severity=~crit.*")),
     (1.5, silence("q", 1.5, 60, alertname="Q")),
     (2.0, post(alert("alertname=Q,inst=q", ends=2.0))),
     (2.5, UpdateSilence("v", 3.5))],
    duration=5.6,
))

scenario(Scenario(
    "merge_rules",
    "Re-posted alerts merge: the earliest startsAt wins, an explicit endsAt is not shortened by a "
    "resolve_timeout one, two timeout ends take the younger, annotations follow the latest post "
    "(a resolve without annotations wipes them).",
    "global:\n  resolve_timeout: 4s\n" + ROOT_1_2 + hooks("hook"),
    [(0.0, post(alert("alertname=G,inst=a", starts=-0.5, ends=8.5), alert("alertname=G,inst=b"),
                alert("alertname=G,inst=c", starts=-0.5, summary="v1"), alert("alertname=G,inst=d", starts=-0.5, note="keep"))),
     (1.5, post(alert("alertname=G,inst=a", starts=-20), alert("alertname=G,inst=c", starts=-0.5, ends=1.5))),
     (2.5, post(alert("alertname=G,inst=b"))),
     (3.5, post(alert("alertname=G,inst=d", starts=-0.5, note="changed")))],
    duration=9.6,
))

scenario(Scenario(
    "odd_inputs",
    "An empty label value is dropped; a group_by label the alert lacks is left out of the group; a "
    "regex route in the group key; common annotations; group_wait 0s; an alert resolved on arrival alone "
    "in its group (never notified) and joining a notified group (sent as resolved); an alert resolved "
    "before its group's first flush (never notified); an alert starting in the future (firing).",
    """\
route:
  receiver: hook
  group_by: [alertname, cluster]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
  routes:
  - matchers: [severity=~"crit.*", team!="x"]
    receiver: crit
  - matchers: [alertname="Zero"]
    group_wait: 0s
""" + hooks("hook", "crit"),
    [(0.0, post(alert({"alertname": "O", "cluster": "c1", "inst": "a", "empty": ""}, team_note="same"),
                alert("alertname=O,cluster=c1,inst=b", team_note="same", summary="only b"),
                alert("alertname=O,inst=n"), alert("alertname=C,severity=critical,team=y"),
                alert("alertname=Z,inst=z", starts=-60, ends=-30), alert("alertname=Zero,inst=0"),
                alert("alertname=Brief,inst=b"), alert("alertname=O,cluster=c2,inst=future", starts=30, ends=90))),
     (0.5, post(alert("alertname=Brief,inst=b", ends=0.5))),
     (1.5, post(alert("alertname=O,cluster=c1,inst=late", starts=-60, ends=-30)))],
    duration=4.5,
))

scenario(Scenario(
    "receiver_5xx_retry",
    "A webhook answering 503 once is retried within the flush (backoff 0.5 s +-50 %), not at the next tick; "
    "the tolerance covers the two sides' independent jitter.",
    ROOT_1_2 + hooks("hook"),
    [(0.0, post(alert("alertname=K,inst=a"))),
     (1.5, post(alert("alertname=K,inst=b")))],
    duration=4.5,
    tolerance=0.55,
    respond=lambda slot, t, n: 503 if n == 0 else 200,
))

scenario(Scenario(
    "slow_webhook",
    "Each integration of a receiver is notified on its own (Alertmanager's fanout): a webhook that takes "
    "1.5 s to answer does not hold back the receiver's other webhook, nor another receiver.",
    ROOT_1_2 + """\
  routes:
  - matchers: [alertname="K"]
    receiver: hook
    continue: true
  - matchers: [alertname="K"]
    receiver: other
""" + hooks(("hook", ["", ""]), "other"),
    [(0.0, post(alert("alertname=K,inst=a"))),
     (1.5, post(alert("alertname=K,inst=b")))],
    duration=4.5,
    respond=lambda slot, t, n: (200, 1.5) if slot == "hook/0" and n == 0 else 200,
))

scenario(Scenario(
    "slow_webhook_beyond_interval",
    "A webhook answering after 2.5 s, longer than group_interval (2 s): the next tick comes as soon as "
    "the flush is over, and the one after group_interval later.",
    ROOT_1_2 + hooks("hook"),
    [(0.0, post(alert("alertname=W,inst=a"))),
     (1.5, post(alert("alertname=W,inst=b"))),
     (4.0, post(alert("alertname=W,inst=c")))],
    duration=6.8,
    respond=lambda slot, t, n: (200, 2.5) if n == 0 else 200,
))

scenario(Scenario(
    "short_repeat_all_resolved",
    "repeat_interval (500 ms) shorter than group_interval: the notification-log entry expires (2 x "
    "repeat_interval) before the next tick, but Alertmanager keeps using it until its garbage collection "
    "(every 15 min), so the all-resolved notification is still sent.",
    ROOT_1_2.replace("repeat_interval: 1h", "repeat_interval: 500ms") + hooks("hook"),
    [(0.0, post(alert("alertname=A,inst=a"))),
     (3.5, post(alert("alertname=A,inst=a", ends=3.5)))],
    duration=6.5,
))

scenario(Scenario(
    "hanging_webhook",
    "A webhook that does not answer: the attempt is abandoned at the flush deadline (max(group_interval, "
    "10 s)), the flush fails, and the next one follows at once with everything that arrived meanwhile.",
    ROOT_1_2 + hooks("hook"),
    [(0.0, post(alert("alertname=H,inst=a"))),
     (5.5, post(alert("alertname=H,inst=b")))],
    duration=13.5,
    tolerance=0.3,
    respond=lambda slot, t, n: (200, 14.0) if n == 0 else 200,
))

scenario(Scenario(
    "resolve_before_tick",
    "A flush carries every alert answered before it: 20 groups started 20 ms apart, ticking at 7.00 s to "
    "7.38 s; one request at 6.9 s resolves the 14 alerts of the first seven (100 to 220 ms before their "
    "ticks: closer, a busy machine makes the request itself late for the first tick, on both sides). "
    "Alertmanager's ticks carry the resolves; with the front, alertbot's once sent them 3 s later, the "
    "resolves waiting in the inbox while the engine flushed (tests/server/test_inbox_flush.py holds the "
    "30 ms case on one side).",
    """\
route:
  receiver: hook
  group_by: [grp]
  group_wait: 1s
  group_interval: 3s
  repeat_interval: 1h
""" + hooks("hook"),
    [*((0.02 * k, post(alert(f"alertname=R,grp=g{k:02},inst=a"), alert(f"alertname=R,grp=g{k:02},inst=b")))
       for k in range(20)),
     (6.9, post(*(alert(f"alertname=R,grp=g{k:02},inst={i}", ends=6.9) for k in range(7) for i in "ab")))],
    duration=8.0,
))


def by_name(name: str) -> Scenario:
    return next(s for s in SCENARIOS if s.name == name)


def start_is_safe(now: datetime | None = None) -> bool:
    """Whether the time-interval scenario can run now: not in the minute before or after a full
    hour (today/tomorrow change at midnight UTC, this month in Berlin at 22:00 or 23:00 UTC)."""
    now = now or datetime.now(UTC)
    return now.minute not in (59, 0)
