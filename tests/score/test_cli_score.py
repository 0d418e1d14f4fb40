"""``ratingbt score`` end to end on a small signals file and local price CSVs (no network)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.score.helpers import make_signals

runner = CliRunner()


def _write_prices(root, dates, closes):
    root.mkdir()
    for stem, values in closes.items():
        pd.DataFrame({"date": dates, "close": values, "volume": 1000.0}).to_csv(root / f"{stem}.csv", index=False)


def test_score_cli_writes_tables_and_prints_scorecard(tmp_path):
    dates = pd.bdate_range("2024-01-01", periods=60).strftime("%Y-%m-%d").tolist()
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
    # 1 month from 2024-01-01 → 2024-02-01 = session 23 of the linear series
    i = dates.index("2024-02-01")
    want = (np.linspace(10, 14, 60)[i] / 10 - 1) - (np.linspace(100, 110, 60)[i] / 100 - 1)
    assert scores.loc[0, "excess_return"] == pytest.approx(want, abs=1e-12)
    card = pd.read_csv(out / "scorecard.csv")
    ms = card[(card["group_by"] == "broker") & (card["group"] == "民生证券")].iloc[0]
    assert (ms["n_signals"], ms["n_complete"], ms["n_incomplete"]) == (2, 1, 1)
    assert (out / "event_study.csv").is_file()


def test_score_cli_as_of_and_errors(tmp_path):
    dates = pd.bdate_range("2024-01-01", periods=30).strftime("%Y-%m-%d").tolist()
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
