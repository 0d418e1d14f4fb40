"""``ratingbt score`` end to end on a small signals file and local price CSVs (no network)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.score.helpers import make_signals

runner = CliRunner()


def _sessions(n: int) -> list[str]:
    """The first ``n`` Shanghai sessions of 2024 (the data layer keeps exchange sessions only: no bar on 1 January)."""
    from engine.data.calendars import sessions

    return sessions("XSHG", "2024-01-01", "2024-12-31")[:n].strftime("%Y-%m-%d").tolist()


def _write_prices(root, dates, closes):
    root.mkdir()
    for stem, values in closes.items():
        pd.DataFrame({"date": dates, "open": values, "high": values, "low": values, "close": values,
                      "volume": 1000.0}).to_csv(root / f"{stem}.csv", index=False)


def test_score_cli_writes_tables_and_prints_scorecard(tmp_path):
    dates = _sessions(60)
    prices = tmp_path / "prices"
    _write_prices(prices, dates, {"SH000300": np.linspace(100, 110, 60), "SZ300001": np.linspace(10, 14, 60)})
    signals = make_signals([
        dict(broker="民生证券", code="300001.SZ", report_date=dates[0], horizon_months="1", rating="推荐",
             rating_level=2, band_low=0.15, benchmark="000300.SH"),
        dict(broker="民生证券", code="300001.SZ", report_date=dates[40], horizon_months="12", rating="推荐",
             rating_level=2, band_low=0.15),
        dict(broker="平安证券(香港)", code="06082.HK", report_date=dates[5], rating="强烈推荐", rating_level=2,
             band_low=0.2, benchmark="HSI"),
    ])
    path = tmp_path / "signals.csv"
    signals.to_csv(path, index=False)
    out = tmp_path / "out"
    result = runner.invoke(app, ["score", "--signals", str(path), "--prices", str(prices), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "民生证券" in result.output and "平安证券(香港)" in result.output
    assert "incomplete" in result.output and "no price data" in result.output
    scores = pd.read_csv(out / "scores.csv")
    assert scores["status"].tolist() == ["complete", "incomplete", "no price data"]
    # 1 month from 2024-01-02 → 2024-02-02, a session of the linear series
    i = dates.index("2024-02-02")
    want = (np.linspace(10, 14, 60)[i] / 10 - 1) - (np.linspace(100, 110, 60)[i] / 100 - 1)
    assert scores.loc[0, "excess_return"] == pytest.approx(want, abs=1e-12)
    card = pd.read_csv(out / "scorecard.csv")
    ms = card[(card["group_by"] == "broker") & (card["group"] == "民生证券")].iloc[0]
    assert (ms["n_signals"], ms["n_complete"], ms["n_incomplete"]) == (2, 1, 1)
    assert (out / "event_study.csv").is_file()


def test_score_cli_as_of_and_errors(tmp_path):
    dates = _sessions(30)
    prices = tmp_path / "prices"
    _write_prices(prices, dates, {"SH000300": np.linspace(100, 110, 30), "SZ300001": np.linspace(10, 14, 30)})
    path = tmp_path / "signals.csv"
    make_signals([dict(broker="B", code="300001.SZ", report_date=dates[0], horizon_months="1")]).to_csv(path,
                                                                                                       index=False)
    result = runner.invoke(app, ["score", "-s", str(path), "--prices", str(prices), "-o", str(tmp_path / "o"),
                                 "--as-of", dates[10]])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(tmp_path / "o" / "scores.csv").loc[0, "end_date"] == dates[10]
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"code": ["300001"]}).to_csv(bad, index=False)
    result = runner.invoke(app, ["score", "-s", str(bad), "--prices", str(prices)])
    assert result.exit_code != 0 and "missing columns" in result.output
    result = runner.invoke(app, ["score", "-s", str(path), "--prices", str(prices), "--excess-mode", "log"])
    assert result.exit_code != 0 and "excess_mode" in result.output


def test_score_cli_reads_the_price_cache(tmp_path):
    """Without --prices the panel comes from the data layer's cache (filled here with `ratingbt data import`)."""
    dates = _sessions(30)
    prices = tmp_path / "prices"
    _write_prices(prices, dates, {"SH000300": np.linspace(100, 110, 30), "SZ300001": np.linspace(10, 14, 30)})
    assert runner.invoke(app, ["data", "import", str(prices)]).exit_code == 0
    path = tmp_path / "signals.csv"
    # 2024-01-02: the cache's panel follows the XSHG calendar, where 2024-01-01 (New Year) is no session
    make_signals([dict(broker="民生证券", code="300001.SZ", report_date=dates[1], horizon_months="1", rating="推荐",
                       rating_level=2, band_low=0.15)]).to_csv(path, index=False)
    result = runner.invoke(app, ["score", "-s", str(path), "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    row = pd.read_csv(tmp_path / "o" / "scores.csv").iloc[0]
    i, b = dates.index("2024-02-02"), 1
    stock, bench = np.linspace(10, 14, 30), np.linspace(100, 110, 30)
    want = (stock[i] / stock[b] - 1) - (bench[i] / bench[b] - 1)
    assert row["status"] == "complete" and row["excess_return"] == pytest.approx(want, abs=1e-12)
    # realised band from the registry's 民生证券 scale (configs/ratings): 33 % − 3.7 % ≈ 29 % → 推荐
    assert row["realised_rating"] == "推荐"


def test_seeds_end_to_end(shared, tmp_path):
    """The five seed reports: ingest → score from the cache; 002 incomplete, 06082.HK 'no price data'."""
    signals = tmp_path / "signals.csv"
    assert runner.invoke(app, ["ingest", str(shared / "seeds"), "-o", str(signals), "-q"]).exit_code == 0
    assert runner.invoke(app, ["data", "import", str(shared / "data" / "prices")]).exit_code == 0
    result = runner.invoke(app, ["score", "-s", str(signals), "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    for broker in ("民生证券", "上海证券", "平安证券(香港)", "华龙证券"):
        assert broker in result.output
    scores = pd.read_csv(tmp_path / "o" / "scores.csv", dtype={"code": str})
    smic = scores[(scores["code"] == "688981.SH") & (scores["kind"] == "rating")].iloc[0]
    assert smic["status"] == "incomplete" and smic["end_date"] == "2026-02-27"
    assert smic["excess_return"] == pytest.approx(0.04130654870445838, abs=1e-12)
    biren = scores[scores["code"] == "06082.HK"].iloc[0]
    assert biren["status"] == "no price data"
    assert "no price data" in result.output and "incomplete" in result.output


def test_score_cli_by_option(tmp_path):
    dates = _sessions(30)
    prices = tmp_path / "prices"
    _write_prices(prices, dates, {"SH000300": np.linspace(100, 110, 30), "SZ300001": np.linspace(10, 14, 30)})
    path = tmp_path / "signals.csv"
    make_signals([dict(broker="B", code="300001.SZ", report_date=dates[1], horizon_months="1", rating="买入",
                       rating_level=2, band_low=0.1, action="upgrade")]).to_csv(path, index=False)
    base = ["score", "-s", str(path), "--prices", str(prices), "-o", str(tmp_path / "o")]
    result = runner.invoke(app, base + ["--by", "rating,action"])
    assert result.exit_code == 0, result.output
    assert "Scorecard by rating" in result.output and "B · 买入" in result.output
    assert "Scorecard by action" in result.output and "upgrade" in result.output
    assert "Scorecard by broker" not in result.output
    result = runner.invoke(app, base + ["--by", "sector"])
    assert result.exit_code != 0 and "sector" in result.output
