"""The HTML report of a run: one self-contained file that opens offline (the only module that formats numbers).

:func:`write_report` builds ``report.html`` from the result tables of the other stages. Every section tolerates a
missing or empty input and then says "no data". The page embeds plotly.js inline once (about 4.8 MB), so it needs no
network; each chart's figure JSON sits in its own ``<script type="application/json">`` block with ``<``, ``>``
and ``&`` escaped as ``\\u003c`` / ``\\u003e`` / ``\\u0026`` so no data string can close the block. Every string that
came from a report or a config (broker, name, rating, note, config values, title, run name) goes through
:func:`html.escape`. A static inline-SVG sparkline of the equity curve and a ``<noscript>`` note are the fallback
when JavaScript is off (no PNG export: kaleido would need a browser download).

Inputs (pandas DataFrames unless said otherwise; extra columns are shown as they are):

``equity``
    ``date``, ``equity`` (portfolio value, portfolio currency), optional ``cash``, ``benchmark`` (benchmark value
    on the same scale or index points; shown as growth of 1) — the backtest's ``equity.csv``.
``trades``
    one row per fill, any columns (backtest ``trades.csv``: e.g. ``date, code, side, size, price, fees, ...``).
``stats``
    mapping name → value. Keys with ``[%]`` hold percents already (vectorbt style); keys naming a return, rate,
    drawdown, volatility, excess or hit rate without ``[%]`` hold fractions and are shown as percents.
``scores``
    per-signal scores: ``rating``, ``excess_return`` (fraction) required for the distribution chart; optional
    ``broker``, ``complete`` (bool, False = window still open, drawn as "so far"), ``horizon_leg`` (``short``
    legs left out), ``kind`` (mentions grouped as ``(mention)``).
``scorecard``
    one row per group: any columns, e.g. the scoring stage's ``group_by, group, kind, n_signals, n_complete,
    hit_rate, hit_rate_low, hit_rate_high, mean_excess, median_excess, excess_t_stat, ic_spearman, …``; with
    ``group_by`` one table per grouping (broker first). Fractions for rates and returns.
``event_study``
    long format (the scoring stage's ``event_study.csv``): ``offset`` (or ``session``; sessions after
    publication), ``mean_excess`` (fraction), ``group`` (or ``rating_level``, ``action``, ``rating``, ``key``),
    optional ``group_by`` (one chart per grouping: ``rating_level``, ``action``, ``kind``), ``n``, ``ci_low``,
    ``ci_high``.
``screen``
    the screen table of :func:`engine.screen.screen_signals` (:data:`engine.screen.SCREEN_COLUMNS`).
``config``
    the resolved run config as a mapping (shown as YAML, as ``config.yaml`` in the run folder).
``sweep``
    optional: one row per backtest variant (its parameters and statistics, the backtest's ``sweep.csv``); the
    section appears only when given.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from pathlib import Path
from typing import Any, Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd

from engine import plots

__all__ = ["write_report", "write_run_report", "render_report", "format_value", "screen_display_table",
           "safe_json_for_script", "hit_rate_text", "RUN_FILES", "METRICS", "Metric", "format_metric", "metric_title", "metric_rows"]

MAX_TABLE_ROWS = 1000

_PERCENT_HINTS = ("return", "excess", "upside", "band_low", "band_high", "rate", "drawdown", "volatility",
                  "cagr", "ci_low", "ci_high", "weight", "share_", "turnover", "alpha", "fraction",
                  "tracking_error")
_PRICE_HINTS = ("price", "close", "equity", "cash", "value", "fees", "cost", "pnl", "benchmark")
_INT_HINTS = ("count", "sessions", "n_", "size", "shares", "trades")


# ---- performance metrics: one table of title (with unit), group and kind; formatting lives only here ----------

class Metric(NamedTuple):
    """One backtest statistic as shown: ``key`` in ``stats.json``, ``title`` with its unit (``{currency}`` is
    replaced by the portfolio currency), ``group`` label, ``kind`` = how the value is stored and shown:
    ``pct`` (fraction → percent), ``pct_signed`` (fraction → signed percent), ``ratio`` (plain, 2 decimals),
    ``money`` (account currency, thousands separators), ``count`` (integer), ``number`` (2 decimals), ``text``."""

    key: str
    title: str
    group: str
    kind: str


#: The statistics of :func:`engine.stats.summary` in display order (HTML cards, ``ratingbt backtest`` / ``run``).
METRICS: tuple[Metric, ...] = (
    Metric("total_return", "Total return [%]", "Returns", "pct_signed"),
    Metric("annual_return", "Annual return [%]", "Returns", "pct_signed"),
    Metric("start_value", "Start value [{currency}]", "Returns", "money"),
    Metric("end_value", "End value [{currency}]", "Returns", "money"),
    Metric("benchmark_total_return", "Benchmark total return [%]", "Against the benchmark", "pct_signed"),
    Metric("excess_return", "Excess return [%]", "Against the benchmark", "pct_signed"),
    Metric("annual_excess_return", "Annual excess return [%]", "Against the benchmark", "pct_signed"),
    Metric("alpha", "Alpha, annual [%]", "Against the benchmark", "pct_signed"),
    Metric("beta", "Beta", "Against the benchmark", "ratio"),
    Metric("information_ratio", "Information ratio", "Against the benchmark", "ratio"),
    Metric("tracking_error", "Tracking error, annual [%]", "Against the benchmark", "pct"),
    Metric("share_days_beating", "Days beating the benchmark [%]", "Against the benchmark", "pct"),
    Metric("share_months_beating", "Months beating the benchmark [%]", "Against the benchmark", "pct"),
    Metric("volatility", "Volatility, annual [%]", "Risk", "pct"),
    Metric("sharpe", "Sharpe", "Risk", "ratio"),
    Metric("sortino", "Sortino", "Risk", "ratio"),
    Metric("max_drawdown", "Max drawdown [%]", "Risk", "pct"),
    Metric("calmar", "Calmar", "Risk", "ratio"),
    Metric("turnover", "Turnover, one-way per year [%]", "Trading", "pct"),
    Metric("costs_paid", "Costs paid [{currency}]", "Trading", "money"),
    Metric("costs_paid_fraction", "Costs paid [% of start value]", "Trading", "pct"),
    Metric("trades_filled", "Trades filled", "Trading", "count"),
    Metric("orders_rejected", "Orders rejected", "Trading", "count"),
    Metric("first_session", "First session", "Run", "text"),
    Metric("last_session", "Last session", "Run", "text"),
    Metric("benchmark", "Benchmark", "Run", "text"),
    Metric("strategy", "Strategy", "Run", "text"),
    Metric("sessions_per_year", "Sessions per year", "Run", "number"),
)
_METRIC_BY_KEY = {m.key: m for m in METRICS}


def format_metric(key: str, value: Any) -> str:
    """Text of one statistic by its :data:`METRICS` kind (``n/a`` when missing); unknown keys as
    :func:`format_value` does."""
    metric = _METRIC_BY_KEY.get(key)
    if metric is None:
        return format_value(key, value)
    if _is_missing(value):
        return "n/a"
    if metric.kind == "text" or not isinstance(value, (int, float, np.integer, np.floating)):
        return str(value)
    number = float(value)
    if math.isinf(number):
        return "∞" if number > 0 else "-∞"
    return {"pct": f"{number:.2%}", "pct_signed": f"{number:+.2%}", "ratio": f"{number:.2f}",
            "money": f"{number:,.2f}", "count": f"{number:,.0f}", "number": f"{number:,.2f}"}[metric.kind]


def metric_title(key: str, currency: str = "CNY") -> str:
    """The title of a statistic with its unit (the key itself when it is not in :data:`METRICS`)."""
    metric = _METRIC_BY_KEY.get(key)
    return metric.title.replace("{currency}", currency) if metric else key


def metric_rows(stats: Mapping[str, Any], currency: str = "CNY",
                keys: tuple[str, ...] | None = None) -> list[tuple[str, str, str]]:
    """``(group, title, text)`` for the statistics in ``stats``: those of :data:`METRICS` in its order
    (only ``keys`` when given), then any other key under "Other" (mappings as JSON)."""
    rows = []
    for metric in METRICS:
        if metric.key in stats and (keys is None or metric.key in keys):
            rows.append((metric.group, metric_title(metric.key, currency), format_metric(metric.key, stats[metric.key])))
    if keys is None:
        for key, value in stats.items():
            if key in _METRIC_BY_KEY:
                continue
            if isinstance(value, Mapping):
                value = json.dumps(value, ensure_ascii=False, default=str)
            rows.append(("Other", str(key), format_value(str(key), value)))
    return rows


def safe_json_for_script(text: str) -> str:
    """JSON text made safe inside a ``<script>`` element: ``<``, ``>``, ``&`` and U+2028/9 as ``\\uXXXX``.

    These characters can only occur inside JSON strings, where the escapes mean the same characters."""
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _is_missing(value: Any) -> bool:
    if isinstance(value, str):
        return False
    if value is None or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def format_value(column: str, value: Any) -> str:
    """Text for one cell, chosen by the column name (units from the naming conventions of the tables).

    Fractions (returns, rates, bands, upside) → percent with 2 decimals; ``[%]`` keys → already percent;
    prices and values → 2 decimals with thousands separators; counts → integers; dates → ``YYYY-MM-DD``;
    booleans → ``yes`` / ``no``; missing → ``""``. Text is returned unescaped (callers escape for HTML)."""
    if _is_missing(value):
        return ""
    name = column.lower()
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date, np.datetime64)):
        stamp = pd.Timestamp(value)
        return stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else stamp.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        if math.isinf(number):
            return "∞" if number > 0 else "-∞"
        if "[%]" in name:
            return f"{number:,.2f}%"
        if "stat" in name or name.startswith(("ic_", "sharpe", "sortino", "calmar")) or name == "ic":
            return f"{number:,.2f}"  # t-statistics, information coefficients and ratios: plain numbers
        if any(h in name for h in _PERCENT_HINTS):
            signed = "return" in name or "upside" in name or name.endswith("excess")
            return f"{number:+.2%}" if signed else f"{number:.2%}"
        if any(name.startswith(h) or h in name for h in _INT_HINTS) and float(number).is_integer():
            return f"{int(number):,d}"
        if any(h in name for h in _PRICE_HINTS):
            return f"{number:,.2f}"
        if float(number).is_integer() and abs(number) < 1e15:
            return f"{int(number):,d}"
        return f"{number:,.4g}" if abs(number) >= 1e6 or abs(number) < 1e-3 else f"{number:,.3f}"
    return str(value)


def _truthy(value: Any) -> bool:
    """A flag from a bool or its text as read back from CSV (``"True"``, ``"false"``, ``"1"``); missing = False."""
    if _is_missing(value):
        return False
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    return str(value).strip().lower() in ("true", "1", "yes")


def hit_rate_text(rate: Any, low: Any = None, high: Any = None) -> str:
    """A hit rate with its 95 % interval, whole percent: ``100% [21%–100%]`` (``–`` when the rate is missing; the
    bracket only when both ends are known). The terminal summaries and the HTML scorecard print it the same way."""
    if _is_missing(rate):
        return "–"
    text = f"{float(rate):.0%}"
    if not _is_missing(low) and not _is_missing(high):
        text += f" [{float(low):.0%}–{float(high):.0%}]"
    return text


def _band_text(low: Any, high: Any) -> str:
    """``[15%, open)``, ``[5%, 15%]``, ``(open, -5%]``: brackets show inclusive ends, parentheses open ones."""
    low_text = "(open" if _is_missing(low) else f"[{float(low):.0%}"
    high_text = "open)" if _is_missing(high) else f"{float(high):.0%}]"
    return f"{low_text}, {high_text}"


from engine.report_columns import SCREEN_DISPLAY, SCREEN_GROUPS  # noqa: E402 - shared with the CLI


def screen_display_table(screen: pd.DataFrame) -> pd.DataFrame:
    """The screen table as display strings (the columns of :data:`SCREEN_DISPLAY`), for HTML and the terminal.

    ``band`` is written ``[15%, open)``; an inferred report date gets a ``*``; the benchmark name follows its
    return; ``needed`` is shown only below the band; superseded rows get ``(superseded)`` in the note."""
    rows = []
    for _, row in screen.iterrows():
        out = {}
        for col, _heading in SCREEN_DISPLAY:
            if col == "band":
                out[col] = _band_text(row.get("band_low"), row.get("band_high"))
            elif col == "report_date":
                out[col] = format_value(col, row.get(col)) + ("*" if _truthy(row.get("date_inferred")) else "")
            elif col == "benchmark_return":
                text = format_value(col, row.get(col))
                out[col] = f"{text} {row.get('benchmark', '')}".strip() if text else ""
            elif col == "note":
                note = str(row.get("note", "") or "")
                out[col] = (note + " (superseded)").strip() if _truthy(row.get("superseded")) else note
            elif col == "excess_needed":
                out[col] = format_value(col, row.get(col)) if row.get("status") == "below" else ""
            elif col == "consensus_level":
                value = row.get(col)
                out[col] = "" if _is_missing(value) else f"{float(value):+.2f}"
            else:
                out[col] = format_value(col, row.get(col))
        rows.append(out)
    return pd.DataFrame(rows, columns=[c for c, _ in SCREEN_DISPLAY])


#: Columns of free text that wrap inside their cell (so a table fits its card instead of hiding columns).
_WRAP_COLUMNS = ("note", "name", "broker", "group", "reason")


def _cell_class(column: str, text: str) -> str:
    classes = []
    if column == "status" and text in ("inside", "above", "below"):
        classes.append(f"st-{text}")
    elif column == "note" and text.startswith(("stale", "no ")):
        classes.append("warn")
    elif text[:1] in "+-" and any(h in column for h in ("return", "excess", "upside")) and len(text) > 1:
        classes.append("pos" if text[0] == "+" else "neg")
    if column in _WRAP_COLUMNS and len(text) > 24:
        classes.append("wrap")
    return f' class="{" ".join(classes)}"' if classes else ""


def _table_html(display: pd.DataFrame, headings: Mapping[str, str] | None = None, *, total: int | None = None,
                numeric: set[str] | None = None) -> str:
    """An escaped, sortable HTML table of display strings."""
    return _columns_html([(str(c), display[c].tolist()) for c in display.columns], len(display), headings,
                         total=total, numeric={str(c) for c in (numeric or set())})


def _columns_html(columns: list[tuple[str, list]], n_rows: int, headings: Mapping[str, str] | None = None, *,
                  total: int | None = None, numeric: set[str] | None = None) -> str:
    """:func:`_table_html` of ``(column, display values)`` pairs (no frame built)."""
    headings = headings or {}
    numeric = numeric or set()
    head = "".join(f"<th>{html.escape(str(headings.get(c, c)))}</th>" for c, _ in columns)
    body = []
    cols = [(name, ' style="text-align:right"' if name in numeric else "", values) for name, values in columns]
    for i in range(n_rows):
        cells = []
        for name, align, values in cols:
            text = "" if _is_missing(values[i]) else str(values[i])
            cells.append(f"<td{_cell_class(name, text)}{align}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    note = ""
    if total is not None and total > n_rows:
        note = f'<p class="muted">showing the first {n_rows:,d} of {total:,d} rows</p>'
    return (f'<div class="table-wrap"><table class="sortable"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>{note}')


def _generic_table(frame: pd.DataFrame) -> str:
    shown = frame.head(MAX_TABLE_ROWS)
    names = [str(c) for c in shown.columns]
    if len(set(names)) != len(names):  # duplicate column names: the frame keeps the last of each
        display = pd.DataFrame({str(c): [format_value(str(c), v) for v in shown[c]] for c in shown.columns},
                               columns=names)
        columns = [(str(c), display[c].tolist()) for c in display.columns]
    else:
        columns = [(str(c), [format_value(str(c), v) for v in shown[c].tolist()]) for c in shown.columns]
    numeric = {str(c) for c, dtype in shown.dtypes.items() if pd.api.types.is_numeric_dtype(dtype)
               and not pd.api.types.is_bool_dtype(dtype)}
    return _columns_html(columns, len(shown), total=len(frame), numeric=numeric)


def _no_data(what: str) -> str:
    return f'<p class="nodata">no data ({html.escape(what)})</p>'


def _is_empty(table: Any) -> bool:
    return table is None or (hasattr(table, "__len__") and len(table) == 0)


class _Charts:
    """Collects figures as escaped JSON blocks with a placeholder ``<div>`` each."""

    def __init__(self) -> None:
        self.count = 0

    def embed(self, fig: Any, what: str) -> str:
        if fig is None:
            return _no_data(what)
        self.count += 1
        chart_id = f"chart-{self.count}"
        spec = safe_json_for_script(fig.to_json())
        return (f'<div class="chart" id="{chart_id}"></div>'
                f'<script type="application/json" data-chart="{chart_id}">{spec}</script>')


def _sparkline_svg(equity: pd.DataFrame | None, width: int = 320, height: int = 60) -> str:
    """Static inline-SVG sparkline of strategy growth (the no-JavaScript fallback), or ``""``."""
    frame = plots._equity_frame(equity)
    if frame is None or len(frame) < 2:
        return ""
    growth = plots.growth_of_one(frame["equity"]).to_numpy(dtype=float)
    growth = growth[np.isfinite(growth)]
    if len(growth) < 2:
        return ""
    step = max(1, len(growth) // 400)
    growth = growth[::step]
    low, high = float(growth.min()), float(growth.max())
    span = (high - low) or 1.0
    xs = np.linspace(1, width - 1, len(growth))
    ys = height - 1 - (growth - low) / span * (height - 2)
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys))
    return (f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="equity curve"><polyline fill="none" stroke="#1f77b4" stroke-width="1.5" '
            f'points="{points}"/></svg>')


def _stats_html(stats: Mapping[str, Any] | None, currency: str = "CNY") -> str:
    """Cards of the backtest statistics, grouped and titled by :data:`METRICS` (keys not in it follow as-is)."""
    if not stats:
        return _no_data("no backtest statistics")
    groups: dict[str, list[str]] = {}
    for group, label, text in metric_rows(stats, currency):
        groups.setdefault(group, []).append(
            f'<div class="stat"><div class="k">{html.escape(label)}</div>'
            f'<div class="v{_sign_class(text)}">{html.escape(text)}</div></div>')
    return "".join(f'<div class="stat-group"><div class="g">{html.escape(group)}</div>'
                   f'<div class="stats">{"".join(cards)}</div></div>' for group, cards in groups.items())


def _sign_class(text: str) -> str:
    return " neg" if text.startswith("-") and len(text) > 1 else ""


def _screen_html(screen: pd.DataFrame | None, charts: "_Charts") -> str:
    if _is_empty(screen):
        return _no_data("no live picks")
    display = screen_display_table(screen.head(MAX_TABLE_ROWS))
    counts = screen["status"].replace("", "no prices").value_counts() if "status" in screen.columns else {}
    summary = ", ".join(f"{html.escape(str(k))}: {int(v)}" for k, v in counts.items())
    numeric = {"sessions_elapsed", "sessions_left", "price_then", "price_now", "stock_return", "benchmark_return",
               "excess_return", "excess_needed", "target_price", "upside_left", "n_brokers", "consensus_level"}
    return (f'<p class="muted">{len(screen):,d} live pick{"" if len(screen) == 1 else "s"} ({summary}). Band status compares the excess return so '
            f'far with the rating\'s own band; * = publication date inferred.</p>'
            + charts.embed(plots.screen_figure(screen), "no live pick has prices")
            + _grouped_table_html(display, tuple((SCREEN_GROUPS.get(c, ""), c, h) for c, h in SCREEN_DISPLAY),
                                  numeric=numeric)
            + (f'<p class="muted">showing the first {len(display):,d} of {len(screen):,d} rows</p>'
               if len(screen) > len(display) else ""))


#: Scorecard columns shown by default in the report: (group label, column, heading with unit). ``hit_ci`` is
#: ``hit_rate [hit_rate_low–hit_rate_high]`` (:func:`hit_rate_text`, as the terminal prints it); every column of the scorecard is in the "all columns" table under it.
SCORECARD_DISPLAY: tuple[tuple[str, str, str], ...] = (
    ("", "group", "group"), ("", "kind", "kind"),
    ("Signals", "n_signals", "n"), ("Signals", "n_complete", "complete"), ("Signals", "n_incomplete", "open"),
    ("Signals", "n_no_price", "no price"),
    ("Band hit (complete windows)", "hit_ci", "hit [95% CI]"),
    ("Band hit (complete windows)", "direction_hit_rate", "direction [%]"),
    ("Band hit (complete windows)", "touch_hit_rate", "touched [%]"),
    ("Excess vs benchmark", "mean_excess", "mean [%]"), ("Excess vs benchmark", "median_excess", "median [%]"),
    ("Excess vs benchmark", "excess_t_stat", "t-stat"),
    ("Excess vs benchmark", "mean_excess_incomplete", "open, so far [%]"),
    ("Ranking", "ic_spearman", "IC"), ("Ranking", "share_bullish", "bullish [%]"),
)


def _scorecard_display(part: pd.DataFrame) -> pd.DataFrame:
    """Display strings of the :data:`SCORECARD_DISPLAY` columns present in ``part``."""
    out = {}
    for _group, col, _heading in SCORECARD_DISPLAY:
        if col == "hit_ci":
            if "hit_rate" in part.columns:
                low = part["hit_rate_low"] if "hit_rate_low" in part.columns else [None] * len(part)
                high = part["hit_rate_high"] if "hit_rate_high" in part.columns else [None] * len(part)
                out[col] = [hit_rate_text(r, lo, hi) for r, lo, hi in zip(part["hit_rate"], low, high)]
        elif col in part.columns:
            out[col] = [format_value(col, v) for v in part[col]]
    return pd.DataFrame(out, index=range(len(part)))


def _grouped_table_html(display: pd.DataFrame, spec: tuple[tuple[str, str, str], ...],
                        numeric: set[str] | None = None) -> str:
    """An escaped, sortable table with a row of group labels over its headings: ``spec`` = (group, column,
    heading); right-aligned are ``numeric`` columns (default: all but ``group`` and ``kind``)."""
    columns = [(group, col, heading) for group, col, heading in spec if col in display.columns]
    groups: list[list] = []
    for group, _col, _heading in columns:
        if groups and groups[-1][0] == group:
            groups[-1][1] += 1
        else:
            groups.append([group, 1])
    top = "".join(f'<th colspan="{n}" class="grp">{html.escape(g)}</th>' for g, n in groups)
    head = "".join(f"<th>{html.escape(h)}</th>" for _g, _c, h in columns)
    body = []
    cols = [(col, ' style="text-align:right"' if (col in numeric if numeric is not None
                                                  else col not in ("group", "kind")) else "", display[col].tolist())
            for _g, col, _h in columns]
    for i in range(len(display)):
        cells = []
        for col, align, values in cols:
            text = str(values[i])
            cells.append(f"<td{_cell_class(col, text)}{align}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="table-wrap"><table class="sortable"><thead><tr class="groups">{top}</tr><tr>{head}</tr>'
            f'</thead><tbody>{"".join(body)}</tbody></table></div>')


def _scorecard_html(scorecard: pd.DataFrame | None) -> str:
    """The scorecard; with a ``group_by`` column, one table per grouping (broker, rating, action, market, analyst,
    all, then any other), the main columns under group labels and every column in a folded table."""
    if _is_empty(scorecard):
        return _no_data("no scorecard")
    if "group_by" not in scorecard.columns:
        return _generic_table(scorecard)
    preferred = ["broker", "rating", "action", "market", "analyst", "all"]
    order = sorted(pd.unique(scorecard["group_by"].astype(str)),
                   key=lambda g: (preferred.index(g) if g in preferred else len(preferred), g))
    parts = []
    for group_by in order:
        part = scorecard[scorecard["group_by"].astype(str) == group_by].drop(columns="group_by")
        parts.append(f"<h3>by {html.escape(group_by)}</h3>"
                     + _grouped_table_html(_scorecard_display(part.head(MAX_TABLE_ROWS)), SCORECARD_DISPLAY)
                     + f"<details><summary>all columns ({len(part.columns)})</summary>{_generic_table(part)}"
                       "</details>")
    return ('<p class="muted">hit = share of complete windows whose excess return landed in the rating\'s own band '
            '(95% Wilson interval); direction = excess on the rating\'s side of zero; touched = the band was reached '
            'at some point in the window; open = windows not over yet (scored so far, not in the rates); '
            'IC = Spearman correlation of rating level and excess. Mentions have no band, so no hit rate.</p>'
            + "".join(parts))


def _event_study_html(event_study: pd.DataFrame | None, charts: "_Charts") -> str:
    groupings = plots.event_study_groupings(event_study)
    if not groupings:
        return _no_data("no event study")
    return "".join(charts.embed(plots.event_study_figure(event_study, group_by=g or None), "no event study")
                   for g in groupings)


def _config_html(config: Mapping[str, Any] | None) -> str:
    """The run config as YAML (as ``config.yaml`` in the run folder holds it), escaped."""
    if not config:
        return _no_data("no config")
    import yaml

    text = yaml.safe_dump(_plain(config), allow_unicode=True, sort_keys=False, default_flow_style=False, width=110)
    return f'<pre class="yaml">{html.escape(text)}</pre>'


def _plain(value: Any) -> Any:
    """``value`` with dates, paths and numpy scalars as plain YAML types (for :func:`yaml.safe_dump`)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _periods(stats: Mapping[str, Any] | None) -> float:
    """Sessions per year of the run (``stats.json``'s ``sessions_per_year``; 242 when absent)."""
    value = (stats or {}).get("sessions_per_year")
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 242.0
    return number if number > 0 else 242.0


