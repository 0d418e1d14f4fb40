"""Pure functions from result tables to plotly figures (no I/O, no number formatting beyond axis tick formats).

Each ``*_figure`` function takes one table (columns documented on the function), returns a :class:`Figure` — the
plotly.js figure as plain data (``data``: a list of traces, ``layout``), readable like plotly's objects
(``fig.data[0].y``, ``fig.layout.yaxis2.title.text``; an unset property reads as ``None``) — and returns ``None``
when the table is missing or lacks what the chart needs, so the report can show "no data" instead. Figures are
built as dictionaries, not ``plotly.graph_objects`` (whose validation cost 0.3-0.5 s per report); the report
embeds :meth:`Figure.to_json` and plotly.js draws it. Strings that come from reports or configs (broker names,
ratings, groups) are HTML-escaped before they become labels: plotly renders a small HTML subset in labels, so an
escaped ``&lt;script&gt;`` is displayed as text, never interpreted.

Conventions: returns are fractions (0.05 = 5 %; axes use a ``%`` tick format); equity and benchmark values are in
the portfolio currency and are shown as growth of 1 from the first row; dates are session dates.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "Figure",
    "Props",
    "growth_of_one",
    "drawdown",
    "monthly_returns",
    "equity_figure",
    "excess_figure",
    "drawdown_figure",
    "monthly_heatmap_figure",
    "excess_distribution_figure",
    "event_study_figure",
    "event_study_groupings",
    "EVENT_GROUP_COLUMNS",
    "MAX_BOX_POINTS",
    "box_stats",
    "screen_figure",
    "yearly_returns_figure",
    "rolling_figure",
    "returns_histogram_figure",
    "FEW_SIGNALS",
    "PAGE_TEMPLATE",
    "page_template",
    "plotly_js",
]

#: Event-study points backed by fewer signals than this are drawn grey (their mean moves with one signal).
FEW_SIGNALS = 5

_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f"]
_LAYOUT = dict(margin=dict(l=60, r=20, t=40, b=40), height=360,
               legend=dict(orientation="h", y=1.08, x=0), hovermode="x unified")

#: ColorBrewer's RdYlGn (red → yellow → green) as plotly's Python package expands the name ``"RdYlGn"``; plotly.js
#: itself does not know that name, so figures built as plain data spell the scale out.
_RD_YL_GN = [[0.0, "rgb(165,0,38)"], [0.1, "rgb(215,48,39)"], [0.2, "rgb(244,109,67)"], [0.3, "rgb(253,174,97)"],
             [0.4, "rgb(254,224,139)"], [0.5, "rgb(255,255,191)"], [0.6, "rgb(217,239,139)"],
             [0.7, "rgb(166,217,106)"], [0.8, "rgb(102,189,99)"], [0.9, "rgb(26,152,80)"], [1.0, "rgb(0,104,55)"]]

#: The plotly template of every figure. Figures carry an empty template (``{}``); the report embeds this template
#: once and applies it in the browser (:func:`page_template`).
PAGE_TEMPLATE = "plotly_white"


def _plotly_file(*parts: str) -> str:
    """A file of the installed plotly package's ``package_data``, read without importing plotly."""
    import importlib.util
    import os

    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("plotly is not installed (pip install plotly): the report embeds its plotly.js")
    folder = list(spec.submodule_search_locations)[0]
    with open(os.path.join(folder, "package_data", *parts), encoding="utf-8") as fh:
        return fh.read()


def page_template() -> dict:
    """:data:`PAGE_TEMPLATE` as plain JSON data (``{"data": …, "layout": …}``), for the report to embed once (the
    template file plotly ships, as ``plotly.io.templates[PAGE_TEMPLATE].to_plotly_json()`` gives it)."""
    return json.loads(_plotly_file("templates", f"{PAGE_TEMPLATE}.json"))


def plotly_js() -> str:
    """The plotly.js bundle plotly ships (what ``plotly.offline.get_plotlyjs()`` returns)."""
    return _plotly_file("plotly.min.js")


class Props(dict):
    """A plotly property tree as a dict whose keys also read as attributes; an unset key reads as ``None``."""

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        return self.get(key)


def _props(value: Any) -> Any:
    if isinstance(value, dict):
        return Props({k: _props(v) for k, v in value.items()})
    return value


