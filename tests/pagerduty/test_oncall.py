"""Who is on call: the `pagerduty` package (in a thread) against the fake's REST API over TLS."""

from __future__ import annotations

import ssl

import pytest

from bot.notify.pagerduty import OnCallDirectory, OnCallUnavailable
from tests.fakes.pagerduty import FakePagerDuty


def directory(fake: FakePagerDuty, token: str = "pd-rest-token", **kw: object) -> OnCallDirectory:
    assert fake.ca_file is not None
    ctx = ssl.create_default_context(cafile=str(fake.ca_file))
    return OnCallDirectory(token, base_url=fake.rest_url, verify=ctx, **kw)  # type: ignore[arg-type]


async def test_on_call_by_service_id_and_by_policy_name(fake_pd: FakePagerDuty) -> None:
    d = directory(fake_pd)
    answer = await d.who_is_on_call("PSERVIC1")
    assert answer.service == "mlops-platform" and answer.escalation_policy_id == "PPOLICY1"
    assert [(o.level, o.user, o.email, o.schedule) for o in answer.oncalls] == [
        (1, "Alice Oncall", "alice@example.com", "Platform primary"), (2, "Bob Backup", "bob@example.com", "")]
    by_name = await d.who_is_on_call("MLOps Platform")
    assert by_name.escalation_policy == "MLOps Platform" and by_name.service == ""
    assert [o.user for o in by_name.oncalls] == ["Alice Oncall", "Bob Backup"]
    paths = [p for p, _ in fake_pd.rest_calls]
    assert "/oncalls" in paths
    (query,) = [q for p, q in fake_pd.rest_calls if p == "/oncalls"][:1]
    assert query["escalation_policy_ids[]"] == "PPOLICY1"


async def test_answers_are_cached_briefly(fake_pd: FakePagerDuty) -> None:
    d = directory(fake_pd, cache_seconds=60)
    await d.who_is_on_call("mlops-platform")
    calls = len(fake_pd.rest_calls)
    await d.who_is_on_call("MLOPS-PLATFORM")
    assert len(fake_pd.rest_calls) == calls
    d.cache_seconds = 0
    await d.who_is_on_call("mlops-platform")
    assert len(fake_pd.rest_calls) > calls


async def test_errors_are_plain_sentences(fake_pd: FakePagerDuty) -> None:
    with pytest.raises(OnCallUnavailable, match="refused the API token"):
        await directory(fake_pd, token="wrong").who_is_on_call("PSERVIC1")
    with pytest.raises(OnCallUnavailable, match="no PagerDuty service or escalation policy named 'nothing'"):
        await directory(fake_pd).who_is_on_call("nothing")
    with pytest.raises(OnCallUnavailable, match="PAGERDUTY_API_TOKEN"):
        await directory(fake_pd, token="").who_is_on_call("PSERVIC1")
    # 429 is retried a bounded number of times (the package's default is forever), then answered.
    fake_pd.rest_fail.extend([429] * 10)
    with pytest.raises(OnCallUnavailable, match="429"):
        await directory(fake_pd).who_is_on_call("PSERVIC1")
    assert len(fake_pd.rest_fail) == 7  # three attempts, no more
    fake_pd.rest_fail.clear()
    fake_pd.rest_fail.append(503)
    answer = await directory(fake_pd).who_is_on_call("PSERVIC1")  # one 5xx retried
    assert answer.oncalls


async def test_plain_http_is_refused_by_the_package() -> None:
    d = OnCallDirectory("t", base_url="http://127.0.0.1:9")
    with pytest.raises(OnCallUnavailable, match="https"):
        await d.who_is_on_call("PSERVIC1")