def _risk_free(config: Mapping[str, Any] | None) -> float:
    portfolio = (config or {}).get("portfolio") if isinstance(config, Mapping) else None
    try:
        return float((portfolio or {}).get("risk_free") or 0.0)
    except (TypeError, ValueError, AttributeError):
        return 0.0


def _drawdowns_html(equity: pd.DataFrame | None) -> str:
    """The five deepest drawdowns of the strategy (:func:`engine.stats.drawdown_periods`) as a table."""
    from engine.stats import drawdown_periods

    frame = plots._equity_frame(equity)
    if frame is None:
        return _no_data("no equity curve")
    table = drawdown_periods(frame["equity"], top=5)
    if table.empty:
        return '<h3>Worst drawdowns</h3><p class="muted">the equity curve never fell below a previous peak</p>'
    display = pd.DataFrame({
        "peak": [format_value("date", d) for d in table["peak"]],
        "valley": [format_value("date", d) for d in table["valley"]],
        "recovery": [format_value("date", d) if r else "not yet" for d, r in zip(table["recovery"],
                                                                              table["recovered"])],
        "depth": [f"{d:.2%}" for d in table["depth"]],
        "sessions": [f"{n:,d}" for n in table["sessions"]],
    })
    headings = {"peak": "peak", "valley": "valley", "recovery": "recovered", "depth": "depth [%]",
                "sessions": "sessions (peak → recovery or today)"}
    return ("<h3>Worst drawdowns (top 5)</h3>"
            + _table_html(display, headings, numeric={"depth", "sessions"}))


