"""Writes cases.json: the route trees and label sets of Alertmanager's own tests
(dispatch/route_test.go TestRouteMatch / TestRouteMatchers / TestRouteMatchersAndMatch,
dispatch_test.go TestGroups), plus label values that stress group-key quoting.
Run: python make_cases.py && GO111MODULE=off GOPATH=/usr/share/gocode go run ./gen < cases.json > expected.json
"""
import json

RECEIVERS = "receivers:\n" + "".join(f"- name: {n}\n" for n in [
    "notify-def", "notify-A", "notify-testing", "notify-productionA", "notify-productionB", "notify-BC"])

ROUTE_MATCH = """route:
  receiver: 'notify-def'
  routes:
  - match:
      owner: 'team-A'
    receiver: 'notify-A'
    routes:
    - match:
        env: 'testing'
      receiver: 'notify-testing'
      group_by: [...]
    - match:
        env: "production"
      receiver: 'notify-productionA'
      group_wait: 1m
      continue: true
    - match_re:
        env: "produ.*"
        job: ".*"
      receiver: 'notify-productionB'
      group_wait: 30s
      group_interval: 5m
      repeat_interval: 1h
      group_by: ['job']
  - match_re:
      owner: 'team-(B|C)'
    group_by: ['foo', 'bar']
    group_wait: 2m
    receiver: 'notify-BC'
  - match:
      group_by: 'role'
    group_by: ['role']
    routes:
    - match:
        env: 'testing'
      receiver: 'notify-testing'
      routes:
      - match:
          wait: 'long'
        group_wait: 2m
"""

ROUTE_MATCHERS = """route:
  receiver: 'notify-def'
  routes:
  - matchers: ['{owner="team-A"}', '{level!="critical"}']
    receiver: 'notify-A'
    routes:
    - matchers: ['{env="testing"}', '{baz!~".*quux"}']
      receiver: 'notify-testing'
      group_by: [...]
    - matchers: ['{env="production"}']
      receiver: 'notify-productionA'
      group_wait: 1m
      continue: true
    - matchers: [ env=~"produ.*", job=~".*"]
      receiver: 'notify-productionB'
      group_wait: 30s
      group_interval: 5m
      repeat_interval: 1h
      group_by: ['job']
  - matchers: [owner=~"team-(B|C)"]
    group_by: ['foo', 'bar']
    group_wait: 2m
    receiver: 'notify-BC'
  - matchers: [group_by="role"]
    group_by: ['role']
    routes:
    - matchers: ['{env="testing"}']
      receiver: 'notify-testing'
      routes:
      - matchers: [wait="long"]
        group_wait: 2m
"""

ROUTE_MIXED = """route:
  receiver: 'notify-def'
  routes:
  - matchers: ['{owner="team-A"}', '{level!="critical"}']
    receiver: 'notify-A'
    routes:
    - matchers: ['{env="testing"}', '{baz!~".*quux"}']
      receiver: 'notify-testing'
      group_by: [...]
    - match:
        env: "production"
      receiver: 'notify-productionA'
      group_wait: 1m
      continue: true
    - matchers: [ env=~"produ.*", job=~".*"]
      receiver: 'notify-productionB'
      group_wait: 30s
      group_interval: 5m
      repeat_interval: 1h
      group_by: ['job']
  - match_re:
      owner: 'team-(B|C)'
    group_by: ['foo', 'bar']
    group_wait: 2m
    receiver: 'notify-BC'
  - matchers: [group_by="role"]
    group_by: ['role']
    routes:
    - matchers: ['{env="testing"}']
      receiver: 'notify-testing'
      routes:
      - matchers: [wait="long"]
        group_wait: 2m
"""

ROUTE_LABELSETS = [
    {"owner": "team-A"},
    {"owner": "team-A", "env": "unset"},
    {"owner": "team-C"},
    {"owner": "team-A", "env": "testing"},
    {"owner": "team-A", "env": "production"},
    {"group_by": "role"},
    {"env": "testing", "group_by": "role"},
    {"env": "testing", "group_by": "role", "wait": "long"},
    {"owner": "team-A", "level": "critical"},
    {"owner": "team-A", "env": "testing", "baz": "a-quux"},
    {"owner": "team-B", "foo": "1", "bar": "2", "baz": "3"},
    {"owner": "team-A", "env": "production", "job": "j\"quoted\""},
    {},
]

GROUPS = """receivers:
- name: 'kafka'
- name: 'prod'
- name: 'testing'

route:
  group_by: ['alertname']
  group_wait: 10ms
  group_interval: 10ms
  receiver: 'prod'
  routes:
  - match:
      env: 'testing'
    receiver: 'testing'
    group_by: ['alertname', 'service']
  - match:
      env: 'prod'
    receiver: 'prod'
    group_by: ['alertname', 'service', 'cluster']
    continue: true
  - match:
      kafka: 'yes'
    receiver: 'kafka'
    group_by: ['alertname', 'service', 'cluster']
"""

GROUP_LABELSETS = [
    {"alertname": "OtherAlert", "cluster": "cc", "service": "dd"},
    {"env": "testing", "alertname": "TestingAlert", "service": "api", "instance": "inst1"},
    {"env": "prod", "alertname": "HighErrorRate", "cluster": "aa", "service": "api", "instance": "inst1"},
    {"env": "prod", "alertname": "HighErrorRate", "cluster": "aa", "service": "api", "instance": "inst2"},
    {"env": "prod", "alertname": "HighErrorRate", "cluster": "bb", "service": "api", "instance": "inst1"},
    {"env": "prod", "alertname": "HighLatency", "cluster": "bb", "service": "db", "kafka": "yes", "instance": "inst3"},
    {"service": "no-alertname"},
]

# Group-key quoting: Go's %q on values (quotes, backslashes, control characters, unicode).
QUOTING = """route:
  receiver: r
  group_by: ['...']
  routes:
  - matchers: ['team="a\\"b"', 'x=~"a\\\\nb|c"']
    receiver: r
    group_by: [alertname, v]
receivers:
- name: r
"""

QUOTING_LABELSETS = [
    {"alertname": "A", "v": 'say "hi"'},
    {"alertname": "A", "v": "back\\slash"},
    {"alertname": "A", "v": "tab\there\nnewline\r\x01\x7f"},
    {"alertname": "A", "v": "ünïcødé ✓ 🙂"},
    {"alertname": "A", "v": "nbsp\u00a0and\u200bzwsp\u2028ls"},
    {"alertname": "A", "v": ""},
    {"team": 'a"b', "x": "a\\nb", "alertname": "B", "v": "w"},
    {"team": 'a"b', "x": "c", "alertname": "B"},
    {"alertname": "Grp", "inst": "a"},
    {"alertname": "Grp", "inst": "b"},
    {"alertname": "Valid1"},
    {"alertname": "Reuse", "x": "1"},
]

cases = [
    {"name": "TestRouteMatch", "config": ROUTE_MATCH + RECEIVERS, "label_sets": ROUTE_LABELSETS},
    {"name": "TestRouteMatchers", "config": ROUTE_MATCHERS + RECEIVERS, "label_sets": ROUTE_LABELSETS},
    {"name": "TestRouteMatchersAndMatch", "config": ROUTE_MIXED + RECEIVERS, "label_sets": ROUTE_LABELSETS},
    {"name": "TestGroups", "config": GROUPS, "label_sets": GROUP_LABELSETS},
    {"name": "quoting", "config": QUOTING, "label_sets": QUOTING_LABELSETS},
]
with open("cases.json", "w") as fh:
    json.dump(cases, fh, indent=1, ensure_ascii=False)
