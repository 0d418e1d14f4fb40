"""Tests of engine.report / engine.plots: formatting, tolerance of missing sections, escaping, chart maths."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from engine import plots
from engine.report import format_value, render_report, safe_json_for_script, screen_display_table, write_report
from tests.report.conftest import EVIL


class _Scripts(HTMLParser):
    """Collects every <script> element (attributes and text) and the <title> text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[tuple[dict, str]] = []
        self.title = ""
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "title"):
            self._in = tag
            if tag == "script":
                self.scripts.append((dict(attrs), ""))

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "script":
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)
        elif self._in == "title":
            self.title += data


def test_no_live_script_from_report_or_config_strings(tables, tmp_path):
    path = write_report(tmp_path / "r" / "report.html", title=f"Report {EVIL}", run_name=EVIL, **tables)
    text = path.read_text(encoding="utf-8")
    assert EVIL not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text  # shown as text in tables, title, config
    parser = _Scripts()
    parser.feed(text)
    assert parser.title == f"Report {EVIL} — {EVIL}"  # the browser shows it as text
    executable = [body for attrs, body in parser.scripts if attrs.get("type") != "application/json"]
    data_blocks = [body for attrs, body in parser.scripts if attrs.get("type") == "application/json"]
    assert len(executable) == 3  # error hook, plotly.js, chart init: nothing else runs
    assert all("alert(1)" not in body for body in executable)
    # 7 performance charts (equity, excess, drawdown, monthly, yearly, histogram, rolling), live picks,
    # distribution, event study by rating_level and by action; then the plotly template, embedded once
    assert len(data_blocks) == 12
    for body in data_blocks:  # each block parses whole: no string closed it early
        assert "<" not in body and ">" not in body
        spec = json.loads(body)
        assert "data" in spec and "layout" in spec
    # the evil broker reached the chart data, escaped as text for plotly's label renderer
    box = json.loads(data_blocks[8])
    assert any("&lt;script&gt;alert(1)&lt;/script&gt;" in str(x) for tr in box["data"] for x in tr.get("x", []))


def test_every_section_tolerates_missing_inputs(tmp_path):
    path = write_report(tmp_path / "empty.html", title="t", run_name="r")
    text = path.read_text(encoding="utf-8")
    for what in ("no backtest statistics", "no equity curve", "no live picks", "no scorecard", "no scored signals",
                 "no event study", "no trades", "no config"):
        assert f"no data ({what})" in text
    assert 'data-chart="' not in text
    empty = render_report(title="t", run_name="r", equity=pd.DataFrame(columns=["date", "equity"]),
                          trades=pd.DataFrame(), scores=pd.DataFrame(), scorecard=pd.DataFrame(),
                          event_study=pd.DataFrame(), screen=pd.DataFrame(), stats={}, config={})
    assert empty.count("no data (") == 15  # seven equity charts + drawdowns + stats + six sections
    # an equity table without a benchmark: no excess chart, the rest still drawn
    eq = pd.DataFrame({"date": pd.bdate_range("2025-01-01", periods=30), "equity": np.linspace(100, 130, 30)})
    assert "no data (no benchmark in the equity table)" in render_report(title="t", run_name="r", equity=eq)


def test_format_value_units():
    assert format_value("excess_return", 0.0413) == "+4.13%"
    assert format_value("hit_rate", 1 / 3) == "33.33%"
    assert format_value("direction_hit_rate", 0.5) == "50.00%" and format_value("median_days_to_touch", 12.0) == "12"
    assert format_value("band_low", 0.15) == "15.00%"
    assert format_value("Total Return [%]", 12.5) == "12.50%"
    assert format_value("price_now", 1234.5) == "1,234.50"
    assert format_value("sessions_left", 45.0) == "45"
    assert format_value("report_date", pd.Timestamp("2025-05-07")) == "2025-05-07"
    assert format_value("complete", True) == "yes"
    assert format_value("upside_left", np.nan) == "" and format_value("x", None) == ""
    assert format_value("name", EVIL) == EVIL  # escaping is the HTML layer's job
    # the scoring stage's scorecard columns
    assert format_value("excess_t_stat", 2.345) == "2.35" and format_value("ic_spearman", 0.1234) == "0.12"
    assert format_value("share_bullish", 0.85) == "85.00%" and format_value("best_excess", -0.02) == "-2.00%"
    assert format_value("sharpe_ratio", 1.234) == "1.23" and format_value("n_signals", 7) == "7"
    # the backtest's stats.json keys
    assert format_value("alpha", 0.031) == "3.10%" and format_value("costs_paid_fraction", 0.0012) == "0.12%"
    assert format_value("costs_paid", 1234.5) == "1,234.50" and format_value("beta", 0.9123) == "0.912"