_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0;
color:#222;background:#fafafa}
header{background:#1c2b3a;color:#fff;padding:18px 28px}header h1{margin:0 0 4px;font-size:22px}
header .meta{opacity:.8;font-size:13px}main{padding:12px 28px 40px;max-width:1400px}
section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:12px 18px;margin:14px 0}
h2{font-size:17px;margin:4px 0 10px}h3{font-size:14px;margin:12px 0 6px;color:#444}
nav a{color:#cfe3ff;margin-right:14px;font-size:13px}
.chart{width:100%;min-height:200px}.grid2{display:grid;grid-template-columns:1fr 1fr;gap:10px}
@media(max-width:900px){.grid2{grid-template-columns:1fr}}
.stats{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:8px}
.stat{border:1px solid #eee;border-radius:4px;padding:6px 10px}.stat .k{font-size:12px;color:#666}
.stat .v{font-size:16px;font-weight:600}.stat .v.neg{color:#c62828}
.stat-group{margin:4px 0 10px}.stat-group .g{font-size:12px;font-weight:600;color:#1c2b3a;text-transform:uppercase;
letter-spacing:.04em;margin:6px 0 4px}
section{min-width:0;overflow:hidden}.table-wrap{overflow:auto;max-height:640px;max-width:100%}
td.wrap{white-space:normal;min-width:10em;max-width:26em}
table{border-collapse:collapse;font-size:12.5px;white-space:nowrap}
th,td{border-bottom:1px solid #eee;padding:4px 8px;text-align:left}
th{position:sticky;top:0;background:#f3f5f7;cursor:pointer;user-select:none}
tr.groups th{position:static;cursor:default;font-size:11px;color:#556;text-align:center;border-bottom:2px solid #d0d7de}
tr.groups th:empty{border-bottom:none}details{margin:4px 0 10px}summary{cursor:pointer;color:#556;font-size:12.5px}
.st-inside{color:#1a7f37;font-weight:600}.st-below{color:#c62828;font-weight:600}
.st-above{color:#1565c0;font-weight:600}.warn{color:#a66300}.pos{color:#1a7f37}.neg{color:#c62828}
.nodata,.muted{color:#888;font-size:13px}pre{font-size:12px;background:#f6f8fa;padding:10px;overflow:auto}
.spark{background:#fff;border-radius:4px;vertical-align:middle}
"""

# Records script errors on <html data-js-errors>; renders every chart; marks <html data-charts-rendered="N"> and
# <html data-tables-fit="k/n"> (k of the n table wrappers end inside their card: wide tables scroll, never overflow).
_ERROR_HOOK_JS = """
window.__reportErrors=[];
window.addEventListener('error',function(e){window.__reportErrors.push(String(e.message||e));
document.documentElement.setAttribute('data-js-errors',window.__reportErrors.join(' | '));});
"""

_INIT_JS = """
(function(){
  function fail(e){window.__reportErrors.push(String(e&&e.message||e));
    document.documentElement.setAttribute('data-js-errors',window.__reportErrors.join(' | '));}
  var blocks=document.querySelectorAll('script[type="application/json"][data-chart]'),done=[];
  if(typeof Plotly==='undefined'){fail('plotly.js did not load');return;}
  var tpl=document.getElementById('plotly-template'),template=tpl?JSON.parse(tpl.textContent):null;
  for(var i=0;i<blocks.length;i++){
    try{var spec=JSON.parse(blocks[i].textContent);
      if(template){spec.layout=spec.layout||{};spec.layout.template=template;}
      done.push(Plotly.newPlot(blocks[i].getAttribute('data-chart'),spec.data,spec.layout,
        {responsive:true,displaylogo:false}));}catch(e){fail(e);}
  }
  Promise.all(done).then(function(){document.documentElement.setAttribute('data-charts-rendered',
    String(document.querySelectorAll('.chart .main-svg').length>0?done.length:0));},fail);
  var wraps=document.querySelectorAll('.table-wrap'),fit=0;
  wraps.forEach(function(w){var card=w.closest('section');
    if(!card||w.getBoundingClientRect().right<=card.getBoundingClientRect().right+1)fit++;});
  document.documentElement.setAttribute('data-tables-fit',fit+'/'+wraps.length);
  document.querySelectorAll('table.sortable thead tr:last-child th').forEach(function(th,col){th.addEventListener('click',function(){
    var tbody=th.closest('table').tBodies[0],rows=Array.from(tbody.rows),asc=th.dataset.asc!=='1';
    th.dataset.asc=asc?'1':'0';
    function key(r){var t=r.cells[col].textContent.replace(/[,%+*]/g,'');var n=parseFloat(t);
      return isNaN(n)?t:n;}
    rows.sort(function(a,b){var x=key(a),y=key(b);if(typeof x===typeof y)return (x>y?1:x<y?-1:0)*(asc?1:-1);
      return (typeof x==='number'?-1:1)*(asc?1:-1);});
    rows.forEach(function(r){tbody.appendChild(r);});});});
})();
"""


def render_report(
    *,
    title: str,
    run_name: str,
    equity: pd.DataFrame | None = None,
    trades: pd.DataFrame | None = None,
    stats: Mapping[str, Any] | None = None,
    scores: pd.DataFrame | None = None,
    scorecard: pd.DataFrame | None = None,
    event_study: pd.DataFrame | None = None,
    screen: pd.DataFrame | None = None,
    config: Mapping[str, Any] | None = None,
    sweep: pd.DataFrame | None = None,
    generated_at: dt.datetime | None = None,
    extra_sections: Sequence[tuple[str, str, str]] = (),
) -> str:
    """The report as one HTML string (see :func:`write_report` and the module docstring for the inputs).

    ``extra_sections``: ``(key, title, html)`` sections another stage renders itself (e.g. the broker league of
    :mod:`engine.brokers.section`), placed before the performance section; ``html`` must already be escaped."""
    charts = _Charts()
    generated = (generated_at or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    sections = [
        *[(key, name, content) for key, name, content in extra_sections],
        ("performance", "Performance",
         _stats_html(stats, _currency(config))
         + charts.embed(plots.equity_figure(equity), "no equity curve")
         + '<div class="grid2">'
         + charts.embed(plots.excess_figure(equity), "no benchmark in the equity table")
         + charts.embed(plots.drawdown_figure(equity), "no equity curve")
         + "</div>"
         + charts.embed(plots.monthly_heatmap_figure(equity), "no equity curve")
         + '<div class="grid2">'
         + charts.embed(plots.yearly_returns_figure(equity), "no equity curve")
         + charts.embed(plots.returns_histogram_figure(equity), "no equity curve")
         + "</div>"
         + charts.embed(plots.rolling_figure(equity, _periods(stats), rf=_risk_free(config)),
                        "shorter than one 6-month window")
         + _drawdowns_html(equity)),
        ("screen", "Live picks (screen)", _screen_html(screen, charts)),
        ("scorecard", "Broker scorecard", _scorecard_html(scorecard)),
        ("ratings", "Excess return by rating",
         charts.embed(plots.excess_distribution_figure(scores), "no scored signals")),
        ("events", "Event study", _event_study_html(event_study, charts)),
        ("trades", "Trades", _no_data("no trades") if _is_empty(trades) else _generic_table(trades)),
        *([("sweep", "Parameter sweep", _generic_table(sweep))] if not _is_empty(sweep) else []),
        ("config", "Run config", _config_html(config)),
    ]
    nav = "".join(f'<a href="#{key}">{html.escape(name)}</a>' for key, name, _ in sections)
    body = "".join(f'<section id="{key}"><h2>{html.escape(name)}</h2>{content}</section>'
                   for key, name, content in sections)
    plotly_js = plots.plotly_js().replace("</script", "<\\/script")
    template = ('<script type="application/json" id="plotly-template">'
                + safe_json_for_script(json.dumps(plots.page_template(), separators=(",", ":"))) + "</script>")
    spark = _sparkline_svg(equity)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:">
<title>{html.escape(title)} — {html.escape(run_name)}</title>
<style>{_CSS}</style>
<script>{_ERROR_HOOK_JS}</script>
<script>{plotly_js}</script>
</head>
<body>
<header><h1>{html.escape(title)}</h1>
<div class="meta">run <b>{html.escape(run_name)}</b> · generated {html.escape(generated)} · ratingbt {_version()}
{spark}</div>
<nav>{nav}</nav>
<noscript><p>Interactive charts need JavaScript; the tables below and the sparkline above work without it.</p>
</noscript>
</header>
<main>{body}</main>
{template}
<script>{_INIT_JS}</script>
</body>
</html>
"""


def _currency(config: Mapping[str, Any] | None) -> str:
    """The portfolio currency of a run config (``portfolio.currency``), CNY when absent."""
    portfolio = (config or {}).get("portfolio") if isinstance(config, Mapping) else None
    currency = portfolio.get("currency") if isinstance(portfolio, Mapping) else None
    return str(currency) if currency else "CNY"


def _version() -> str:
    from engine import __version__

    return html.escape(str(__version__))


def write_report(
    path: str | Path,
    *,
    title: str,
    run_name: str,
    equity: pd.DataFrame | None = None,
    trades: pd.DataFrame | None = None,
    stats: Mapping[str, Any] | None = None,
    scores: pd.DataFrame | None = None,
    scorecard: pd.DataFrame | None = None,
    event_study: pd.DataFrame | None = None,
    screen: pd.DataFrame | None = None,
    config: Mapping[str, Any] | None = None,
    sweep: pd.DataFrame | None = None,
    extra_sections: Sequence[tuple[str, str, str]] = (),
) -> Path:
    """Write the self-contained HTML report to ``path`` (parents created) and return the path.

    Every argument after ``run_name`` may be ``None`` or empty; its section then says "no data". Input columns
    and units are listed in the module docstring. The file is written to a temporary name and renamed, so a reader
    never sees half a report.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = render_report(title=title, run_name=run_name, equity=equity, trades=trades, stats=stats, scores=scores,
                         scorecard=scorecard, event_study=event_study, screen=screen, config=config, sweep=sweep,
                         extra_sections=extra_sections)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    return target



#: Files :func:`write_run_report` reads from a run directory (each optional), by ``write_report`` argument.
RUN_FILES = {
    "equity": "equity.csv", "trades": "trades.csv", "stats": "stats.json", "scores": "scores.csv",
    "scorecard": "scorecard.csv", "event_study": "event_study.csv", "screen": "screen.csv", "sweep": "sweep.csv",
}
_RUN_DATE_COLUMNS = ("date", "report_date", "price_date", "horizon_end", "base_date", "end_date", "horizon_end_date")


def _read_run_table(path: Path) -> pd.DataFrame:
    from engine.tables import read_table

    frame = read_table(path, encoding="utf-8-sig", dtype={"horizon_months": str}, keep_default_na=True)
    for col in _RUN_DATE_COLUMNS:
        if col in frame.columns:
            frame[col] = pd.to_datetime(frame[col], errors="coerce")
    for col in ("note", "status", "name", "broker", "rating"):
        if col in frame.columns:
            frame[col] = frame[col].astype(object).where(frame[col].notna(), "")
    return frame


def _read_run_config(run_dir: Path) -> dict | None:
    for name in ("config.json", "config.yaml", "config.yml"):
        path = run_dir / name
        if path.exists():
            text = path.read_text(encoding="utf-8")
            if name.endswith(".json"):
                return json.loads(text)
            from engine.yamlfile import parse_yaml

            loaded = parse_yaml(text)
            return loaded if isinstance(loaded, dict) else {"config": loaded}
    return None


def write_run_report(run_dir: str | Path, *, title: str = "ratingbt run", run_name: str | None = None,
                     **tables: Any) -> Path:
    """Write ``run_dir/report.html`` from the files a run directory holds (:data:`RUN_FILES`, each optional, plus
    ``config.json`` / ``config.yaml``). Keyword arguments named like :func:`write_report`'s (``equity=``,
    ``screen=``, ``config=``…) override the files. ``run_name`` defaults to the directory name."""
    root = Path(run_dir)
    unknown = set(tables) - set(RUN_FILES) - {"config"}
    if unknown:
        raise TypeError(f"write_run_report: unknown table(s) {', '.join(sorted(unknown))}; "
                        f"allowed: {', '.join([*RUN_FILES, 'config'])}")
    inputs: dict[str, Any] = {}
    for key, name in RUN_FILES.items():
        if key in tables:
            inputs[key] = tables[key]
            continue
        path = root / name
        if not name.endswith(".json"):
            from engine.tables import table_path

            path = table_path(root, Path(name).stem) or path  # large tables are written as .parquet
        if not path.exists():
            continue
        try:
            inputs[key] = (json.loads(path.read_text(encoding="utf-8")) if name.endswith(".json")
                           else _read_run_table(path))
        except (ValueError, OSError) as exc:
            raise ValueError(f"{path}: cannot be read for the report ({exc})") from None
    inputs["config"] = tables["config"] if "config" in tables else _read_run_config(root)
    return write_report(root / "report.html", title=title, run_name=run_name or root.name, **inputs)
