"""Graphs of real Prometheus data: a day of 20 series as a PNG under 150 KB, firing window shaded.

Run as a module to regenerate the README's example from the same data and code:

    .venv/bin/python -m tests.prometheus.test_graph     # writes docs/graph-example.png
"""

from __future__ import annotations

import asyncio
import io
import math
import sys
import tempfile
from pathlib import Path

import pytest
from PIL import Image

from bot.prometheus import Matrix, PrometheusClient, Series, render_graph
from bot.prometheus.graph import FIRING, human
from tests.fixtures.prometheus import DAY_START, INCIDENT, LAST_SAMPLE, Prometheus, mlops_openmetrics

pytestmark = [pytest.mark.peer, pytest.mark.xdist_group("prometheus")]
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "graph-example.png"
DAY_QUERY = "sum by (endpoint, status) (rate(mlops_api_requests_total[5m]))"
TITLE = "API requests per second by endpoint and status"
FIRING_WINDOW = (INCIDENT[0] + 300, INCIDENT[1])  # APIHighErrorRate: pending 5m after the errors start
# the firing shade (FIRING at 10% over white), and how close a pixel must be to count as it
SHADE = tuple(round(255 + 0.10 * (int(FIRING[i:i + 2], 16) - 255)) for i in (1, 3, 5))


async def day_of_20_series(url: str) -> Matrix:
    async with PrometheusClient(url) as prom:
        return await prom.query_range(DAY_QUERY, DAY_START + 600, LAST_SAMPLE, 60)


def shaded_columns(png: bytes) -> list[int]:
    with Image.open(io.BytesIO(png)) as img:
        rgb = img.convert("RGB")
        width, height = rgb.size
        pixels = rgb.load()
        columns = []
        for x in range(width):
            hits = sum(1 for y in range(0, height, 2) if all(abs(a - b) <= 6 for a, b in zip(pixels[x, y], SHADE)))
            if hits > 20:
                columns.append(x)
        return columns


async def test_a_day_of_20_series_renders_small_and_shaded(prometheus_mlops: Prometheus) -> None:
    matrix = await day_of_20_series(prometheus_mlops.url)
    assert len(matrix.series) == 20 and all(len(s.values) == 1430 for s in matrix.series)
    png = render_graph(matrix, title=TITLE, firing=FIRING_WINDOW)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) < 150 * 1024, len(png)
    with Image.open(io.BytesIO(png)) as img:
        assert img.size == (1000, 500)
        assert img.mode == "P"  # a 256-colour palette keeps it small
    # the shaded band sits where the firing window is: 2h05m..4h before the end of 23h40m
    columns = shaded_columns(png)
    assert columns, "no firing shade found"
    plot_left, plot_width = 0.07 * 1000, 0.90 * 1000
    span = LAST_SAMPLE - (DAY_START + 600)
    expect_left = plot_left + plot_width * (FIRING_WINDOW[0] - DAY_START - 600) / span
    expect_right = plot_left + plot_width * (FIRING_WINDOW[1] - DAY_START - 600) / span
    assert abs(columns[0] - expect_left) <= 3 and abs(columns[-1] - expect_right) <= 3, (columns[0], columns[-1])
    # without a firing window there is no shade
    assert shaded_columns(render_graph(matrix, title=TITLE)) == []


async def test_more_series_than_drawn_and_no_data_still_render(prometheus_mlops: Prometheus) -> None:
    async with PrometheusClient(prometheus_mlops.url) as prom:
        buckets = await prom.query_range("rate(mlops_api_request_duration_seconds_bucket[5m])",
                                         INCIDENT[0] - 3600, INCIDENT[1], 60)
        empty = await prom.query_range('mlops_feature_psi{model="nope"}', INCIDENT[0], INCIDENT[1], 60)
    assert len(buckets.series) == 90
    for matrix in (buckets, empty):
        png = render_graph(matrix, firing=FIRING_WINDOW)
        with Image.open(io.BytesIO(png)) as img:
            assert img.size == (1000, 500)
        assert len(png) < 150 * 1024


def test_only_the_highest_series_are_drawn_and_gaps_stay_gaps() -> None:
    from bot.prometheus.graph import _pick, _with_gaps

    series = [Series({"i": str(i)}, (0.0, 60.0), (float(i), float(i))) for i in range(30)]
    shown, note = _pick(series, 20)
    assert [s.labels["i"] for s in shown] == [str(i) for i in range(29, 9, -1)]
    assert note == "the 20 of 30 series with the highest peaks"
    gap = Series({}, (0.0, 60.0, 600.0, 660.0), (1.0, 2.0, 3.0, float("inf")))
    xs, ys = _with_gaps(gap, 60)
    assert len(xs) == 5 and math.isnan(ys[2]) and math.isnan(ys[4])


@pytest.mark.parametrize(("value", "text"), [
    (0, "0"), (0.0456, "0.0456"), (12.5, "12.5"), (1234, "1.23k"), (-2_500_000, "-2.5M"), (3e9, "3G"),
])
def test_axis_numbers_are_short(value: float, text: str) -> None:
    assert human(value) == text


def write_example() -> None:
    with tempfile.TemporaryDirectory(prefix="alertbot-graph-") as tmp:
        prom = Prometheus.start(mlops_openmetrics(guard_series=0), tmp)
        try:
            matrix = asyncio.run(day_of_20_series(prom.url))
        finally:
            prom.stop()
    png = render_graph(matrix, title=TITLE, firing=FIRING_WINDOW)
    EXAMPLE.write_bytes(png)
    print(f"wrote {EXAMPLE} ({len(png):,} bytes, {len(matrix.series)} series)", file=sys.stderr)


if __name__ == "__main__":
    write_example()