def test_screen_display_table(tables):
    shown = screen_display_table(tables["screen"]).iloc[0]
    assert shown["band"] == "[15%, open)"
    bands = tables["screen"].assign(band_low=[np.nan], band_high=[-0.05])
    assert screen_display_table(bands).iloc[0]["band"] == "(open, -5%]"
    assert shown["report_date"] == "2025-05-07*"
    assert shown["benchmark_return"] == "+22.94% 000300.SH"
    assert shown["excess_needed"] == "10.87%" and shown["consensus_level"] == "+2.00"
    from_csv = tables["screen"].assign(date_inferred="False", superseded="True", note="")
    shown = screen_display_table(from_csv).iloc[0]
    assert shown["report_date"] == "2025-05-07" and shown["note"] == "(superseded)"


def test_safe_json_for_script():
    raw = json.dumps({"a": "</script><b>&\u2028"}, ensure_ascii=False)
    safe = safe_json_for_script(raw)
    assert "<" not in safe and ">" not in safe and "&" not in safe and "\u2028" not in safe
    assert json.loads(safe) == {"a": "</script><b>&\u2028"}


def test_drawdown_and_monthly_returns_by_hand():
    values = pd.Series([100.0, 110.0, 99.0, 121.0], index=pd.to_datetime(
        ["2025-01-30", "2025-01-31", "2025-02-28", "2025-03-31"]))
    # running max 100, 110, 110, 121 → 0, 0, 99/110-1 = -0.1, 0
    assert plots.drawdown(values).tolist() == pytest.approx([0.0, 0.0, -0.1, 0.0])
    table = plots.monthly_returns(values)
    # Jan: 110/100-1 = 0.10 (first value as the start); Feb: 99/110-1 = -0.10; Mar: 121/99-1 = 0.2222
    assert table.loc[2025, 1] == pytest.approx(0.10)
    assert table.loc[2025, 2] == pytest.approx(-0.10)
    assert table.loc[2025, 3] == pytest.approx(121 / 99 - 1)
    assert np.isnan(table.loc[2025, 4])
    assert plots.growth_of_one(pd.Series([np.nan, 2.0, 3.0])).tolist()[1:] == [1.0, 1.5]


def test_excess_curve_is_relative_growth(tables):
    fig = plots.excess_figure(tables["equity"])
    eq = tables["equity"]
    expected = (eq["equity"] / eq["equity"].iloc[0]) / (eq["benchmark"] / eq["benchmark"].iloc[0]) - 1
    np.testing.assert_allclose(np.asarray(fig.data[0].y, dtype=float), expected.to_numpy(), rtol=0, atol=1e-12)


def test_event_study_groups_and_bands(tables):
    study = tables["event_study"]
    assert plots.event_study_groupings(study) == ["rating_level", "action"]
    fig = plots.event_study_figure(study, group_by="action")
    lines = [t for t in fig.data if t.showlegend is not False]
    assert [t.name for t in lines] == ["(unknown)", "upgrade"]
    upgrade = study[(study["group_by"] == "action") & (study["group"] == "upgrade")]
    np.testing.assert_allclose(np.asarray(lines[1].y, dtype=float), upgrade["mean_excess"].to_numpy(), rtol=0,
                               atol=1e-12)
    band = [t for t in fig.data if t.showlegend is False][1]
    assert len(band.x) == 2 * 60  # offset 0 has no interval (n < 2 in the scoring stage's table)
    # the older single-grouping shape (session + group) still draws
    legacy = pd.DataFrame({"session": [0, 1, 2], "group": "all", "mean_excess": [0.0, 0.01, 0.02]})
    assert len(plots.event_study_figure(legacy).data) == 1
    assert plots.event_study_figure(pd.DataFrame({"session": [0, 1]})) is None


