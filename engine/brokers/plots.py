"""Figures of the broker league (matplotlib, Agg backend): the same figure goes into the HTML report as inline SVG
and into PNG / SVG files on request.

- :func:`forest_figure` — hit rate with its Wilson 95 % interval per broker, best rank on top; own-band hit rates
  (brokers with a scale) and direction hit rates (all brokers) side by side; the dashed line is the pooled rate.
- :func:`excess_by_level_figure` — distribution of the excess return of complete windows per rating level (+2 … −2):
  box (quartiles, whiskers at the 5th / 95th percentiles) with the mean marked.
- :func:`hit_vs_n_figure` — hit rate against the number of judged ratings (log scale) with the 95 % funnel around
  the pooled rate: a broker outside the funnel differs from the average by more than luck explains.
- :func:`event_figure` — mean cumulative excess after upgrades, downgrades, initiations and reiterations with 95 %
  bands (top) and the number of events with data at each offset (bottom).
- :func:`broker_events_figure` — the same per broker, small multiples of the brokers with the most events.

:func:`build_figures` builds each once; :func:`figure_svg` (report) and :func:`save_figures` (files) render it.

Rates and returns are plotted in percent; offsets in sessions. Every function returns ``None`` when its table has
nothing to plot.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from engine.score.stats import Z_95  # noqa: E402

__all__ = ["forest_figure", "excess_by_level_figure", "hit_vs_n_figure", "event_figure", "broker_events_figure",
           "build_figures", "render_svgs", "figure_svg", "save_figures", "close_figures", "cjk_font_available", "quiet_glyphs",
           "FIGURES"]

plt.rcParams["font.sans-serif"] = ["Noto Sans CJK SC", "WenQuanYi Zen Hei", "SimHei", "DejaVu Sans"]
plt.rcParams["axes.unicode_minus"] = False
plt.rcParams["svg.fonttype"] = "none"  # text stays text in SVG: broker names render with the browser's CJK fonts

_ACTION_COLOURS = {"upgrade": "#1a7f37", "downgrade": "#c62828", "initiate": "#1565c0", "reiterate": "#6d6d6d"}


def _brokers(league: pd.DataFrame) -> pd.DataFrame:
    return league[league["group_by"] == "broker"] if "group_by" in league.columns else league


def _forest_panel(ax, part: pd.DataFrame, rate: str, low: str, high: str, hits: str, n: str, title: str) -> None:
    part = part[part[n] > 0]
    y = np.arange(len(part))[::-1]
    x = 100 * part[rate].to_numpy(dtype=float)
    lo = 100 * part[low].to_numpy(dtype=float)
    hi = 100 * part[high].to_numpy(dtype=float)
    ax.hlines(y, lo, hi, color="#1f77b4", lw=1.6)
    ax.plot(x, y, "o", color="#1f77b4", ms=4)
    pooled = 100 * part[hits].sum() / max(part[n].sum(), 1)
    ax.axvline(pooled, color="#888", ls="--", lw=1)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{g} (n={int(k)})" for g, k in zip(part["group"], part[n])], fontsize=7)
    ax.set_xlim(0, 100)
    ax.set_xlabel("hit rate [%] with 95 % Wilson interval")
    ax.set_title(title, fontsize=9)
    ax.grid(axis="x", alpha=.3)


def forest_figure(league: pd.DataFrame) -> Figure | None:
    """Forest plot of the brokers of ``league`` (see module docstring); ``None`` without a judged broker."""
    part = _brokers(league)
    band = part[part["n_hit_eligible"] > 0].sort_values("rank_score", ascending=False)
    direction = part[part["n_direction"] > 0].sort_values("direction_low", ascending=False)
    if band.empty and direction.empty:
        return None
    panels = [p for p in (band, direction) if not p.empty]
    height = max(2.5, 0.18 * max(len(p) for p in panels) + 1.2)
    fig, axes = plt.subplots(1, len(panels), figsize=(5.6 * len(panels), height), squeeze=False)
    fig.subplots_adjust(left=0.17 if len(panels) == 2 else 0.3, right=0.98, wspace=0.55, top=1 - 0.45 / height,
                        bottom=0.7 / height)
    i = 0
    if not band.empty:
        _forest_panel(axes[0, i], band, "hit_rate", "hit_rate_low", "hit_rate_high", "n_hits", "n_hit_eligible",
                      "own-band hit rate (brokers with a scale)")
        i += 1
    if not direction.empty:
        _forest_panel(axes[0, i], direction, "direction_hit_rate", "direction_low", "direction_high",
                      "direction_hits", "n_direction", "direction hit rate (all brokers)")
    return fig


def excess_by_level_figure(scores: pd.DataFrame) -> Figure | None:
    """Excess return of complete rated windows per rating level (see module docstring)."""
    rows = scores[(scores["kind"] == "rating") & scores["complete"].astype(bool)
                  & scores["horizon_leg"].isin(("single", "long")) & scores["rating_level"].notna()]
    if rows.empty:
        return None
    levels = sorted(rows["rating_level"].unique(), reverse=True)
    data = [100 * rows.loc[rows["rating_level"] == lv, "excess_return"].dropna().to_numpy() for lv in levels]
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.boxplot(data, whis=(5, 95), showfliers=False, showmeans=True,
               tick_labels=[f"{lv:+g}\n(n={len(d)})" for lv, d in zip(levels, data)])
    ax.axhline(0, color="#888", lw=1)
    ax.set_xlabel("rating level (+2 most bullish)")
    ax.set_ylabel("excess return vs benchmark [%]")
    ax.set_title("excess return of complete windows by rating level", fontsize=9)
    ax.grid(axis="y", alpha=.3)
    fig.subplots_adjust(left=0.12, right=0.98, top=0.92, bottom=0.2)
    return fig


def hit_vs_n_figure(league: pd.DataFrame) -> Figure | None:
    """Hit rate against sample size with the 95 % funnel around the pooled rate (see module docstring)."""
    part = _brokers(league)
    series = []
    band = part[part["n_hit_eligible"] > 0]
    if not band.empty:
        series.append(("own band", band["n_hit_eligible"], band["n_hits"], "o", "#1f77b4"))
    direction = part[part["n_direction"] > 0]
    if not direction.empty:
        series.append(("direction", direction["n_direction"], direction["direction_hits"], "s", "#ff7f0e"))
    if not series:
        return None
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for label, n, k, marker, colour in series:
        n = n.to_numpy(dtype=float)
        k = k.to_numpy(dtype=float)
        ax.scatter(n, 100 * k / n, marker=marker, color=colour, s=18, label=label, alpha=.8)
        p = k.sum() / n.sum()
        grid = np.geomspace(max(1.0, n.min()), n.max() * 1.1, 100)
        half = Z_95 * np.sqrt(p * (1 - p) / grid)
        ax.plot(grid, 100 * np.clip(p + half, 0, 1), color=colour, lw=.8, ls="--")
        ax.plot(grid, 100 * np.clip(p - half, 0, 1), color=colour, lw=.8, ls="--")
    ax.set_xscale("log")
    ax.set_ylim(0, 100)
    ax.set_xlabel("judged ratings (complete windows, log scale)")
    ax.set_ylabel("hit rate [%]")
    ax.set_title("hit rate vs sample size; dashed: 95 % funnel around the pooled rate", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=.3)
    fig.subplots_adjust(left=0.11, right=0.98, top=0.92, bottom=0.14)
    return fig


def event_figure(events: pd.DataFrame, broker: str = "all", min_n: int = 10) -> Figure | None:
    """Event-study curves of one broker (``all`` = every broker) with their N (see module docstring); offsets with
    fewer than ``min_n`` events are not drawn (a mean of 3 paths is noise), their N still is."""
    part = events[events["broker"] == broker] if len(events) else events
    if part.empty:
        return None
    fig, (ax, axn) = plt.subplots(2, 1, figsize=(7, 4.6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    for action, grp in part.groupby("action", sort=False):
        grp = grp.sort_values("offset")
        colour = _ACTION_COLOURS.get(str(action), None)
        x = grp["offset"].to_numpy()
        enough = grp["n"].to_numpy() >= min_n
        mean = np.where(enough, 100 * grp["mean_excess"].to_numpy(dtype=float), np.nan)
        ax.plot(x, mean, color=colour, lw=1.4, label=f"{action} (n={int(grp['n'].max())})")
        ax.fill_between(x, np.where(enough, 100 * grp["ci_low"].to_numpy(dtype=float), np.nan),
                        np.where(enough, 100 * grp["ci_high"].to_numpy(dtype=float), np.nan),
                        color=colour, alpha=.15, lw=0)
        axn.plot(x, grp["n"].to_numpy(), color=colour, lw=1)
    ax.axvline(0, color="#888", lw=1)
    ax.axhline(0, color="#888", lw=.8)
    ax.set_ylabel("cumulative excess [%]")
    ax.set_title(f"rating changes: {'all brokers' if broker == 'all' else broker}, 95 % bands "
                 f"(drawn where N ≥ {min_n})", fontsize=9)
    ax.legend(fontsize=8, ncol=2)
    ax.grid(alpha=.3)
    axn.set_ylabel("N")
    axn.set_xlabel("sessions after the rating (0 = publication)")
    axn.grid(alpha=.3)
    fig.subplots_adjust(left=0.11, right=0.98, top=0.93, bottom=0.11, hspace=0.08)
    return fig


def broker_events_figure(events: pd.DataFrame, max_brokers: int = 6, min_n: int = 10) -> Figure | None:
    """Small multiples: the rating-event curves of the ``max_brokers`` brokers with the most events (one panel
    each, mean cumulative excess with its 95 % band, offsets with fewer than ``min_n`` events not drawn)."""
    if events is None or events.empty:
        return None
    own = events[events["broker"] != "all"]
    if own.empty:
        return None
    sizes = own[own["offset"] == 0].groupby("broker")["n"].sum().sort_values(ascending=False, kind="stable")
    brokers = list(sizes.index[:max_brokers])
    cols = min(3, len(brokers))
    rows = -(-len(brokers) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.6 * rows), squeeze=False, sharex=True)
    for ax, broker in zip(axes.flat, brokers):
        for action, grp in own[own["broker"] == broker].groupby("action", sort=False):
            grp = grp.sort_values("offset")
            enough = grp["n"].to_numpy() >= min_n
            x = grp["offset"].to_numpy()
            colour = _ACTION_COLOURS.get(str(action), None)
            ax.plot(x, np.where(enough, 100 * grp["mean_excess"].to_numpy(dtype=float), np.nan), color=colour,
                    lw=1.2, label=f"{action} (n={int(grp['n'].max())})")
            ax.fill_between(x, np.where(enough, 100 * grp["ci_low"].to_numpy(dtype=float), np.nan),
                            np.where(enough, 100 * grp["ci_high"].to_numpy(dtype=float), np.nan), color=colour,
                            alpha=.15, lw=0)
        ax.axvline(0, color="#888", lw=.8)
        ax.axhline(0, color="#888", lw=.6)
        ax.set_title(str(broker), fontsize=8)
        ax.legend(fontsize=6, loc="upper left")
        ax.tick_params(labelsize=7)
        ax.grid(alpha=.3)
    for ax in list(axes.flat)[len(brokers):]:
        ax.set_visible(False)
    fig.supxlabel("sessions after the rating", fontsize=8)
    fig.supylabel("cumulative excess [%]", fontsize=8)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.92, bottom=0.12, wspace=0.25, hspace=0.35)
    return fig


#: Figure file stems and builders: ``name -> (what it needs, builder)``.
FIGURES = {
    "forest": ("league", forest_figure),
    "excess_by_level": ("scores", excess_by_level_figure),
    "hit_vs_n": ("league", hit_vs_n_figure),
    "rating_events": ("events", event_figure),
    "rating_events_by_broker": ("events", broker_events_figure),
}


def build_figures(league: pd.DataFrame, scores: pd.DataFrame, events: pd.DataFrame) -> dict[str, Figure]:
    """Every figure of :data:`FIGURES` that has data, built once (for the report and the files alike)."""
    tables = {"league": league, "scores": scores, "events": events}
    out = {}
    with quiet_glyphs():
        for name, (needs, build) in FIGURES.items():
            fig = build(tables[needs])
            if fig is not None:
                out[name] = fig
    return out


@contextlib.contextmanager
def quiet_glyphs():
    """Silence matplotlib's one-warning-per-missing-glyph (a machine without a Chinese font; said once instead by
    :func:`cjk_font_available`'s caller)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)
        yield


