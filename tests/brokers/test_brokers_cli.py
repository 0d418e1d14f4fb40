"""``ratingbt brokers`` end to end on a tiny synthetic market, and its error messages."""

from __future__ import annotations

import re

import pandas as pd
from typer.testing import CliRunner

from engine.cli import app

runner = CliRunner(env={"COLUMNS": "250"})


def _args(world, *extra):
    return ["brokers", "-r", str(world["ratings"]), "--market-file", str(world["market"]), "--benchmark",
            str(world["bench"]), "-o", str(world["root"] / "out"), *extra]


def test_cli_writes_league_events_figures_and_report(small_world):
    result = runner.invoke(app, _args(small_world, "--min-ratings", "5", "--figures", "png,svg"))
    assert result.exit_code == 0, result.output
    out = small_world["root"] / "out"
    for name in ("league.csv", "rating_events.csv", "scores.csv", "targets.csv", "signals.csv", "report.html",
                 "figures/forest.png", "figures/forest.svg", "figures/rating_events.svg"):
        assert (out / name).is_file(), name
    league = pd.read_csv(out / "league.csv")
    brokers = league[league["group_by"] == "broker"].set_index("group")
    assert set(brokers.index) == {"民生证券", "甲证券", "乙证券"}
    assert brokers.loc["民生证券", "scale"].startswith("registry:") and brokers.loc["民生证券", "horizon"] == "12m"
    assert brokers.loc["甲证券", "judged_by"] == "no scale: direction and excess only"
    assert "League of brokers" in result.output and "no rating scale" in result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="brokers"' in html and html.count("<svg") >= 4 and "Wilson" in html


def test_filters_and_counts_of_dropped_rows(small_world):
    result = runner.invoke(app, _args(small_world, "--min-ratings", "1", "--broker", "甲证券", "--by", "broker",
                                      "--no-report"))
    assert result.exit_code == 0, result.output
    league = pd.read_csv(small_world["root"] / "out" / "league.csv")
    assert list(league["group"]) == ["甲证券"]
    left_out = int(re.search(r"(\d+) rows left out: broker not 甲证券", result.output).group(1))
    merged = re.search(r"(\d+) duplicate rows", result.output)
    kept = len(pd.read_csv(small_world["root"] / "out" / "signals.csv"))
    assert kept + left_out == 120 - (int(merged.group(1)) if merged else 0)


def test_bad_inputs_give_one_line_errors(small_world, tmp_path):
    missing = runner.invoke(app, ["brokers", "-r", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2 and "nope.csv: no such file" in missing.output
    assert "Traceback" not in missing.output
    bad = tmp_path / "bad.csv"
    bad.write_text("when,who\n2024-01-01,x\n", encoding="utf-8")
    refused = runner.invoke(app, ["brokers", "-r", str(bad)])
    assert refused.exit_code == 2 and "bad.csv" in refused.output and "broker" in refused.output
    fig = runner.invoke(app, _args(small_world, "--figures", "gif"))
    assert fig.exit_code == 2 and "png, svg" in fig.output
    empty = runner.invoke(app, _args(small_world, "--start", "2030-01-01"))
    assert empty.exit_code == 2 and "no rating left after the filters" in empty.output


def test_ratingbt_run_takes_a_brokers_config(small_world):
    cfg = small_world["root"] / "brokers.yaml"
    cfg.write_text(f"name: tiny\nratings: {small_world['ratings']}\nprices:\n  market: {small_world['market']}\n"
                   f"  benchmarks: [{small_world['bench']}]\nleague: {{by: [broker], min_ratings: 5}}\n"
                   "figures: [svg]\n", encoding="utf-8")
    result = runner.invoke(app, ["run", str(cfg), "-o", str(small_world["root"] / "runs")])
    assert result.exit_code == 0, result.output
    out = small_world["root"] / "runs" / "tiny"
    assert (out / "league.csv").is_file() and (out / "figures" / "forest.svg").is_file()
    assert not (out / "figures" / "forest.png").exists()
    bad = small_world["root"] / "bad.yaml"
    bad.write_text("name: x\nratings: r.csv\nleague: {min_ratings: 0}\n", encoding="utf-8")
    refused = runner.invoke(app, ["run", str(bad)])
    assert refused.exit_code == 2 and "league.min_ratings" in refused.output


def test_brokers_from_the_store(small_world):
    imported = runner.invoke(app, ["signals", "import", str(small_world["ratings"])])
    assert imported.exit_code == 0, imported.output
    result = runner.invoke(app, ["brokers", "--store", "--market-file", str(small_world["market"]), "--benchmark",
                                 str(small_world["bench"]), "--min-ratings", "5", "--by", "broker", "--no-report",
                                 "-o", str(small_world["root"] / "store_out")])
    assert result.exit_code == 0, result.output
    league = pd.read_csv(small_world["root"] / "store_out" / "league.csv").set_index("group")
    assert set(league.index) == {"民生证券", "甲证券", "乙证券"} and "ratings read from the store" in result.output
    assert league.loc["甲证券", "n_direction"] > 0  # generic levels applied to store rows too


def test_benchmark_without_prices_falls_back_only_when_asked(small_world):
    from engine.brokers.inputs import read_ratings
    from engine.brokers.run import load_prices, run_brokers

    read = read_ratings(small_world["ratings"])
    signals = read.signals.copy()
    signals.loc[signals["broker"] == "甲证券", "benchmark"] = "000001.SH"  # 上证综指: no prices in this world
    panel = load_prices(signals, market=small_world["market"], benchmarks=(small_world["bench"],))
    plain = run_brokers(signals, panel, by=("broker",), min_ratings=5)
    rows = plain.scores[plain.scores["broker"] == "甲证券"]
    assert (rows["status"].astype(str) == "no benchmark price").all()
    assert any("no prices for benchmark 000001.SH (40 ratings)" in n for n in plain.notes)
    fallback = run_brokers(signals, panel, by=("broker",), min_ratings=5, benchmark_fallback="000300.SH")
    league = fallback.league.set_index("group")
    assert league.loc["甲证券", "judged_by"].endswith("benchmark 000001.SH → 000300.SH")
    assert league.loc["甲证券", "n_complete"] > 0 and "→" not in league.loc["民生证券", "judged_by"]
    scored = fallback.scores[fallback.scores["broker"] == "甲证券"]
    assert (scored["benchmark_used"].astype(str) == "000300.SH").all()