def test_scorecard_one_table_per_grouping_broker_first(tables):
    text = render_report(title="t", run_name="r", scorecard=tables["scorecard"].iloc[::-1])
    assert text.index("<h3>by broker</h3>") < text.index("<h3>by rating</h3>")
    assert "<td>民生证券</td>" in text and "40.00%" in text  # hit_rate 0.4 shown as a percent


def test_distribution_reads_csv_booleans_and_precomputes_large_boxes(tables, monkeypatch):
    scores = tables["scores"].assign(complete=lambda f: f["complete"].map(str))  # "True"/"False" as from a CSV
    fig = plots.excess_distribution_figure(scores)
    assert [t.name for t in fig.data] == ["complete", "so far (incomplete)"]
    assert len(fig.data[0].y) == 5 and len(fig.data[1].y) == 3
    monkeypatch.setattr(plots, "MAX_BOX_POINTS", 4)
    big = plots.excess_distribution_figure(tables["scores"])
    assert big.data[0].y is None  # no points embedded
    done = tables["scores"][tables["scores"]["complete"]]
    mine = done[done["broker"] == "民生证券"]["excess_return"].to_numpy()  # 0.12, -0.05, 0.30
    assert big.data[0].median[list(big.data[0].x).index("民生证券 · 推荐")] == pytest.approx(np.median(mine))
    stats = plots.box_stats(pd.DataFrame({"g": ["a"] * 5, "v": [1.0, 2.0, 3.0, 4.0, 100.0]}), "g", "v")
    # q1 = 2, q3 = 4, IQR 2 → fences [-1, 7]: 100 is outside, the upper fence is 4
    assert stats.loc["a", ["q1", "median", "q3", "lowerfence", "upperfence"]].tolist() == [2, 3, 4, 1, 4]


def test_write_run_report_reads_the_run_directory(tables, tmp_path):
    from engine.screen import write_screen
    from engine.report import write_run_report

    run = tmp_path / "runs" / "seeds"
    run.mkdir(parents=True)
    tables["equity"].to_csv(run / "equity.csv", index=False)
    tables["trades"].to_csv(run / "trades.csv", index=False)
    (run / "stats.json").write_text(json.dumps(tables["stats"]), encoding="utf-8")
    tables["scores"].to_csv(run / "scores.csv", index=False)
    tables["scorecard"].to_csv(run / "scorecard.csv", index=False)
    tables["event_study"].to_csv(run / "event_study.csv", index=False)
    write_screen(tables["screen"], run / "screen.csv")
    (run / "config.yaml").write_text(f"name: '{EVIL}'\nreports: [../shared/seeds]\n", encoding="utf-8")
    pd.DataFrame({"top_n": [5, 10], "total_return": [0.12, 0.08]}).to_csv(run / "sweep.csv", index=False)
    path = write_run_report(run, title="Seeds")
    text = path.read_text(encoding="utf-8")
    assert path == run / "report.html"
    assert "no data (" not in text  # every section found its file
    assert text.count('data-chart="') == 11
    assert "2025-05-07*" in text and "[15%, open)" in text  # the screen CSV read back with its dates and bands
    assert '<section id="sweep">' in text and "+12.00%" in text
    assert EVIL not in text and "seeds</b>" in text
    with pytest.raises(TypeError, match="unknown table"):
        write_run_report(run, equitty=None)


def test_screen_figure_bars_and_band_markers(tables):
    screen = pd.concat([tables["screen"], tables["screen"].assign(code="06082.HK", excess_return=np.nan,
                                                                  status="", note="no price data")])
    fig = plots.screen_figure(screen)
    bars, low = fig.data[0], fig.data[1]
    assert list(bars.x) == [0.0413] and list(bars.marker.color) == ["#d62728"]  # below → red; no-price pick left out
    assert list(low.x) == [0.15] and len(fig.data) == 2  # open top end: no band-high marker
    assert "&lt;script&gt;" in bars.y[0]
    assert plots.screen_figure(screen.iloc[1:]) is None


