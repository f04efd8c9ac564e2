"""Templates rendered by bot.templates against Alertmanager 0.25's own rendering of the same corpus.

expected.json is produced by tests/templates/gen (Go, Alertmanager's template package);
these tests only read it. Every (template, data set) pair must agree exactly — output
text or error message — except the templates listed with their reason under
"Deliberate differences" in docs/templates.md, and that list must be exact too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.templates import AlertSnapshot, TemplateData
from tests.templates.conformance import datasets, documented_differences, expected, render, template_sets


@pytest.fixture(scope="module")
def sets(tmp_path_factory: pytest.TempPathFactory):
    return template_sets(tmp_path_factory.mktemp("templates"))


def _disagreements(sets) -> dict[str, list[str]]:
    data = datasets()
    found: dict[str, list[str]] = {}
    for entry in expected()["templates"]:
        templates = sets[entry["set"]]
        for (name, d), want in zip(data, entry["results"]):
            got = render(templates, entry["text"], d)
            if got != want:
                found.setdefault(entry["id"], []).append(f"{name}: want {want!r}, got {got!r}")
    return found


def test_corpus_size() -> None:
    exp = expected()
    assert len(exp["templates"]) >= 150
    assert len(exp["datasets"]) >= 10
    default_ids = [t["id"] for t in exp["templates"] if t["id"].startswith("default-")]
    assert len(default_ids) >= 40, "every Alertmanager default template is in the corpus"
    assert all(len(t["results"]) == len(exp["datasets"]) for t in exp["templates"])


def test_every_template_agrees_with_alertmanager(sets) -> None:
    found = _disagreements(sets)
    documented = documented_differences()
    undocumented = {k: v for k, v in found.items() if k not in documented}
    assert not undocumented, "templates rendering differently from Alertmanager:\n" + "\n".join(
        f"{k}:\n  " + "\n  ".join(v[:3]) for k, v in undocumented.items()
    )
    stale = sorted(set(documented) - set(found))
    assert not stale, f"docs/templates.md lists differences that no longer occur: {stale}"


@pytest.mark.parametrize("entry", [d for d in expected()["datasets"] if d["source"] == "built"], ids=lambda d: d["name"])
def test_template_data_built_like_alertmanager(entry) -> None:
    """TemplateData.build assembles what Alertmanager's Template.Data does from the same alerts."""
    raw = entry["input"]
    want = entry["data"]
    snapshots = [
        AlertSnapshot(
            labels=a["labels"],
            annotations=a["annotations"],
            starts_at=a["startsAt"] or None,
            ends_at=a["endsAt"] or None,
            generator_url=a["generatorURL"],
            # The engine decides firing/resolved at flush time; Alertmanager did it when the generator ran.
            status=w["status"],
        )
        for a, w in zip(raw.get("alerts", []), want["alerts"])
    ]
    built = TemplateData.build(
        receiver=raw.get("receiver", ""),
        alerts=snapshots,
        group_labels=raw.get("groupLabels", {}),
        external_url=raw.get("externalURL", ""),
    ).data
    assert built.Receiver == want["receiver"]
    assert built.Status == want["status"]
    assert dict(built.GroupLabels) == want["groupLabels"]
    assert dict(built.CommonLabels) == want["commonLabels"]
    assert dict(built.CommonAnnotations) == want["commonAnnotations"]
    assert built.ExternalURL == want["externalURL"]
    assert [a.Fingerprint for a in built.Alerts] == [a["fingerprint"] for a in want["alerts"]]
    assert [a.StartsAt.rfc3339nano() for a in built.Alerts] == [a["startsAt"] for a in want["alerts"]]
    assert [a.EndsAt.rfc3339nano() for a in built.Alerts] == [a["endsAt"] for a in want["alerts"]]


def test_recorded_payloads_are_real() -> None:
    recorded = [d for d in expected()["datasets"] if d["source"] == "recorded"]
    assert len(recorded) >= 5
    for d in recorded:
        assert d["input"]["payload"]["version"] == "4"
        assert d["input"]["comment"].startswith("Recorded from Alertmanager 0.25")


def test_generator_is_committed_beside_its_data() -> None:
    here = Path(__file__).parent
    assert (here / "gen" / "main.go").is_file()
    assert (here / "corpus" / "templates.txt").is_file()
    assert expected()["go"].startswith("go1.19")
