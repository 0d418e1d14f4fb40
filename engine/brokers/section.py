"""The "Which broker is right?" section of the HTML report: league tables, the ranking rule and the figures.

:func:`broker_section_html` returns an HTML fragment for :func:`engine.report.write_report`'s ``extra_sections``.
Every string from the data (broker and analyst names, scale labels, notes) is HTML-escaped; numbers are formatted by
:func:`engine.report.format_value` (the report's one formatter). Figures are inline SVG from
:mod:`engine.brokers.plots` (no JavaScript needed; the tables sort with the report's own script).
"""

from __future__ import annotations

import html
from typing import Mapping, Sequence

import pandas as pd

from engine.brokers import plots
from engine.report import format_value

__all__ = ["broker_section_html", "LEAGUE_DISPLAY"]

#: League columns shown: (column, heading with unit).
LEAGUE_DISPLAY: tuple[tuple[str, str], ...] = (
    ("rank", "rank"), ("group", "name"), ("judged_by", "judged by"), ("horizon", "horizon"),
    ("n_ratings", "ratings"), ("n_complete", "complete"), ("hit_ci", "band hit [%] (95% CI)"),
    ("direction_ci", "direction hit [%] (95% CI)"), ("touch_hit_rate", "touched [%]"),
    ("median_days_to_touch", "days to touch"), ("mean_excess", "mean excess [%]"),
    ("median_excess", "median excess [%]"), ("excess_t_stat", "t"), ("ic_spearman", "IC"),
    ("share_bullish", "bullish [%]"), ("target_hit_rate", "target hit [%]"),
    ("median_days_to_target", "days to target"), ("rank_score", "rank score [%]"), ("brokers", "brokers"),
)
_MAX_ROWS = 500


def _ci(rate, low, high) -> str:
    if pd.isna(rate):
        return ""
    return f"{100 * float(rate):.0f} ({100 * float(low):.0f}–{100 * float(high):.0f})"


def _league_html(part: pd.DataFrame) -> str:
    columns = [(c, h) for c, h in LEAGUE_DISPLAY
               if c in part.columns or c in ("hit_ci", "direction_ci")]
    if "brokers" in part.columns and not part["brokers"].astype(str).str.len().gt(0).any():
        columns = [(c, h) for c, h in columns if c != "brokers"]
    head = "".join(f"<th>{html.escape(h)}</th>" for _, h in columns)
    body = []
    for row in part.head(_MAX_ROWS).to_dict("records"):
        cells = []
        for col, _ in columns:
            if col == "hit_ci":
                text = _ci(row["hit_rate"], row["hit_rate_low"], row["hit_rate_high"])
            elif col == "direction_ci":
                text = _ci(row["direction_hit_rate"], row["direction_low"], row["direction_high"])
            elif col in ("excess_t_stat", "ic_spearman"):
                text = "" if pd.isna(row[col]) else f"{float(row[col]):.2f}"
            elif col in ("median_days_to_touch", "median_days_to_target"):
                text = "" if pd.isna(row[col]) else f"{float(row[col]):.0f}"
            elif col == "rank":
                text = "" if pd.isna(row[col]) else str(int(row[col]))
            elif col == "rank_score":
                text = "" if pd.isna(row[col]) else f"{100 * float(row[col]):.1f}"
            else:
                text = format_value(col, row[col])
            right = col not in ("group", "judged_by", "horizon", "brokers")
            align = ' style="text-align:right"' if right else ""
            cells.append(f"<td{align}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = (f'<p class="muted">showing {_MAX_ROWS:,d} of {len(part):,d} rows (league.csv has all)</p>'
            if len(part) > _MAX_ROWS else "")
    return (f'<div class="table-wrap"><table class="sortable league"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>{more}')


def _figure(svgs: Mapping[str, str], name: str, caption: str) -> str:
    """Figure ``name`` (its SVG text in ``svgs``) inline in a ``<figure>`` (or a "no data" note)."""
    svg = svgs.get(name, "")
    if not svg:
        return f'<p class="nodata">no data ({html.escape(caption)})</p>'
    return f'<figure class="bchart">{svg}<figcaption class="muted">{html.escape(caption)}</figcaption></figure>'


_RULE = (
    "<p><b>Rank.</b> Brokers with a rating scale are ranked by the lower end of the 95 % Wilson interval of their "
    "own-band hit rate; brokers without one by that of their direction hit rate (each basis ranked separately). "
    "With k hits in n judged ratings, p = k/n and z = 1.96: "
    "<code>L = (p + z²/2n − z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n)</code>. "
    "L rewards a high rate <i>and</i> a large sample: 3 hits out of 3 give L = 44 %, 210 out of 300 give L = 65 %. "
    "Ties: the excess t statistic. Only complete windows (horizon over) are judged.</p>")


def broker_section_html(league: pd.DataFrame, scores: pd.DataFrame, events: pd.DataFrame,
                        notes: Sequence[str] = (), svgs: Mapping[str, str] | None = None) -> str:
    """The section's HTML (see module docstring): intro and rule, notes, broker and analyst tables, figures
    (``svgs``: name → SVG text from :func:`engine.brokers.plots.render_svgs`; built here when not given)."""
    if svgs is None:
        built = plots.build_figures(league, scores, events)
        svgs = plots.render_svgs(built)
        plots.close_figures(built)
    figures = svgs
    parts = [
        '<p class="muted">Each rating is judged by its broker\'s <i>own</i> promise: the excess-return band over '
        "its benchmark and horizon that the broker's 评级说明 attaches to the rating (band hit). Direction hit = "
        "a bullish rating beat the benchmark (a bearish one lagged it). Touched = the band was reached at some "
        "point of the window. IC = Spearman correlation of rating level and excess. Rates in percent.</p>",
        _RULE,
    ]
    if notes:
        items = "".join(f"<li>{html.escape(str(n))}</li>" for n in notes)
        parts.append(f'<details><summary>notes ({len(notes)})</summary><ul class="muted">{items}</ul></details>')
    if league is None or league.empty:
        parts.append('<p class="nodata">no data (no broker with enough ratings)</p>')
    else:
        for group_by, title in (("broker", "Brokers"), ("analyst", "Analysts")):
            part = league[league["group_by"] == group_by]
            if part.empty:
                continue
            table = _league_html(part)
            if group_by == "analyst":
                parts.append(f"<details><summary>{title} ({len(part):,d})</summary>{table}</details>")
            else:
                parts.append(f"<h3>{title} ({len(part):,d})</h3>{table}")
        parts.append(_figure(figures, "forest", "hit rates with 95 % intervals, best first"))
    parts.append('<div class="grid2">' + _figure(figures, "hit_vs_n", "hit rate vs sample size")
                 + _figure(figures, "excess_by_level", "excess return by rating level") + "</div>")
    parts.append("<h3>Rating changes</h3>"
                 + _figure(figures, "rating_events", "cumulative excess around rating events, all brokers")
                 + _figure(figures, "rating_events_by_broker", "the brokers with the most events"))
    style = ("<style>.bchart{margin:6px 0}.bchart svg{max-width:100%;height:auto}"
             "table.league td{font-variant-numeric:tabular-nums}</style>")
    return style + "".join(parts)