def test_stats_cards_titled_from_the_metrics_table():
    from engine.report import METRICS, format_metric, metric_title

    stats = {"total_return": 0.639, "costs_paid": 291.3878, "sharpe": 1.8354, "max_drawdown": -0.2406,
             "trades_filled": 7, "share_days_beating": 0.4944, "custom_key": 3}
    page = render_report(title="t", run_name="r", stats=stats, config={"portfolio": {"currency": "HKD"}})
    cards = page[page.index('id="performance"'):page.index('id="screen"')]
    for title, text in (("Total return [%]", "+63.90%"), ("Costs paid [HKD]", "291.39"), ("Sharpe", "1.84"),
                        ("Max drawdown [%]", "-24.06%"), ("Trades filled", "7"),
                        ("Days beating the benchmark [%]", "49.44%"), ("custom_key", "3")):
        assert f'<div class="k">{title}</div>' in cards and f">{text}</div>" in cards
    assert "share_days_beating" not in cards and "total_return" not in cards
    assert len({m.key for m in METRICS}) == len(METRICS)
    assert metric_title("costs_paid") == "Costs paid [CNY]" and format_metric("beta", float("nan")) == "n/a"


def test_scorecard_table_has_group_labels_percent_columns_and_all_columns(tables):
    page = render_report(title="t", run_name="r", scorecard=tables["scorecard"])
    section = page[page.index('id="scorecard"'):page.index('id="ratings"')]
    assert section.count('<tr class="groups">') == 2  # by broker, by rating
    assert ">Band hit (complete windows)</th>" in section and "<th>hit [95% CI]</th>" in section
    assert ">40% [12%–77%]</td>" in section  # hit_rate 0.4, Wilson 0.12..0.77, as the terminal prints it
    assert section.count("<details><summary>all columns") == 2
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section and EVIL not in section


# ---- issue 11: the report shows what matters -------------------------------------------------------------------

def test_event_study_shows_n_under_every_point_and_greys_few_signals(tables):
    study = tables["event_study"]
    fig = plots.event_study_figure(study, group_by="action")
    part = study[(study["group_by"] == "action") & (study["group"] == "upgrade")].sort_values("offset")
    n_trace = next(t for t in fig.data if t.name == "upgrade: N")
    assert n_trace.yaxis == "y2" and fig.layout.yaxis2.title.text == "N signals"
    np.testing.assert_array_equal(np.asarray(n_trace.y), part["n"].to_numpy())  # one N per point, under it
    np.testing.assert_array_equal(np.asarray(n_trace.x), part["offset"].to_numpy())
    grey = next(t for t in fig.data if t.name == f"upgrade: fewer than {plots.FEW_SIGNALS} signals")
    few = part[part["n"] < plots.FEW_SIGNALS]
    assert list(grey.x) == list(few["offset"]) and len(few) > 0  # offset 60 has n = 4
    np.testing.assert_allclose(np.asarray(grey.y, dtype=float), few["mean_excess"].to_numpy())
    line = next(t for t in fig.data if t.name == "upgrade")
    assert list(line.customdata) == list(part["n"]) and "N=%{customdata}" in line.hovertemplate


def test_yearly_rolling_and_histogram_figures_use_the_stats_functions(tables):
    from engine import stats

    equity = tables["equity"].set_index("date")
    yearly = plots.yearly_returns_figure(tables["equity"])
    np.testing.assert_allclose(np.asarray(yearly.data[0].y, dtype=float),
                               stats.yearly_returns(equity["equity"]).to_numpy(), rtol=0, atol=1e-12)
    rolling = plots.rolling_figure(tables["equity"], periods=242.0)
    returns = equity["equity"].pct_change().iloc[1:]
    window = stats.rolling_window(242.0)
    by_name = {t.name: np.asarray(t.y, dtype=float) for t in rolling.data}
    expected_vol = returns.rolling(window).std() * np.sqrt(242.0)  # plain pandas
    np.testing.assert_allclose(by_name["volatility"], expected_vol.to_numpy(), rtol=1e-10, equal_nan=True)
    bench_returns = equity["benchmark"].pct_change().iloc[1:]
    expected_beta = returns.rolling(window).cov(bench_returns) / bench_returns.rolling(window).var()
    np.testing.assert_allclose(by_name["beta"], expected_beta.to_numpy(), rtol=1e-9, equal_nan=True)
    hist = plots.returns_histogram_figure(tables["equity"])
    assert sum(hist.data[0].y) == len(returns) and sum(hist.data[1].y) == len(bench_returns)
    assert plots.rolling_figure(tables["equity"].head(50)) is None  # shorter than a 6-month window


