"""Which runbook an alert (and an alert group) gets.

For one alert, in order:
  1. its `runbook_url` annotation, else its `runbook` annotation, as it came. When it names
     a catalog entry (see Catalog.by_reference) the alert gets that entry, linked by the
     annotation's URL; any other http(s) URL is an external runbook (a link only). A value
     that names nothing usable is noted in `problems` and skipped;
  2. the most specific catalog entry whose matchers match its labels (most matchers; ties
     go to the file name that sorts first);
  3. none: "no runbook yet", with where to add one.

For a group: the runbook the most alerts match (an alert matches a runbook when its own
resolution is that runbook or the runbook's matchers match its labels); ties go to the more
specific runbook, then the file name or URL. Alerts whose own runbook differs keep it and
are listed in `differing`.

Annotations are data, never templates. Prometheus expands a rule's `{{ $labels.x }}` before it
sends the alert, and Alertmanager never renders what it receives; anyone who can post an alert
writes its annotations, so rendering them would run a template of theirs, inside the engine's
flush, on every notification of the group (a nested `range` over 40 labels took a second per
alert). A value still holding `{{` is one Prometheus did not expand: it is reported, not run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from bot.runbooks.catalog import Catalog
from bot.runbooks.model import Runbook

Source = Literal["annotation", "catalog", "none"]
ANNOTATIONS = ("runbook_url", "runbook")


class AlertLike(Protocol):
    @property
    def labels(self) -> Mapping[str, str]: ...

    @property
    def annotations(self) -> Mapping[str, str]: ...


@dataclass(frozen=True)
class Resolution:
    source: Source
    runbook: Runbook | None
    """The catalog entry (from the annotation or from matching); None for an external link or none."""
    url: str | None
    """The link to show: the annotation's URL, else the entry's front matter `url`."""
    hint: str = ""
    """For source "none": where to add a runbook."""
    problems: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """What makes two resolutions 'the same runbook'."""
        if self.runbook is not None:
            return "runbook:" + self.runbook.name
        if self.url:
            return "url:" + self.url
        return "none"


def resolve(catalog: Catalog, labels: Mapping[str, str], annotations: Mapping[str, str] | None = None) -> Resolution:
    """The runbook of one alert, in the order above."""
    problems: list[str] = []
    for key in ANNOTATIONS:
        value = (annotations or {}).get(key, "").strip()
        if not value:
            continue
        if "{{" in value:
            problems.append(f"annotation {key} holds an unexpanded template (annotations are not rendered: "
                            "Prometheus expands them in the alerting rule)")
            continue
        runbook = catalog.by_reference(value)
        if value.startswith(("http://", "https://")):
            return Resolution("annotation", runbook, value, problems=tuple(problems))
        if runbook is not None:
            return Resolution("annotation", runbook, runbook.url, problems=tuple(problems))
        problems.append(f"annotation {key} {value!r} is neither an http(s) URL nor a runbook in the catalog")
    best = catalog.best(labels)
    if best is not None:
        return Resolution("catalog", best, best.url, problems=tuple(problems))
    return Resolution("none", None, None, hint=catalog.hint(labels), problems=tuple(problems))



@dataclass(frozen=True)
class GroupRunbook:
    runbook: Resolution
    """The group's runbook."""
    alerts: tuple[Resolution, ...]
    """Each alert's own, in the group's order."""

    @property
    def differing(self) -> tuple[int, ...]:
        """Indexes of the alerts whose own runbook is not the group's."""
        key = self.runbook.key
        return tuple(i for i, r in enumerate(self.alerts) if r.key != key)


def resolve_group(catalog: Catalog, alerts: Sequence[AlertLike]) -> GroupRunbook:
    own = tuple(resolve(catalog, a.labels, a.annotations) for a in alerts)
    if not alerts:
        return GroupRunbook(Resolution("none", None, None, hint=catalog.hint({})), own)
    candidates: dict[str, Resolution] = {}
    for r in own:
        if r.source != "none":
            candidates.setdefault(r.key, r)
    for a in alerts:
        for rb in catalog.matching(a.labels):
            candidates.setdefault("runbook:" + rb.name, Resolution("catalog", rb, rb.url))
    if not candidates:
        return GroupRunbook(own[0], own)

    def count(c: Resolution) -> int:
        return sum(
            1 for a, r in zip(alerts, own)
            if r.key == c.key or (c.runbook is not None and c.runbook.matchers.matches(a.labels))
        )

    def rank(c: Resolution) -> tuple[int, int, str]:
        specificity = c.runbook.specificity if c.runbook is not None else 0
        return (-count(c), -specificity, c.key)

    chosen = min(candidates.values(), key=rank)
    return GroupRunbook(chosen, own)

