"""The main job end to end: ``ratingbt run configs/seeds.yaml`` on the real seeds and prices (offline).

Figures are checked against independent computations from the CSV files in ``../shared/data/prices``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.paths import REPO_ROOT

SEEDS_CONFIG = REPO_ROOT / "configs" / "seeds.yaml"


@pytest.fixture(scope="module")
def seeds_run(tmp_path_factory):
    """One offline run of the seed config into a temporary runs folder (shared by the tests of this module)."""
    from engine.paths import shared_dir

    if not (shared_dir() / "data" / "prices").is_dir():
        pytest.skip("../shared not found")
    out = tmp_path_factory.mktemp("runs")
    mp = pytest.MonkeyPatch()
    mp.setenv("RATINGBT_CACHE", str(out / "cache"))
    result = CliRunner().invoke(app, ["run", str(SEEDS_CONFIG), "--offline", "-o", str(out)],
                                env={"COLUMNS": "200"})
    mp.undo()
    return result, out / "seeds"


def test_run_writes_every_stage_table_and_names_the_report(seeds_run):
    result, run_dir = seeds_run
    assert result.exit_code == 0, result.output
    for name in ("signals.csv", "scores.csv", "scorecard.csv", "event_study.csv", "config.yaml", "equity.csv",
                 "trades.csv", "positions.csv", "stats.json", "screen.csv", "report.html"):
        assert (run_dir / name).is_file(), name
    assert f"report: {(run_dir / 'report.html').resolve()}" in result.output.replace("\n", "")


def test_run_signals_are_the_seed_signals(seeds_run):
    _, run_dir = seeds_run
    signals = pd.read_csv(run_dir / "signals.csv", dtype={"code": str})
    rated = signals[signals["kind"] == "rating"]
    assert sorted(rated["code"]) == sorted(["688981.SH", "688041.SH", "688521.SH", "603063.SH", "301018.SZ",
                                            "301397.SZ", "688048.SH", "06082.HK"])


def test_run_scores_keep_the_stock_without_prices(seeds_run):
    _, run_dir = seeds_run
    scores = pd.read_csv(run_dir / "scores.csv", dtype={"code": str})
    biren = scores[scores["code"] == "06082.HK"]
    assert len(biren) == 1 and biren["status"].iloc[0] == "no price data"


def test_run_equity_and_benchmark_match_independent_figures(seeds_run, shared):
    """stats.json's total return equals the equity curve's; the benchmark column is CSI 300 rescaled, recomputed
    from SH000300.csv directly."""
    _, run_dir = seeds_run
    equity = pd.read_csv(run_dir / "equity.csv", parse_dates=["date"]).set_index("date")
    stats = json.loads((run_dir / "stats.json").read_text(encoding="utf-8"))
    assert stats["total_return"] == pytest.approx(equity["equity"].iloc[-1] / equity["equity"].iloc[0] - 1,
                                                  rel=1e-9)
    csi = pd.read_csv(shared / "data" / "prices" / "SH000300.csv", parse_dates=["date"]).set_index("date")["close"]
    first, last = equity.index[0], equity.index[-1]
    expected = csi.loc[last] / csi.loc[first] - 1
    assert stats["benchmark_total_return"] == pytest.approx(expected, rel=1e-12)
    # no look-ahead: nothing is bought on a report's own publication date
    trades = pd.read_csv(run_dir / "trades.csv", dtype={"code": str})
    signals = pd.read_csv(run_dir / "signals.csv", dtype={"code": str}, parse_dates=["report_date"])
    published = signals.groupby("code")["report_date"].min()
    buys = trades[(trades["side"] == "buy") & trades["filled"].astype(str).str.lower().eq("true")]
    for _, buy in buys.iterrows():
        assert pd.Timestamp(buy["date"]) > published[buy["code"]], buy.to_dict()


def test_run_report_is_one_self_contained_file(seeds_run):
    _, run_dir = seeds_run
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "seeds" in html and "<script src=\"http" not in html


def test_run_without_shared_says_what_is_missing_and_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("RATINGBT_SHARED", str(tmp_path / "nowhere"))
    result = CliRunner().invoke(app, ["run", str(SEEDS_CONFIG), "--offline", "-o", str(tmp_path)],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "signals.reports" in text and "RATINGBT_SHARED" in text and "signals.file" in text


def test_run_rejects_a_broken_config_naming_the_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(shutil.copyfile(SEEDS_CONFIG, tmp_path / "x.yaml") and
                   (tmp_path / "x.yaml").read_text(encoding="utf-8").replace("execution: open", "execution: noon"),
                   encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(bad)], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "portfolio.execution" in text and "open" in text and "close" in text


def test_run_live_picks_are_not_empty_at_the_default_date(seeds_run):
    """Issue 11: the default screen date is the last session at which a live pick has a price (not the HSI's last
    bar, where every seed horizon has ended); the summary states it, and the hit rate carries its interval."""
    result, run_dir = seeds_run
    screen = pd.read_csv(run_dir / "screen.csv", dtype=str, keep_default_na=False)
    priced = screen[screen["note"].str.startswith("stale") | screen["note"].eq("")]
    assert len(priced) >= 7  # report 002's seven picks, each with a price so far
    as_of = max(screen["price_date"])
    text = " ".join(result.output.split())
    assert f"live picks in the screen at {as_of} (the last session at which a live pick has a price" in text
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "no data (no live picks)" not in html
    card = pd.read_csv(run_dir / "scorecard.csv")
    row = card[(card["group_by"] == "broker") & (card["group"] == "民生证券") & (card["kind"] == "rating")].iloc[0]
    shown = f"{row['hit_rate']:.0%} [{row['hit_rate_low']:.0%}–{row['hit_rate_high']:.0%}]"
    assert shown in text and shown in html  # the terminal prints the interval as the HTML does