def test_report_has_yearly_rolling_histogram_drawdowns_and_yaml_config(tables, tmp_path):
    from engine import stats

    text = write_report(tmp_path / "r.html", title="t", run_name="r", **tables).read_text(encoding="utf-8")
    assert "Yearly returns" in text and "Rolling 6-month statistics" in text and "Daily returns (histogram)" in text
    section = text[text.index("Worst drawdowns (top 5)"):]
    section = section[: section.index("</table>")]
    worst = stats.max_drawdown(tables["equity"]["equity"])
    assert f">{worst:.2%}</td>" in section  # the deepest row is the curve's max drawdown
    assert section.count("<tr>") == 1 + min(5, len(stats.drawdown_periods(tables["equity"].set_index("date")["equity"])))
    config = text[text.index('<section id="config">'):]
    config = config[: config.index("</section>")]
    assert '<pre class="yaml">' in config and "reports:\n- ../shared/seeds" in config and "{" not in config


def test_long_text_cells_wrap_so_tables_fit_their_card(tables, tmp_path):
    screen = tables["screen"].assign(note="stale (last price 2026-01-23); horizon unknown: 12 months assumed")
    text = write_report(tmp_path / "r.html", title="t", run_name="r", screen=screen).read_text(encoding="utf-8")
    assert '<td class="wrap">stale (last price 2026-01-23)' in text or 'class="warn wrap"' in text
    assert "section{min-width:0;overflow:hidden}.table-wrap{overflow:auto" in text


def test_figures_are_valid_plotly_figures(tables):
    """The figures are built as plain data (no plotly objects at run time); plotly's own validation accepts every
    one of them as it is embedded, and the subplot layouts are the ones ``make_subplots`` builds."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    equity, scores, study = tables["equity"], tables["scores"], tables["event_study"]
    figures = [plots.equity_figure(equity), plots.excess_figure(equity), plots.drawdown_figure(equity),
               plots.monthly_heatmap_figure(equity), plots.yearly_returns_figure(equity),
               plots.returns_histogram_figure(equity), plots.rolling_figure(equity, 242.0),
               plots.excess_distribution_figure(scores), plots.screen_figure(tables["screen"]),
               plots.event_study_figure(study, group_by="action")]
    for fig in figures:
        spec = json.loads(fig.to_json())
        checked = go.Figure(spec)  # raises on an unknown property or a bad value
        assert len(checked.data) == len(fig.data)
    heat = go.Figure(json.loads(figures[3].to_json()))
    assert heat.data[0].colorscale == go.Heatmap(colorscale="RdYlGn").colorscale
    rolling = json.loads(figures[6].to_json())["layout"]
    reference = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                              subplot_titles=["Sharpe (6 months)", "Volatility (6 months, annual)",
                                              "Beta to the benchmark (6 months)"]).to_plotly_json()["layout"]
    for key in ("xaxis", "xaxis2", "xaxis3", "yaxis", "yaxis2", "yaxis3"):
        assert rolling[key]["domain"] == pytest.approx(reference[key]["domain"])
        assert {k: v for k, v in rolling[key].items() if k not in ("domain", "tickformat")} == \
            {k: v for k, v in reference[key].items() if k != "domain"}
    assert [a["y"] for a in rolling["annotations"]] == pytest.approx([a["y"] for a in reference["annotations"]])
    study_layout = json.loads(figures[-1].to_json())["layout"]
    reference = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.74, 0.26],
                              vertical_spacing=0.05).to_plotly_json()["layout"]
    assert study_layout["yaxis"]["domain"] == pytest.approx(reference["yaxis"]["domain"])
    assert study_layout["yaxis2"]["domain"] == pytest.approx(reference["yaxis2"]["domain"])
    assert study_layout["xaxis"]["matches"] == "x2" and study_layout["yaxis2"]["title"]["text"] == "N signals"