def cjk_font_available() -> bool:
    """True when matplotlib finds a font with Chinese glyphs (else PNG labels of broker names show as boxes; the
    SVG files and the report keep names as text, drawn by the viewer's fonts)."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return any(n in names for n in plt.rcParams["font.sans-serif"][:-1])


def figure_svg(fig: Figure | None) -> str:
    """The figure as an inline ``<svg>`` string (XML prolog and DOCTYPE removed); ``""`` for ``None``."""
    if fig is None:
        return ""
    buf = io.StringIO()
    with quiet_glyphs():
        fig.savefig(buf, format="svg")
    text = buf.getvalue()
    return text[text.index("<svg"):]


def render_svgs(figures: dict[str, Figure]) -> dict[str, str]:
    """Each figure as an SVG string (:func:`figure_svg`), rendered once for the report and the ``.svg`` files."""
    return {name: figure_svg(fig) for name, fig in figures.items()}


def save_figures(figures: dict[str, Figure], out_dir: str | Path, formats: Sequence[str] = ("png", "svg"),
                 dpi: int = 150, svgs: dict[str, str] | None = None) -> list[Path]:
    """Write ``figures`` (from :func:`build_figures`) as ``out_dir/<name>.<fmt>``; returns the paths. ``svgs``
    (from :func:`render_svgs`) are written as they are instead of rendering the SVG again."""
    bad = [f for f in formats if f not in ("png", "svg")]
    if bad:
        raise ValueError(f"figure format(s) {', '.join(bad)}; allowed: png, svg")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, fig in figures.items():
        for fmt in formats:
            path = out / f"{name}.{fmt}"
            tmp = path.with_name(f".{path.name}.tmp")
            if fmt == "svg" and svgs and svgs.get(name):
                tmp.write_text('<?xml version="1.0" encoding="utf-8" standalone="no"?>\n' + svgs[name],
                               encoding="utf-8")
            else:
                with quiet_glyphs():
                    fig.savefig(tmp, format=fmt, dpi=dpi)
            tmp.replace(path)
            paths.append(path)
    return paths


def close_figures(figures: dict[str, Figure]) -> None:
    """Release the figures' memory."""
    for fig in figures.values():
        plt.close(fig)
