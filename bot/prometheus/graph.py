"""A range result drawn as a PNG for Slack: matplotlib's Agg backend, no pyplot state.

The figure is an opaque white card with dark text and mid-tone, colour-blind-safe lines, so
it reads the same on Slack's light and dark themes (a transparent image would put dark text
on a dark background). The firing window is shaded red. Labels shared by every series go
into the subtitle; the legend shows only the labels that tell series apart. Above
`max_series` series, the ones with the highest peaks are drawn and the legend says so.
The PNG is quantized to a 256-colour palette, which keeps a day of 20 series at 1000x500
pixels well under 150 KB.

Rendering takes a few hundred milliseconds of CPU: call it through `asyncio.to_thread`.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot; we never do

from matplotlib import dates as mdates  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402
from PIL import Image  # noqa: E402

from bot.prometheus.results import Matrix, Series  # noqa: E402

BACKGROUND = "#FFFFFF"
TEXT = "#1D1C1D"
MUTED = "#616061"
GRID = "#DDDDDD"
FIRING = "#E01E5A"
# Okabe-Ito's colour-blind-safe colours (its yellow darkened to hold up on white) and three
# more; series 11-20 reuse them dashed, which stays tellable apart where 20 hues would not.
PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7",
    "#56B4E9", "#404040", "#8C6D31", "#7F3C8D", "#B59B00",
)
LINE_STYLES = ("-", (0, (4, 2)))
MAX_LEGEND_LABEL = 70


def render_graph(matrix: Matrix, *, title: str | None = None, firing: tuple[float, float] | None = None,
                 max_series: int = 20, width: int = 1000, height: int = 500, unit: str = "") -> bytes:
    """The PNG bytes of `matrix` drawn over [matrix.start, matrix.end], `width` x `height` pixels."""
    dpi = 100
    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, facecolor=BACKGROUND)
    FigureCanvasAgg(fig)
    series = list(matrix.series)
    shown, note = _pick(series, max_series)
    common, distinct = _split_labels([s.labels for s in shown])

    legend_rows = math.ceil(len(shown) / _legend_columns(len(shown))) if len(shown) > 1 else 0
    legend_height = min(0.42, 0.035 * legend_rows + (0.03 if legend_rows else 0))
    ax = fig.add_axes((0.07, 0.12 + legend_height, 0.90, 0.72 - legend_height))
    ax.set_facecolor(BACKGROUND)

    fig.text(0.07, 0.955, _ellipsis(title or matrix.expr, 110), fontsize=11, fontweight="bold", color=TEXT,
             va="top")
    subtitle = ", ".join(f"{k}={v}" for k, v in sorted(common.items()))
    if matrix.datasource:
        subtitle = (subtitle + "  ·  " if subtitle else "") + f"datasource {matrix.datasource}"
    if subtitle:
        fig.text(0.07, 0.905, _ellipsis(subtitle, 140), fontsize=8.5, color=MUTED, va="top")

    start, end = _to_dt(matrix.start), _to_dt(matrix.end if matrix.end > matrix.start else matrix.start + 60)
    if firing is not None:
        f0, f1 = max(firing[0], matrix.start), min(firing[1], matrix.end)
        if f1 > f0:
            ax.axvspan(_to_dt(f0), _to_dt(f1), color=FIRING, alpha=0.10, lw=0, zorder=0)
            for edge in (f0, f1):
                ax.axvline(_to_dt(edge), color=FIRING, lw=0.8, alpha=0.6, ls="--", zorder=1)
            ax.text(_to_dt(f0), 1.0, " firing", transform=ax.get_xaxis_transform(), color=FIRING,
                    fontsize=8, va="bottom", ha="left")

    step = matrix.step or _median_step(shown)
    for i, s in enumerate(shown):
        xs, ys = _with_gaps(s, step)
        label = _ellipsis(", ".join(f"{k}={v}" for k, v in distinct[i].items()) or _describe(s.labels),
                          MAX_LEGEND_LABEL)
        ax.plot(xs, ys, color=PALETTE[i % len(PALETTE)], ls=LINE_STYLES[(i // len(PALETTE)) % 2], lw=1.4,
                label=label, zorder=2)

    if not shown:
        ax.text(0.5, 0.5, "no data in this window", transform=ax.transAxes, ha="center", va="center",
                color=MUTED, fontsize=11)
    ax.set_xlim(start, end)
    locator = mdates.AutoDateLocator(tz=dt.timezone.utc, minticks=4, maxticks=9)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=dt.timezone.utc))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: human(v) + unit))
    ax.grid(True, color=GRID, lw=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(MUTED)
    ax.tick_params(colors=TEXT, labelsize=8.5)
    fig.text(0.97, 0.955, "UTC", fontsize=8, color=MUTED, ha="right", va="top")

    if len(shown) > 1:
        columns = _legend_columns(len(shown))
        legend = fig.legend(loc="lower left", bbox_to_anchor=(0.065, 0.01), ncols=columns, fontsize=7.5,
                            frameon=False, handlelength=2.2, columnspacing=1.2, labelcolor=TEXT,
                            title=note, title_fontsize=7.5, alignment="left")
        if note:
            legend.get_title().set_color(MUTED)
    elif note:
        fig.text(0.07, 0.02, note, fontsize=7.5, color=MUTED)

    raw = io.BytesIO()
    fig.savefig(raw, format="png", dpi=dpi, facecolor=BACKGROUND)
    return _quantize(raw.getvalue())


def human(v: float) -> str:
    """A short number for an axis: 0, 0.0456, 12.5, 1.2k, 3.4M."""
    if v == 0 or not math.isfinite(v):
        return "0" if v == 0 else str(v)
    a = abs(v)
    for factor, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= factor:
            return f"{v / factor:.3g}{suffix}"
    return f"{v:.3g}"


def _pick(series: list[Series], limit: int) -> tuple[list[Series], str | None]:
    if len(series) <= limit:
        return series, None

    def peak(s: Series) -> float:
        finite = [v for v in s.values if math.isfinite(v)]
        return max(finite) if finite else -math.inf

    top = sorted(series, key=peak, reverse=True)[:limit]
    return top, f"the {limit} of {len(series)} series with the highest peaks"


def _split_labels(label_sets: Sequence[Mapping[str, str]]) -> tuple[dict[str, str], list[dict[str, str]]]:
    """Labels every series shares (for the subtitle), and each series' own (for the legend)."""
    if not label_sets:
        return {}, []
    common = dict(label_sets[0])
    for labels in label_sets[1:]:
        common = {k: v for k, v in common.items() if labels.get(k) == v}
    if len(label_sets) == 1:
        return common, [{}]
    distinct = [{k: v for k, v in sorted(labels.items()) if k not in common} for labels in label_sets]
    return common, distinct


def _describe(labels: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or "{}"


def _legend_columns(n: int) -> int:
    return 1 if n <= 3 else 2 if n <= 8 else 3


def _ellipsis(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _to_dt(t: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(t, tz=dt.timezone.utc)


def _median_step(series: Sequence[Series]) -> float:
    gaps = sorted(b - a for s in series for a, b in zip(s.timestamps, s.timestamps[1:]))
    return gaps[len(gaps) // 2] if gaps else 60.0


def _with_gaps(s: Series, step: float) -> tuple[list[dt.datetime], list[float]]:
    """The series as plot points, with a break wherever samples are missing (no line across a gap)."""
    xs: list[dt.datetime] = []
    ys: list[float] = []
    previous = None
    for t, v in zip(s.timestamps, s.values):
        if previous is not None and t - previous > 1.5 * step:
            xs.append(_to_dt(previous + step))
            ys.append(math.nan)
        xs.append(_to_dt(t))
        ys.append(v if math.isfinite(v) else math.nan)
        previous = t
    return xs, ys


def _quantize(png: bytes) -> bytes:
    with Image.open(io.BytesIO(png)) as img:
        paletted = img.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        out = io.BytesIO()
        paletted.save(out, format="PNG", optimize=True)
        return out.getvalue()