def _merge(into: dict, update: dict) -> None:
    """Deep-merge ``update`` into ``into`` (nested dicts merged key by key, other values replaced)."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = _props(value)


_NESTED = ("marker", "line", "xaxis", "yaxis", "title")


def _nest(props: dict) -> dict:
    """plotly's ``marker_color=…`` / ``yaxis_tickformat=…`` shorthand as nested dicts (an axis ``title`` given as
    text becomes ``{"text": …}``); ``None`` values are left out."""
    out: dict = {}
    for key, value in props.items():
        if value is None:
            continue
        head, _, rest = key.partition("_")
        if rest and head in _NESTED:
            if head.endswith("axis") and rest == "title" and isinstance(value, str):
                value = {"text": value}
            _merge(out.setdefault(head, Props()), {rest: value})
        else:
            _merge(out, {key: value})
    return out


def _array(value: Any) -> Any:
    """A pandas column or index as a numpy array (as plotly stores it); other values unchanged."""
    if isinstance(value, (pd.Series, pd.Index)):
        return value.to_numpy(dtype="datetime64[ns]") if pd.api.types.is_datetime64_any_dtype(value.dtype) \
            else value.to_numpy()
    return value


def _trace(kind: str, **props: Any) -> Props:
    """One trace of type ``kind`` (``scatter``, ``bar``, ``box``, ``heatmap``) with ``props`` (see :func:`_nest`);
    pandas columns are kept as numpy arrays."""
    return _props({"type": kind, **_nest({k: _array(v) for k, v in props.items()})})


def _axis(row: int) -> str:
    return "" if row == 1 else str(row)


class Figure:
    """A plotly.js figure as plain data: ``data`` (traces) and ``layout``, both :class:`Props` trees."""

    def __init__(self, data: Any = None, layout: dict | None = None) -> None:
        self.data: list[Props] = [] if data is None else list(data) if isinstance(data, (list, tuple)) else [data]
        self.layout = Props(template=Props())
        _merge(self.layout, layout or {})

    def add_trace(self, trace: Props, row: int | None = None, col: int | None = None) -> "Figure":
        """Append ``trace``; with ``row`` (subplots), on that row's axes (``x2``/``y2`` for row 2 …)."""
        if row is not None:
            trace["xaxis"], trace["yaxis"] = f"x{_axis(row)}", f"y{_axis(row)}"
        self.data.append(trace)
        return self

    def update_layout(self, **layout: Any) -> "Figure":
        """Merge ``layout`` into the layout; a plain-text ``title`` becomes ``{"text": title}`` as in plotly."""
        if isinstance(layout.get("title"), str):
            layout["title"] = {"text": layout["title"]}
        _merge(self.layout, _nest(layout))
        return self

    def update_axis(self, axis: str, row: int, **props: Any) -> "Figure":
        """Merge ``props`` into the ``axis`` (``"x"`` or ``"y"``) of subplot ``row``."""
        key = f"{axis}axis{_axis(row)}"
        self.layout.setdefault(key, Props())
        _merge(self.layout[key], props)
        return self

    def to_dict(self) -> dict:
        return {"data": [dict(t) for t in self.data], "layout": dict(self.layout)}

    def to_json(self) -> str:
        """The figure as JSON for plotly.js: arrays as lists, NaN and infinities as ``null``, dates as ISO text."""
        return json.dumps(_plain(self.to_dict()), separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _plain(value: Any) -> Any:
    """``value`` as JSON data: dicts and sequences walked, numpy/pandas arrays and scalars converted."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (pd.Series, pd.Index)):
        if pd.api.types.is_datetime64_any_dtype(value.dtype):
            return _dates(value.to_numpy(dtype="datetime64[ns]"))
        value = value.to_numpy()
    if isinstance(value, np.ndarray):
        if value.ndim > 1:  # a heat map's z: one list per row
            return [_plain(row) for row in value]
        if value.dtype.kind == "M":
            return _dates(value.astype("datetime64[ns]"))
        if value.dtype.kind == "f":
            return [x if math.isfinite(x) else None for x in value.tolist()]
        if value.dtype.kind in "iub":
            return value.tolist()
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, float)):
        x = float(value)
        return x if math.isfinite(x) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return _dates(np.array([value], dtype="datetime64[ns]"))[0]
    return value


def _dates(values: np.ndarray) -> list:
    """ISO dates (``2025-01-02``), or date-times where a value has a time of day; NaT as ``null``."""
    unit = "D" if not (values[~np.isnat(values)].view("int64") % 86_400_000_000_000).any() else "s"
    text = np.datetime_as_string(values, unit=unit).tolist()
    return [None if t == "NaT" else t for t in text]


def _figure(data: Any = None) -> Figure:
    """A figure with an empty template (see :data:`PAGE_TEMPLATE`)."""
    return Figure(data=data)


def _subplots(rows: int, row_heights: list[float] | None = None, vertical_spacing: float = 0.05,
              subplot_titles: list[str] | None = None) -> Figure:
    """A figure of ``rows`` stacked subplots sharing their x axis (the layout plotly's ``make_subplots(rows=…,
    cols=1, shared_xaxes=True, …)`` builds): row 1 on top, heights as fractions of the space left by the gaps,
    optional titles above each row."""
    heights = np.asarray(row_heights if row_heights is not None else [1.0] * rows, dtype=float)
    heights = heights / heights.sum() * (1.0 - vertical_spacing * (rows - 1))
    layout: dict = {}
    top = 1.0
    annotations = []
    for row in range(1, rows + 1):
        bottom = max(top - heights[row - 1], 0.0)
        x = {"anchor": f"y{_axis(row)}", "domain": [0.0, 1.0]}
        if row < rows:
            x.update(matches=f"x{_axis(rows)}", showticklabels=False)
        layout[f"xaxis{_axis(row)}"] = x
        layout[f"yaxis{_axis(row)}"] = {"anchor": f"x{_axis(row)}", "domain": [bottom, top]}
        if subplot_titles and row <= len(subplot_titles):
            annotations.append({"font": {"size": 16}, "showarrow": False, "text": subplot_titles[row - 1],
                                "x": 0.5, "xanchor": "center", "xref": "paper", "y": top, "yanchor": "bottom",
                                "yref": "paper"})
        top = bottom - vertical_spacing
    if annotations:
        layout["annotations"] = annotations
    return Figure(layout=layout)

#: Above this many scored signals the distribution chart embeds precomputed boxes instead of every point.
MAX_BOX_POINTS = 5000

#: Columns accepted as the group key of an event-study table, in order of preference.
EVENT_GROUP_COLUMNS = ("group", "rating_level", "action", "rating", "key")


def _label(value: object) -> str:
    """A data string made safe for a plotly label (HTML-escaped)."""
    return html.escape(str(value), quote=True)


def _equity_frame(equity: pd.DataFrame | None) -> pd.DataFrame | None:
    """``equity`` with a DatetimeIndex and numeric ``equity`` (and ``benchmark`` when present), or None."""
    if equity is None or len(equity) == 0 or "equity" not in equity.columns:
        return None
    frame = equity.copy()
    if "date" in frame.columns:
        frame = frame.set_index("date")
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.index))
    frame = frame.sort_index()
    for col in ("equity", "benchmark", "cash"):
        if col in frame.columns:
            frame[col] = pd.to_numeric(frame[col], errors="coerce")
    frame = frame[frame["equity"].notna()]
    return frame if len(frame) else None


def growth_of_one(values: pd.Series) -> pd.Series:
    """``values`` divided by its first finite value (growth of 1); NaN before the first finite value."""
    finite = values.dropna()
    if finite.empty or finite.iloc[0] == 0:
        return values * np.nan
    return values / finite.iloc[0]


def drawdown(values: pd.Series) -> pd.Series:
    """Drawdown of a value series: ``values / running max − 1`` (fractions, ≤ 0). NaNs are carried forward."""
    filled = values.ffill()
    return filled / filled.cummax() - 1.0


def monthly_returns(values: pd.Series) -> pd.DataFrame:
    """Calendar-month returns of a value series as a year × month table (fractions; rows years, columns 1..12).

    Each month's return is its last value over the previous month's last value (the first month uses the first
    value), i.e. ``pandas`` ``resample("ME").last().pct_change()`` with the first month filled from the start.
    """
    series = values.dropna()
    if series.empty:
        return pd.DataFrame()
    month_end = series.resample("ME").last().dropna()
    previous = month_end.shift(1)
    previous.iloc[0] = series.iloc[0]
    monthly = month_end / previous - 1.0
    table = pd.DataFrame({"year": monthly.index.year, "month": monthly.index.month, "ret": monthly.to_numpy()})
    return table.pivot(index="year", columns="month", values="ret").reindex(columns=range(1, 13))


def equity_figure(equity: pd.DataFrame | None) -> Figure | None:
    """Strategy vs benchmark, both as growth of 1. Needs ``date`` (or a date index) and ``equity``; ``benchmark``
    (benchmark value, any scale) is optional."""
    frame = _equity_frame(equity)
    if frame is None:
        return None
    fig = _figure()
    fig.add_trace(_trace("scatter", x=frame.index, y=growth_of_one(frame["equity"]), name="strategy",
                             line=dict(color=_COLORS[0], width=2)))
    if "benchmark" in frame.columns and frame["benchmark"].notna().any():
        fig.add_trace(_trace("scatter", x=frame.index, y=growth_of_one(frame["benchmark"]), name="benchmark",
                                 line=dict(color=_COLORS[8], width=1.5)))
    fig.update_layout(title="Equity vs benchmark (growth of 1)", **_LAYOUT)
    return fig


def excess_figure(equity: pd.DataFrame | None) -> Figure | None:
    """Cumulative excess over the benchmark: ``growth(equity) / growth(benchmark) − 1`` (relative, fractions).

    Needs ``equity`` and ``benchmark``; ``None`` when the benchmark is absent."""
    frame = _equity_frame(equity)
    if frame is None or "benchmark" not in frame.columns or frame["benchmark"].notna().sum() < 1:
        return None
    excess = growth_of_one(frame["equity"]) / growth_of_one(frame["benchmark"].ffill()) - 1.0
    fig = _figure(_trace("scatter", x=frame.index, y=excess, name="excess", fill="tozeroy",
                               line=dict(color=_COLORS[2], width=1.5)))
    fig.update_layout(title="Cumulative excess return vs benchmark", yaxis_tickformat=".0%", **_LAYOUT)
    return fig


def drawdown_figure(equity: pd.DataFrame | None) -> Figure | None:
    """Drawdown of the strategy (and of the benchmark when present), fractions ≤ 0."""
    frame = _equity_frame(equity)
    if frame is None:
        return None
    fig = _figure(_trace("scatter", x=frame.index, y=drawdown(frame["equity"]), name="strategy", fill="tozeroy",
                               line=dict(color=_COLORS[1], width=1.5)))
    if "benchmark" in frame.columns and frame["benchmark"].notna().any():
        fig.add_trace(_trace("scatter", x=frame.index, y=drawdown(frame["benchmark"]), name="benchmark",
                                 line=dict(color=_COLORS[8], width=1, dash="dot")))
    fig.update_layout(title="Drawdown", yaxis_tickformat=".0%", **_LAYOUT)
    return fig


def monthly_heatmap_figure(equity: pd.DataFrame | None) -> Figure | None:
    """Heat map of calendar-month strategy returns (:func:`monthly_returns`), years × months."""
    frame = _equity_frame(equity)
    if frame is None:
        return None
    table = monthly_returns(frame["equity"])
    if table.empty:
        return None
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    z = table.to_numpy(dtype=float)
    limit = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
    fig = _figure(_trace(
        "heatmap", z=z, x=months, y=[str(y) for y in table.index], colorscale=_RD_YL_GN, zmid=0.0, zmin=-limit, zmax=limit,
        texttemplate="%{z:.1%}", hovertemplate="%{y} %{x}: %{z:.2%}<extra></extra>", colorbar=dict(tickformat=".0%"),
    ))
    layout = dict(_LAYOUT, hovermode="closest", height=max(200, 60 + 40 * len(table)))
    fig.update_layout(title="Monthly returns", yaxis=dict(type="category", autorange="reversed"), **layout)
    return fig


def excess_distribution_figure(scores: pd.DataFrame | None) -> Figure | None:
    """Distribution of excess return by rating: one box (with points) per ``broker · rating``.

    Needs ``rating`` and ``excess_return`` (fraction); ``broker`` optional; when ``complete`` is present,
    incomplete windows are drawn as hollow points of their own trace ("so far"); above :data:`MAX_BOX_POINTS`
    rows the boxes are precomputed (:func:`box_stats`) so the page stays small. With ``horizon_leg`` (the scoring
    stage's two legs of a ``"6-12"`` range) the ``short`` leg is left out; ``kind == "mention"`` rows are grouped
    as ``(mention)``."""
    if scores is None or len(scores) == 0 or not {"rating", "excess_return"} <= set(scores.columns):
        return None
    frame = scores.copy()
    if "horizon_leg" in frame.columns:  # a "6-12" range is scored at both ends: draw its long leg only
        frame = frame[~frame["horizon_leg"].astype(str).isin(["short"])]
    if "kind" in frame.columns:
        frame["rating"] = frame["rating"].where(frame["kind"].astype(str) != "mention", "(mention)")
    frame["excess_return"] = pd.to_numeric(frame["excess_return"], errors="coerce")
    frame = frame[frame["excess_return"].notna()]
    if frame.empty:
        return None
    if "broker" in frame.columns:
        frame["_group"] = frame["broker"].astype(str) + " · " + frame["rating"].astype(str)
    else:
        frame["_group"] = frame["rating"].astype(str)
    complete = _as_bool(frame["complete"]) if "complete" in frame.columns else pd.Series(True, index=frame.index)
    fig = _figure()
    for label, part in (("complete", frame[complete]), ("so far (incomplete)", frame[~complete])):
        if part.empty:
            continue
        marker = dict(symbol="circle" if label == "complete" else "circle-open")
        if len(frame) <= MAX_BOX_POINTS:
            fig.add_trace(_trace("box", x=[_label(g) for g in part["_group"]], y=part["excess_return"], name=label,
                                 boxpoints="all", jitter=0.4, pointpos=0, marker=marker))
            continue
        stats = box_stats(part, "_group", "excess_return")
        fig.add_trace(_trace("box", x=[_label(g) for g in stats.index], q1=stats["q1"], median=stats["median"],
                             q3=stats["q3"], lowerfence=stats["lowerfence"], upperfence=stats["upperfence"],
                             mean=stats["mean"], name=label, marker=marker))
    fig.update_layout(title="Excess return by rating", yaxis_tickformat=".0%", boxmode="group",
                      **dict(_LAYOUT, hovermode="closest"))
    return fig


def _as_bool(values: pd.Series) -> pd.Series:
    """A bool column from bools or their text (``"True"``/``"false"``/``"1"`` as read back from CSV)."""
    if pd.api.types.is_bool_dtype(values):
        return values
    return values.map(lambda v: v if isinstance(v, (bool, np.bool_))
                      else str(v).strip().lower() in ("true", "1", "yes"))


def box_stats(frame: pd.DataFrame, group_col: str, value_col: str) -> pd.DataFrame:
    """Box-plot statistics per group (the precomputed boxes drawn when there are too many points to embed).

    ``q1``/``median``/``q3``: linear-interpolated quantiles (``numpy.percentile`` default); ``lowerfence`` /
    ``upperfence``: the most extreme values within 1.5 IQR of the box (Tukey); ``mean``; ``count``."""
    rows = {}
    for key, part in frame.groupby(group_col, sort=True):
        values = part[value_col].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        if len(values) == 0:
            continue
        q1, median, q3 = np.percentile(values, [25, 50, 75])
        iqr = q3 - q1
        inside = values[(values >= q1 - 1.5 * iqr) & (values <= q3 + 1.5 * iqr)]
        rows[key] = dict(q1=q1, median=median, q3=q3, lowerfence=inside.min(), upperfence=inside.max(),
                         mean=values.mean(), count=len(values))
    return pd.DataFrame.from_dict(rows, orient="index")


def _event_group_column(table: pd.DataFrame) -> str | None:
    return next((c for c in EVENT_GROUP_COLUMNS if c in table.columns), None)


def event_study_groupings(event_study: pd.DataFrame | None) -> list[str]:
    """The ``group_by`` values of an event-study table (``rating_level``, ``action``, ``kind``…), in table order;
    ``[""]`` for a table without ``group_by``; ``[]`` when there is nothing to draw."""
    if event_study is None or len(event_study) == 0:
        return []
    if "group_by" not in event_study.columns:
        return [""]
    return [str(g) for g in pd.unique(event_study["group_by"].astype(str))]


def event_study_figure(event_study: pd.DataFrame | None, group_by: str | None = None) -> Figure | None:
    """Mean cumulative excess return after publication, one line per group, with a shaded 95 % band, and under it
    the number of signals N behind every point.

    Long format (the scoring stage's ``event_study.csv``): ``offset`` (or ``session``; sessions after
    publication, 0 = the base close), ``mean_excess`` (fraction), ``group`` (or the first present of
    :data:`EVENT_GROUP_COLUMNS`; all rows one line when none), optional ``group_by`` (which grouping a row belongs
    to: pass ``group_by`` to draw one of them), ``n`` (signals with data at that offset), ``ci_low``/``ci_high``
    (mean ± 1.96·sd/√n: the band widens as N falls). With ``n``: points with N < :data:`FEW_SIGNALS` are marked
    grey (a curve that jumps there is one or two signals, not a pattern), and a lower panel draws N per offset
    (step line, same colour as the group); the hover shows N too.

    Trace order: per group its band (``showlegend=False``) then its line; after all groups, the grey markers and
    the N lines (both ``showlegend=False``)."""
    if event_study is None or len(event_study) == 0 or "mean_excess" not in event_study.columns:
        return None
    x_col = "offset" if "offset" in event_study.columns else "session" if "session" in event_study.columns else None
    if x_col is None:
        return None
    frame = event_study
    if group_by and "group_by" in frame.columns:
        frame = frame[frame["group_by"].astype(str) == group_by]
    frame = frame.assign(mean_excess=pd.to_numeric(frame["mean_excess"], errors="coerce"))
    if frame["mean_excess"].notna().sum() == 0:
        return None
    has_n = "n" in frame.columns
    group_col = _event_group_column(frame)
    groups = [(None, frame)] if group_col is None else list(frame.groupby(group_col, sort=True))
    if has_n:
        fig = _subplots(2, row_heights=[0.74, 0.26], vertical_spacing=0.05)
    else:
        fig = _figure()
    row = dict(row=1, col=1) if has_n else {}
    extra = []
    for k, (key, part) in enumerate(groups):
        part = part.sort_values(x_col)
        color = _COLORS[k % len(_COLORS)]
        name = "all" if key is None else _label(key)
        if {"ci_low", "ci_high"} <= set(part.columns) and part["ci_low"].notna().any():
            band = part[part["ci_low"].notna() & part["ci_high"].notna()]
            fig.add_trace(_trace("scatter", 
                x=np.concatenate([band[x_col], band[x_col][::-1]]),
                y=np.concatenate([band["ci_high"], band["ci_low"][::-1]]),
                fill="toself", fillcolor=color, opacity=0.15, line=dict(width=0), hoverinfo="skip",
                showlegend=False, name=f"{name} 95% CI"), **row)
        n = pd.to_numeric(part["n"], errors="coerce").fillna(0).astype(int).to_numpy() if has_n else None
        fig.add_trace(_trace("scatter", 
            x=part[x_col], y=part["mean_excess"], name=name, line=dict(color=color), customdata=n,
            hovertemplate=("%{y:.2%}" + (" (N=%{customdata})" if has_n else "") + "<extra>%{fullData.name}</extra>")),
            **row)
        if has_n:
            few = n < FEW_SIGNALS
            if few.any():
                extra.append(_trace("scatter", 
                    x=part[x_col][few], y=part["mean_excess"][few], mode="markers", showlegend=False,
                    name=f"{name}: fewer than {FEW_SIGNALS} signals", marker=dict(color="#9e9e9e", size=5), customdata=n[few],
                    hovertemplate="%{y:.2%} (N=%{customdata}, fewer than " + str(FEW_SIGNALS)
                    + " signals)<extra>%{fullData.name}</extra>"))
            extra.append(_trace("scatter", x=part[x_col], y=n, mode="lines", line=dict(color=color, width=1, shape="hv"),
                                    showlegend=False, name=f"{name}: N", hovertemplate="N=%{y}<extra>%{fullData.name}</extra>"))
    for trace in extra:
        fig.add_trace(trace, row=1 if trace.mode == "markers" else 2, col=1)
    by = f" by {_label(group_by).replace('_', ' ')}" if group_by else ""
    title = f"Event study{by}: mean cumulative excess return (95% band)"
    layout = dict(_LAYOUT)
    if has_n:
        title += f"; grey points: fewer than {FEW_SIGNALS} signals"
        layout["height"] = 460
        fig.update_axis("y", 2, title={"text": "N signals"}, rangemode="tozero")
        fig.update_axis("y", 1, tickformat=".0%")
        fig.update_axis("x", 2, title={"text": "sessions after publication"})
        fig.update_layout(title=title, **layout)
    else:
        fig.update_layout(title=title, xaxis_title="sessions after publication", yaxis_tickformat=".0%", **layout)
    return fig


def yearly_returns_figure(equity: pd.DataFrame | None) -> Figure | None:
    """Calendar-year returns (:func:`engine.stats.yearly_returns`, fractions) of the strategy and, when present,
    the benchmark, as grouped bars; a partial first or last year is its partial return."""
    from engine.stats import yearly_returns

    frame = _equity_frame(equity)
    if frame is None or len(frame) < 2:
        return None
    fig = _figure()
    strat = yearly_returns(frame["equity"])
    fig.add_trace(_trace("bar", x=[str(y) for y in strat.index], y=strat.to_numpy(), name="strategy",
                         marker_color=_COLORS[0], hovertemplate="%{x}: %{y:.2%}<extra>strategy</extra>"))
    if "benchmark" in frame.columns and frame["benchmark"].notna().sum() > 1:
        bench = yearly_returns(frame["benchmark"])
        fig.add_trace(_trace("bar", x=[str(y) for y in bench.index], y=bench.to_numpy(), name="benchmark",
                             marker_color=_COLORS[8], hovertemplate="%{x}: %{y:.2%}<extra>benchmark</extra>"))
    fig.update_layout(title="Yearly returns (partial years not annualised)", yaxis_tickformat=".0%",
                      barmode="group", xaxis_type="category", **dict(_LAYOUT, hovermode="closest"))
    return fig


def rolling_figure(equity: pd.DataFrame | None, periods: float = 242.0, months: float = 6.0,
                   rf: float = 0.0) -> Figure | None:
    """Rolling ``months``-month Sharpe, volatility and beta to the benchmark (three stacked panels, shared dates),
    from daily returns of ``equity`` (:func:`engine.stats.rolling_sharpe`, :func:`~engine.stats.rolling_volatility`,
    :func:`~engine.stats.rolling_beta`; window :func:`engine.stats.rolling_window`, ``periods`` sessions per year).
    ``None`` when the curve is shorter than one window."""
    from engine import stats

    frame = _equity_frame(equity)
    window = stats.rolling_window(periods, months)
    if frame is None or len(frame) <= window:
        return None
    returns = frame["equity"].pct_change().iloc[1:]
    has_bench = "benchmark" in frame.columns and frame["benchmark"].notna().sum() > window
    rows = 3 if has_bench else 2
    fig = _subplots(rows, vertical_spacing=0.06,
                    subplot_titles=[f"Sharpe ({months:g} months)", f"Volatility ({months:g} months, annual)"]
                        + ([f"Beta to the benchmark ({months:g} months)"] if has_bench else []))
    sharpe = stats.rolling_sharpe(returns, window, periods, rf)
    vol = stats.rolling_volatility(returns, window, periods)
    fig.add_trace(_trace("scatter", x=sharpe.index, y=sharpe.to_numpy(), name="Sharpe", line=dict(color=_COLORS[0])),
                  row=1, col=1)
    fig.add_trace(_trace("scatter", x=vol.index, y=vol.to_numpy(), name="volatility", line=dict(color=_COLORS[1])),
                  row=2, col=1)
    fig.update_axis("y", 2, tickformat=".0%")
    if has_bench:
        bench_returns = frame["benchmark"].ffill().pct_change().iloc[1:]
        beta = stats.rolling_beta(returns, bench_returns, window)
        fig.add_trace(_trace("scatter", x=beta.index, y=beta.to_numpy(), name="beta", line=dict(color=_COLORS[2])),
                      row=3, col=1)
    fig.update_layout(title=f"Rolling {months:g}-month statistics ({window} sessions)",
                      **dict(_LAYOUT, height=520, showlegend=False))
    return fig


def returns_histogram_figure(equity: pd.DataFrame | None, bins: int = 60) -> Figure | None:
    """Histogram of daily returns (fractions) of the strategy and, overlaid, the benchmark; counts are sessions.
    Bars are precomputed (``numpy.histogram`` on common edges) so the page embeds ``bins`` numbers per series,
    not one per session."""
    frame = _equity_frame(equity)
    if frame is None or len(frame) < 3:
        return None
    series = {"strategy": frame["equity"].pct_change().iloc[1:].dropna()}
    if "benchmark" in frame.columns and frame["benchmark"].notna().sum() > 2:
        series["benchmark"] = frame["benchmark"].ffill().pct_change().iloc[1:].dropna()
    values = np.concatenate([v.to_numpy() for v in series.values()])
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return None
    lo, hi = float(values.min()), float(values.max())
    if lo == hi:
        lo, hi = lo - 0.005, hi + 0.005
    edges = np.linspace(lo, hi, bins + 1)
    centers = (edges[:-1] + edges[1:]) / 2
    fig = _figure()
    for (name, data), color in zip(series.items(), (_COLORS[0], _COLORS[8])):
        counts, _ = np.histogram(data.to_numpy(), bins=edges)
        fig.add_trace(_trace("bar", x=centers, y=counts, name=name, marker_color=color, opacity=0.65,
                             width=float(edges[1] - edges[0]),
                             hovertemplate="%{x:.2%}: %{y} sessions<extra>" + name + "</extra>"))
    fig.update_layout(title="Daily returns (histogram)", barmode="overlay", xaxis_tickformat=".1%",
                      yaxis_title="sessions", **dict(_LAYOUT, hovermode="closest"))
    return fig


def screen_figure(screen: pd.DataFrame | None) -> Figure | None:
    """Live picks against their promise: one horizontal bar per pick with its excess return so far (fraction),
    coloured by band status, and markers at the band's ends (``band_low`` ◆, ``band_high`` ◇).

    Needs the screen table's ``code``, ``name``, ``broker``, ``excess_return``, ``band_low``, ``band_high``,
    ``status``; picks without an excess return ("no price data") are left out of the chart (they stay in the table).
    """
    needed = {"code", "excess_return", "band_low", "band_high", "status"}
    if screen is None or len(screen) == 0 or not needed <= set(screen.columns):
        return None
    frame = screen.assign(excess_return=pd.to_numeric(screen["excess_return"], errors="coerce"))
    frame = frame[frame["excess_return"].notna()].sort_values("excess_return")
    if frame.empty:
        return None
    labels = [_label(f"{c} {n} · {b}".strip()) for c, n, b in
              zip(frame["code"], frame.get("name", ""), frame.get("broker", ""))]
    colors = {"inside": "#2ca02c", "below": "#d62728", "above": "#1f77b4"}
    fig = _figure(_trace("bar", 
        x=frame["excess_return"], y=labels, orientation="h", name="excess so far",
        marker_color=[colors.get(str(s), "#7f7f7f") for s in frame["status"]],
        hovertemplate="%{y}: %{x:.2%}<extra></extra>"))
    for col, symbol, name in (("band_low", "diamond", "band low"), ("band_high", "diamond-open", "band high")):
        values = pd.to_numeric(frame[col], errors="coerce")
        if values.notna().any():
            fig.add_trace(_trace("scatter", x=values, y=labels, mode="markers", name=name,
                                     marker=dict(symbol=symbol, size=10, color="#222"),
                                     hovertemplate="%{y}: " + name + " %{x:.0%}<extra></extra>"))
    layout = dict(_LAYOUT, hovermode="closest", height=max(220, 80 + 26 * len(frame)),
                  margin=dict(l=220, r=20, t=40, b=40))
    fig.update_layout(title="Live picks: excess return so far vs the rating's band", xaxis_tickformat=".0%",
                      **layout)
    return fig
